"""``phaseN`` without ``--dry-run``: make the phase's branch, then tell the user what happened."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.text import Text

from ssot_migrate.config import TEST_SELECTIONS
from ssot_migrate.errors import UsageError
from ssot_migrate.terminal import printable
from ssot_migrate.workflow import PhaseResult, create_phase_branch


def render_result(result: PhaseResult, console: Console) -> None:
    """Tell the user what happened, on stderr: branch, verdict, comparison, logs, next steps."""

    def say(line: str) -> None:
        console.print(Text(printable(line)))

    if result.commit is None:
        return
    say(
        f"created branch {result.branch} at {result.commit[:12]} "
        f"({len(result.files)} file(s), base {result.base[:12]})"
    )
    if result.backup:
        say(f"previous tip kept as {result.backup}")
    v = result.verification
    say(f"verified: {v.verdict} (tests before: {v.before_text}; after: {v.after_text})")
    if v.comparison is not None:
        for line in v.comparison.lines():
            say(f"  {line}")
    if result.quarantined:
        say(f"quarantined (left out, needs a decision): {', '.join(result.quarantined)}")
    for log in result.logs:
        say(f"test log: {log}")
    say(
        f"review it with: git log -1 {result.branch}   and   git diff {result.base[:12]} {result.branch}"
    )
    if v.verdict == "failed" and v.before is not None and v.before.timed_out:
        say(
            f"the tests timed out on the base tree (after {v.before.duration:.0f} s), before "
            "this phase changed anything: raise `test-timeout` in the configuration (or fix "
            "the hanging test) and run again; the branch is there to inspect; exit status 1"
        )
    elif v.verdict == "failed" and v.after is not None and v.after.timed_out:
        say(
            f"the tests timed out on the phase tree (after {v.after.duration:.0f} s) but not on "
            "the base tree: the change may make a test hang, or the suite is close to "
            "`test-timeout`; the branch is there to inspect; exit status 1"
        )
    elif v.verdict == "failed":
        say(
            "verification regressed: the branch is there to inspect; exit status 1"
            + ("" if result.bisect else " (--bisect finds the files that cause it)")
        )


def run_phase_command(
    phase: str,
    repo: Path,
    config_path: Path | None,
    *,
    base: str = "HEAD",
    jobs: int | None = None,
    verify: bool = True,
    refresh: bool = False,
    bisect: bool = False,
    quarantine: bool = False,
    python: Path | None = None,
    strict: bool = False,
    tests: str | None = None,
    console: Console,
) -> int:
    """The CLI body of ``phaseN`` without ``--dry-run``; returns the exit code."""
    if tests is not None and tests not in TEST_SELECTIONS:
        raise UsageError(f"--tests: must be one of {', '.join(TEST_SELECTIONS)}, got {tests!r}")
    from ssot_migrate.engine import open_config_and_snapshot

    # validated against --base's files, exactly as the dry-run does
    config, snapshot = open_config_and_snapshot(
        repo.resolve(), config_path, base, python=python, strict=strict
    )
    snapshot.close()
    if tests is not None:
        # Checked against TEST_SELECTIONS above: this only tells mypy which one it is.
        config = replace(config, tests="affected" if tests == "affected" else "all")

    def echo(line: str) -> None:
        console.print(Text(printable(line)))

    for warning in config.warnings:
        echo(f"warning: {warning}")

    result = create_phase_branch(
        repo,
        config,
        phase,
        base=base,
        jobs=jobs,
        verify=verify,
        refresh=refresh,
        bisect=bisect,
        quarantine=quarantine,
        echo=echo,
    )
    render_result(result, console)
    return result.exit_code

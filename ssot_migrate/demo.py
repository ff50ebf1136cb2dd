"""``ssot-migrate demo``: the whole tool on the bundled sample repository, in one command.

The sample (``ssot_migrate/sample/``, shipped as package data) is copied into a fresh git
repository; then scan, phases 1-3 with verification and status run on it through the same
functions the CLI commands call, and the user is told what happened and what to look at next.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from ssot_migrate.errors import GitError, UsageError
from ssot_migrate.model import Config
from ssot_migrate.phases import IDS

if TYPE_CHECKING:
    from ssot_migrate.scan.analysis import ScanReport
    from ssot_migrate.workflow import PhaseResult

# A fixed identity for the demo repository's own commits, so the demo works on a machine where
# git has never been configured, and its first commit does not depend on who runs it.
DEMO_IDENTITY = {
    "GIT_AUTHOR_NAME": "ssot-migrate demo",
    "GIT_AUTHOR_EMAIL": "demo@ssot-migrate.invalid",
    "GIT_COMMITTER_NAME": "ssot-migrate demo",
    "GIT_COMMITTER_EMAIL": "demo@ssot-migrate.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T12:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-01-01T12:00:00+00:00",
}
SAMPLE_GITIGNORE = "__pycache__/\n*.pyc\n.pytest_cache/\n"
# Byproducts of running the sample's suite in place (inside an editable install); never copied.
_SKIP_NAMES = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
_SKIP_SUFFIXES = (".pyc", ".pyo")


def sample_root() -> Traversable:
    """The bundled sample repository's files (package data ``ssot_migrate/sample``)."""
    return resources.files("ssot_migrate").joinpath("sample")


def _sample_files(
    root: Traversable, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], bytes]]:
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name in _SKIP_NAMES or entry.name.endswith(_SKIP_SUFFIXES):
            continue
        if entry.is_dir():
            yield from _sample_files(entry, (*prefix, entry.name))
        else:
            yield (*prefix, entry.name), entry.read_bytes()


def _git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(DEMO_IDENTITY)
    # The demo repository must not inherit a GIT_DIR/GIT_WORK_TREE pointing at another repository.
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    env.pop("GIT_INDEX_FILE", None)
    return env


def _git(repo: Path, *args: str) -> str:
    try:
        proc = subprocess.run(
            ["git", "-C", str(repo), *args],
            env=_git_env(),
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed or not on PATH; the demo needs it") from exc
    if proc.returncode != 0:
        raise GitError(f"git {' '.join(args)} failed in {repo}: {proc.stderr.strip()}")
    return proc.stdout


def create_sample_repo(dest: Path) -> Path:
    """Copy the bundled sample into ``dest`` (absent or empty) as a git repository with one commit.

    The repository is on branch ``main``, has a repository-local demo identity (so later phase
    commits work without a global git configuration) and a ``.gitignore`` for test byproducts.
    Returns the repository's absolute path; raises ``UsageError`` when ``dest`` is not empty.
    """
    dest = dest.expanduser().resolve()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"demo path {dest} already exists and is not empty; choose another --path")
    dest.mkdir(parents=True, exist_ok=True)
    count = 0
    for parts, data in _sample_files(sample_root()):
        target = dest.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        count += 1
    if count == 0:
        raise UsageError("the bundled sample repository is missing from this installation")
    (dest / ".gitignore").write_text(SAMPLE_GITIGNORE, encoding="utf-8")
    _git(dest, "init", "-q")
    # ``init -b`` needs git 2.28; pointing HEAD works on every version.
    _git(dest, "symbolic-ref", "HEAD", "refs/heads/main")
    _git(dest, "config", "user.name", DEMO_IDENTITY["GIT_AUTHOR_NAME"])
    _git(dest, "config", "user.email", DEMO_IDENTITY["GIT_AUTHOR_EMAIL"])
    _git(dest, "config", "commit.gpgsign", "false")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "Sample chat backend with a fragmented WebSocket manager")
    return dest


def new_demo_path() -> Path:
    """A fresh, empty directory for the demo repository under the system's temporary directory."""
    return Path(tempfile.mkdtemp(prefix="ssot-demo-")) / "netra-sample"


def remove_demo_repo(path: Path) -> None:
    """Delete a demo repository (worktrees the phases made are registered inside it)."""
    shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------- the demo run


@dataclass(frozen=True)
class PhaseOutcome:
    """One phase of the demo: the workflow's result and the scan of the branch it made."""

    result: PhaseResult
    scan: ScanReport | None


@dataclass(frozen=True)
class DemoResult:
    """What the demo did, for rendering and for tests: scans, phases, the status table."""

    repo: Path
    before: ScanReport
    phases: tuple[PhaseOutcome, ...]
    status: str
    test_command: str
    elapsed: float

    @property
    def after(self) -> ScanReport:
        """The scan of the last branch created (the base's when no phase had work)."""
        for outcome in reversed(self.phases):
            if outcome.scan is not None:
                return outcome.scan
        return self.before

    @property
    def exit_code(self) -> int:
        """1 when any phase's verification regressed, else 0."""
        return max((o.result.exit_code for o in self.phases), default=0)


@dataclass(frozen=True)
class TestSetup:
    """How the demo runs the sample's suite: the configuration to use, or why it cannot."""

    __test__ = False  # not a pytest test class

    config: Config
    verify: bool
    note: str = ""


def demo_test_setup(config: Config) -> TestSetup:
    """The sample's configuration, with a test command that can actually find pytest.

    The sample says ``python -m pytest -q``; with ssot-migrate installed in a virtual environment
    that is not activated, ``python`` may be another interpreter. The demo prefers the one it runs
    in, then ``python`` on PATH; when neither has pytest it runs the phases unverified, and says so.
    """
    if importlib.util.find_spec("pytest") is not None:
        return TestSetup(replace(config, test_command=(sys.executable, "-m", "pytest", "-q")), True)
    python = shutil.which("python")
    if python is not None:
        try:
            probe = subprocess.run(
                [python, "-m", "pytest", "--version"], capture_output=True, check=False, timeout=60
            )
        except (OSError, subprocess.TimeoutExpired):
            probe = None
        if probe is not None and probe.returncode == 0:
            return TestSetup(config, True)
    return TestSetup(
        config,
        False,
        "pytest is not installed where ssot-migrate runs, so the phases are not verified; "
        f"install it (`{sys.executable} -m pip install pytest`) and rerun the demo to see the "
        "sample's tests compared before and after each phase",
    )


def run_demo(
    repo: Path, *, jobs: int | None = None, echo: Callable[[str], None] = print
) -> DemoResult:
    """Scan, phases 1-3 with verification, and status on the sample repository at ``repo``.

    Calls the same functions as the ``scan``, ``phaseN`` and ``status`` commands; ``echo`` gets
    the workflow's progress lines. Raises what those raise (``SsotError`` subclasses).
    """
    from ssot_migrate.config import load_config
    from ssot_migrate.scan.analysis import scan_repository
    from ssot_migrate.status import collect, render
    from ssot_migrate.workflow import create_phase_branch

    started = time.perf_counter()
    setup = demo_test_setup(load_config(repo))
    config = setup.config
    if setup.note:
        echo(f"note: {setup.note}")
    before = scan_repository(config, jobs=jobs)
    outcomes: list[PhaseOutcome] = []
    for phase in IDS:
        result = create_phase_branch(repo, config, phase, jobs=jobs, verify=setup.verify, echo=echo)
        scan = scan_repository(config, base=result.commit, jobs=jobs) if result.commit else None
        outcomes.append(PhaseOutcome(result, scan))
    command = config.test_command
    shown = shlex.join(command) if isinstance(command, tuple) else str(command or "")
    return DemoResult(
        repo=repo,
        before=before,
        phases=tuple(outcomes),
        status=render(collect(repo)),
        test_command=shown if setup.verify else "",
        elapsed=time.perf_counter() - started,
    )


def _violation_lines(result: DemoResult) -> list[str]:
    columns = ["before"] + [o.result.phase for o in result.phases]
    scans: list[ScanReport] = [result.before]
    for outcome in result.phases:
        scans.append(outcome.scan if outcome.scan is not None else scans[-1])
    figures = [scan.violations() for scan in scans]
    categories = list(dict.fromkeys(c for f in figures for c in f))
    width = max(len(c) for c in [*categories, "category"]) + 2
    lines = ["category".ljust(width) + "".join(c.rjust(9) for c in columns)]
    for category in categories:
        lines.append(
            category.ljust(width) + "".join(str(f.get(category, 0)).rjust(9) for f in figures)
        )
    lines.append("total".ljust(width) + "".join(str(sum(f.values())).rjust(9) for f in figures))
    return lines


def _phase_lines(outcome: PhaseOutcome) -> list[str]:
    result = outcome.result
    if result.commit is None:
        return [f"{result.phase}: nothing to do, no branch"]
    v = result.verification
    lines = [
        f"{result.branch}  ({len(result.files)} files, commit {result.commit[:10]}, verified: {v.verdict})"
    ]
    if v.verdict == "skipped":
        lines.append("    tests: not run")
    else:
        lines.append(f"    tests: {v.before_text}  ->  {v.after_text}")
    comparison = v.comparison
    if comparison is not None:
        for title, items in (
            ("REGRESSED", comparison.regressions),
            ("fail-first test now passing (expected)", comparison.expected_flips),
            ("other test now passing", comparison.fixes),
        ):
            lines += [f"    {title}: {item}" for item in items]
    return lines


def _rise_lines(result: DemoResult) -> list[str]:
    """Say so when a phase made a figure go up, and show the new sites: a table alone would hide it."""
    lines: list[str] = []
    previous = result.before
    for outcome in result.phases:
        if outcome.scan is None:
            continue
        current = outcome.scan
        before = previous.violations()
        seen = {(s.category, s.path, s.message) for s in previous.sites}
        for category, count in current.violations().items():
            if count <= before.get(category, 0):
                continue
            lines.append(
                f"note: {category} rose on {outcome.result.branch} ({before.get(category, 0)} -> {count}):"
            )
            new = [
                s
                for s in current.sites
                if s.category == category and (s.category, s.path, s.message) not in seen
            ]
            lines += [f"  {s.path}:{s.line}: {_clip(s.message, 130)}" for s in new[:3]]
            if len(new) > 3:
                lines.append(
                    f"  ... and {len(new) - 3} more (`ssot-migrate scan` on that branch lists them)"
                )
        previous = current
    return lines


def _clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def render_demo(result: DemoResult, *, kept: bool) -> list[str]:
    """The demo's report: violations per phase, branches and tests, status, what to do next."""
    repo = result.repo
    before = sum(result.before.violations().values())
    after_scan = result.after
    after = sum(after_scan.violations().values())
    lines = [
        "",
        "Violations found by `ssot-migrate scan`, at the start and on each phase's branch:",
        "",
        *("  " + line for line in _violation_lines(result)),
        "",
        f"{before} violations before, {after} after the three phases.",
    ]
    lines += _rise_lines(result)
    remaining = [s for s in after_scan.sites if after_scan.violations().get(s.category, 0)]
    if after:
        lines.append(
            "Still reported on the last branch (no phase rewrites these; a human decides):"
        )
        lines += [f"  {s.category}: {s.path}:{s.line}: {_clip(s.message)}" for s in remaining[:10]]
        if len(remaining) > 10:
            lines.append(
                f"  ... and {len(remaining) - 10} more (`ssot-migrate scan` lists them all)"
            )
    if result.test_command:
        lines += [
            "",
            f"Branches (tests run before and after each phase with `{result.test_command}`):",
            "",
        ]
    else:
        lines += ["", "Branches (not verified: pytest is not installed):", ""]
    for outcome in result.phases:
        lines += ["  " + line for line in _phase_lines(outcome)]
    lines += ["", "Status (`ssot-migrate status`):", ""]
    lines += ["  " + line for line in result.status.splitlines()]
    first = next((o.result.branch for o in result.phases if o.result.commit), None)
    last = next((o.result.branch for o in reversed(result.phases) if o.result.commit), None)
    lines += ["", "What to do next:"]
    if not kept:
        # Commands on a directory that no longer exists would only fail: say how to keep it.
        lines += [
            "  the sample repository was removed; to look at its branches, keep it:",
            "    ssot-migrate demo --keep          (in a temporary directory, printed at the start)",
            "    ssot-migrate demo --path DIR      (in DIR)",
            "  then `git -C DIR log --stat ssot/phase1-imports`, `ssot-migrate status --repo DIR`,",
            "  `ssot-migrate rollback phase2 --repo DIR` work on it.",
            "  on your own project:  add a [tool.ssot-migrate] table to pyproject.toml (see the",
            "                        README's Configuration section), then `ssot-migrate scan`",
            "                        and `ssot-migrate phase1 --dry-run`",
            "",
            f"demo finished in {result.elapsed:.1f} s",
        ]
        return lines
    if first and last:
        lines += [
            f"  look at a phase:      git -C {repo} log --stat {first}",
            f"  the whole change:     git -C {repo} diff main {last}",
            f"  scan a branch:        ssot-migrate scan --repo {repo}   (after `git -C {repo} checkout {last}`)",
            f"  open pull requests:   ssot-migrate pr phase1 --repo {repo}   (needs a remote; stacked in order)",
            f"  roll back a phase:    ssot-migrate rollback phase2 --repo {repo}",
            "                        (deletes phase2 and the phase3 branch stacked on it; tips kept",
            "                         under refs/ssot-backup/ with the command to restore them)",
        ]
    lines += [
        f"  on your own project:  add a [tool.ssot-migrate] table to pyproject.toml (see {repo}/pyproject.toml),",
        "                        then `ssot-migrate scan` and `ssot-migrate phase1 --dry-run`",
        "",
        f"demo finished in {result.elapsed:.1f} s",
    ]
    return lines


def run_demo_command(
    *,
    path: Path | None,
    keep: bool,
    dry_run: bool = False,
    console: Console,
    jobs: int | None = None,
) -> int:
    """The CLI body of ``demo``: create the sample repository, run everything, tell the story.

    ``--path`` puts the repository there and keeps it; otherwise it goes to a temporary directory,
    removed at the end unless ``--keep``. ``--dry-run`` only prints phase 1's diff (stdout).
    """

    def say(line: str) -> None:
        console.print(Text(line))

    dest = path if path is not None else new_demo_path()
    repo = create_sample_repo(dest)
    kept = keep or path is not None
    say(f"sample repository: {repo}  (a chat backend whose WebSocket manager is fragmented;")
    say(f"  its configuration is the [tool.ssot-migrate] table in {repo / 'pyproject.toml'})")
    if not kept:
        say("  it is removed at the end; --keep or --path DIR keeps it")
    try:
        if dry_run:
            from ssot_migrate.dryrun import run_dry_run

            code = run_dry_run(IDS[0], repo, None, jobs=jobs, console=console)
            say(
                "that is the diff phase 1 would commit; run `ssot-migrate demo` for all three phases"
            )
            return code
        result = run_demo(repo, jobs=jobs, echo=lambda line: say(f"  {line}"))
        # The report is the demo's output (stdout); the progress above went to stderr.
        sys.stdout.write("".join(f"{line}\n" for line in render_demo(result, kept=kept)))
        sys.stdout.flush()
        return result.exit_code
    finally:
        if not kept:
            remove_demo_repo(dest.parent if path is None else dest)

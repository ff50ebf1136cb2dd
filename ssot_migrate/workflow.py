"""A phase as a reviewable branch: worktree, tests before and after, one commit, one ref update.

``create_phase_branch`` builds ``<prefix>phaseN-<name>`` from its base (the previous phase's unmerged
branch, else ``--base``) in a temporary worktree: measure the tests on the base tree, write the
phase's files, measure again, compare, commit with trailers, and only then create the branch with
an atomic ref update. The user's checkout, index, stash and HEAD are never touched.

``measurement.measure_change`` is that worktree -> tests -> change -> tests -> comparison
sequence, which ``rollback`` uses too; ``bisection`` finds the culprit files of a regression;
``phase_cli`` is the command around ``create_phase_branch``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.text import Text

from ssot_migrate import phases
from ssot_migrate.bisection import BisectReport
from ssot_migrate.codemods.base import Codemod
from ssot_migrate.errors import GitError, UsageError
from ssot_migrate.gitlayer import branches as refs
from ssot_migrate.gitlayer.worktree import Worktree, started_worktree
from ssot_migrate.measurement import (
    DEFAULT_BISECT_BUDGET,
    Echo,
    MeasuredChange,
    Verification,
    Verifier,
    begin_base_suite,
    confirm_and_bisect,
    measure_change,
    tests_section,
)
from ssot_migrate.model import Config, FileOutcome, Note, RunSummary
from ssot_migrate.phases import BaseChoice, branch_name, choose_base, describe_base
from ssot_migrate.record import PhaseRecord, Trailers, id_list, paragraph
from ssot_migrate.terminal import printable
from ssot_migrate.test_command import check_command
from ssot_migrate.verify import TestRunner


def _stderr_echo(line: str) -> None:
    Console(stderr=True, highlight=False, soft_wrap=True).print(Text(printable(line)))


@dataclass(frozen=True)
class PhaseResult:
    """What ``create_phase_branch`` did: the branch and commit (``None`` when there was nothing to do)."""

    phase: str
    branch: str
    base: str
    commit: str | None
    verification: Verification
    files: tuple[str, ...] = ()
    quarantined: tuple[str, ...] = ()
    bisect: BisectReport | None = None
    backup: str | None = None
    message: str = ""
    logs: tuple[str, ...] = ()
    test_runs: int = 0

    @property
    def exit_code(self) -> int:
        """1 when verification regressed (the branch exists anyway), else 0."""
        return 1 if self.verification.verdict == "failed" else 0


def _compute(
    config: Config, phase: str, commit: str, jobs: int | None, codemod: Codemod | None
) -> RunSummary:
    from ssot_migrate.engine import Snapshot, run_codemod

    if codemod is None:
        return phases.compute_phase(config, phase, base=commit, jobs=jobs, progress=True)
    with Snapshot.open(config.repo, config, commit) as snapshot:
        return run_codemod(snapshot, codemod, jobs=jobs, phase=phase)


def _scan_violations(config: Config, commit: str, jobs: int | None) -> dict[str, int]:
    """What must reach zero, per category: the figures the pull request shows too."""
    from ssot_migrate.scan.analysis import scan_repository

    report = scan_repository(config, base=commit, jobs=jobs)
    figures = report.violations()
    if report.skipped:  # not analysed: the figures above do not cover them
        figures["files-skipped"] = len(report.skipped)
    return figures


def _yield_to_the_suites() -> None:
    """Lower the scan thread's CPU priority (Linux schedules threads on their own): two suites
    keep both cores of a 2-core machine, and the scans use what they leave, such as the time
    between the first suite's end and the second's, instead of slowing one of them down."""
    if sys.platform == "linux":  # elsewhere a thread id is not a valid target for setpriority
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except OSError:
            pass  # only a matter of speed


class _Scans:
    """The violation counts of the base and of the phase's tree, for the commit message.

    With tests to run, each scan runs in one background thread from the moment its commit
    exists, so it takes its time while the suites take theirs (it reads git objects, never a
    worktree). It scans in-process there (one job): no process pool is forked from a thread.
    Without tests, each runs when its result is asked for, with the configured jobs.
    """

    def __init__(
        self, config: Config, jobs: int | None, stack: ExitStack, *, alongside_tests: bool
    ) -> None:
        self._config, self._jobs = config, jobs
        self._pool: ThreadPoolExecutor | None = None
        if alongside_tests:
            self._pool = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="ssot-scan", initializer=_yield_to_the_suites
            )
            # On an error or Ctrl-C the phase ends without waiting for a scan nobody reads.
            stack.callback(self._pool.shutdown, wait=False, cancel_futures=True)
        self._started: dict[str, Future[dict[str, int]]] = {}  # by tree: any commit of it

    def start(self, commit: str) -> None:
        """Scan ``commit`` in the background, when scans run alongside the tests."""
        if self._pool is not None:
            tree = refs.tree_of(self._config.repo, commit)
            self._started[tree] = self._pool.submit(_scan_violations, self._config, commit, 1)

    def result(self, commit: str, tree: str | None = None) -> dict[str, int]:
        """The counts of ``commit``, from a scan started on any commit of the same tree."""
        started = self._started.get(tree or refs.tree_of(self._config.repo, commit))
        if started is not None:
            return started.result()
        return _scan_violations(self._config, commit, self._jobs)


def _numstat(wt: Worktree, base: str) -> list[tuple[str, str, str]]:
    out = wt.git("diff", "--cached", "--numstat", "-z", "--no-renames", base)
    rows = []
    for record in out.split("\0"):
        if record.strip():
            added, removed, path = record.split("\t", 2)
            rows.append((path, added, removed))
    return rows


def _format_scan(before: Mapping[str, int], after: Mapping[str, int]) -> list[str]:
    keys = [k for k in sorted(set(before) | set(after)) if before.get(k, 0) or after.get(k, 0)]
    if not keys:
        return ["Scan: nothing found before or after"]
    lines = ["Scan (violations per category) before -> after:"]
    lines += [f"  {key}: {before.get(key, 0)} -> {after.get(key, 0)}" for key in keys]
    return lines


def _decision_lines(
    notes: Sequence[Note], quarantine: Mapping[str, Sequence[str]], config: Config
) -> list[str]:
    decisions = [n for n in notes if n.severity == "needs-decision"]
    if not decisions and not quarantine and not config.decisions:
        return []
    lines = [f"Needs a decision ({len(decisions) + len(quarantine) + len(config.decisions)}):"]
    lines += [f"  {config.source.name}: {d}" for d in config.decisions]
    lines += [f"  {n.path}:{n.line}: [{n.target}] {n.message}" for n in decisions]
    for path, tests in quarantine.items():
        lines.append(f"  {path}: left out of this phase (quarantined): breaks {', '.join(tests)}")
    return lines


def create_phase_branch(
    repo: Path,
    config: Config,
    phase: str,
    *,
    base: str = "HEAD",
    jobs: int | None = None,
    verify: bool = True,
    refresh: bool = False,
    bisect: bool = False,
    quarantine: bool = False,
    bisect_budget: int = DEFAULT_BISECT_BUDGET,
    summary: RunSummary | None = None,
    codemod: Codemod | None = None,
    echo: Echo = _stderr_echo,
) -> PhaseResult:
    """Create ``phase``'s verified branch; see the module docstring for the steps.

    ``summary`` (precomputed outcomes, computed on the chosen base) or ``codemod`` (run here)
    replace the configured phase's codemod; tests and bisection use them.
    Raises ``UsageError`` when the branch exists without ``refresh``; returns a result whose
    ``commit`` is ``None`` when the phase has nothing to do.
    """
    phases.get(phase)
    if quarantine and not bisect:
        bisect = True  # quarantining needs the culprits bisection finds
    repo = repo.resolve()
    branch = branch_name(config, phase)
    old_tip = _replaceable_tip(repo, branch, phase, refresh)
    refs.identity(repo)
    if verify:
        check_command(config)
    choice = _choose_writable_base(repo, config, phase, base, branch, old_tip)
    echo(describe_base(phase, choice))
    if summary is not None and not summary.changed:
        echo(f"{phase}: nothing to do, no branch created")
        return PhaseResult(phase, branch, choice.commit, None, Verification("skipped"))
    verifier = Verifier(repo, config, verify, echo)
    shared_before = refs.shared_state(repo) if verifier.runner is not None else None
    with ExitStack() as stack:
        # Both worktrees are checked out by git while the change is computed; the base tree's
        # suite needs nothing from the change, so it is begun here too (unless the tests to
        # run are chosen from the change: ``tests = "affected"``).
        base_suite = None
        if config.tests != "affected":
            base_suite = begin_base_suite(stack, repo, verifier, choice.commit, phase)
        # Without tests nothing reads the files: an index-only worktree skips the checkout.
        phase_wt = stack.enter_context(
            started_worktree(repo, choice.commit, phase, checkout=verifier.runner is not None)
        )
        if summary is None:
            summary = _compute(config, phase, choice.commit, jobs, codemod)
        new_files = {o.path: o.after for o in summary.changed}
        if not new_files:
            echo(f"{phase}: nothing to do, no branch created")
            return PhaseResult(phase, branch, choice.commit, None, Verification("skipped"))
        verifier.select_affected(choice.commit, new_files, jobs)
        scans = _Scans(config, jobs, stack, alongside_tests=verifier.runner is not None)

        def scan_alongside(wt: Worktree, tree: str) -> None:
            # Started once the suites run: the scan thread shares this process's interpreter
            # lock with whatever starts them (seeding their bytecode, writing the change).
            scans.start(choice.commit)
            scans.start(wt.commit(tree, choice.commit, "draft"))

        change = measure_change(
            stack,
            repo,
            verifier,
            choice.commit,
            phase,
            "phase",
            lambda wt: wt.write_files(sorted(new_files.items())),
            alongside_tests=scan_alongside,
            base_suite=base_suite,
            worktree=phase_wt,
        )
        kept = confirm_and_bisect(
            change, verifier, new_files, bisect, quarantine, bisect_budget, echo
        )
        stats = _numstat(change.wt, choice.commit)

        def record(scan: Sequence[str]) -> PhaseRecord:
            return _phase_record(
                phase,
                choice,
                config,
                summary,
                stats,
                kept.verification,
                verifier.runner,
                kept.bisect,
                kept.quarantined,
                scan,
            )

        # scan reads commits, not worktrees: measure a draft commit of the same tree
        draft = change.wt.commit(kept.tree, choice.commit, record(()).render())
        scan_after = scans.result(draft, kept.tree)
        message = record(_format_scan(scans.result(choice.commit), scan_after)).render()
        commit = change.wt.commit(kept.tree, choice.commit, message)
    if shared_before is not None:
        _warn_shared_changes(shared_before, refs.shared_state(repo), echo)
    backup = _move_branch(repo, branch, commit, old_tip, phase, choice)
    if old_tip is not None:
        _warn_stale_stack(repo, config, phase, old_tip, echo)
    runner = verifier.runner
    return PhaseResult(
        phase=phase,
        branch=branch,
        base=choice.commit,
        commit=commit,
        verification=kept.verification,
        files=tuple(p for p, _, _ in stats),
        quarantined=tuple(kept.quarantined),
        bisect=kept.bisect,
        backup=backup,
        message=message,
        logs=tuple(str(p) for p in runner.logs) if runner else (),
        test_runs=runner.runs if runner else 0,
    )


def _replaceable_tip(repo: Path, branch: str, phase: str, refresh: bool) -> str | None:
    """The branch's current tip when ``--refresh`` may replace it; refuses what it may not."""
    old_tip = refs.branch_tip(repo, branch)
    if old_tip is not None and not refresh:
        raise UsageError(
            f"branch {branch} already exists (at {old_tip[:12]}); rerun with --refresh to "
            f"regenerate it from its base (the old tip is kept under {refs.BACKUP_NAMESPACE}), "
            f"or remove it with `ssot-migrate rollback {phase}`"
        )
    if old_tip is not None:
        where = refs.checked_out(repo).get(branch)
        if where is not None:
            raise UsageError(
                f"branch {branch} is checked out in {where}; --refresh would move it under the "
                "files and index there. Switch that checkout to another branch first"
            )
    return old_tip


def _choose_writable_base(
    repo: Path, config: Config, phase: str, base: str, branch: str, old_tip: str | None
) -> BaseChoice:
    """``choose_base``, once git has said the branch can be created there (before any work)."""
    choice = choose_base(repo, config, phase, base)
    try:
        refs.check_branch_update(repo, branch, choice.commit, old_tip)
    except GitError as exc:
        _require_writable_git_dir(repo)
        raise GitError(
            f"branch {branch} cannot be created here, so nothing was run: {exc}. "
            "Rename what is in the way or choose another branch-prefix"
        ) from exc
    return choice


def _move_branch(
    repo: Path, branch: str, commit: str, old_tip: str | None, phase: str, choice: BaseChoice
) -> str | None:
    """Point ``branch`` at ``commit`` atomically (old tip backed up); the backup ref, if any."""
    backup = refs.backup(repo, branch, old_tip) if old_tip else None
    try:
        refs.update_branch(repo, branch, commit, old_tip, f"{phase} on {choice.commit[:12]}")
    except GitError as exc:
        raise GitError(
            f"branch {branch} changed while {phase} ran (another run?); nothing was overwritten. "
            f"This run's commit is {commit}: `git branch <name> {commit[:12]}` keeps it ({exc})"
        ) from exc
    return backup


def _require_writable_git_dir(repo: Path) -> None:
    # git only says it could not lock or create the ref; say why when that is the reason.
    where = refs.git_dir(repo)
    try:
        fd, probe = tempfile.mkstemp(prefix=".ssot-probe-", dir=where)
    except OSError as exc:
        raise GitError(
            f"cannot write to {where}: {exc.strerror or exc}. A phase creates its branch and "
            "worktree inside the repository's git directory, which must be writable; "
            "`--dry-run` needs no write access"
        ) from exc
    os.close(fd)
    os.unlink(probe)


def _warn_shared_changes(before: Mapping[str, str], after: Mapping[str, str], echo: Echo) -> None:
    # A worktree shares refs, the stash and config with the user's checkout: a suite running
    # `git stash`/`branch`/`tag`/`config` in its directory changed the user's repository.
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    if not changed:
        return
    echo(
        "warning: while the test command ran, your repository's shared state changed "
        "(worktrees share refs, the stash and config with your checkout):"
    )
    for name in changed:
        what = "added" if name not in before else "removed" if name not in after else "changed"
        echo(f"  {name}: {what}")


def _warn_stale_stack(repo: Path, config: Config, phase: str, old_tip: str, echo: Echo) -> None:
    for later in phases.later(phase):
        name = branch_name(config, later.id)
        tip = refs.branch_tip(repo, name)
        if tip is not None and refs.is_ancestor(repo, old_tip, tip):
            echo(
                f"note: {name} is stacked on the previous {phase} tip; "
                f"regenerate it with `ssot-migrate {later.id} --refresh`"
            )


def _phase_record(
    phase: str,
    choice: BaseChoice,
    config: Config,
    summary: RunSummary,
    stats: Sequence[tuple[str, str, str]],
    verification: Verification,
    runner: TestRunner | None,
    report: BisectReport | None,
    quarantined: Mapping[str, Sequence[str]],
    scan: Sequence[str],
) -> PhaseRecord:
    """The phase commit's record; ``scan`` is the scan figures' section (none in the draft)."""
    record = phases.get(phase)
    label = choice.stacked_on or choice.mainline.removeprefix("refs/heads/")
    where = f"{label} ({choice.commit[:12]})" if label != choice.commit else choice.commit[:12]
    base = f"Base: {where}" + (" - stacked on the previous phase" if choice.stacked_on else "")
    files = [f"Files changed ({len(stats)}):"]
    files += [f"  {path} (+{added} -{removed})" for path, added, removed in stats]
    per_target = _per_target(summary.changed, {p for p, _, _ in stats})
    if per_target:
        files.append("References rewritten per target:")
        files += [f"  {target}: {count}" for target, count in per_target.items()]
    for target, alias in summary.discovered:
        files.append(f"  {target}: also rewrote the discovered re-export path {alias}")
    files += [f"  {line}" for line in summary.messages]
    tests = tests_section(verification, runner) + (report.lines() if report is not None else [])
    decisions = _decision_lines(summary.notes, quarantined, config)
    body = [[base], files, list(scan), tests, decisions]
    warnings = [n for n in summary.notes if n.severity != "needs-decision"]
    if warnings or summary.warnings:
        # Why the diff looks as it does where it is not the obvious rewrite (a kept name, a
        # star import left alone), and configured names found nowhere: the reviewer reads the
        # commit, not the run's output.
        notes = [f"Notes ({len(warnings) + len(summary.warnings)}):"]
        notes += [f"  {config.source.name}: warning: {w}" for w in summary.warnings]
        notes += [f"  {n.path}:{n.line}: [{n.target}] {n.message}" for n in warnings]
        body.append(notes)
    if summary.skipped:
        skipped = [f"Skipped, left unchanged ({len(summary.skipped)}):"]
        skipped += [f"  {o.path}:{o.line}: {o.reason}" for o in summary.skipped]
        body.append(skipped)
    comparison = verification.comparison
    trailers = Trailers(
        phase=phase,
        base=choice.commit,
        mainline=choice.mainline,
        config=config.digest or "-",
        tests_before=verification.before_text,
        tests_after=verification.after_text,
        verified=verification.verdict,
        regressions=id_list(comparison.regressions) if comparison else None,
        flaky=id_list(comparison.flaky) if comparison else None,
        unstable_on_base=id_list(comparison.unstable) if comparison else None,
    )
    return PhaseRecord(
        f"ssot-migrate {phase} ({record.slug}): {record.title}",
        tuple(paragraph(lines) for lines in body if lines),
        trailers,
    )


def _per_target(outcomes: Sequence[FileOutcome], kept: set[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        if outcome.path in kept:
            for change in outcome.changes:
                counts[change.target] = counts.get(change.target, 0) + 1
    return dict(sorted(counts.items()))


__all__ = [
    "MeasuredChange",
    "PhaseResult",
    "Verification",
    "Verifier",
    "choose_base",
    "describe_base",
    "create_phase_branch",
    "measure_change",
    "tests_section",
]

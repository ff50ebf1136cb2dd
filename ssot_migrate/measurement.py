"""The verified-commit sequence shared by phases and rollback, and the test evidence it yields.

``measure_change``: a worktree on the base, the tests on the base tree, the change, the tests on
the new tree, the comparison; both suites at once when ``test-jobs`` allows. ``Verifier`` wraps
the configured ``TestRunner`` (affected-test selection, progress, triage of what regressed);
``confirm_and_bisect`` re-runs what regressed and, when asked, bisects and quarantines.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

from ssot_migrate.bisection import BisectReport, bisect_files
from ssot_migrate.comparison import (
    Comparison,
    RunIds,
    Triage,
    apply_triage,
    compare,
    marked_expected_fixes,
    triage,
)
from ssot_migrate.conventions import is_test_path
from ssot_migrate.gitlayer import branches as refs
from ssot_migrate.gitlayer.worktree import (
    PendingWorktree,
    Worktree,
    started_worktree,
)
from ssot_migrate.model import Config
from ssot_migrate.selection import Selection, select_at
from ssot_migrate.terminal import progress_seconds
from ssot_migrate.verify import Batch, RunRequest, TestRun, TestRunner

DEFAULT_BISECT_BUDGET = 24
Echo = Callable[[str], None]


@dataclass(frozen=True)
class Verification:
    """The test evidence of one commit: both runs, their comparison, the trailer verdict."""

    verdict: str
    before: TestRun | None = None
    after: TestRun | None = None
    comparison: Comparison | None = None
    triage: Triage | None = None
    selection: str = ""  # how the tests run were chosen (``tests = "affected"``), when they were

    @property
    def before_text(self) -> str:
        return self.before.summary() if self.before else self.verdict

    @property
    def after_text(self) -> str:
        return self.after.summary() if self.after else self.verdict


def test_jobs(config: Config) -> int:
    """How many suites may run at once: ``test-jobs``, else 2 on a machine with 2+ cores."""
    if config.test_jobs is not None:
        return config.test_jobs
    return 2 if (os.cpu_count() or 1) >= 2 else 1


class _Ticker:
    """Progress of a running suite: a live line on a terminal, a plain line now and then else."""

    def __init__(self, echo: Echo) -> None:
        self.echo = echo
        self.live = sys.stderr.isatty()
        self.shown = False
        self.every = progress_seconds()
        if self.live:
            self.every = min(self.every, 1.0)

    def __call__(self, text: str) -> None:
        if self.live:
            sys.stderr.write("\r\x1b[K" + (f"tests: {text}" if text else ""))
            sys.stderr.flush()
        elif text:
            self.echo(f"tests: {text}")


class Verifier:
    """Runs the test command on worktree trees and compares; shared by phases and rollback."""

    def __init__(self, repo: Path, config: Config, enabled: bool, echo: Echo) -> None:
        self.config = config
        self.enabled = enabled
        self.echo = echo
        self.runner = TestRunner.for_config(config, refs.git_dir(repo)) if enabled else None
        self.ticker = _Ticker(echo)
        self.selection: Selection | None = None
        if self.runner is not None:
            self.runner.progress = self.ticker
            self.runner.progress_every = self.ticker.every

    def select_affected(self, commit: str, changed: Mapping[str, bytes], jobs: int | None) -> None:
        """With ``tests = "affected"``: run only the test files that can reach ``changed``
        (see ``selection``), on both trees; says what was chosen and why."""
        if self.runner is not None and self.config.tests == "affected":
            self.selection = select_at(self.config, self.runner.argv, commit, changed, jobs)
            self.echo(self.selection.line())

    @property
    def only(self) -> tuple[str, ...] | None:
        """The test files to run (``None``: the whole suite; empty: none can be affected)."""
        if self.selection is None or self.selection.everything:
            return None
        return self.selection.files

    def cached(self, tree: str) -> TestRun | None:
        """The cached full run on ``tree``, when a full run is what would be made."""
        if self.runner is None or self.only is not None:
            return None
        return self.runner.cached(tree)

    def measure(self, wt: Worktree, tree: str, label: str) -> TestRun | None:
        """Run (or recall from the cache) the full suite on the worktree's current files."""
        return self.measure_many([(wt, tree, label)])[0]

    def measure_many(self, items: Sequence[tuple[Worktree, str, str]]) -> list[TestRun | None]:
        """Run (or recall) the full suite on each worktree, all at the same time."""
        if not self.will_run():
            return [None] * len(items)
        assert self.runner is not None
        with Batch(self.runner) as batch:
            self.start_suites(batch, items)
            return list(self.finish_suites(batch))

    def will_run(self) -> bool:
        """Whether suites run at all (a test command, and a test that can be affected)."""
        return self.runner is not None and self.only != ()

    def start_suites(self, batch: Batch, items: Sequence[tuple[Worktree, str, str]]) -> None:
        """Start the full suite on each worktree now (a measured tree is recalled instead)."""
        assert self.runner is not None
        missing = []
        for _wt, tree, label in items:
            hit = self.cached(tree)
            if hit is not None:
                self.echo(f"tests on {label} tree {tree[:12]}: {hit.summary()} (cached)")
            else:
                missing.append(label)
        if missing:
            running = batch.running
            together = " and ".join(missing) + (
                " trees at the same time" if len(missing) > 1 else " tree"
            )
            if running:  # the command was named when the first of them started
                self.echo(
                    f"running tests on the {together} too, at the same time as the "
                    f"{' and '.join(running)} tree's ..."
                )
            else:
                self.echo(f"running tests on the {together} ({' '.join(self.runner.argv)}) ...")
        for wt, _, _ in items:
            wt.check("run the test command")
        batch.start(
            [RunRequest(wt.path, tree, label, self.only or ()) for wt, tree, label in items]
        )

    def finish_suites(self, batch: Batch) -> list[TestRun]:
        """Wait for the suites ``batch`` runs; says how each went."""
        runs = batch.wait()
        for run, label in zip(runs, batch.labels):
            if not run.cached:
                self.echo(
                    f"tests on {label} tree: {run.summary()} in {run.duration:.1f} s; "
                    f"log: {run.log}"
                )
        return runs

    def run(
        self, wt: Worktree, tree: str, label: str, only: Sequence[str] = (), *, fresh: bool = False
    ) -> TestRun:
        """One run of the test command in ``wt`` (triage, re-runs), never answered by the cache
        for ``only``/``fresh``; refused (exit 2) when the worktree is no longer this run's: a
        suite that removed it, or put a link to the user's checkout in its place, must not get
        the next run started there."""
        assert self.runner is not None
        wt.check("run the test command")
        return self.runner.run(wt.path, tree, label, only=only, fresh=fresh)

    def verify(
        self, before: TestRun | None, after: TestRun | None, wt: Worktree, *, revert: bool = False
    ) -> Verification:
        """The verdict: ``skipped`` / ``no-tests`` / ``yes`` / ``failed`` and the comparison.

        ``revert``: the change undoes a phase, so its fail-first tests (``expected-fixes`` and
        marked tests) are expected to fail again, and none is expected to flip to passing.
        """
        if not self.enabled:
            return Verification("skipped")
        chosen = self.selection.line() if self.selection is not None else ""
        if before is None or after is None:
            return Verification("no-tests", selection=chosen)
        test_files = [
            p for p in wt.git("ls-files", "-z").split("\0") if p.endswith(".py") and is_test_path(p)
        ]
        expected = self.config.expected_fixes + marked_expected_fixes(wt.path, test_files)
        if revert:
            comparison = compare(before, after, reversions=expected)
        else:
            comparison = compare(before, after, expected)
        return Verification(comparison.verdict, before, after, comparison, selection=chosen)

    def confirm(
        self, verification: Verification, wt: Worktree, tree: str, on_base: RunIds
    ) -> Verification:
        """Re-run what went pass -> fail before it counts (``rerun``); see ``comparison.triage``.

        A pytest suite re-runs those tests by id on ``wt`` (the phase tree) and through
        ``on_base``; any other runner re-runs the whole suite once on the phase tree.
        """
        comparison = verification.comparison
        runner = self.runner
        rerun = self.config.rerun
        after = verification.after
        if (
            runner is None
            or comparison is None
            or after is None
            or not comparison.regressions
            or rerun < 1
            or after.timed_out
            or (verification.before is not None and verification.before.timed_out)
        ):
            return verification
        if after.results is None:
            self.echo(
                "triage: the suite failed where it passed on the base tree; running it "
                "once more on the phase tree"
            )
            again = self.run(wt, tree, "phase-rerun", fresh=True)
            self.echo(f"triage: re-run on the phase tree: {again.summary()}")
            if again.exit_code != 0:
                return verification
            whole = f"the whole suite ({comparison.regressions[0]}, then exit 0 when re-run)"
            found = Triage((), (whole,), (), (), 1)
            note = "triage: the suite failed on the phase tree, then passed when run again"
            confirmed = replace(apply_triage(comparison, found, 1), triage=(note,))
            return replace(verification, verdict="yes", comparison=confirmed, triage=found)
        self.echo(
            f"triage: re-running {len(comparison.regressions)} pass -> fail test(s) by id "
            "on the phase tree, then on the base tree ..."
        )
        found = triage(
            comparison.regressions,
            rerun,
            lambda ids: self.run(wt, tree, "triage-phase", only=ids),
            on_base,
        )
        for line in found.lines(rerun):
            self.echo(line)
        confirmed = apply_triage(comparison, found, rerun)
        return replace(verification, verdict=confirmed.verdict, comparison=confirmed, triage=found)


def tests_section(verification: Verification, runner: TestRunner | None) -> list[str]:
    """The commit message's ``Tests`` section: the command, before/after and the comparison."""
    if verification.verdict == "skipped":
        return ["Tests: skipped (--no-verify)"]
    if runner is None:
        return ["Tests: no test-command configured"]
    lines = [
        f"Tests ({' '.join(runner.argv)}):",
        f"  before: {verification.before_text}",
        f"  after:  {verification.after_text}",
    ]
    if verification.selection:
        lines.append(f"  {verification.selection}")
    if verification.comparison is not None:
        lines += [f"  {line}" for line in verification.comparison.lines()]
    return lines


@dataclass(frozen=True)
class MeasuredChange:
    """A change applied in a worktree on its base and measured: trees, test runs, verdict."""

    wt: Worktree
    base_wt: Worktree | None  # the base tree's own worktree when both suites ran at once
    base: str
    base_tree: str
    tree: str
    before: TestRun | None
    verification: Verification


@dataclass
class BaseSuite:
    """The base tree's suite in a worktree of its own, begun before the change exists: git
    checks the worktree out while the change is computed, and ``start`` runs the suite."""

    pending: PendingWorktree
    tree: str
    batch: Batch
    verifier: Verifier
    started: bool = False

    @property
    def wt(self) -> Worktree:
        """The worktree, once checked out."""
        return self.pending.ready()

    def start(self) -> None:
        """Start the suite (once), as soon as the worktree is there."""
        if not self.started:
            self.started = True
            self.verifier.start_suites(self.batch, [(self.wt, self.tree, "base")])


def begin_base_suite(
    stack: ExitStack, repo: Path, verifier: Verifier, base: str, name: str
) -> BaseSuite | None:
    """Begin the base tree's suite, when both suites are to run at the same time: 2+ test jobs,
    the base tree not measured before, and tests to run. Else ``None``. The worktree and the
    run last as long as ``stack``; leaving it stops the run.

    A phase begins it before computing its change, and its own worktree too: the codemod and
    both checkouts (file creation, system time in git's processes) then take their time
    together, and both suites start as soon as all three are done.
    """
    runner = verifier.runner
    if runner is None or test_jobs(verifier.config) < 2 or not verifier.will_run():
        return None
    base_tree = refs.tree_of(repo, base)
    if verifier.cached(base_tree) is not None:
        return None
    pending = stack.enter_context(started_worktree(repo, base, f"{name}-base"))
    batch = stack.enter_context(Batch(runner))
    return BaseSuite(pending, base_tree, batch, verifier)


def measure_change(
    stack: ExitStack,
    repo: Path,
    verifier: Verifier,
    base: str,
    name: str,
    label: str,
    apply: Callable[[Worktree], object],
    *,
    checkout: bool = True,
    revert: bool = False,
    alongside_tests: Callable[[Worktree, str], object] | None = None,
    base_suite: BaseSuite | None = None,
    worktree: PendingWorktree | None = None,
) -> MeasuredChange:
    """The verified-commit sequence shared by phases and rollback: a worktree on ``base``, the
    tests on the base tree, ``apply``, the tests on the new tree, the comparison.

    The worktrees live as long as ``stack``. With 2+ test jobs and the base tree not cached,
    both suites run at the same time, each in its own worktree, log and scratch area; the base
    suite starts first (``base_suite``, if the caller began it already), the phase suite as
    soon as the change is applied. ``worktree`` is the change's worktree if the caller started
    it already (at ``base``, with ``checkout``); else it is started here, alongside the base's.
    ``alongside_tests`` is given the changed worktree and its tree once the tests on it are
    started (just before, when they run one after the other): work to do while they run.
    """
    if base_suite is None:
        base_suite = begin_base_suite(stack, repo, verifier, base, name)
    if worktree is None:
        worktree = stack.enter_context(started_worktree(repo, base, name, checkout=checkout))
    if base_suite is not None:
        base_suite.start()
    wt = worktree.ready()
    base_tree = base_suite.tree if base_suite is not None else refs.tree_of(repo, base)
    base_wt: Worktree | None = None
    before: TestRun | None
    after: TestRun | None
    if base_suite is not None:
        base_wt = base_suite.wt
        apply(wt)
        tree = wt.write_tree()
        verifier.start_suites(base_suite.batch, [(wt, tree, label)])
        if alongside_tests is not None:  # once both suites run: nothing delays their start
            alongside_tests(wt, tree)
        before, after = verifier.finish_suites(base_suite.batch)
    else:
        before = verifier.measure(wt, base_tree, "base")
        if checkout:
            wt.clean()  # no file left by the base run may leak into the run after the change
        apply(wt)
        tree = wt.write_tree()
        if alongside_tests is not None:  # before the run, which blocks
            alongside_tests(wt, tree)
        after = verifier.measure(wt, tree, label)
    verification = verifier.verify(before, after, wt, revert=revert)
    return MeasuredChange(wt, base_wt, base, base_tree, tree, before, verification)


@dataclass(frozen=True)
class Kept:
    """What a phase commits after triage, bisection and quarantine."""

    tree: str
    verification: Verification
    bisect: BisectReport | None = None
    quarantined: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def confirm_and_bisect(
    change: MeasuredChange,
    verifier: Verifier,
    new_files: Mapping[str, bytes],
    bisect: bool,
    quarantine: bool,
    bisect_budget: int,
    echo: Echo,
) -> Kept:
    """Re-run what regressed (triage); with ``--bisect`` find the culprit files, and with
    ``--quarantine`` measure the phase again without them."""
    wt, base_wt, base, base_tree = change.wt, change.base_wt, change.base, change.base_tree
    runner = verifier.runner
    current = dict(new_files)  # what the phase worktree holds (less, once quarantined)

    def on_base(ids: Sequence[str]) -> TestRun:
        if base_wt is not None:
            return verifier.run(base_wt, base_tree, "triage-base", only=ids)
        wt.reset(base)
        try:
            return verifier.run(wt, base_tree, "triage-base", only=ids)
        finally:
            wt.reset(base)
            wt.write_files(sorted(current.items()))

    tree = change.tree
    verification = verifier.confirm(change.verification, wt, tree, on_base)
    comparison = verification.comparison
    if not (
        bisect
        and verification.verdict == "failed"
        and comparison is not None
        and runner is not None
        and comparison.regressions
    ):
        if bisect:
            echo(f"bisect: no per-test regression to look for (verified: {verification.verdict})")
        return Kept(tree, verification)
    found = verification.triage
    # the triage re-ran exactly these tests by id on the whole change: known to fail
    known = found is not None and not set(found.order_dependent) & set(comparison.regressions)
    report = bisect_files(
        wt,
        base,
        new_files,
        comparison.regressions,
        runner,
        bisect_budget,
        echo,
        known_full=known,
        live=verifier.ticker.live,
    )
    for line in report.lines():
        echo(line)
    if not (quarantine and report.culprits and len(report.culprits) < len(new_files)):
        if quarantine:
            echo("quarantine: nothing left out (every changed file is implicated)")
        wt.reset(base)
        wt.write_files(sorted(new_files.items()))
        return Kept(tree, verification, report)
    quarantined = {p: report.tests for p in report.culprits}
    current = {p: b for p, b in new_files.items() if p not in quarantined}
    wt.reset(base)
    wt.write_files(sorted(current.items()))
    tree = wt.write_tree()
    after = verifier.measure(wt, tree, "phase (quarantined)")
    verification = verifier.verify(change.before, after, wt)
    verification = verifier.confirm(verification, wt, tree, on_base)
    return Kept(tree, verification, report, quarantined)

"""``--bisect``: which of a phase's changed files make the regressed tests fail.

Delta debugging (Zeller's ddmin) over the changed files, within a budget of test runs: only the
regressed tests run (by id, for pytest), each subset written onto the base in the phase's own
worktree. ``--quarantine`` then commits the phase without the culprits (see ``workflow``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ssot_migrate.comparison import reproduces
from ssot_migrate.gitlayer.worktree import Worktree
from ssot_migrate.verify import TestRunner

Echo = Callable[[str], None]


@dataclass(frozen=True)
class BisectReport:
    """What ``--bisect`` found: the culprit files, the tests they break, and what it spent."""

    culprits: tuple[str, ...]
    tests: tuple[str, ...]
    runs: int
    budget: int
    exhausted: bool
    seconds: float

    def lines(self) -> list[str]:
        """Human-readable lines for the terminal and the commit message."""
        if not self.culprits:
            line = (
                "bisect: the regression did not reproduce with only the regressed tests running "
                f"(flaky or order-dependent); no culprit named ({self.runs} test runs)"
            )
            return [line]
        state = "budget exhausted, not minimal" if self.exhausted else "minimal"
        head = (
            f"bisect: {len(self.culprits)} file(s) cause the regression ({state}; "
            f"{self.runs}/{self.budget} test runs, {self.seconds:.1f} s)"
        )
        out = [head]
        out += [f"  - {path}" for path in self.culprits]
        return out


def bisect_files(
    wt: Worktree,
    base: str,
    files: Mapping[str, bytes],
    regressions: Sequence[str],
    runner: TestRunner,
    budget: int,
    echo: Echo,
    *,
    known_full: bool = False,
    live: bool = False,
) -> BisectReport:
    """Delta debugging over the changed files: batches first, then halving, within ``budget``.

    ``known_full``: the regressed tests were already seen failing, run alone, on the whole
    change (the triage did it), so that run is not made again. One output line per step.
    """
    started = time.monotonic()
    memo: dict[frozenset[str], bool] = {}
    subset_ids = tuple(regressions) if runner.is_pytest else ()
    if known_full and subset_ids:
        memo[frozenset(files)] = True
    progress = runner.progress
    if not live:
        runner.progress = None  # plain progress lines would break "one line per step"
    try:
        return _delta(wt, base, files, regressions, runner, budget, echo, memo, subset_ids, started)
    finally:
        runner.progress = progress


def _delta(
    wt: Worktree,
    base: str,
    files: Mapping[str, bytes],
    regressions: Sequence[str],
    runner: TestRunner,
    budget: int,
    echo: Echo,
    memo: dict[frozenset[str], bool],
    subset_ids: tuple[str, ...],
    started: float,
) -> BisectReport:
    runs = 0

    def fails(subset: Sequence[str]) -> bool:
        nonlocal runs
        key = frozenset(subset)
        if key not in memo:
            runs += 1
            wt.reset(base)
            wt.write_files((p, files[p]) for p in sorted(subset))
            tree = wt.write_tree()
            wt.check("run the test command")
            run = runner.run(wt.path, tree, "bisect", only=subset_ids)
            memo[key] = reproduces(run, regressions)
            echo(
                f"bisect run {runs}: {len(subset)} file(s) -> "
                f"{'regresses' if memo[key] else 'passes'}"
            )
        return memo[key]

    items = sorted(files)
    if subset_ids and not fails(items):
        # Only the regressed tests run from here on; if the whole change does not make them
        # fail that way, no subset will, and naming one would be a guess.
        return BisectReport((), tuple(regressions), runs, budget, False, time.monotonic() - started)
    granularity = min(len(items), 4)  # the first split is into batches, then halves
    exhausted = False
    while len(items) >= 2:
        if runs >= budget:
            exhausted = True
            break
        size = math.ceil(len(items) / granularity)
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        reduced = False
        for chunk in chunks:
            if runs >= budget:
                break
            if fails(chunk):
                items, granularity, reduced = chunk, 2, True
                break
        if not reduced and len(chunks) > 2:
            for chunk in chunks:
                if runs >= budget:
                    break
                rest = [p for p in items if p not in chunk]
                if fails(rest):
                    items, granularity, reduced = rest, max(granularity - 1, 2), True
                    break
        if not reduced:
            if runs >= budget and granularity < len(items):
                exhausted = True
                break
            if granularity >= len(items):
                break
            granularity = min(len(items), granularity * 2)
    return BisectReport(
        culprits=tuple(items),
        tests=tuple(regressions),
        runs=runs,
        budget=budget,
        exhausted=exhausted,
        seconds=time.monotonic() - started,
    )

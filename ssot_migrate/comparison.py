"""Two test runs compared test by test, and the triage that decides what a failure means.

``compare`` turns the base and the changed tree's runs into a ``Comparison`` (regressions, fixes,
fail-first tests, what appeared or went); ``triage`` re-runs each test that went pass -> fail on
both trees to tell a regression from a flaky or unstable test; ``marked_expected_fixes`` finds
the fail-first tests marked in the test files. The runs themselves come from ``verify``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ssot_migrate.test_command import pytest_position
from ssot_migrate.verify import (
    ERROR,
    EXPECTED_FIX_MARK,
    FAILED,
    PASSED,
    TestRun,
)

RunIds = Callable[[Sequence[str]], TestRun]
_BAD = (FAILED, ERROR)


def marked_expected_fixes(root: Path, paths: Iterable[str]) -> tuple[str, ...]:
    """Test id prefixes marked ``@pytest.mark.ssot_expected_fix`` in the given test files.

    Markers are not in junit XML, so they are found statically: decorated functions and
    classes, and a module-level ``pytestmark``. Files that do not parse are ignored.
    """
    found: list[str] = []
    for rel in paths:
        try:
            data = (root / rel).read_bytes()
        except OSError:
            continue
        if EXPECTED_FIX_MARK.encode() not in data:
            continue  # cheap pre-filter: most test files never mention the mark
        try:
            tree = ast.parse(data)
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets)
                and _mentions_mark(node.value)
            ):
                found.append(rel)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                _collect(node, rel, found)
    return tuple(found)


def _collect(node: ast.stmt, prefix: str, found: list[str]) -> None:
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return
    test_id = f"{prefix}::{node.name}"
    if any(_mentions_mark(d) for d in node.decorator_list):
        found.append(test_id)
    elif isinstance(node, ast.ClassDef):
        for child in node.body:
            if (
                isinstance(child, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in child.targets)
                and _mentions_mark(child.value)
            ):
                found.append(test_id)
                return
        for child in node.body:
            _collect(child, test_id, found)


def _mentions_mark(node: ast.expr) -> bool:
    return any(
        isinstance(sub, ast.Attribute) and sub.attr == EXPECTED_FIX_MARK for sub in ast.walk(node)
    )


def matches(test_id: str, prefixes: Iterable[str]) -> bool:
    """Whether ``test_id`` is one of ``prefixes`` or lies inside one (a file, class, params)."""
    return any(test_id == p or test_id.startswith((p + "::", p + "[")) for p in prefixes)


@dataclass(frozen=True)
class Comparison:
    """Two runs compared: the verdict (``yes``/``no-tests``/``failed``) and what changed."""

    verdict: str
    regressions: tuple[str, ...] = ()
    fixes: tuple[str, ...] = ()
    expected_flips: tuple[str, ...] = ()
    missed_flips: tuple[str, ...] = ()
    expected_reversions: tuple[str, ...] = ()  # a revert's fail-first tests failing again
    added: tuple[str, ...] = ()
    gone: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    flaky: tuple[str, ...] = ()
    unstable: tuple[str, ...] = ()
    triage: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """Human-readable report lines (for the terminal and the commit message)."""
        out = list(self.reasons) + list(self.triage)
        for title, items in (
            ("regressions (pass -> fail/error)", self.regressions),
            (
                "expected reversions (fail-first tests failing again: the revert undoes their fix)",
                self.expected_reversions,
            ),
            ("flaky (failed, then passed when re-run; not regressions)", self.flaky),
            (
                "unstable on base (fail on the base tree too when re-run; not regressions)",
                self.unstable,
            ),
            ("expected fail-first flips (fail -> pass)", self.expected_flips),
            ("other fixes (fail -> pass)", self.fixes),
            ("expected fail-first tests not fixed by this change", self.missed_flips),
            ("tests added", self.added),
            ("tests gone", self.gone),
        ):
            if items:
                out.append(f"{title}: {len(items)}")
                out.extend(f"  - {item}" for item in items[:50])
                if len(items) > 50:
                    out.append(f"  ... and {len(items) - 50} more")
        return out


def compare(
    before: TestRun, after: TestRun, expected: Iterable[str] = (), reversions: Iterable[str] = ()
) -> Comparison:
    """Compare ``before`` and ``after`` test by test (junit) or by exit code (other runners).

    ``expected`` tests should flip fail -> pass; ``reversions`` tests may flip pass -> fail (a
    revert of a phase: its fail-first tests fail again) and are listed, not counted as regressions.
    """
    expected = tuple(expected)
    reversions = tuple(reversions)
    if before.timed_out or after.timed_out:
        which = "base tree" if before.timed_out else "phase tree"
        return Comparison("failed", reasons=(f"the test command timed out on the {which}",))
    for run, which in ((before, "base"), (after, "phase")):
        if _could_not_run(run):
            code = run.exit_code or 0
            how = (
                f"was killed by signal {-code} on the {which} tree"
                if code < 0
                else f"could not run on the {which} tree (exit {code})"
            )
            reason = f"the test command {how}; see {run.log}"
            return Comparison("failed", reasons=(reason,))
    if before.results is None or after.results is None:
        if before.is_empty() and after.is_empty():
            return Comparison("no-tests", reasons=("the test command found no tests",))
        if before.exit_code == 0 and after.exit_code != 0:
            return Comparison(
                "failed", regressions=(f"exit {before.exit_code} -> exit {after.exit_code}",)
            )
        return Comparison("yes", reasons=(f"exit {before.exit_code} -> exit {after.exit_code}",))
    old, new = before.results, after.results
    if not old and not new:
        return Comparison("no-tests", reasons=("the test command found no tests",))
    broken = sorted(t for t, s in new.items() if s in _BAD and (old.get(t) in (PASSED, None)))
    reverted = [t for t in broken if old.get(t) == PASSED and matches(t, reversions)]
    regressions = [t for t in broken if t not in reverted]
    flipped = sorted(t for t, s in new.items() if s == PASSED and old.get(t) in _BAD)
    expected_flips = [t for t in flipped if matches(t, expected)]
    fixes = [t for t in flipped if not matches(t, expected)]
    missed = sorted(
        t for t, s in old.items() if s in _BAD and matches(t, expected) and new.get(t) != PASSED
    )
    seen = set(old) | set(new)
    missed += sorted(p for p in expected if not any(matches(t, (p,)) for t in seen))
    reasons: list[str] = []
    if after.exit_code not in (0, 1, 5) and before.exit_code in (0, 1, 5):
        reasons.append(f"the runner exited {after.exit_code} on the phase tree")
    return Comparison(
        verdict="failed" if regressions or reasons else "yes",
        regressions=tuple(regressions),
        fixes=tuple(fixes),
        expected_flips=tuple(expected_flips),
        missed_flips=tuple(missed),
        expected_reversions=tuple(reverted),
        added=tuple(sorted(t for t in new if t not in old and t not in regressions)),
        gone=tuple(sorted(t for t in old if t not in new)),
        reasons=tuple(reasons),
    )


@dataclass(frozen=True)
class Triage:
    """What re-running the pass -> fail tests showed (see ``triage``)."""

    regressions: tuple[str, ...]
    flaky: tuple[str, ...]
    unstable: tuple[str, ...]
    order_dependent: tuple[str, ...]
    runs: int

    def lines(self, rerun: int) -> list[str]:
        """One line saying what was re-run and what it showed."""
        total = len(self.regressions) + len(self.flaky) + len(self.unstable)
        line = (
            f"triage: {total} pass -> fail test(s) re-run by id ({rerun} time(s) on the phase "
            f"tree, then on the base tree; {self.runs} runs): {len(self.regressions)} "
            f"regression(s), {len(self.flaky)} flaky, {len(self.unstable)} unstable on base"
        )
        out = [line]
        if self.order_dependent:
            out.append(
                f"triage: {len(self.order_dependent)} test(s) pass alone but fail again when "
                "their whole file runs on the phase tree (order-dependent; not flaky)"
            )
        return out


def _state(run: TestRun, test_id: str) -> str:
    """``bad`` / ``good`` / ``unknown`` for ``test_id`` in a (subset) run."""
    if run.timed_out or run.results is None:
        return "unknown"
    status = run.results.get(test_id)
    if status is not None:
        return "bad" if status in _BAD else "good"
    # a collection error of the file (or class) holding the test covers it
    covering = [s for t, s in run.results.items() if matches(test_id, (t,))]
    if covering:
        return "bad" if any(s in _BAD for s in covering) else "good"
    return "unknown"


def triage(candidates: Sequence[str], rerun: int, on_phase: RunIds, on_base: RunIds) -> Triage:
    """Sort pass -> fail tests into regressions, flaky tests and tests unstable on base.

    Each candidate is re-run by id on the phase tree up to ``rerun`` times; one that passes is
    flaky, unless it fails again when its whole file runs (it depends on the tests before it:
    a regression all the same). What still fails is re-run on the base tree: failing there too
    makes it unstable on base, else it is a regression. A re-run that cannot tell (a timeout, a
    test that is not collected by id) leaves the failure standing.
    """
    pending = sorted(candidates)
    flaky: list[str] = []
    by_file: list[str] = []
    runs = 0
    for _ in range(rerun):
        if not pending:
            break
        run = on_phase(pending)
        runs += 1
        good = [t for t in pending if _state(run, t) == "good"]
        pending = [t for t in pending if t not in good]
        if good:
            files = sorted({t.split("::", 1)[0] for t in good})
            whole = on_phase(files)
            runs += 1
            again = [t for t in good if _state(whole, t) == "bad"]
            by_file += again
            flaky += [t for t in good if t not in again]
    regressions: list[str] = []
    unstable: list[str] = []
    for selection, tests in (
        (pending, pending),
        (sorted({t.split("::", 1)[0] for t in by_file}), by_file),
    ):
        if not tests:
            continue
        run = on_base(selection)
        runs += 1
        for test in tests:
            (unstable if _state(run, test) == "bad" else regressions).append(test)
    return Triage(
        regressions=tuple(sorted(regressions)),
        flaky=tuple(sorted(flaky)),
        unstable=tuple(sorted(unstable)),
        order_dependent=tuple(sorted(by_file)),
        runs=runs,
    )


def apply_triage(comparison: Comparison, found: Triage, rerun: int) -> Comparison:
    """``comparison`` with its regressions replaced by what the triage confirmed."""
    return replace(
        comparison,
        verdict="failed" if found.regressions or comparison.reasons else "yes",
        regressions=found.regressions,
        flaky=found.flaky,
        unstable=found.unstable,
        triage=tuple(found.lines(rerun)),
    )


def _could_not_run(run: TestRun) -> bool:
    # 126/127: the shell convention `env` follows for "cannot execute" / "not found"; pytest
    # without a report and an exit status other than 0/1/5 stopped before running tests.
    # A negative exit status: killed by a signal, so the suite's verdict was never reached.
    if run.exit_code in (126, 127) or (run.exit_code is not None and run.exit_code < 0):
        return True
    # pytest 2/3/4: interrupted, internal error, usage error (a missing test path): whatever
    # report it left is not a measurement of the tree.
    if pytest_position(run.argv) is not None and run.exit_code in (2, 3, 4):
        return True
    return (
        run.results is None
        and pytest_position(run.argv) is not None
        and run.exit_code not in (0, 1, 5)
    )


def reproduces(run: TestRun, regressions: Sequence[str]) -> bool:
    """Whether a (subset) run shows any of ``regressions`` again (exit code for other runners)."""
    if run.timed_out:
        return True
    if run.results is None:
        return run.exit_code != 0
    return any(run.results.get(t) in _BAD for t in regressions) or any(
        s in _BAD and matches(t, regressions) for t, s in run.results.items()
    )

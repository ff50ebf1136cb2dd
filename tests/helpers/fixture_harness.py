"""Run a phase over fixture trees and compare the result byte for byte: one harness, every phase.

A case is a folder ``tests/fixtures/<phase>/<case>/`` holding

* ``before/`` — the repository as it is (the configuration validates exactly as it would for
  a user: a canonical in the repository, or outside it, found by ``ssot_migrate.resolution``);
* ``after/`` — the expected content of every file the phase changes (a file missing here must
  come out unchanged);
* ``config.toml`` — a ``[tool.ssot-migrate]`` table, plus an optional ``[fixture]`` table, the
  case's expectations:

  - ``notes = ["path:line:kind", ...]``: exactly the notes expected (default none), so a site
    left alone cannot go unreported;
  - ``skipped = ["path", ...]``: files expected not to parse (default none);
  - ``warnings = ["text", ...]``: one substring per configured name found nowhere (default none);
  - ``outcomes = ["path:line kind: message", ..., "summary: line", ...]`` (optional): the full
    text of every ``facade-*`` note, then every line the phase adds to its summary;
  - ``discovery = true`` (phase 1 only): run the phase exactly as ``ssot-migrate phase1`` builds
    it, re-export discovery included; without it phase 1 runs on the configured aliases only, so
    the case pins the codemod itself. Phases 2 and 3 always run as the CLI builds them;
* ``untracked/`` (optional) — files copied into the repository after its commit and never
  committed, as a gitignored ``.venv/`` is (``.venv``, ``venv`` and ``env`` are read from the
  working tree, not the commit).

``check_case(phase, case_dir, work)`` commits ``before/`` to a real git repository under
``work``, loads the configuration with ``ssot_migrate.config.load_config``, opens an engine
``Snapshot`` and builds the phase's plan, then for every Python file: transforms it, compares
with ``after/`` (a readable unified diff on mismatch, ``\\r`` and undecodable bytes made
visible), checks that the output parses (libcst and ``compile``), that a second transform
changes nothing, that a changed file contains one of the codemod's needles (the pre-filter is
sound) and reports a change, and that the engine (pre-filter, ``transform_file``, pool) produces
the very same bytes, notes and skipped files. The phase then runs again, as a whole, over its
own committed output: it must change nothing. Phase 2 also checks that every configured facade
ends with exactly one outcome (aliased, delegated, left as it is), on both runs.

``SSOT_REGENERATE=1`` rewrites ``after/`` and the ``[fixture]`` table's ``notes``, ``skipped``
and ``outcomes`` (when the phase says something about facades) from the current output instead of
comparing: use it deliberately, read the diff (``git diff tests/fixtures``), never in CI (refused
when ``CI`` is set). ``warnings`` and ``discovery`` are written by hand.
"""

from __future__ import annotations

import difflib
import os
import shutil
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import libcst
import pytest
import tomlkit

from ssot_migrate.codemods.base import Codemod
from ssot_migrate.codemods.facades import OUTCOME_KINDS
from ssot_migrate.codemods.imports import ImportsCodemod
from ssot_migrate.config import load_config
from ssot_migrate.engine import Snapshot, open_config_and_snapshot, run_codemod
from ssot_migrate.model import Config, Note, RunSummary
from ssot_migrate.phases import PhasePlan, build_plan, compute_phase
from tests.helpers.paths import FIXTURES
from tests.helpers.repos import git, make_repo

REGENERATE_ENV = "SSOT_REGENERATE"

Builder = Callable[[Config, Snapshot], PhasePlan]


def case_dirs(phase: str) -> list[Path]:
    """Every case folder of ``phase``, sorted by name."""
    root = FIXTURES / phase
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / "before").is_dir())


def case_params(phase: str) -> list[object]:
    """``pytest.param(case_dir, id=<case name>)`` for every case of ``phase``."""
    return [pytest.param(path, id=path.name) for path in case_dirs(phase)]


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` as repo-relative POSIX path -> exact bytes."""
    if not root.is_dir():
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def run_phase(repo: Path, config: Path, phase: str) -> RunSummary:
    """``phase`` over ``repo``'s HEAD as the CLI computes it (``--dry-run``), one process."""
    loaded, snapshot = open_config_and_snapshot(repo, config)
    with snapshot:
        return compute_phase(loaded, phase, snapshot=snapshot, jobs=1)


def _visible(line: bytes) -> str:
    text = line.decode("utf-8", "backslashreplace")
    body = text.rstrip("\r\n")
    ending = text[len(body) :]
    return body + ending.replace("\r", "\\r").replace("\n", "") + "\n"


def readable_diff(path: str, expected: bytes, actual: bytes) -> str:
    """A unified diff of two byte strings where ``\\r`` and non-UTF-8 bytes are visible."""
    exp = [_visible(line) for line in expected.splitlines(keepends=True)]
    act = [_visible(line) for line in actual.splitlines(keepends=True)]
    diff = "".join(
        difflib.unified_diff(exp, act, f"expected/{path}", f"actual/{path}", lineterm="\n")
    )
    if not diff:  # same lines, different bytes elsewhere (BOM, missing final newline, ...)
        diff = f"--- expected/{path}\n+++ actual/{path}\n{expected[:200]!r}\n{actual[:200]!r}\n"
    return diff


def assert_parses(path: str, source: bytes) -> None:
    """The output must parse with libcst and compile with CPython (cookies and BOM honoured)."""
    libcst.parse_module(source)
    compile(source, path, "exec", dont_inherit=True)


@dataclass(frozen=True)
class Expectations:
    """A case's ``[fixture]`` table."""

    notes: list[str]
    skipped: list[str]
    warnings: list[str]
    outcomes: list[str] | None
    discovery: bool


def expectations(case_dir: Path) -> Expectations:
    data = tomllib.loads((case_dir / "config.toml").read_text(encoding="utf-8"))
    table = data.get("fixture", {})
    outcomes = table.get("outcomes")
    return Expectations(
        notes=list(table.get("notes", [])),
        skipped=list(table.get("skipped", [])),
        warnings=list(table.get("warnings", [])),
        outcomes=None if outcomes is None else list(outcomes),
        discovery=bool(table.get("discovery", False)),
    )


def builder(phase: str, case_dir: Path) -> Builder:
    """How ``case_dir`` builds its phase: as the CLI does, or phase 1 on its configured aliases."""
    if phase == "phase1" and not expectations(case_dir).discovery:
        return lambda config, snapshot: PhasePlan(ImportsCodemod(config.targets), config)
    return lambda config, snapshot: build_plan(phase, config, snapshot)


def note_line(note: Note) -> str:
    return f"{note.path}:{note.line}:{note.kind}"


def outcome_lines(notes: list[Note], messages: tuple[str, ...]) -> list[str]:
    """What a reviewer reads about the facades: every ``facade-*`` note and every summary line."""
    lines = sorted(
        f"{n.path}:{n.line} {n.kind}: {n.message}" for n in notes if n.kind.startswith("facade-")
    )
    return lines + [f"summary: {m}" for m in messages]


def _one_outcome_per_facade(config: Config, notes: list[Note], messages: tuple[str, ...]) -> str:
    """Every configured facade ends with exactly one outcome: aliased, delegated, left alone."""
    problems = []
    for target in config.targets:
        for facade in target.facades:
            said = [
                n.message
                for n in notes
                if n.kind in OUTCOME_KINDS and n.message.startswith(f"{facade} ")
            ]
            said += [m for m in messages if m.startswith(f"{facade} left as it is")]
            if len(said) != 1:
                problems.append(f"{facade} has {len(said)} outcome lines: {said}")
    return "\n".join(problems)


# What one phase promises beyond what every phase does, checked on the first run and the second.
PHASE_CHECKS: dict[str, Callable[[Config, list[Note], tuple[str, ...]], str]] = {
    "phase2": _one_outcome_per_facade,
}


@dataclass
class CaseRun:
    """What a phase produced for one fixture case."""

    before: dict[str, bytes]
    outputs: dict[str, bytes] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: tuple[str, ...] = ()
    messages: tuple[str, ...] = ()
    phase: str = ""  # as the engine's summary names it


def _engine_problems(
    run: CaseRun, summary: RunSummary, notes_by_path: dict[str, list[Note]]
) -> list[str]:
    """Where the engine (pre-filter, pool) disagrees with the codemod called directly.

    A file the pre-filter drops is never parsed: the codemod must leave it alone (checked by
    the needles), and the engine cannot report it skipped or noted.
    """
    problems = []
    for outcome in summary.outcomes:
        if outcome.status == "skipped":
            if outcome.path not in run.skipped:
                problems.append(f"{outcome.path}: the engine skipped a file the codemod parses")
            continue
        expected = run.outputs.get(outcome.path, run.before.get(outcome.path, b""))
        got = outcome.after if outcome.status == "changed" else run.before.get(outcome.path, b"")
        if got != expected:
            problems.append(
                f"{outcome.path}: the engine ({outcome.status}) disagrees with the codemod"
            )
        if outcome.status != "filtered":
            engine = sorted(note_line(n) for n in outcome.notes)
            direct = sorted(note_line(n) for n in notes_by_path.get(outcome.path, []))
            if engine != direct:
                problems.append(
                    f"{outcome.path}: the engine's notes {engine}, the codemod's {direct}"
                )
    return problems


def _transform_each(
    run: CaseRun, codemod: Codemod, sources: dict[str, bytes], snapshot: Snapshot
) -> dict[str, list[Note]]:
    """Every file through ``codemod`` directly (no pre-filter), checked; notes by path."""
    needles = codemod.needles()
    notes_by_path: dict[str, list[Note]] = {}
    for path in snapshot.paths:
        source = sources[path]
        file = snapshot.source_file(path)
        try:
            result = codemod.transform(source, file)
        except libcst.ParserSyntaxError:
            run.skipped.append(path)
            continue
        notes_by_path[path] = list(result.notes)
        run.outputs[path] = result.source
        if result.source is not source and result.source == source:
            run.problems.append(f"{path}: unchanged output must be the same bytes object")
        if result.source != source and not any(n.encode() in source for n in needles):
            run.problems.append(f"{path}: changed but contains no needle (unsound pre-filter)")
        if result.source != source and not result.changes:
            run.problems.append(f"{path}: changed without reporting a Change")
        if result.source != source:
            try:
                assert_parses(path, result.source)
            except (libcst.ParserSyntaxError, SyntaxError, ValueError) as exc:
                run.problems.append(f"{path}: output does not parse: {exc}")
    return notes_by_path


def run_case(phase: str, case_dir: Path, work: Path, build: Builder) -> CaseRun:
    """Commit ``before/`` to a git repository under ``work`` and run the phase over it."""
    before = read_tree(case_dir / "before")
    repo = make_repo(work / "repo", before)
    if (case_dir / "untracked").is_dir():
        shutil.copytree(case_dir / "untracked", repo, dirs_exist_ok=True)
    config = load_config(repo, case_dir / "config.toml", files=sorted(before), environ={})
    run = CaseRun(before=before, warnings=config.warnings)
    with Snapshot.open(repo, config) as snapshot:
        plan = build(config, snapshot)
        notes_by_path = _transform_each(run, plan.codemod, before, snapshot)
        summary = run_codemod(snapshot, plan.codemod, jobs=1, phase=phase)
        run.problems += _engine_problems(run, summary, notes_by_path)
        run.phase = summary.phase
    run.notes = [note for notes in notes_by_path.values() for note in notes]
    # Files no codemod parses (phase 1's guard writes pyproject.toml) are outputs too.
    for outcome in plan.extra_outcomes:
        if outcome.status == "changed":
            run.outputs[outcome.path] = outcome.after
        run.notes.extend(outcome.notes)
    run.messages = plan.messages + config.lookup_notes
    check = PHASE_CHECKS.get(phase)
    if check and (problem := check(config, run.notes, run.messages)):
        run.problems.append(problem)
    run.problems += _second_run_problems(phase, case_dir, repo, run, build, check)
    return run


def _second_run_problems(
    phase: str,
    case_dir: Path,
    repo: Path,
    run: CaseRun,
    build: Builder,
    check: Callable[[Config, list[Note], tuple[str, ...]], str] | None,
) -> list[str]:
    """The phase run again over its own committed output: it must change nothing.

    The plan is built again, as the CLI would: phases 2 and 3 plan from the repository (which
    facades exist, how a double drifts), so their first plan no longer describes the output.
    Every file goes through the new codemod directly, then through the engine.
    """
    for path, output in run.outputs.items():
        (repo / path).write_bytes(output)
    git(repo, "add", "--", *run.outputs)  # not untracked/: it stays out of the commit
    git(repo, "commit", "-q", "--allow-empty", "-m", "after the phase")
    files = sorted({*run.before, *run.outputs})
    config = load_config(repo, case_dir / "config.toml", files=files, environ={})
    again = CaseRun(before={path: (repo / path).read_bytes() for path in files})
    with Snapshot.open(repo, config) as snapshot:
        plan = build(config, snapshot)
        _transform_each(again, plan.codemod, again.before, snapshot)
        summary = run_codemod(snapshot, plan.codemod, jobs=1, phase=phase)
    problems = [f"run again over its output: {problem}" for problem in again.problems]
    problems += [
        f"{path}: not idempotent, the phase run again over its output changes it:\n"
        + readable_diff(path, again.before[path], output)
        for path, output in sorted(again.outputs.items())
        if output != again.before[path]
    ]
    problems += [f"{o.path}: the engine run again changes it" for o in summary.changed]
    problems += [f"{o.path}: the phase run again changes it" for o in plan.extra_outcomes]
    messages = plan.messages + config.lookup_notes
    if check and (problem := check(config, list(summary.notes), messages)):
        problems.append(f"run again over its output: {problem}")
    return problems


def _regenerate(case_dir: Path, run: CaseRun) -> None:
    after_dir = case_dir / "after"
    shutil.rmtree(after_dir, ignore_errors=True)
    for path, output in run.outputs.items():
        if output != run.before.get(path):
            target = after_dir / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(output)
    config_file = case_dir / "config.toml"
    document = tomlkit.parse(config_file.read_text(encoding="utf-8"))
    table = document.get("fixture")
    if table is None:
        table = tomlkit.table()
    # Outcomes are recorded where a case has them, or where the phase speaks of facades.
    facades = any(n.kind.startswith("facade-") for n in run.notes)
    outcomes = outcome_lines(run.notes, run.messages) if facades or "outcomes" in table else []
    for key, values in (
        ("notes", sorted(note_line(n) for n in run.notes)),
        ("skipped", sorted(run.skipped)),
        ("outcomes", outcomes),
    ):
        had = list(table.get(key, []))
        if values and (had == values or (key != "outcomes" and sorted(had) == values)):
            continue  # unchanged: the case's own layout and comments stay
        if values:
            array = tomlkit.array()
            array.extend(values)
            table[key] = array.multiline(True)
        elif key in table:
            del table[key]
    if table and "fixture" not in document:
        document["fixture"] = table  # last, as in the cases written by hand
    config_file.write_text(tomlkit.dumps(document), encoding="utf-8")


def check_case(phase: str, case_dir: Path, work: Path, build: Builder | None = None) -> CaseRun:
    """Run ``phase`` on ``case_dir`` and assert everything the module docstring lists.

    ``build`` replaces the phase's own builder (the harness's own tests use it).
    """
    regenerate = os.environ.get(REGENERATE_ENV) == "1"
    if regenerate and os.environ.get("CI"):
        pytest.fail(f"{REGENERATE_ENV}=1 must never be set in CI")
    run = run_case(phase, case_dir, work, build or builder(phase, case_dir))
    if regenerate:
        _regenerate(case_dir, run)
    expect = expectations(case_dir)
    expected_after = read_tree(case_dir / "after")
    failures = list(run.problems)
    for path in sorted(expected_after):
        if path not in run.before and path not in run.outputs:
            failures.append(f"after/{path} has no before/{path}")
    for path, output in sorted(run.outputs.items()):
        expected = expected_after.get(path, run.before.get(path, b""))
        if output != expected:
            failures.append(readable_diff(path, expected, output))
    got_notes = sorted(note_line(n) for n in run.notes)
    if got_notes != sorted(expect.notes):
        failures.append(f"notes: expected {sorted(expect.notes)}, got {got_notes}")
    if len(run.warnings) != len(expect.warnings) or not all(
        any(text in warning for warning in run.warnings) for text in expect.warnings
    ):
        failures.append(f"warnings: expected {expect.warnings}, got {list(run.warnings)}")
    if sorted(run.skipped) != sorted(expect.skipped):
        failures.append(f"skipped: expected {sorted(expect.skipped)}, got {sorted(run.skipped)}")
    if expect.outcomes is not None:
        got_outcomes = outcome_lines(run.notes, run.messages)
        if got_outcomes != expect.outcomes:
            failures.append(f"outcomes: expected {expect.outcomes}, got {got_outcomes}")
    if failures:
        pytest.fail(f"fixture {phase}/{case_dir.name}:\n" + "\n".join(failures), pytrace=False)
    return run

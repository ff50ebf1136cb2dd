"""Run a phase's codemod over fixture trees and compare the result byte for byte.

A case is a folder ``tests/fixtures/<phase>/<case>/`` holding

* ``before/`` — the repository as it is (the configuration validates exactly as it would for
  a user: a canonical in the repository, or outside it, found by ``ssot_migrate.resolution``);
* ``after/`` — the expected content of every file the phase changes (a file missing here must
  come out unchanged);
* ``config.toml`` — a ``[tool.ssot-migrate]`` table, plus an optional ``[fixture]`` table:
  ``notes = ["path:line:kind", ...]`` (exactly the notes expected, default none),
  ``skipped = ["path", ...]`` (files expected not to parse, default none) and
  ``warnings = ["text", ...]`` (one substring per configured name found nowhere, default none);
* ``untracked/`` (optional) — files copied into the repository after its commit and never
  committed, as a gitignored ``.venv/`` is (``.venv``, ``venv`` and ``env`` are read from the
  working tree, not the commit).

``check_case`` commits ``before/`` to a real git repository in a temporary folder, loads the
configuration with ``ssot_migrate.config.load_config``, opens an engine ``Snapshot`` and builds the
codemod with the phase's own builder, then for every Python file: transforms it, compares with
``after/`` (a readable unified diff on mismatch, ``\\r`` and undecodable bytes made visible),
checks that the output parses (libcst and ``compile``), that a second run changes nothing, that a
changed file contains one of the codemod's needles (the pre-filter is sound), and that the engine
(pre-filter plus ``transform_file``) produces the very same bytes.

``SSOT_REGENERATE=1`` rewrites ``after/`` from the codemod's output instead of comparing: use it
deliberately, read the diff (``git diff tests/fixtures``), never in CI (refused when ``CI`` is set).
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

from ssot_migrate.codemods.base import Codemod
from ssot_migrate.config import load_config
from ssot_migrate.engine import Snapshot, run_codemod
from ssot_migrate.model import Config, Note
from tests.conftest import make_repo
from tests.helpers.paths import FIXTURES

REGENERATE_ENV = "SSOT_REGENERATE"

Builder = Callable[[Config, Snapshot], Codemod]


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


@dataclass
class CaseRun:
    """What a phase produced for one fixture case."""

    before: dict[str, bytes]
    outputs: dict[str, bytes] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: tuple[str, ...] = ()


def run_case(case_dir: Path, work: Path, build: Builder) -> CaseRun:
    """Commit ``before/`` to a git repository under ``work`` and run the phase over it."""
    before = read_tree(case_dir / "before")
    repo = make_repo(work / "repo", before)
    if (case_dir / "untracked").is_dir():
        shutil.copytree(case_dir / "untracked", repo, dirs_exist_ok=True)
    config = load_config(repo, case_dir / "config.toml", files=sorted(before), environ={})
    run = CaseRun(before=before, warnings=config.warnings)
    with Snapshot.open(repo, config) as snapshot:
        codemod = build(config, snapshot)
        needles = codemod.needles()
        for path in snapshot.paths:
            source = before[path]
            file = snapshot.source_file(path)
            try:
                result = codemod.transform(source, file)
            except libcst.ParserSyntaxError:
                run.skipped.append(path)
                continue
            run.notes.extend(result.notes)
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
                    continue
                second = codemod.transform(result.source, file)
                if second.source != result.source:
                    run.problems.append(
                        f"{path}: not idempotent, a second run changes it:\n"
                        + readable_diff(path, result.source, second.source)
                    )
        summary = run_codemod(snapshot, codemod, jobs=1)
        for outcome in summary.outcomes:
            expected = run.outputs.get(outcome.path, before.get(outcome.path, b""))
            got = outcome.after if outcome.status == "changed" else before.get(outcome.path, b"")
            if outcome.status == "skipped" and outcome.path in run.skipped:
                continue
            if got != expected:
                run.problems.append(
                    f"{outcome.path}: the engine ({outcome.status}) disagrees with the codemod"
                )
    return run


def _expectations(case_dir: Path) -> dict[str, list[str]]:
    data = tomllib.loads((case_dir / "config.toml").read_text(encoding="utf-8"))
    table = data.get("fixture", {})
    return {key: list(table.get(key, [])) for key in ("notes", "skipped", "warnings")}


def check_case(case_dir: Path, work: Path, build: Builder) -> CaseRun:
    """Run ``case_dir`` and assert everything the module docstring lists; returns the run."""
    regenerate = os.environ.get(REGENERATE_ENV) == "1"
    if regenerate and os.environ.get("CI"):
        pytest.fail(f"{REGENERATE_ENV}=1 must never be set in CI")
    run = run_case(case_dir, work, build)
    after_dir = case_dir / "after"
    if regenerate:
        shutil.rmtree(after_dir, ignore_errors=True)
        for path, output in run.outputs.items():
            if output != run.before[path]:
                target = after_dir / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(output)
    expected_after = read_tree(after_dir)
    failures = list(run.problems)
    for path in sorted(expected_after):
        if path not in run.before:
            failures.append(f"after/{path} has no before/{path}")
    for path, output in sorted(run.outputs.items()):
        expected = expected_after.get(path, run.before[path])
        if output != expected:
            failures.append(readable_diff(path, expected, output))
    expect = _expectations(case_dir)
    got_notes = sorted(f"{n.path}:{n.line}:{n.kind}" for n in run.notes)
    if got_notes != sorted(expect["notes"]):
        failures.append(f"notes: expected {sorted(expect['notes'])}, got {got_notes}")
    if len(run.warnings) != len(expect["warnings"]) or not all(
        any(text in warning for warning in run.warnings) for text in expect["warnings"]
    ):
        failures.append(f"warnings: expected {expect['warnings']}, got {list(run.warnings)}")
    if sorted(run.skipped) != sorted(expect["skipped"]):
        failures.append(f"skipped: expected {sorted(expect['skipped'])}, got {sorted(run.skipped)}")
    if failures:
        pytest.fail(f"fixture {case_dir.name}:\n" + "\n".join(failures), pytrace=False)
    return run

"""Phase 2 fixture suite: ``tests/fixtures/phase2/<case>/{before,after}/`` plus ``config.toml``.

Each case is a small repository: ``before/`` is committed to a real git repository, the phase runs
through the real engine (commit snapshot, pre-filter, codemod), and every file of the result must
equal ``after/`` byte for byte. A second run over ``after/`` must change nothing (idempotency),
and every output file must parse. ``notes.txt`` (optional) lists the expected needs-decision and
warning notes as ``path:line kind``, one per line, so a left-alone site cannot go unreported;
``outcomes.txt`` (optional) the text of every ``facade-*`` note and plan-time summary line. Every
configured facade must end with exactly one outcome line (aliased, delegated, left as it is), on
the first run and on the second. ``SSOT_REGENERATE=1`` rewrites ``after/``, ``notes.txt`` and
``outcomes.txt`` from the current output, deliberately.
"""

from __future__ import annotations

import ast
import difflib
import os
import shutil
import tomllib
from pathlib import Path

import libcst
import pytest

from ssot_migrate.codemods.facades import OUTCOME_KINDS
from ssot_migrate.engine import open_config_and_snapshot
from ssot_migrate.model import RunSummary
from ssot_migrate.phases import compute_phase
from tests.conftest import git, make_repo
from tests.helpers.paths import FIXTURES

REGENERATE = os.environ.get("SSOT_REGENERATE") == "1"


def cases(phase: str) -> list[str]:
    root = FIXTURES / phase
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "before").is_dir())


def tree_files(root: Path) -> dict[str, bytes]:
    if not root.is_dir():
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def run(repo: Path, config: Path, phase: str) -> RunSummary:
    loaded, snapshot = open_config_and_snapshot(repo, config)
    with snapshot:
        return compute_phase(loaded, phase, snapshot=snapshot, jobs=1)


def apply(repo: Path, summary: RunSummary) -> None:
    for outcome in summary.changed:
        (repo / outcome.path).write_bytes(outcome.after)


def note_lines(summary: RunSummary) -> list[str]:
    return sorted(f"{n.path}:{n.line} {n.kind}" for n in summary.notes)


def facade_lines(summary: RunSummary) -> list[str]:
    """What a reviewer reads about the facades: every ``facade-*`` note and plan-time line."""
    lines = sorted(
        f"{n.path}:{n.line} {n.kind}: {n.message}"
        for n in summary.notes
        if n.kind.startswith("facade-")
    )
    return lines + [f"summary: {m}" for m in summary.messages]


def assert_one_outcome_per_facade(case: str, config: Path, summary: RunSummary) -> None:
    """Every configured facade ends with exactly one outcome: aliased, delegated, left alone."""
    table = tomllib.loads(config.read_text(encoding="utf-8"))["tool"]["ssot-migrate"]
    for target in table["targets"]:
        for facade in target.get("facades", []):
            said = [
                n.message
                for n in summary.notes
                if n.kind in OUTCOME_KINDS and n.message.startswith(f"{facade} ")
            ]
            said += [m for m in summary.messages if m.startswith(f"{facade} left as it is")]
            assert len(said) == 1, f"{case}: {facade} has {len(said)} outcome lines: {said}"


def check_case(phase: str, case: str, tmp_path: Path) -> RunSummary:
    """Run ``phase`` on fixture ``case``: output, notes, parse and idempotency checks."""
    folder = FIXTURES / phase / case
    before = tree_files(folder / "before")
    config = folder / "config.toml"
    repo = make_repo(tmp_path / "repo", before)
    summary = run(repo, config, phase)
    skipped = [(o.path, o.reason) for o in summary.skipped]
    assert not skipped, f"files skipped: {skipped}"
    apply(repo, summary)
    got = {path: (repo / path).read_bytes() for path in before}
    notes = note_lines(summary)
    if REGENERATE:
        shutil.rmtree(folder / "after", ignore_errors=True)
        for path, data in got.items():
            if data != before[path]:
                target = folder / "after" / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        if notes:
            (folder / "notes.txt").write_text("\n".join(notes) + "\n")
        elif (folder / "notes.txt").exists():
            (folder / "notes.txt").unlink()
        if facade_lines(summary):
            (folder / "outcomes.txt").write_text("\n".join(facade_lines(summary)) + "\n")
    expected = dict(before)
    expected.update(tree_files(folder / "after"))
    for path in sorted(expected):
        if got[path] != expected[path]:
            diff = "".join(
                difflib.unified_diff(
                    expected[path].decode(errors="replace").splitlines(keepends=True),
                    got[path].decode(errors="replace").splitlines(keepends=True),
                    f"expected/{path}",
                    f"got/{path}",
                )
            )
            pytest.fail(f"{case}: {path} differs from after/:\n{diff}")
    notes_file = folder / "notes.txt"
    expected_notes = notes_file.read_text().split("\n") if notes_file.exists() else []
    assert notes == [line for line in expected_notes if line], f"{case}: notes differ"
    outcomes_file = folder / "outcomes.txt"
    if outcomes_file.exists():
        expected_outcomes = [line for line in outcomes_file.read_text().split("\n") if line]
        assert facade_lines(summary) == expected_outcomes, f"{case}: facade outcomes differ"
    assert_one_outcome_per_facade(case, config, summary)
    for path, data in got.items():
        if path.endswith(".py"):
            libcst.parse_module(data)
            ast.parse(data)
    # Idempotency: the phase over its own output changes nothing.
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", "after phase")
    again = run(repo, config, phase)
    assert [o.path for o in again.changed] == [], f"{case}: second run is not empty"
    assert_one_outcome_per_facade(case, config, again)
    return summary


@pytest.mark.parametrize("case", cases("phase2"))
def test_phase2_fixture(case: str, tmp_path: Path) -> None:
    summary = check_case("phase2", case, tmp_path)
    assert summary.phase == "phase2"

"""The fixture harness itself must be able to fail, for every phase.

``tests/helpers/fixture_harness.py`` runs every phase's fixture suite. These tests hand it cases
(or builders) that are wrong on purpose and check that it says so: a mismatched line ending,
an undeclared change, a missing note, regeneration under CI; and, for phases 2 and 3, a
codemod whose pre-filter needles miss the files it changes (the pre-filter and engine checks).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from ssot_migrate.codemods.base import Codemod
from ssot_migrate.engine import Snapshot
from ssot_migrate.model import CodemodResult, Config, SourceFile
from ssot_migrate.phases import PhasePlan, build_plan
from tests.helpers.fixture_harness import case_dirs, check_case


def build_phase1(config: Config, snapshot: Snapshot) -> PhasePlan:
    """The codemod exactly as ``ssot-migrate phase1`` builds it (alias discovery included)."""
    return build_plan("phase1", config, snapshot)


CANONICAL = "class Unified:\n    pass\n"
CONFIG = """\
[tool.ssot-migrate]

[[tool.ssot-migrate.targets]]
name = "ws"
canonical = "app.unified.Unified"
aliases = ["app.manager.WSM"]
discover-aliases = false
"""


def _case(root: Path, before: dict[str, bytes], after: dict[str, bytes], extra: str = "") -> Path:
    case = root / "case"
    files = {"app/__init__.py": b"", "app/unified.py": CANONICAL.encode(), **before}
    for rel, data in files.items():
        (case / "before" / rel).parent.mkdir(parents=True, exist_ok=True)
        (case / "before" / rel).write_bytes(data)
    for rel, data in after.items():
        (case / "after" / rel).parent.mkdir(parents=True, exist_ok=True)
        (case / "after" / rel).write_bytes(data)
    (case / "config.toml").write_text(CONFIG + extra, encoding="utf-8")
    return case


def test_harness_passes_a_correct_case(tmp_path: Path) -> None:
    case = _case(
        tmp_path,
        {"app/use.py": b"from app.manager import WSM\nWSM()\n"},
        {"app/use.py": b"from app.unified import Unified\nUnified()\n"},
    )
    run = check_case("phase1", case, tmp_path / "work", build_phase1)
    assert run.outputs["app/use.py"] == b"from app.unified import Unified\nUnified()\n"


def test_harness_shows_a_line_ending_mismatch(tmp_path: Path) -> None:
    case = _case(
        tmp_path,
        {"app/use.py": b"from app.manager import WSM\r\nWSM()\r\n"},
        {"app/use.py": b"from app.unified import Unified\nUnified()\n"},
    )
    with pytest.raises(pytest.fail.Exception) as failure:
        check_case("phase1", case, tmp_path / "work", build_phase1)
    assert "Unified()\\r" in str(failure.value)
    assert "+++ actual/app/use.py" in str(failure.value)


def test_harness_requires_unexpected_changes_to_be_declared(tmp_path: Path) -> None:
    # No after/ file: the file must come out unchanged, and here it does not.
    case = _case(tmp_path, {"app/use.py": b"from app.manager import WSM\n"}, {})
    with pytest.raises(pytest.fail.Exception, match="expected/app/use.py"):
        check_case("phase1", case, tmp_path / "work", build_phase1)


def test_harness_checks_notes_and_skipped_files(tmp_path: Path) -> None:
    before = {"app/star.py": b"from app.manager import *\n", "app/bad.py": b"def broken(:\n"}
    ok = _case(
        tmp_path,
        before,
        {},
        '\n[fixture]\nnotes = ["app/star.py:1:star-import"]\nskipped = ["app/bad.py"]\n',
    )
    check_case("phase1", ok, tmp_path / "work-ok", build_phase1)
    missing = _case(tmp_path / "second", before, {})
    with pytest.raises(pytest.fail.Exception, match="star-import"):
        check_case("phase1", missing, tmp_path / "work-missing", build_phase1)


def test_regenerate_writes_expected_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("SSOT_REGENERATE", "1")
    case = _case(
        tmp_path, {"app/use.py": b"from app.manager import WSM\n"}, {"app/stale.py": b"x\n"}
    )
    check_case("phase1", case, tmp_path / "work", build_phase1)
    assert (case / "after" / "app/use.py").read_bytes() == b"from app.unified import Unified\n"
    assert not (case / "after" / "app/stale.py").exists()


def test_regenerate_is_refused_in_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("SSOT_REGENERATE", "1")
    case = _case(tmp_path, {"app/use.py": b"from app.manager import WSM\n"}, {})
    with pytest.raises(pytest.fail.Exception, match="never be set in CI"):
        check_case("phase1", case, tmp_path / "work", build_phase1)


# --- phases 2 and 3: the pre-filter and engine checks fail on a codemod blind to its files -------


@dataclass(frozen=True)
class Blind:
    """The phase's own codemod, with needles no file contains: an unsound pre-filter."""

    inner: Codemod

    @property
    def phase(self) -> str:
        return self.inner.phase

    def needles(self) -> frozenset[str]:
        return frozenset({"zz-no-file-contains-this"})

    def transform(self, source: bytes, file: SourceFile) -> CodemodResult:
        return self.inner.transform(source, file)


@pytest.mark.parametrize(
    ("phase", "case", "changed"),
    [
        ("phase2", "alias_compatible", "app/legacy.py"),
        ("phase3", "direct_calls_through_imports", "app/service.py"),
    ],
)
def test_harness_catches_an_unsound_prefilter(
    phase: str, case: str, changed: str, tmp_path: Path
) -> None:
    (case_dir,) = [path for path in case_dirs(phase) if path.name == case]
    check_case(phase, case_dir, tmp_path / "sound")  # the case itself passes

    def blind(config: Config, snapshot: Snapshot) -> PhasePlan:
        plan = build_plan(phase, config, snapshot)
        return PhasePlan(Blind(plan.codemod), plan.config, messages=plan.messages)

    with pytest.raises(pytest.fail.Exception) as failure:
        check_case(phase, case_dir, tmp_path / "blind", blind)
    said = str(failure.value)
    assert f"{changed}: changed but contains no needle (unsound pre-filter)" in said
    assert f"{changed}: the engine (filtered) disagrees with the codemod" in said

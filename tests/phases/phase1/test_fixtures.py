"""Phase 1 fixture suite: one test per ``tests/fixtures/phase1/<case>/`` (see tests/helpers/fixture_harness.py).

Cases run the codemod on the configured aliases only, so each one pins the codemod's behaviour;
a case whose ``[fixture]`` table says ``discovery = true`` runs the phase exactly as
``ssot-migrate phase1`` builds it, re-export discovery included.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from ssot_migrate.codemods.base import Codemod
from ssot_migrate.codemods.imports import ImportsCodemod
from ssot_migrate.engine import Snapshot
from ssot_migrate.model import Config
from ssot_migrate.phases import build_codemod
from tests.helpers.fixture_harness import case_dirs, case_params, check_case


def build_configured(config: Config, snapshot: Snapshot) -> Codemod:
    """The phase-1 codemod on the configured aliases only."""
    return ImportsCodemod(config.targets)


def build_phase1(config: Config, snapshot: Snapshot) -> Codemod:
    """The codemod exactly as ``ssot-migrate phase1`` builds it (alias discovery included)."""
    return build_codemod("phase1", config, snapshot)


def _uses_discovery(case_dir: Path) -> bool:
    table = tomllib.loads((case_dir / "config.toml").read_text(encoding="utf-8"))
    return bool(table.get("fixture", {}).get("discovery", False))


def test_enough_cases() -> None:
    # The issue asks for one case per behaviour, at least 30 of them.
    assert len(case_dirs("phase1")) >= 30


def test_some_cases_use_discovery() -> None:
    assert any(_uses_discovery(case) for case in case_dirs("phase1"))


@pytest.mark.parametrize("case_dir", case_params("phase1"))
def test_fixture(case_dir: Path, tmp_path: Path) -> None:
    build = build_phase1 if _uses_discovery(case_dir) else build_configured
    check_case(case_dir, tmp_path, build)


# --- the harness itself must be able to fail ------------------------------------------------------

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
    run = check_case(case, tmp_path / "work", build_phase1)
    assert run.outputs["app/use.py"] == b"from app.unified import Unified\nUnified()\n"


def test_harness_shows_a_line_ending_mismatch(tmp_path: Path) -> None:
    case = _case(
        tmp_path,
        {"app/use.py": b"from app.manager import WSM\r\nWSM()\r\n"},
        {"app/use.py": b"from app.unified import Unified\nUnified()\n"},
    )
    with pytest.raises(pytest.fail.Exception) as failure:
        check_case(case, tmp_path / "work", build_phase1)
    assert "Unified()\\r" in str(failure.value)
    assert "+++ actual/app/use.py" in str(failure.value)


def test_harness_requires_unexpected_changes_to_be_declared(tmp_path: Path) -> None:
    # No after/ file: the file must come out unchanged, and here it does not.
    case = _case(tmp_path, {"app/use.py": b"from app.manager import WSM\n"}, {})
    with pytest.raises(pytest.fail.Exception, match="expected/app/use.py"):
        check_case(case, tmp_path / "work", build_phase1)


def test_harness_checks_notes_and_skipped_files(tmp_path: Path) -> None:
    before = {"app/star.py": b"from app.manager import *\n", "app/bad.py": b"def broken(:\n"}
    ok = _case(
        tmp_path,
        before,
        {},
        '\n[fixture]\nnotes = ["app/star.py:1:star-import"]\nskipped = ["app/bad.py"]\n',
    )
    check_case(ok, tmp_path / "work-ok", build_phase1)
    missing = _case(tmp_path / "second", before, {})
    with pytest.raises(pytest.fail.Exception, match="star-import"):
        check_case(missing, tmp_path / "work-missing", build_phase1)


def test_regenerate_writes_expected_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("SSOT_REGENERATE", "1")
    case = _case(
        tmp_path, {"app/use.py": b"from app.manager import WSM\n"}, {"app/stale.py": b"x\n"}
    )
    check_case(case, tmp_path / "work", build_phase1)
    assert (case / "after" / "app/use.py").read_bytes() == b"from app.unified import Unified\n"
    assert not (case / "after" / "app/stale.py").exists()


def test_regenerate_is_refused_in_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("SSOT_REGENERATE", "1")
    case = _case(tmp_path, {"app/use.py": b"from app.manager import WSM\n"}, {})
    with pytest.raises(pytest.fail.Exception, match="never be set in CI"):
        check_case(case, tmp_path / "work", build_phase1)

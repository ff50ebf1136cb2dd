"""Phase 1 fixture suite: one test per ``tests/fixtures/phase1/<case>/`` (see fixture_harness)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssot_migrate.codemods.base import Codemod
from ssot_migrate.engine import Snapshot
from ssot_migrate.model import Config
from ssot_migrate.phases import build_codemod
from tests.fixture_harness import case_dirs, case_params, check_case


def build_phase1(config: Config, snapshot: Snapshot) -> Codemod:
    """The codemod exactly as ``ssot-migrate phase1`` builds it (alias discovery included)."""
    return build_codemod("phase1", config, snapshot)


def test_enough_cases() -> None:
    # The issue asks for one case per behaviour, at least 30 of them.
    assert len(case_dirs("phase1")) >= 30


@pytest.mark.parametrize("case_dir", case_params("phase1"))
def test_fixture(case_dir: Path, tmp_path: Path) -> None:
    check_case(case_dir, tmp_path, build_phase1)

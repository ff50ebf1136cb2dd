"""Phase 3 fixture suite: ``tests/fixtures/phase3/<case>/``, same harness as phase 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.phases.phase2.test_fixtures import cases, check_case


@pytest.mark.parametrize("case", cases("phase3"))
def test_phase3_fixture(case: str, tmp_path: Path) -> None:
    summary = check_case("phase3", case, tmp_path)
    assert summary.phase == "phase3"

"""Phase 3 fixture suite: one test per ``tests/fixtures/phase3/<case>/``, the harness of every phase."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.fixture_harness import case_params, check_case


@pytest.mark.parametrize("case", case_params("phase3"))
def test_phase3_fixture(case: Path, tmp_path: Path) -> None:
    run = check_case("phase3", case, tmp_path)
    assert run.phase == "phase3"

"""Phase 1 fixture suite: one test per ``tests/fixtures/phase1/<case>/``.

The harness (``tests/helpers/fixture_harness.py``) is the one every phase uses. Cases run the
codemod on the configured aliases only, so each one pins the codemod's behaviour; a case whose
``[fixture]`` table says ``discovery = true`` runs the phase exactly as ``ssot-migrate phase1``
builds it, re-export discovery included.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.fixture_harness import case_dirs, case_params, check_case, expectations


def test_enough_cases() -> None:
    # The issue asks for one case per behaviour, at least 30 of them.
    assert len(case_dirs("phase1")) >= 30


def test_some_cases_use_discovery() -> None:
    assert any(expectations(case).discovery for case in case_dirs("phase1"))


@pytest.mark.parametrize("case_dir", case_params("phase1"))
def test_fixture(case_dir: Path, tmp_path: Path) -> None:
    run = check_case("phase1", case_dir, tmp_path)
    assert run.phase == "phase1"

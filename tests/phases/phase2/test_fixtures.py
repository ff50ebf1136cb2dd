"""Phase 2 fixture suite: one test per ``tests/fixtures/phase2/<case>/``.

Same harness and expectation format as every phase (``tests/helpers/fixture_harness.py``); the
phase runs as the CLI builds it. A case's ``[fixture]`` table lists the expected needs-decision
and warning notes, so a left-alone site cannot go unreported, and ``outcomes`` the text of every
``facade-*`` note and summary line; every configured facade must end with exactly one outcome
(aliased, delegated, left as it is), on the first run and on the second.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.fixture_harness import case_params, check_case


@pytest.mark.parametrize("case", case_params("phase2"))
def test_phase2_fixture(case: Path, tmp_path: Path) -> None:
    run = check_case("phase2", case, tmp_path)
    assert run.phase == "phase2"

"""Fixtures the stress tests share with their normal-suite counterparts.

Imports of the test modules happen inside the fixtures: importing hypothesmith while conftest
files load makes Hypothesis warn (an error here, ``filterwarnings = error``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def fault_env(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A control directory the fault suite reports its runs to, and the variable naming it."""
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    return ctl, {"SSOT_FAULT_DIR": str(ctl)}


@pytest.fixture(scope="module")
def factories_codemod(tmp_path_factory: pytest.TempPathFactory) -> object:
    from tests.helpers.properties_phase1 import build_factories_codemod

    return build_factories_codemod(tmp_path_factory)


@pytest.fixture(scope="module")
def delegating_codemod(tmp_path_factory: pytest.TempPathFactory) -> object:
    from tests.helpers.properties_phase2 import DECOY_SPEC, build

    codemod = build(tmp_path_factory, DECOY_SPEC, DECOY_SPEC.facade_source()).codemod
    assert [p.mode for p in codemod.plans] == ["delegate"]
    return codemod


@pytest.fixture(autouse=True, scope="module")
def _report_counts() -> Iterator[None]:
    yield
    from tests.helpers.counts import append_counts
    from tests.helpers.faults import FAULTS
    from tests.helpers.properties_phase1 import COUNTS
    from tests.helpers.properties_phase2 import COUNTS as PHASE2_COUNTS

    append_counts("stress", COUNTS, PHASE2_COUNTS, FAULTS)

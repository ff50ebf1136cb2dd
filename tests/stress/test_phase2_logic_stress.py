"""The phase-2 logic property of ``tests/phases/phase2/test_logic_properties.py`` with many more facades.

``STRESS_EXAMPLES`` (default 150) examples per property, each a real repository, a phase-2 run
and two executions (old and new program). The README's figure is from
``STRESS_EXAMPLES=500 pytest tests/stress/test_phase2_logic_stress.py``, run by hand.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.helpers.counts import append_counts
from tests.helpers.properties_logic import COUNTS, check_facade
from tests.helpers.strategies import Facade, examples

pytestmark = pytest.mark.stress

EXAMPLES = int(os.environ.get("STRESS_EXAMPLES", "150"))
HEAVY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


@HEAVY
@given(example=examples())
def test_generated_facades_behave_the_same_after_phase2(
    tmp_path_factory: pytest.TempPathFactory, example: tuple[Facade, tuple[Any, ...], list[Any]]
) -> None:
    check_facade(tmp_path_factory, *example)


@settings(HEAVY, max_examples=max(1, EXAMPLES // 5))
@given(example=examples(logic=False))
def test_generated_pure_forward_facades_collapse(
    tmp_path_factory: pytest.TempPathFactory, example: tuple[Facade, tuple[Any, ...], list[Any]]
) -> None:
    check_facade(tmp_path_factory, *example)


@pytest.fixture(autouse=True, scope="module")
def _report_logic_counts() -> Iterator[None]:
    yield
    append_counts("stress-phase2-logic", COUNTS)

"""The properties of ``tests/test_properties.py`` with many more generated programs.

``STRESS_EXAMPLES`` (default 150) examples per property; the phase-1 codemod runs on each
program twice (rewrite, then the idempotency check).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_properties import (
    DECOYS,
    PLACES,
    SHAPES,
    Shape,
    check_injected,
    check_untouched,
    imports_codemod,
    programs,
)

pytestmark = pytest.mark.stress

EXAMPLES = int(os.environ.get("STRESS_EXAMPLES", "150"))
HEAVY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


@HEAVY
@given(program=programs, decoy=st.sampled_from(["", *DECOYS]))
def test_unrelated_programs_stay_byte_identical(program: str, decoy: str) -> None:
    sep = "\n" if program and not program.endswith("\n") else ""
    check_untouched(imports_codemod(), program + sep + decoy)


@HEAVY
@given(program=programs, shape=st.sampled_from(SHAPES), place=st.sampled_from(PLACES))
def test_injected_aliases_are_rewritten(program: str, shape: Shape, place: str) -> None:
    check_injected(imports_codemod(), program, shape, place)

"""The properties of ``tests/test_properties.py`` with many more generated programs.

``STRESS_EXAMPLES`` (default 150) examples per property; the phase-1 codemod runs on each
program twice (rewrite, then the idempotency check).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.test_properties import (
    DECOYS,
    FILE,
    PHASE3_SHAPES,
    PLACES,
    SHAPES,
    Shape,
    check_factory_call,
    check_injected,
    check_untouched,
    imports_codemod,
    parses,
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


@HEAVY
@given(program=programs)
def test_phase3_unrelated_programs_stay_byte_identical(factories_codemod: object, program: str) -> None:
    assume(parses(program))
    data = program.encode("utf-8")
    assert factories_codemod.transform(data, FILE).source == data  # type: ignore[attr-defined]


@settings(HEAVY, max_examples=max(1, EXAMPLES // 2))
@given(program=programs, shape=st.sampled_from(PHASE3_SHAPES), place=st.sampled_from(["top", "function"]))
def test_phase3_injected_constructions_use_the_factory(
    factories_codemod: object, program: str, shape: Shape, place: str
) -> None:
    check_factory_call(factories_codemod, program, shape, place)

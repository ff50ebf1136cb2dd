"""The properties of ``tests/phases/phase1/test_properties.py`` and
``tests/phases/phase2/test_properties.py`` with many more generated programs.

``STRESS_EXAMPLES`` (default 150) examples per property; the phase-1 codemod runs on each
program twice (rewrite, then the idempotency check). Phase 2 builds a real repository per
injected example (the plan depends on the generated facade) and executes the result; its
pre-filter property (a repository and an engine run each) runs a tenth as many.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.helpers.properties_phase1 import (
    COUNTS,
    DECOYS,
    FILE,
    check_factory_call,
    check_injected,
    check_untouched,
    imports_codemod,
    parses,
)
from tests.helpers.properties_phase2 import DECOYS as PHASE2_DECOYS
from tests.helpers.properties_phase2 import check_injected as check_phase2_injected
from tests.helpers.properties_phase2 import check_prefilter
from tests.helpers.properties_phase2 import check_untouched as check_phase2_untouched
from tests.helpers.strategies import (
    CONTEXTS,
    PHASE3_SHAPES,
    PLACES,
    SHAPES,
    WHERE,
    Context,
    FacadeSpec,
    Shape,
    facade_specs,
    programs,
    split,
)

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
def test_phase3_unrelated_programs_stay_byte_identical(
    factories_codemod: object, program: str
) -> None:
    assume(parses(program))
    data = program.encode("utf-8")
    assert factories_codemod.transform(data, FILE).source == data  # type: ignore[attr-defined]
    COUNTS["phase3_programs_untouched"] += 1


@settings(HEAVY, max_examples=max(1, EXAMPLES // 2))
@given(
    program=programs,
    shape=st.sampled_from(PHASE3_SHAPES),
    place=st.sampled_from(["top", "function"]),
)
def test_phase3_injected_constructions_use_the_factory(
    factories_codemod: object, program: str, shape: Shape, place: str
) -> None:
    check_factory_call(factories_codemod, program, shape, place)


@HEAVY
@given(program=programs, decoy=st.sampled_from(PHASE2_DECOYS))
def test_phase2_programs_without_the_facade_stay_byte_identical(
    delegating_codemod: object, program: str, decoy: str
) -> None:
    check_phase2_untouched(delegating_codemod, program, decoy)


@HEAVY
@given(spec=facade_specs("alias"), program=programs, where=WHERE, context=st.sampled_from(CONTEXTS))
def test_phase2_alias_facades_in_generated_modules(
    tmp_path_factory: pytest.TempPathFactory,
    spec: FacadeSpec,
    program: str,
    where: float,
    context: Context,
) -> None:
    check_phase2_injected(tmp_path_factory, spec, *split(program, where), context)


@HEAVY
@given(
    spec=facade_specs("delegate"), program=programs, where=WHERE, context=st.sampled_from(CONTEXTS)
)
def test_phase2_delegating_facades_in_generated_modules(
    tmp_path_factory: pytest.TempPathFactory,
    spec: FacadeSpec,
    program: str,
    where: float,
    context: Context,
) -> None:
    check_phase2_injected(tmp_path_factory, spec, *split(program, where), context)


@settings(HEAVY, max_examples=max(1, EXAMPLES // 10))
@given(program=programs)
def test_phase2_prefilter_never_parses_files_without_the_facade(
    tmp_path_factory: pytest.TempPathFactory, program: str
) -> None:
    assume("ZzFacade" not in program)
    check_prefilter(tmp_path_factory.mktemp("prefilter"), program)

"""Property-based tests of phase 3 (the factories codemod) on generated Python programs.

1. A program that constructs nothing configured comes out byte-identical.
2. A construction of the canonical, in one of several shapes and places, injected into a generated
   program, is routed through the configured factory; the program's own bytes are untouched.
3. The blank lines libcst drops before an indented end-of-file comment are never lost.

The shapes and checks are shared with phase 1's properties and ``tests/stress/``
(``tests/helpers/properties_phase1.py``, ``tests/helpers/strategies.py``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.helpers.counts import append_counts
from tests.helpers.properties_phase1 import (
    COUNTS,
    FILE,
    build_factories_codemod,
    check_factory_call,
    parses,
)
from tests.helpers.strategies import PHASE3_SHAPES, Shape, programs

FAST = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


@pytest.fixture(autouse=True, scope="module")
def _report_counts() -> Iterator[None]:
    yield
    append_counts(__name__, COUNTS)


@pytest.fixture(scope="module")
def factories_codemod(tmp_path_factory: pytest.TempPathFactory) -> object:
    return build_factories_codemod(tmp_path_factory)


def test_phase3_never_drops_lines_libcst_cannot_reproduce(factories_codemod: object) -> None:
    """libcst drops blank lines before an indented end-of-file comment when it regenerates a
    module: phase 3 keeps them (it used to refuse such a file; it must never write the loss)."""
    source = b"from zznew.core import NewThing\nx = NewThing(1)\n\n\n #\n"
    result = factories_codemod.transform(source, FILE)  # type: ignore[attr-defined]
    if [n.kind for n in result.notes] == ["not-reproducible"]:  # the older, safe behaviour
        assert result.source == source and result.notes[0].severity == "needs-decision"
        return
    assert result.source == b"from zznew.factory import make_thing\nx = make_thing(1)\n\n\n #\n"
    assert not result.notes


@FAST
@given(program=programs)
def test_phase3_unrelated_program_is_byte_identical(
    factories_codemod: object, program: str
) -> None:
    assume(parses(program))
    data = program.encode("utf-8")
    result = factories_codemod.transform(data, FILE)  # type: ignore[attr-defined]
    COUNTS["phase3_programs_untouched"] += 1
    assert result.source == data


@FAST
@given(
    program=programs,
    shape=st.sampled_from(PHASE3_SHAPES),
    place=st.sampled_from(["top", "function"]),
)
def test_phase3_injected_construction_uses_the_factory(
    factories_codemod: object, program: str, shape: Shape, place: str
) -> None:
    check_factory_call(factories_codemod, program, shape, place)

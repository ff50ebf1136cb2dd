"""Property-based tests of phase 1 (the imports codemod) on generated Python programs.

1. A program that references no configured name comes out byte-identical, and the engine's text
   pre-filter never parses it.
2. Import statements and references of an alias, in one of many shapes and places, injected into
   a generated program: the output parses and compiles, no reference binds the alias any more,
   the probe that referenced the alias now resolves (statically) to the canonical name, the
   generated program's own bytes are untouched, and a second run changes nothing.

The normal suite runs a few examples per property; ``tests/stress/`` runs the same properties
with many more (``STRESS_EXAMPLES``). Counts are appended to ``$SSOT_RELIABILITY_COUNTS`` when set.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.counts import append_counts
from tests.helpers.properties_phase1 import (
    COUNTS,
    DECOYS,
    FILE,
    check_injected,
    check_prefilter,
    check_untouched,
    imports_codemod,
)
from tests.helpers.strategies import PLACES, SHAPES, Shape, programs

FAST = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


@FAST
@given(program=programs, decoy=st.sampled_from(["", *DECOYS]))
def test_unrelated_program_is_byte_identical(program: str, decoy: str) -> None:
    check_untouched(
        imports_codemod(),
        program + ("\n" if program and not program.endswith("\n") else "") + decoy,
    )


@FAST
@given(program=programs, shape=st.sampled_from(SHAPES), place=st.sampled_from(PLACES))
def test_injected_alias_is_rewritten(program: str, shape: Shape, place: str) -> None:
    check_injected(imports_codemod(), program, shape, place)


@pytest.mark.parametrize("shape", SHAPES, ids=[s.id for s in SHAPES])
@pytest.mark.parametrize("place", PLACES)
def test_every_shape_and_place_on_a_plain_program(shape: Shape, place: str) -> None:
    """The same properties on a fixed small program, so every shape x place runs every time."""
    program = "import os\n\n\ndef helper(x):\n    return os.path.join(x, 'y')  # keep me\n"
    codemod = imports_codemod()

    @settings(max_examples=1, deadline=None, database=None)
    @given(st.just(program))
    def run(text: str) -> None:
        check_injected(codemod, text, shape, place)

    run()


def test_blank_lines_before_dedented_comment_kept() -> None:
    """Found by test_injected_alias_is_rewritten (program='\\n\\n #'): libcst drops these lines
    once anything in the tree is replaced; phase 1 now splices only the statements it changes."""
    source = b"from zzold.legacy import OldThing\nx = OldThing\n\n\n #\n"
    result = imports_codemod().transform(source, FILE)  # type: ignore[attr-defined]
    assert result.source == source.replace(b"zzold.legacy", b"zznew.core").replace(
        b"OldThing", b"NewThing"
    )


# --- the engine's pre-filter -----------------------------------------------------------------------


_repo_counter = iter(range(10**9))


# hypothesmith's strategies record Hypothesis targets, which allows one program per example
# (a list of them would target the same label twice): one generated program per repository.
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(program=programs)
def test_prefilter_never_parses_unrelated_files(
    tmp_path_factory: pytest.TempPathFactory, program: str
) -> None:
    check_prefilter(tmp_path_factory.mktemp(f"prefilter{next(_repo_counter)}"), [program])


@pytest.fixture(autouse=True, scope="module")
def _report_counts() -> Iterator[None]:
    yield
    append_counts(__name__, COUNTS)

"""Property-based tests of phase 2 (the facades codemod) on generated programs.

1. A generated program that does not define the configured facade, in the facade's own module
   (with decoys that mention its name) or a same-named class in another module, comes out byte
   for byte; and a file without any of the codemod's needles is never parsed by the engine.
2. A facade class built from generated method names and signatures (plain, async, property,
   staticmethod, classmethod) is injected into a generated program, in one of several real-world
   surroundings (``CONTEXTS``). Each method is, against the canonical class, ``same`` or
   ``looser`` (compatible), or ``renamed``, ``needs-more``, ``async-mismatch`` or ``extra``
   (incompatible); all compatible means alias mode, otherwise delegation mode. For every case:
   the output parses and compiles, every unrelated top-level statement is kept byte for byte
   (and every line of the generated program, in order), alias mode binds the facade's name to
   the canonical (``from ... import Canonical`` + ``Facade = Canonical``), delegation mode keeps
   the class and its constructor's signature, keeps every incompatible method (and every
   classmethod, which may build the facade itself) as it was and lists it as a needs-decision
   note with its reason, and phase 2 over its own output (rebuilt from a new commit, as a
   user's second run is) changes nothing.
3. The same facade, around a plain program, is executed by real Python with the canonical
   module on ``sys.path``: in alias mode ``Facade is Canonical`` and
   ``isinstance(Facade(...), Canonical)``; in delegation mode every forwarded method returns
   what the canonical returns and every kept method still returns the facade's own value.

The normal suite runs a few examples per property; ``tests/stress/`` runs many more. Counts are
appended to ``$SSOT_RELIABILITY_COUNTS`` when set.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.helpers.counts import append_counts
from tests.helpers.properties_phase2 import (
    COUNTS,
    DECOY_SPEC,
    DECOYS,
    FILE,
    NO_CONTEXT,
    PLAIN,
    build,
    check_injected,
    check_prefilter,
    check_untouched,
    joined,
    repo_counter,
)
from tests.helpers.strategies import (
    COMPATIBLE,
    CONTEXTS,
    WHERE,
    Context,
    FacadeSpec,
    MethodSpec,
    facade_specs,
    programs,
    split,
)

FAST = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

INCOMPATIBLE = ("renamed", "needs-more", "async-mismatch", "extra")


# --- the properties ------------------------------------------------------------------------------


@FAST
@given(spec=facade_specs("alias"), program=programs, where=WHERE, context=st.sampled_from(CONTEXTS))
def test_alias_facade_in_generated_module(
    tmp_path_factory: pytest.TempPathFactory,
    spec: FacadeSpec,
    program: str,
    where: float,
    context: Context,
) -> None:
    check_injected(tmp_path_factory, spec, *split(program, where), context)


@FAST
@given(
    spec=facade_specs("delegate"), program=programs, where=WHERE, context=st.sampled_from(CONTEXTS)
)
def test_delegating_facade_in_generated_module(
    tmp_path_factory: pytest.TempPathFactory,
    spec: FacadeSpec,
    program: str,
    where: float,
    context: Context,
) -> None:
    check_injected(tmp_path_factory, spec, *split(program, where), context)


@pytest.mark.parametrize("context", CONTEXTS, ids=[c.id for c in CONTEXTS])
@pytest.mark.parametrize("mode", ["alias", "delegate"])
def test_every_context_on_a_plain_module(
    tmp_path_factory: pytest.TempPathFactory, context: Context, mode: str
) -> None:
    """Every context in both modes, each time the suite runs."""
    methods = [MethodSpec("zzsend", ("zza", "zzb"), 1, "same", True)]
    if mode == "delegate":
        methods.append(MethodSpec("zzold", ("zza",), 0, "extra", False))
    run_fixed(tmp_path_factory, FacadeSpec(tuple(methods)), context)


VARIANTS = {
    "plain": ("", False),
    "async": ("", True),
    "staticmethod": ("staticmethod", False),
    "classmethod": ("classmethod", True),
}


@pytest.mark.parametrize("kind", [*COMPATIBLE, *INCOMPATIBLE])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_method_kind_on_a_plain_module(
    tmp_path_factory: pytest.TempPathFactory, kind: str, variant: str
) -> None:
    """Every kind of every variant beside a ``same`` method and property, each time the suite runs."""
    decorator, is_async = VARIANTS[variant]
    run_fixed(
        tmp_path_factory,
        FacadeSpec(
            (
                MethodSpec(
                    "zzsend", ("zza", "zzb"), 1, kind, is_async, decorator, reads_state=True
                ),
                MethodSpec("zzcount", (), 0, "same", False),
                MethodSpec("zzsize", (), 0, "same", False, "property"),
            )
        ),
    )


@pytest.mark.parametrize("kind", ["same", "extra"])
def test_property_kinds_on_a_plain_module(
    tmp_path_factory: pytest.TempPathFactory, kind: str
) -> None:
    run_fixed(
        tmp_path_factory,
        FacadeSpec(
            (
                MethodSpec("zzsize", (), 0, kind, False, "property", reads_state=True),
                MethodSpec("zzcount", (), 0, "same", False),
            )
        ),
    )


def run_fixed(
    tmp_path_factory: pytest.TempPathFactory, spec: FacadeSpec, context: Context = NO_CONTEXT
) -> None:
    """``check_injected`` on ``spec`` between two fixed snippets, once (no generated code)."""

    @settings(max_examples=1, deadline=None, database=None)
    @given(st.just(spec))
    def run(generated: FacadeSpec) -> None:
        check_injected(
            tmp_path_factory, generated, PLAIN, "def helper():\n    return HERE\n", context
        )

    run()


# --- programs that do not define the facade -------------------------------------------------------


@pytest.fixture(scope="module")
def delegating_codemod(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Phase 2's codemod for a delegating facade ``pkg.gen.ZzFacade`` (a real repository)."""
    codemod = build(tmp_path_factory, DECOY_SPEC, DECOY_SPEC.facade_source()).codemod
    assert [p.mode for p in codemod.plans] == ["delegate"]
    return codemod


@FAST
@given(program=programs, decoy=st.sampled_from(DECOYS))
def test_program_without_the_facade_is_byte_identical(
    delegating_codemod: Any, program: str, decoy: str
) -> None:
    check_untouched(delegating_codemod, program, decoy)


@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(program=programs)
def test_prefilter_never_parses_a_file_without_the_facade(
    tmp_path_factory: pytest.TempPathFactory, program: str
) -> None:
    assume("ZzFacade" not in program)
    check_prefilter(tmp_path_factory.mktemp(f"prefilter-{next(repo_counter)}"), program)


@pytest.fixture(autouse=True, scope="module")
def _report_counts() -> Iterator[None]:
    yield
    append_counts(__name__, COUNTS)


# --- found by this suite --------------------------------------------------------------------------


def test_unrelated_import_named_like_a_parameter_is_kept(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Found here: alias mode dropped a module-level import whose name only the facade's
    parameters (locals) shared, though the class never read it."""
    spec = FacadeSpec((MethodSpec("zzsend", ("zza",), 1, "same", False),))
    source = joined("from os import sep as zza\n", spec.facade_source())
    built = build(tmp_path_factory, spec, source)
    out = built.codemod.transform(source.encode("utf-8"), FILE).source.decode("utf-8")
    assert "ZzFacade = ZzCanonical" in out
    assert "from os import sep as zza\n" in out, out

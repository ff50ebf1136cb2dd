"""Property: phase 2 never drops a facade's own logic, checked by running old and new programs.

A facade of a fixed canonical store (``ZzStore``: get, put, drop, close, async flush, each
recording its calls in ``ZZCALLS``) is generated from a few method bodies. Some are pure forwards
in every spelling phase 2 accepts (positional or keyword pass-through, a docstring, a deprecation
warning, a statement where the canonical returns nothing, ``await``), through the wrapped
instance, ``super()`` or the canonical class; the others add logic: an argument transformed, a
guard that raises, a counter, a log record, a call of other code (``ZZEVENTS``), another return
value, a result dropped, a default of their own. ``__init__`` passes its parameter through or
adds logic of its own too.

For every generated facade phase 2 runs on a real repository (no ``replace-facade-logic``), and:

* exactly one outcome line; an alias exactly when every method and ``__init__`` is a pure forward
  that is the same call; otherwise the file is unchanged, byte for byte, and every method with
  logic is listed as ``facade-logic`` by name;
* the old and the new module are executed on the same generated calls: the same results, the same
  exceptions, the same calls reaching the canonical (``ZZCALLS``), the same side effects
  (``ZZEVENTS``, log records, counters, warnings other than the facade's own deprecation warning).

The normal suite runs a few examples; ``tests/stress/test_phase2_logic_stress.py`` runs
``STRESS_EXAMPLES`` (500 for the figure in the README: run it by hand).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.helpers.counts import append_counts
from tests.helpers.properties_logic import COUNTS, check_facade
from tests.helpers.strategies import (
    FORWARDS,
    INITS,
    LOGIC,
    METHODS,
    Facade,
    Method,
    _effective,
    examples,
)

FAST = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))


# --- the property ----------------------------------------------------------------------------------


@FAST
@given(example=examples(logic=True))
def test_facades_with_logic_keep_it_observably(
    tmp_path_factory: pytest.TempPathFactory, example: tuple[Facade, tuple[Any, ...], list[Any]]
) -> None:
    check_facade(tmp_path_factory, *example)


@FAST
@given(example=examples(logic=False))
def test_pure_forward_facades_collapse_to_the_same_behaviour(
    tmp_path_factory: pytest.TempPathFactory, example: tuple[Facade, tuple[Any, ...], list[Any]]
) -> None:
    check_facade(tmp_path_factory, *example)


@pytest.mark.parametrize("variant", [*FORWARDS, *LOGIC])
@pytest.mark.parametrize("shape", ["wrap", "super", "class"])
def test_every_variant_in_every_shape(
    tmp_path_factory: pytest.TempPathFactory, variant: str, shape: str
) -> None:
    """Each body variant on every method, once per suite run, with a fixed script."""
    methods = tuple(_effective(Method(name, variant)) for name in sorted(METHODS))
    script = [
        ("zzput", ("Key", 1)),
        ("zzget", ("key",)),
        ("zzput", ("", 2)),
        ("zzdrop", ("KEY",)),
        ("zzget", ("Key", 0)),
        ("zzflush", ()),
        ("zzclose", ()),
    ]
    check_facade(tmp_path_factory, Facade(shape, "pass", methods), ("Path",), script)


@pytest.mark.parametrize("init", INITS)
def test_every_constructor(tmp_path_factory: pytest.TempPathFactory, init: str) -> None:
    methods = (Method("zzget", "plain"), Method("zzput", "docstring"))
    script = [("zzput", ("Key", 1)), ("zzget", ("Key",))]
    for shape in ("wrap", "super", "class"):
        check_facade(tmp_path_factory, Facade(shape, init, methods), ("Path",), script)
        check_facade(tmp_path_factory, Facade(shape, init, methods), (), script)


@pytest.fixture(autouse=True, scope="module")
def _report_counts() -> Iterator[None]:
    yield
    append_counts(__name__, COUNTS)

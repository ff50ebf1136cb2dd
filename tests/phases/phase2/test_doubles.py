"""Test doubles: how scan measures their drift, and how phase 2 conforms them.

A double stands in for the canonical, so the question is the reverse of a facade's: does every
call the canonical accepts work on the double? Phase 2 renames drifted parameters and adds the
canonical's optional ones; these tests execute the rewritten doubles to show that every call the
canonical accepts now binds, and that every call the tests made before still binds the same way.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import keyword
import os
import sys
from pathlib import Path
from types import ModuleType

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssot_migrate.codemods.doubles import DoublePlan, MethodEdit, ParamAdd, rewrite_double
from ssot_migrate.config import load_config
from ssot_migrate.errors import ConfigError
from ssot_migrate.interfaces import compare_double, extract_interface
from ssot_migrate.model import Change, Note, SourceFile
from ssot_migrate.scan.analysis import scan_repository
from tests.helpers.fixture_harness import read_tree, run_phase
from tests.helpers.paths import FIXTURES
from tests.helpers.repos import make_repo

CONFORMED = FIXTURES / "phase2" / "double_conformed"
EXAMPLES = int(os.environ.get("SSOT_DOUBLE_EXAMPLES", "60"))  # 1,500 by hand before a release


def interface(source: str, name: str) -> object:
    module = cst.parse_module(source)
    (node,) = [s for s in module.body if isinstance(s, cst.ClassDef) and s.name.value == name]
    return extract_interface(node, module, qualname=name)


CANONICAL = """
class Canonical:
    def __init__(self, user_id): self.user_id = user_id
    async def send(self, event_type, payload, *, retries=3): ...
    def stats(self): ...
"""


def test_a_doubles_extras_and_constructor_are_not_drift() -> None:
    double = interface(
        "class Fake:\n"
        "    def __init__(self): self.events = []\n"
        "    async def send(self, event_type, payload, *, retries=1, trace=False): ...\n"
        "    def stats(self): ...\n"
        "    def event_types(self): ...\n",
        "Fake",
    )
    comparison = compare_double(double, interface(CANONICAL, "Canonical"))  # type: ignore[arg-type]
    assert comparison.mismatches == tuple(
        m for m in comparison.mismatches if not m.breaking
    )  # only the differing default of retries
    assert comparison.extra == ("event_types",)
    assert comparison.missing_attributes == ("user_id",)  # listed, not a mismatch


def test_a_double_that_rejects_the_canonicals_calls_drifts() -> None:
    double = interface(
        "class Fake:\n    def send(self, event, payload): ...\n",
        "Fake",
    )
    comparison = compare_double(double, interface(CANONICAL, "Canonical"))  # type: ignore[arg-type]
    messages = [m.message for m in comparison.mismatches]
    assert "send(): the canonical is async but the double's is sync" in messages
    assert (
        "send(): the canonical's positional parameter 1 is 'event_type' but the double's is 'event'"
        in messages
    )
    assert "send(): the canonical accepts keyword 'retries' but the double does not" in messages
    assert "stats(): the canonical has it but the double does not" in messages
    assert comparison.missing == ("stats",)


def test_a_double_built_on_an_unreadable_base_is_not_reported_missing_methods() -> None:
    double = interface(
        "from unittest.mock import MagicMock\nclass Fake(MagicMock):\n    pass\n", "Fake"
    )
    comparison = compare_double(double, interface(CANONICAL, "Canonical"))  # type: ignore[arg-type]
    assert comparison.missing == () and comparison.mismatches == ()


SOURCES = {
    "app/__init__.py": "",
    "app/core.py": CANONICAL,
    "app/testing.py": "class FakeManager:\n    async def send(self, event, payload): ...\n",
    "tests/__init__.py": "",
    "tests/fakes.py": "class MockCanonical:\n    async def send(self, event_type, payload, *, retries=3): ...\n"
    "    def stats(self): ...\n    def calls(self): ...\n",
}
TABLE = """
[tool.ssot-migrate]
[[tool.ssot-migrate.targets]]
name = "c"
canonical = "app.core.Canonical"
aliases = []
{extra}
"""


def test_config_refuses_a_class_listed_as_facade_and_double(tmp_path: Path) -> None:
    files = {
        **SOURCES,
        "pyproject.toml": TABLE.format(
            extra='facades = ["app.testing.FakeManager"]\ntest-doubles = ["app.testing.FakeManager"]'
        ),
    }
    with pytest.raises(ConfigError) as info:
        load_config(make_repo(tmp_path / "r", files))
    assert "targets[0] ('c').test-doubles" in str(info.value)
    assert "also listed in facades" in str(info.value)


def test_scan_measures_a_listed_double_outside_tests_as_a_double(tmp_path: Path) -> None:
    files = {
        **SOURCES,
        "pyproject.toml": TABLE.format(extra='test-doubles = ["app.testing.FakeManager"]'),
    }
    report = scan_repository(load_config(make_repo(tmp_path / "r", files)), jobs=1)
    counts = report.violations()
    # Not a competing implementation (it is declared a double), but it drifts: renamed
    # parameters, no stats(), no retries keyword. The conforming test double in tests/ does not.
    assert counts["duplicate-implementation"] == 0
    assert counts["interface-drift"] == 1
    (drift,) = [site for site in report.sites if site.category == "interface-drift"]
    assert drift.path == "app/testing.py"
    assert "missing stats()" in drift.message


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


def test_the_conformed_fixture_accepts_the_canonicals_calls_and_its_old_ones(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path / "r", read_tree(CONFORMED / "before"))
    summary = run_phase(repo, CONFORMED / "config.toml", "phase2")
    (outcome,) = summary.changed
    before = load(repo / "tests/fakes.py", "fakes_before")
    (tmp_path / "after.py").write_bytes(outcome.after)
    after = load(tmp_path / "after.py", "fakes_after")
    fake = after.FakeManager()
    # Calls written against the canonical, by keyword, now work ...
    asyncio.run(fake.add(connection="c1", thread_id="t", priority=1))
    assert asyncio.run(fake.send_event(event_type="started", payload={"a": 1}, retries=2)) == 2
    assert fake.kinds() == ["started"]
    assert fake.connections_of(user_id="u") == ["c1"]
    # ... and so does every call the double's own tests could make (positionally: the names moved).
    old = before.FakeManager()
    asyncio.run(old.add("c1"))
    assert asyncio.run(old.send_event("started", {}, 5)) == asyncio.run(
        fake.send_event("started", {}, 5)
    )
    with pytest.raises(TypeError):
        asyncio.run(old.send_event(event_type="started", payload={}))


# --------------------------------------------------------------------------- generated signatures

NAMES = st.text("abcdefghij", min_size=1, max_size=6).filter(lambda s: not keyword.iskeyword(s))


@st.composite
def drifted_methods(draw: st.DrawFn) -> tuple[list[str], int, list[str], int]:
    """Canonical positional names (``required`` of them without default) and a drifted double's."""
    canonical = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
    required = draw(st.integers(0, len(canonical)))
    kept = draw(st.integers(0, len(canonical)))
    double = [
        draw(NAMES.filter(lambda n: n not in canonical)) if draw(st.booleans()) else name
        for name in canonical[:kept]
    ]
    if len(set(double)) != len(double):
        double = canonical[:kept]
    double_required = min(required, len(double))
    return canonical, required, double, double_required


def signature_source(name: str, params: list[str], required: int) -> str:
    rendered = [p if i < required else f"{p}=None" for i, p in enumerate(params)]
    body = "return (" + "".join(f"{p}, " for p in params) + ")"
    return f"    def {name}(self{''.join(', ' + p for p in rendered)}):\n        {body}\n"


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drifted_methods())
def test_a_conformed_double_binds_every_canonical_call(
    case: tuple[list[str], int, list[str], int],
) -> None:
    canonical, required, double, double_required = case
    source = "class Fake:\n" + signature_source("m", double, double_required)
    renames = tuple((old, new) for old, new in zip(double, canonical) if old != new)
    additions = tuple(ParamAdd(p, False, "None") for p in canonical[len(double) :])
    plan = DoublePlan(
        "t",
        "pkg.Fake",
        "pkg",
        "Fake",
        "pkg.Canonical",
        edits=(MethodEdit("m", renames, additions),),
    )
    changes: list[Change] = []
    notes: list[Note] = []
    new = rewrite_double(
        cst.parse_module(source), plan, SourceFile("pkg.py", "pkg"), changes, notes
    )
    namespace: dict[str, object] = {}
    exec(compile(new.code, "<conformed>", "exec"), namespace)  # noqa: S102 - generated, ours
    method = namespace["Fake"]().m  # type: ignore[operator]
    signature = inspect.signature(method)
    # Every canonical call shape, by position and by keyword, binds to the same slots.
    kept = len(double)
    for count in range(required, len(canonical) + 1):
        values = list(range(count))
        by_keyword = dict(zip(canonical[:count], values))
        assert signature.bind(*values).arguments == by_keyword
        assert signature.bind(**by_keyword).arguments == by_keyword
        expected = tuple(values[:kept]) + (None,) * (kept - min(count, kept))
        assert method(*values) == method(**by_keyword) == expected
    assert list(signature.parameters)[: len(canonical)] == canonical
    # A call the double accepted before (positional) returns what it returned.
    old_namespace: dict[str, object] = {}
    exec(compile(source, "<drifted>", "exec"), old_namespace)  # noqa: S102
    old = old_namespace["Fake"]().m  # type: ignore[operator]
    values = list(range(len(double)))
    assert method(*values)[: len(double)] == old(*values)

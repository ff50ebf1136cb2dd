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

import importlib
import inspect
import logging
import sys
import types
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssot_migrate.codemods.facades import OUTCOME_KINDS
from ssot_migrate.model import SourceFile
from tests.conftest import make_repo
from tests.phases.phase1.test_properties import append_counts

FILE = SourceFile(path="pkg/gen.py", module="pkg.gen")
CONFIG = """\
[tool.ssot-migrate]

[[tool.ssot-migrate.targets]]
name = "store"
canonical = "zzcanon.core.ZzStore"
aliases = []
facades = ["pkg.gen.ZzFacade"]
"""
CANONICAL = """\
ZZCALLS = []


class ZzStore:
    def __init__(self, zzpath="mem"):
        ZZCALLS.append(("__init__", zzpath))
        self.zzdata = {}

    def zzget(self, zzkey, zzdefault=None):
        ZZCALLS.append(("zzget", zzkey, zzdefault))
        return self.zzdata.get(zzkey, zzdefault)

    def zzput(self, zzkey, zzvalue):
        ZZCALLS.append(("zzput", zzkey, zzvalue))
        self.zzdata[zzkey] = zzvalue
        return zzvalue

    def zzdrop(self, *zzkeys):
        ZZCALLS.append(("zzdrop", zzkeys))
        for zzkey in zzkeys:
            self.zzdata.pop(zzkey, None)

    def zzclose(self):
        ZZCALLS.append(("zzclose",))
        self.zzdata.clear()

    async def zzflush(self, zztimeout=1.0):
        ZZCALLS.append(("zzflush", zztimeout))
        return len(self.zzdata)
"""
# name -> (parameters after self, the arguments a pass-through passes, returns a value, async)
METHODS: dict[str, tuple[str, list[str], bool, bool]] = {
    "zzget": ("zzkey, zzdefault=None", ["zzkey", "zzdefault"], True, False),
    "zzput": ("zzkey, zzvalue", ["zzkey", "zzvalue"], True, False),
    "zzdrop": ("*zzkeys", ["*zzkeys"], False, False),
    "zzclose": ("", [], False, False),
    "zzflush": ("zztimeout=1.0", ["zztimeout"], True, True),
}
HEAD = """\
import logging
import warnings

from zzcanon.core import ZzStore

ZZEVENTS = []
zzlog = logging.getLogger("zzfacade")


def zzhelper(zzwhat):
    ZZEVENTS.append(zzwhat)
"""
COUNTS: Counter[str] = Counter()

FAST = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))


# --- the generated facade --------------------------------------------------------------------------

FORWARDS = ("plain", "keywords", "docstring", "deprecation", "statement")
LOGIC = (
    "transform",
    "guard",
    "counter",
    "log",
    "event",
    "returns-else",
    "drops-result",
    "own-default",
)
INITS = ("pass", "counter", "transform", "own-default")


@dataclass(frozen=True)
class Method:
    name: str
    variant: str

    @property
    def forward(self) -> bool:
        """Phase 2 must see a pure forward (``own-default`` is one, but not the same call)."""
        return self.variant in FORWARDS or self.variant == "own-default"

    @property
    def same_call(self) -> bool:
        return self.variant in FORWARDS


@dataclass(frozen=True)
class Facade:
    shape: str  # wrap (self._zzimpl) | super | class (a subclass of the canonical)
    init: str
    methods: tuple[Method, ...]

    @property
    def alias(self) -> bool:
        return self.init == "pass" and all(m.same_call for m in self.methods)

    def receiver(self) -> str:
        return {"wrap": "self._zzimpl", "super": "super()", "class": "ZzStore"}[self.shape]

    def source(self) -> str:
        base = "" if self.shape == "wrap" else "(ZzStore)"
        lines = [HEAD, "", f"class ZzFacade{base}:"]
        lines += _init(self)
        for method in self.methods:
            lines += ["", *_method(self, method)]
        return "\n".join(lines) + "\n"


def _init(facade: Facade) -> list[str]:
    default = '"other"' if facade.init == "own-default" else '"mem"'
    head = f"    def __init__(self, zzpath={default}):"
    argument = "zzpath.upper()" if facade.init == "transform" else "zzpath"
    if facade.shape == "wrap":
        build = f"        self._zzimpl = ZzStore({argument})"
    elif facade.shape == "super":
        build = f"        super().__init__({argument})"
    else:
        build = f"        ZzStore.__init__(self, {argument})"
    body = [build]
    if facade.init == "counter":
        body.append("        self.zzcount = 0")
    return [head, *body]


def _call(facade: Facade, name: str, arguments: list[str], keywords: bool = False) -> str:
    passed = [a if a.startswith("*") or not keywords else f"{a}={a}" for a in arguments]
    if facade.shape == "class":
        passed = ["self", *passed]
    prefix = "await " if METHODS[name][3] else ""
    return f"{prefix}{facade.receiver()}.{name}({', '.join(passed)})"


def _method(facade: Facade, method: Method) -> list[str]:
    name, variant = method.name, method.variant
    params, arguments, returns, is_async = METHODS[name]
    if variant == "own-default":
        params = params.replace("=None", '="zzmine"').replace("=1.0", "=9.0")
    signature = ", ".join(p for p in ("self", params) if p)
    head = f"    {'async ' if is_async else ''}def {name}({signature}):"
    forward = _call(facade, name, arguments)
    first = arguments[0] if arguments else ""
    body: list[str]
    if variant in ("plain", "own-default"):
        body = [f"return {forward}"]
    elif variant == "keywords":
        body = [f"return {_call(facade, name, arguments, keywords=True)}"]
    elif variant == "docstring":
        body = ['"""zzdoc"""', f"return {forward}"]
    elif variant == "deprecation":
        body = ['warnings.warn("zzold", DeprecationWarning, stacklevel=2)', f"return {forward}"]
    elif variant == "statement":
        # A statement forward is only a forward where the canonical returns nothing.
        body = [forward] if not returns else [f"return {forward}"]
    elif variant == "transform" and first:
        changed = {
            "zzkey": "zzkey.upper()",
            "*zzkeys": "*[k.upper() for k in zzkeys]",
            "zztimeout": "zztimeout * 2",
        }[first]
        body = [f"return {_call(facade, name, [changed, *arguments[1:]])}"]
    elif variant == "guard" and first:
        tested = first.lstrip("*")
        body = [f"if not {tested}:", '    raise ValueError("zzempty")', f"return {forward}"]
    elif variant == "log":
        body = [f'zzlog.warning("zz %s", "{name}")', f"return {forward}"]
    elif variant == "event":
        body = [f'zzhelper("{name}")', f"return {forward}"]
    elif variant == "returns-else":
        body = [f"zzresult = {forward}", "return (zzresult, 'zzmine')"]
    elif variant == "drops-result" and returns:
        body = [forward]
    else:  # counter, and the variants a method cannot take (no argument, returns nothing)
        body = ['self.zzcount = getattr(self, "zzcount", 0) + 1', f"return {forward}"]
    return [head, *(f"        {line}" for line in body)]


def _effective(method: Method) -> Method:
    """The variant ``_method`` actually writes (some fall back to a counter)."""
    _, arguments, returns, _ = METHODS[method.name]
    if method.variant in ("transform", "guard") and not arguments:
        return Method(method.name, "counter")
    if method.variant == "drops-result" and not returns:
        return Method(method.name, "counter")
    if method.variant == "own-default" and "=" not in METHODS[method.name][0]:
        return Method(method.name, "counter")  # found by the stress run: no default to differ
    return method


@st.composite
def facades(draw: st.DrawFn, logic: bool | None = None) -> Facade:
    """A facade; ``logic=True`` gives at least one method or ``__init__`` with logic."""
    shape = draw(st.sampled_from(["wrap", "wrap", "super", "class"]))
    names = draw(st.lists(st.sampled_from(sorted(METHODS)), min_size=1, max_size=5, unique=True))
    variants = st.sampled_from(FORWARDS + LOGIC)
    methods = tuple(_effective(Method(name, draw(variants))) for name in names)
    init = draw(st.sampled_from(["pass", "pass", "pass", *INITS[1:]]))
    facade = Facade(shape, init, methods)
    if logic and facade.alias:
        first = methods[0]
        facade = Facade(
            shape,
            init,
            (_effective(Method(first.name, draw(st.sampled_from(LOGIC)))), *methods[1:]),
        )
    if logic is False:
        facade = Facade(
            shape, "pass", tuple(Method(m.name, "plain") if not m.same_call else m for m in methods)
        )
    return facade


KEYS = st.sampled_from(["", "Key", "key", "KEY", "x"])
VALUES = st.integers(-2, 2)


@st.composite
def calls(draw: st.DrawFn, facade: Facade) -> list[tuple[str, tuple[Any, ...]]]:
    """Calls of the facade's own methods (the only ones the old program has)."""
    out: list[tuple[str, tuple[Any, ...]]] = []
    names = [m.name for m in facade.methods]
    for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=6)):
        if name == "zzget":
            args: tuple[Any, ...] = (draw(KEYS),) + ((draw(VALUES),) if draw(st.booleans()) else ())
        elif name == "zzput":
            args = (draw(KEYS), draw(VALUES))
        elif name == "zzdrop":
            args = tuple(draw(st.lists(KEYS, max_size=2)))
        elif name == "zzflush":
            args = (draw(st.sampled_from([0.5, 1.0])),) if draw(st.booleans()) else ()
        else:
            args = ()
        out.append((name, args))
    return out


# --- running a program -----------------------------------------------------------------------------

_counter = iter(range(10**9))


def _drive(value: object) -> object:
    if not inspect.iscoroutine(value):
        return value
    try:
        value.send(None)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("coroutine suspended")


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.getMessage())


def trace(
    root: Path, source: bytes, init_args: tuple[Any, ...], script: list[tuple[str, tuple[Any, ...]]]
) -> list[object]:
    """Everything observable of running ``script`` on ``ZzFacade(*init_args)`` from ``source``."""
    for name in ("zzcanon.core", "zzcanon"):
        sys.modules.pop(name, None)
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    handler = _Records()
    logger = logging.getLogger("zzfacade")
    logger.addHandler(handler)
    logger.propagate = False
    seen: list[object] = []
    try:
        canonical = importlib.import_module("zzcanon.core")
        module = types.ModuleType("pkg.gen")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            exec(compile(source, "pkg/gen.py", "exec", dont_inherit=True), module.__dict__)  # noqa: S102
            instance = module.ZzFacade(*init_args)
            for name, args in script:
                try:
                    seen.append(("ok", name, _drive(getattr(instance, name)(*args))))
                except Exception as error:  # noqa: BLE001 - the exception is the observation
                    seen.append(("raised", name, type(error).__name__, str(error)))
                seen.append(("count", getattr(instance, "zzcount", "absent")))
        # The facade's own deprecation warnings go with the facade; every other warning stays.
        seen.append(
            (
                "warnings",
                [str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)],
            )
        )
        seen += [
            ("canonical", list(canonical.ZZCALLS)),
            ("events", list(module.ZZEVENTS)),
            ("log", list(handler.seen)),
        ]
    finally:
        logger.removeHandler(handler)
        sys.path.remove(str(root))
        for name in ("zzcanon.core", "zzcanon"):
            sys.modules.pop(name, None)
    return seen


# --- the property ----------------------------------------------------------------------------------


def check_facade(
    tmp_path_factory: pytest.TempPathFactory,
    facade: Facade,
    init_args: tuple[Any, ...],
    script: list[tuple[str, tuple[Any, ...]]],
) -> None:
    from ssot_migrate.engine import open_config_and_snapshot
    from ssot_migrate.phases import build_codemod

    source = facade.source()
    root = tmp_path_factory.mktemp(f"logic-{next(_counter)}")
    repo = make_repo(
        root / "repo",
        {
            "pyproject.toml": CONFIG,
            "zzcanon/__init__.py": "",
            "zzcanon/core.py": CANONICAL,
            "pkg/__init__.py": "",
            "pkg/gen.py": source,
        },
    )
    config, snapshot = open_config_and_snapshot(repo, None)
    with snapshot:
        codemod = build_codemod("phase2", config, snapshot)
    data = source.encode("utf-8")
    result = codemod.transform(data, FILE)
    outcomes = [n for n in result.notes if n.kind in OUTCOME_KINDS]
    assert len(outcomes) == 1, f"not one outcome: {result.notes}\n{source}"
    COUNTS["phase2_logic_examples"] += 1
    if facade.alias:
        assert outcomes[0].kind == "facade-aliased", f"{outcomes}\n{source}"
        assert "ZzFacade = ZzStore" in result.source.decode("utf-8")
        COUNTS["phase2_logic_aliased"] += 1
    else:
        assert outcomes[0].kind != "facade-aliased", f"aliased with logic:\n{source}"
        assert result.source == data, (
            f"a facade with logic was rewritten:\n{result.source.decode()}"
        )
        listed = {
            n.message.split("()")[0].removeprefix("ZzFacade.")
            for n in result.notes
            if n.kind == "facade-logic"
        }
        for method in facade.methods:
            if not method.forward:
                assert method.name in listed, f"{method} not listed: {result.notes}\n{source}"
                COUNTS[f"phase2_logic_kept:{method.variant}"] += 1
        COUNTS[f"phase2_logic_outcome:{outcomes[0].kind}"] += 1
    runtime = root / "run"
    (runtime / "zzcanon").mkdir(parents=True)
    (runtime / "zzcanon" / "__init__.py").write_text("")
    (runtime / "zzcanon" / "core.py").write_text(CANONICAL)
    before = trace(runtime, data, init_args, script)
    after = trace(runtime, result.source, init_args, script)
    assert after == before, f"observable difference:\n{source}\n---\n{result.source.decode()}"
    COUNTS["phase2_logic_executed"] += 1


INIT_ARGS = st.sampled_from([(), ("Path",), ("mem",)])


@st.composite
def examples(
    draw: st.DrawFn, logic: bool | None = None
) -> tuple[Facade, tuple[Any, ...], list[Any]]:
    facade = draw(facades(logic))
    return facade, draw(INIT_ARGS), draw(calls(facade))


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

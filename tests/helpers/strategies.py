"""Every Hypothesis strategy the property tests share: generated programs (hypothesmith), injected
import and construction shapes, generated facades and their calls.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass
from typing import Any

import hypothesmith
import libcst
from hypothesis import strategies as st


@dataclass(frozen=True)
class Shape:
    """An import that binds an alias, the expression probing it, and what the probe must become."""

    id: str
    imports: str
    probe: str
    expected: str
    extra_probes: tuple[tuple[str, str], ...] = ()


SHAPES = [
    Shape("from", "from zzold.legacy import OldThing", "OldThing", "zznew.core.NewThing"),
    Shape(
        "from-as", "from zzold.legacy import OldThing as ZzAlias", "ZzAlias", "zznew.core.NewThing"
    ),
    Shape("import", "import zzold.legacy", "zzold.legacy.OldThing", "zznew.core.NewThing"),
    Shape("import-as", "import zzold.legacy as zz_lm", "zz_lm.OldThing", "zznew.core.NewThing"),
    Shape("from-pkg", "from zzold import legacy", "legacy.OldThing", "zznew.core.NewThing"),
    Shape(
        "split",
        "from zzold.legacy import (\n    OldThing,\n    other_zz,\n)",
        "OldThing",
        "zznew.core.NewThing",
        (("other_zz", "zzold.legacy.other_zz"),),
    ),
    Shape(
        "dual",
        "from zznew.core import NewThing\nfrom zzold.legacy import OldThing",
        "OldThing",
        "zznew.core.NewThing",
        (("NewThing", "zznew.core.NewThing"),),
    ),
    Shape("mod-import", "import zzold.ancient", "zzold.ancient.attr_zz", "zznew.modern.attr_zz"),
    Shape(
        "mod-import-as", "import zzold.ancient as zz_an", "zz_an.attr_zz", "zznew.modern.attr_zz"
    ),
    Shape("mod-from-pkg", "from zzold import ancient", "ancient.attr_zz", "zznew.modern.attr_zz"),
    Shape("mod-from", "from zzold.ancient import attr_zz", "attr_zz", "zznew.modern.attr_zz"),
    Shape(
        "mod-sub", "from zzold.ancient.sub import thing_zz", "thing_zz", "zznew.modern.sub.thing_zz"
    ),
]


PLACES = ["top", "function", "try", "type-checking"]


programs = st.one_of(hypothesmith.from_grammar(), hypothesmith.from_node())


PHASE3_SHAPES = [
    Shape(
        "call", "from zznew.core import NewThing", "NewThing(1, key=2)", "zznew.factory.make_thing"
    ),
    Shape(
        "call-as",
        "from zznew.core import NewThing as ZzT",
        "ZzT(1, key=2)",
        "zznew.factory.make_thing",
    ),
    Shape(
        "call-attr",
        "import zznew.core",
        "zznew.core.NewThing(1, key=2)",
        "zznew.factory.make_thing",
    ),
    Shape(
        "call-mod-as",
        "from zznew import core as zz_core",
        "zz_core.NewThing(1, key=2)",
        "zznew.factory.make_thing",
    ),
]


COMPATIBLE = ("same", "looser")


@dataclass(frozen=True)
class MethodSpec:
    """One public method of the facade, and how the canonical's same-named method differs.

    ``params`` are the facade's positional parameters after ``self``; the first ``required``
    have no default, the others default to their index. ``decorator`` (``property``,
    ``staticmethod``, ``classmethod`` or none) is the same on both classes.
    """

    name: str
    params: tuple[str, ...]
    required: int
    kind: str
    is_async: bool
    decorator: str = ""
    reads_state: bool = False  # the facade's body also returns its own ``self._zzstate``

    @property
    def state(self) -> tuple[str, ...]:
        """What the facade's body returns after its arguments."""
        if self.reads_state and self.decorator not in ("staticmethod", "classmethod"):
            return ("self._zzstate",)
        return ()

    @property
    def compatible(self) -> bool:
        return self.kind in COMPATIBLE

    @property
    def forwarded(self) -> bool:
        """Whether delegation mode forwards it: a classmethod may build the facade itself."""
        return self.compatible and self.decorator != "classmethod"

    def canonical_params(self) -> tuple[tuple[str, ...], int, bool] | None:
        """(params, required, async) of the canonical's method; ``None`` when it has none."""
        if self.kind == "extra":
            return None
        if self.kind == "looser":  # the canonical takes one more optional parameter
            return (*self.params, "zzlast"), self.required, self.is_async
        if self.kind == "renamed":
            return ("zzrenamed", *self.params[1:]), self.required, self.is_async
        if self.kind == "needs-more":  # every parameter required, and one more
            return (*self.params, "zzmore"), len(self.params) + 1, self.is_async
        if self.kind == "async-mismatch":
            return self.params, self.required, not self.is_async
        return self.params, self.required, self.is_async


@dataclass(frozen=True)
class FacadeSpec:
    """A facade class and the canonical class it is configured against."""

    methods: tuple[MethodSpec, ...]

    @property
    def alias_mode(self) -> bool:
        return all(m.compatible for m in self.methods)

    def facade_source(self) -> str:
        lines = [
            "class ZzFacade:",
            '    """zzdoc"""',
            "",
            "    def __init__(self, zzvalue=0):",
            "        self._zzstate = zzvalue",
        ]
        for method in self.methods:
            lines += [
                "",
                *_method(
                    method.name,
                    method.params,
                    method.required,
                    method.is_async,
                    ("zzfacade", method.name),
                    "".join(method.state),
                    method.decorator,
                ),
            ]
        return "\n".join(lines) + "\n"

    def canonical_source(self) -> str:
        lines = [
            "class ZzCanonical:",
            "    def __init__(self, zzvalue=0):",
            "        self.zzvalue = zzvalue",
            "",
            "    def zzcanonicalonly(self):",
            '        return "zz"',
        ]
        for method in self.methods:
            shape = method.canonical_params()
            if shape is not None:
                params, required, is_async = shape
                extra = {"staticmethod": "", "classmethod": "cls.__name__"}.get(
                    method.decorator, "self.zzvalue"
                )
                lines += [
                    "",
                    *_method(
                        method.name,
                        params,
                        required,
                        is_async,
                        ("zzcanonical", method.name),
                        extra,
                        method.decorator,
                    ),
                ]
        return "\n".join(lines) + "\n"


def _method(
    name: str,
    params: tuple[str, ...],
    required: int,
    is_async: bool,
    tag: tuple[str, str],
    extra: str,
    decorator: str = "",
) -> list[str]:
    receiver = {"staticmethod": [], "classmethod": ["cls"]}.get(decorator, ["self"])
    signature = ", ".join(
        [*receiver, *(p if i < required else f"{p}={i}" for i, p in enumerate(params))]
    )
    values = ", ".join([repr(tag[0]), repr(tag[1]), *params, *([extra] if extra else [])])
    prefix = "async def" if is_async else "def"
    head = [f"    @{decorator}"] if decorator else []
    return [*head, f"    {prefix} {name}({signature}):", f"        return ({values},)"]


# Every identifier the class uses starts with "zz", and generated programs mentioning "zz" are
# left out: an unrelated generated name never coincides with one of the facade's (that case is
# ``test_unrelated_import_named_like_a_parameter_is_kept`` below).
identifiers = st.from_regex(r"\Azz[a-z][a-z0-9]{0,4}\Z").filter(lambda s: not keyword.iskeyword(s))


RESERVED = {
    "zzvalue",
    "zzstate",
    "zzlast",
    "zzrenamed",
    "zzmore",
    "zzcanonicalonly",
    "zzfacade",
    "zzcanonical",
}


@st.composite
def method_specs(draw: st.DrawFn, name: str) -> MethodSpec:
    params = tuple(
        draw(
            st.lists(
                identifiers.filter(lambda s: s not in RESERVED and s != name),
                max_size=3,
                unique=True,
            )
        )
    )
    required = draw(st.integers(0, len(params)))
    decorator = draw(st.sampled_from(["", "", "", "property", "staticmethod", "classmethod"]))
    reads_state = draw(st.booleans())
    if decorator == "property":
        kind = draw(st.sampled_from(["same", "extra"]))
        return MethodSpec(name, (), 0, kind, False, decorator, reads_state)
    kinds = ["same", "looser", "needs-more", "async-mismatch", "extra"] + (
        ["renamed"] if params else []
    )
    kind = draw(st.sampled_from(kinds))
    return MethodSpec(name, params, required, kind, draw(st.booleans()), decorator, reads_state)


@st.composite
def facade_specs(draw: st.DrawFn, mode: str = "any") -> FacadeSpec:
    names = draw(
        st.lists(
            identifiers.filter(lambda s: s not in RESERVED), min_size=1, max_size=4, unique=True
        )
    )
    methods = tuple(draw(method_specs(name)) for name in names)
    if mode == "alias":
        methods = tuple(_with_kind(m, "same") if not m.compatible else m for m in methods)
    elif mode == "delegate" and all(m.compatible for m in methods):
        methods = (_with_kind(methods[0], "extra"), *methods[1:])
    return FacadeSpec(methods)


def _with_kind(method: MethodSpec, kind: str) -> MethodSpec:
    from dataclasses import replace

    return replace(method, kind=kind)


@dataclass(frozen=True)
class Context:
    """Code a real facade module has around the class: above the generated code, and below."""

    id: str
    head: str = ""
    tail: str = ""


CONTEXTS = [
    Context("none"),
    Context("docstring-future", '"""A module."""\nfrom __future__ import annotations\n'),
    Context(
        "canonical-imported", "from zzcanon.core import ZzCanonical\n", "zzkeep = ZzCanonical\n"
    ),
    Context("canonical-imported-as", "from zzcanon.core import ZzCanonical as ZzOther\n"),
    Context(
        "canonical-module-imported", "import zzcanon.core\n", "zzkeep = zzcanon.core.ZzCanonical\n"
    ),
    Context("canonical-name-shadowed", "ZzCanonical = object\n"),
    Context("exported", '__all__ = ["ZzFacade"]\n'),
    Context("star-import", "from os.path import *\n"),
    Context("used-below", "", "zzinstance = ZzFacade(1)\n\n\nclass ZzSub(ZzFacade):\n    pass\n"),
]


def split(program: str, where: float) -> tuple[str, str]:
    """``program`` cut between two top-level statements, ``where`` of the way through.

    hypothesmith allows one generated program per example (it records Hypothesis targets under
    fixed labels), so the code before and after the facade comes from cutting one program.
    """
    try:
        module = libcst.parse_module(program)
    except libcst.ParserSyntaxError:
        return program, ""
    cut = round(where * len(module.body))
    before = module.with_changes(body=module.body[:cut], footer=())
    after = module.with_changes(body=module.body[cut:], header=(), encoding="utf-8")
    if not module.body[cut:]:
        return module.code, ""
    if not module.body[:cut]:
        return "", program
    return before.code, after.code


WHERE = st.sampled_from([0.0, 0.5, 1.0])  # the facade first, amid, or after the generated code


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
            lines += ["", *_method_lines(self, method)]
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


def _method_lines(facade: Facade, method: Method) -> list[str]:
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
    """The variant ``_method_lines`` actually writes (some fall back to a counter)."""
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


INIT_ARGS = st.sampled_from([(), ("Path",), ("mem",)])


@st.composite
def examples(
    draw: st.DrawFn, logic: bool | None = None
) -> tuple[Facade, tuple[Any, ...], list[Any]]:
    facade = draw(facades(logic))
    return facade, draw(INIT_ARGS), draw(calls(facade))

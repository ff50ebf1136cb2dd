"""Which facade methods are provably a forward to the canonical, and what the others do.

Phase 2 may collapse a facade method onto the canonical's only when calling one is calling the
other: the body is a single call of the canonical's method of the same name, passing the
method's own parameters through unchanged, through the wrapped canonical instance
(``self._impl``), ``super()`` or the canonical class, and returning what it returns::

    def get(self, key, default=None):                     # a forward
        "Docstring."
        warnings.warn("use Store", DeprecationWarning)
        return self._store.get(key, default)

    def get(self, key, default=None):                     # logic of its own: kept, listed
        return self._store.get(key.lower(), default)      # "transforms an argument (key.lower())"

Anything else is logic of the facade's own, described for the reviewer ("transforms an
argument", "raises", "updates state", "logs", "calls other code", "returns something else").
Pure: libcst nodes in, verdicts out.
"""

from __future__ import annotations

import ast
import copy
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import libcst as cst

from ssot_migrate.interfaces import MethodSignature
from ssot_migrate.pysyntax import dotted_name

# Categories a warning may carry and still be "a deprecation warning" around a forward.
_DEPRECATIONS = frozenset({"DeprecationWarning", "PendingDeprecationWarning"})
_LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "fatal"}
)
_MUTATORS = frozenset(
    {
        "append",
        "appendleft",
        "extend",
        "extendleft",
        "insert",
        "pop",
        "popitem",
        "popleft",
        "remove",
        "clear",
        "update",
        "setdefault",
        "add",
        "discard",
        "sort",
        "reverse",
        "__setitem__",
        "__delitem__",
    }
)
_SNIPPET = 40
# Builtins that compute a value from their arguments: "calls other code" would be noise for them
# (what the method returns is described instead).
_VALUE_BUILTINS = frozenset(
    {
        "len",
        "dict",
        "list",
        "tuple",
        "set",
        "frozenset",
        "sorted",
        "reversed",
        "str",
        "int",
        "float",
        "bool",
        "repr",
        "isinstance",
        "issubclass",
        "min",
        "max",
        "sum",
        "any",
        "all",
        "enumerate",
        "zip",
        "range",
        "iter",
        "next",
        "getattr",
        "hasattr",
        "type",
        "abs",
        "round",
    }
)


@dataclass(frozen=True)
class Verdict:
    """One facade method: a pure forward (``via`` says through what), or its own logic."""

    name: str
    forward: bool
    via: str = ""  # instance | super | class
    logic: tuple[str, ...] = ()
    # Parameters with a default that the forward passes on explicitly: an alias is the same call
    # only where the canonical's default is the same (checked against its signature).
    passed: tuple[tuple[str, str, str], ...] = ()  # (parameter, its default, "pos:<i>"|"kw")

    @property
    def what(self) -> str:
        """What the method does that the canonical does not, for the note."""
        return ", ".join(self.logic)


@dataclass(frozen=True)
class FacadeScope:
    """What the facade's class and module say about the names a forward may go through."""

    class_name: str
    canonical_refs: frozenset[str]  # spellings naming the canonical class in the facade's module
    factory_refs: frozenset[str]  # spellings naming the target's factory
    instance_attrs: frozenset[str]  # ``self.x`` holding a canonical instance for good
    subclass: bool  # the canonical is the facade's first base: ``super()`` reaches it
    warn_refs: frozenset[str]  # spellings of ``warnings.warn``


@dataclass(frozen=True)
class FacadeAnalysis:
    """Every own method's verdict, and why ``__init__`` (if any) is more than a construction."""

    verdicts: tuple[Verdict, ...]
    init_logic: tuple[str, ...] = ()
    init_passed: tuple[tuple[str, str, str], ...] = ()
    has_init: bool = False

    def verdict(self, name: str) -> Verdict | None:
        for verdict in self.verdicts:
            if verdict.name == name:
                return verdict
        return None


def analyse(
    cls: cst.ClassDef,
    bindings: Mapping[str, str],
    canonical: str,
    factory: str | None,
    same_module: bool,
    canonical_bodies: Mapping[str, cst.FunctionDef],
) -> FacadeAnalysis:
    """Classify every method ``cls`` defines against the canonical class ``canonical``.

    ``bindings`` are the facade module's top-level imports (local name -> qualified name);
    ``canonical_bodies`` the canonical's own method definitions by name (for "does it return a
    value"; a method it inherits is simply absent, and then nothing is assumed).
    """
    refs = _spellings(bindings, canonical)
    if same_module:
        refs |= {canonical.rpartition(".")[2]}
    factory_refs = _spellings(bindings, factory) if factory else frozenset()
    warn_refs = _spellings(bindings, "warnings.warn")
    bases = [
        dotted_name(arg.value, through_subscripts=True) for arg in cls.bases if arg.keyword is None
    ]
    subclass = bool(bases) and bases[0] in refs
    functions = _functions(cls)
    init = functions.get("__init__")
    attrs = _instance_attributes(init, refs | factory_refs) if init is not None else {}
    stored_elsewhere = set()
    for name, function in functions.items():
        collector = _Stores(function.params)
        function.body.visit(collector)
        stored_elsewhere |= collector.attrs if name != "__init__" else set()
    scope = FacadeScope(
        class_name=cls.name.value,
        canonical_refs=frozenset(refs),
        factory_refs=frozenset(factory_refs),
        instance_attrs=frozenset(a for a in attrs if a not in stored_elsewhere),
        subclass=subclass,
        warn_refs=frozenset(warn_refs),
    )
    verdicts = tuple(
        classify(function, scope, canonical_bodies.get(name))
        for name, function in functions.items()
        if name != "__init__"
    )
    if init is None:
        return FacadeAnalysis(verdicts)
    logic, passed = _init_logic(init, scope, attrs)
    return FacadeAnalysis(verdicts, logic, passed, has_init=True)


def alias_blockers(
    analysis: FacadeAnalysis,
    signatures: Mapping[str, MethodSignature],
    constructor: MethodSignature | None,
    public: Iterable[str],
) -> list[str]:
    """Why the facade cannot become ``Facade = Canonical`` on the grounds of its methods' bodies.

    Every public method must be a pure forward, ``__init__`` only build the canonical from its
    own parameters, and a default the facade passes on explicitly must be the canonical's too.
    """
    blockers: list[str] = []
    for name in public:
        verdict = analysis.verdict(name)
        if verdict is None:
            continue
        if not verdict.forward:
            blockers.append(f"{name}() {verdict.what}")
            continue
        other = signatures.get(name)
        blockers += _default_problems(name, verdict.passed, other)
    if analysis.init_logic:
        blockers.append(f"__init__() {', '.join(analysis.init_logic)}")
    elif analysis.has_init:
        blockers += _default_problems("__init__", analysis.init_passed, constructor)
    return blockers


def _default_problems(
    name: str, passed: Sequence[tuple[str, str, str]], other: MethodSignature | None
) -> list[str]:
    problems: list[str] = []
    for parameter, default, where in passed:
        theirs: str | None = None
        if other is not None:
            defaults = dict(other.defaults)
            if where.startswith("pos:"):
                index = int(where[4:])
                receiving = other.positional[index] if index < len(other.positional) else None
            else:
                receiving = parameter
            theirs = defaults.get(receiving) if receiving is not None else None
        if theirs != default:
            problems.append(
                f"{name}() passes its own default {parameter}={default} on"
                + (
                    f" where the canonical's is {theirs}"
                    if theirs
                    else ", which the canonical's signature does not show to be the same"
                )
            )
    return problems


# --------------------------------------------------------------------------- one method


def classify(
    function: cst.FunctionDef, scope: FacadeScope, canonical_body: cst.FunctionDef | None
) -> Verdict:
    """Whether ``function`` is a pure forward to the canonical's same-named method."""
    name = function.name.value
    decorators = [
        dotted_name(d.decorator, through_subscripts=True) or "<expr>" for d in function.decorators
    ]
    kind = _kind(decorators)
    if kind == "other":
        shown = ", ".join(f"@{d}" for d in decorators)
        return Verdict(name, False, logic=(f"is decorated ({shown})",))
    units = _units(function)
    units = [u for u in units if not _is_deprecation_warning(u, scope)]
    if len(units) == 1:
        forward = _single_forward(function, kind, units[0], scope, canonical_body)
        if forward is not None:
            return forward
    logic = _describe(function, kind, units, scope, canonical_body)
    return Verdict(name, False, logic=tuple(logic) or ("has a body of its own",))


def _single_forward(
    function: cst.FunctionDef,
    kind: str,
    unit: cst.CSTNode,
    scope: FacadeScope,
    canonical_body: cst.FunctionDef | None,
) -> Verdict | None:
    name = function.name.value
    if isinstance(unit, cst.Return) and unit.value is not None:
        value: cst.BaseExpression = unit.value
        returns = True
    elif isinstance(unit, cst.Expr):
        value, returns = unit.value, False
    else:
        return None
    awaited = isinstance(value, cst.Await)
    if awaited:
        assert isinstance(value, cst.Await)
        value = value.expression
    if awaited != (function.asynchronous is not None):
        return None
    receiver_name = _receiver(function, kind)
    if kind == "property":
        if isinstance(value, cst.Attribute) and value.attr.value == name and returns:
            via = _via(value.value, kind, receiver_name, scope, bound=False)
            if via is not None:
                return Verdict(name, True, via)
        return None
    if not isinstance(value, cst.Call) or not isinstance(value.func, cst.Attribute):
        return None
    if value.func.attr.value != name:
        return None
    via = _via(value.func.value, kind, receiver_name, scope, bound=True)
    if via is None:
        return None
    args = list(value.args)
    # ``Canonical.get(self, key)``: the instance goes first, by position; ``__new__`` is a
    # static method, so ``super().__new__(cls, ...)`` passes the class the same way.
    if (via == "class" and kind == "method") or (name == "__new__" and via == "super"):
        if not args or args[0].keyword is not None or args[0].star:
            return None
        if not (isinstance(args[0].value, cst.Name) and args[0].value.value == receiver_name):
            return None
        args = args[1:]
    passed = _passes_through(function, args)
    if passed is None:
        return None
    if not returns and _returns_value(canonical_body) is not False:
        return None
    return Verdict(name, True, via, passed=tuple(passed))


def _via(
    receiver: cst.BaseExpression,
    kind: str,
    self_name: str | None,
    scope: FacadeScope,
    *,
    bound: bool,
) -> str | None:
    """``instance``, ``super`` or ``class`` when ``receiver`` reaches the canonical, else None."""
    if (
        kind in ("method", "property")
        and isinstance(receiver, cst.Attribute)
        and isinstance(receiver.value, cst.Name)
        and receiver.value.value == self_name
        and receiver.attr.value in scope.instance_attrs
    ):
        return "instance"
    if scope.subclass and _is_super(receiver, scope, self_name) and kind != "staticmethod":
        return "super"
    text = dotted_name(receiver, through_subscripts=True)
    if text is not None and text in scope.canonical_refs and bound:
        if kind == "method" and not scope.subclass:
            return None  # a facade instance handed to the canonical's function: not the same call
        if kind in ("method", "staticmethod", "classmethod"):
            return "class"
    return None


def _is_super(node: cst.BaseExpression, scope: FacadeScope, self_name: str | None) -> bool:
    if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Name)):
        return False
    if node.func.value != "super":
        return False
    if not node.args:
        return True
    if len(node.args) == 2:
        first, second = node.args[0].value, node.args[1].value
        return (
            isinstance(first, cst.Name)
            and first.value == scope.class_name
            and isinstance(second, cst.Name)
            and second.value == self_name
        )
    return False


def _passes_through(
    function: cst.FunctionDef, args: Sequence[cst.Arg]
) -> list[tuple[str, str, str]] | None:
    """The call passes every parameter once, as received; ``None`` otherwise.

    Returns the parameters with a default that are passed on (with where they land), since the
    call then fixes the facade's default rather than the canonical's.
    """
    params = function.params
    positional = [*params.posonly_params, *params.params][_skip(function) :]
    star = params.star_arg if isinstance(params.star_arg, cst.Param) else None
    keyword_only = list(params.kwonly_params)
    star_kw = params.star_kwarg
    defaults = {p.name.value: _code(p.default) for p in [*positional, *keyword_only] if p.default}
    posonly = {p.name.value for p in params.posonly_params}
    expected_positional = [p.name.value for p in positional]
    seen: set[str] = set()
    passed: list[tuple[str, str, str]] = []
    index = 0
    state = "positional"
    for arg in args:
        value = arg.value
        if not isinstance(value, cst.Name):
            return None
        if arg.star == "*":
            if star is None or value.value != star.name.value or state != "positional":
                return None
            if index != len(expected_positional):
                return None  # a positional passed by keyword before *args would move
            state = "keywords"
            seen.add(value.value)
            continue
        if arg.star == "**":
            if star_kw is None or value.value != star_kw.name.value:
                return None
            seen.add(value.value)
            state = "done"
            continue
        if arg.keyword is None:
            if state != "positional" or index >= len(expected_positional):
                return None
            if value.value != expected_positional[index]:
                return None
            if value.value in defaults:
                passed.append((value.value, defaults[value.value], f"pos:{index}"))
            seen.add(value.value)
            index += 1
            continue
        if state == "done":
            return None
        state = "keywords" if state == "positional" else state
        name = arg.keyword.value
        if name != value.value or name in seen or name in posonly:
            return None
        if name not in expected_positional and name not in {p.name.value for p in keyword_only}:
            return None
        if name in defaults:
            passed.append((name, defaults[name], "kw"))
        seen.add(name)
    every = set(expected_positional) | {p.name.value for p in keyword_only}
    every |= {star.name.value} if star is not None else set()
    every |= {star_kw.name.value} if star_kw is not None else set()
    if seen != every:
        return None
    return passed


def _skip(function: cst.FunctionDef) -> int:
    """How many leading parameters are the receiver (``self``/``cls``; none for staticmethods)."""
    decorators = [
        dotted_name(d.decorator, through_subscripts=True) or "" for d in function.decorators
    ]
    return 0 if _kind(decorators) == "staticmethod" else 1


def _receiver(function: cst.FunctionDef, kind: str) -> str | None:
    if kind == "staticmethod":
        return None
    every = [*function.params.posonly_params, *function.params.params]
    return every[0].name.value if every else None


def _kind(decorators: Sequence[str]) -> str:
    short = [d.rpartition(".")[2] for d in decorators]
    if not short:
        return "method"
    if short == ["property"]:
        return "property"
    if short == ["staticmethod"]:
        return "staticmethod"
    if short == ["classmethod"]:
        return "classmethod"
    return "other"


def _returns_value(function: cst.FunctionDef | None) -> bool | None:
    """Whether the canonical's method may return a value (``None``: its body is not known)."""
    if function is None:
        return None
    finder = _ReturnFinder()
    function.body.visit(finder)
    return finder.value


class _ReturnFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.value = False

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self.value = True

    def visit_Yield(self, node: cst.Yield) -> None:
        self.value = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


# --------------------------------------------------------------------------- __init__


def _instance_attributes(
    init: cst.FunctionDef, builders: frozenset[str] | set[str]
) -> dict[str, int]:
    """``self.x = Canonical(...)`` / ``factory(...)`` in ``__init__``: attribute -> unit index."""
    found: dict[str, int] = {}
    self_name = _receiver(init, "method")
    for index, unit in enumerate(_units(init)):
        target = _self_store(unit, self_name)
        if target is None:
            continue
        value = unit.value if isinstance(unit, (cst.Assign, cst.AnnAssign)) else None
        if (
            isinstance(value, cst.Call)
            and dotted_name(value.func, through_subscripts=True) in builders
        ):
            found[target] = index
    return found


def _self_store(unit: cst.CSTNode, self_name: str | None) -> str | None:
    if isinstance(unit, cst.Assign) and len(unit.targets) == 1:
        target: cst.BaseExpression = unit.targets[0].target
    elif isinstance(unit, cst.AnnAssign) and unit.value is not None:
        target = unit.target
    else:
        return None
    if (
        isinstance(target, cst.Attribute)
        and isinstance(target.value, cst.Name)
        and target.value.value == self_name
    ):
        return target.attr.value
    return None


def _init_logic(
    init: cst.FunctionDef, scope: FacadeScope, attrs: Mapping[str, int]
) -> tuple[tuple[str, ...], tuple[tuple[str, str, str], ...]]:
    """What ``__init__`` does besides building the canonical from its own parameters."""
    units = [u for u in _units(init) if not _is_deprecation_warning(u, scope)]
    self_name = _receiver(init, "method")
    passed: list[tuple[str, str, str]] = []
    builds = 0
    rest: list[cst.CSTNode] = []
    described: list[str] = []
    for unit in units:
        value = unit.value if isinstance(unit, (cst.Expr, cst.Assign, cst.AnnAssign)) else None
        if scope.subclass and isinstance(unit, cst.Expr) and isinstance(value, cst.Call):
            func = value.func
            if isinstance(func, cst.Attribute) and func.attr.value == "__init__":
                via = _via(func.value, "method", self_name, scope, bound=True)
                args = list(value.args)
                if via == "class":
                    first = args[0] if args else None
                    if (
                        first is None
                        or first.keyword is not None
                        or first.star
                        or not (
                            isinstance(first.value, cst.Name) and first.value.value == self_name
                        )
                    ):
                        via = None
                    args = args[1:]
                through = _passes_through(init, args) if via in ("super", "class") else None
                if through is not None:
                    passed += through
                    builds += 1
                    continue
        target = _self_store(unit, self_name)
        if target is not None and target in attrs and isinstance(value, cst.Call):
            through = _passes_through(init, value.args)
            if dotted_name(value.func, through_subscripts=True) in scope.factory_refs:
                described.append(f"builds the canonical through {_snippet(value.func)}()")
                continue
            if through is None or scope.subclass:
                described.append(
                    f"builds the canonical with arguments of its own ({_snippet(value)})"
                )
                continue
            passed += through
            builds += 1
            continue
        rest.append(unit)
    logic: list[str] = list(described)
    if rest:
        logic += _describe(init, "method", rest, scope, None, initialiser=True)
        logic = logic or ["has a body of its own"]
    if not logic and builds > 1:
        logic = ["builds more than one canonical instance"]
    return tuple(logic), tuple(passed)


# --------------------------------------------------------------------------- describing logic


def _describe(
    function: cst.FunctionDef,
    kind: str,
    units: Sequence[cst.CSTNode],
    scope: FacadeScope,
    canonical_body: cst.FunctionDef | None,
    *,
    initialiser: bool = False,
) -> list[str]:
    """What the statements ``units`` do, in words a reviewer can check against the code."""
    describer = _Describer(function, kind, scope)
    for unit in units:
        unit.visit(describer)
    reasons = describer.reasons
    if any(r.startswith("raises") for r in reasons):
        reasons = [r for r in reasons if r != "branches"]  # a guard: "raises" says it
    if initialiser:
        return list(dict.fromkeys(reasons))
    name = function.name.value
    if describer.forward_calls and not describer.returns_forward:
        if describer.returned:
            reasons.append(f"returns something else ({_snippet(describer.returned[0])})")
        elif _returns_value(canonical_body) is not False:
            reasons.append(f"returns None where the canonical's {name}() may return a value")
    elif not describer.forward_calls and describer.returned and not reasons:
        reasons.append(f"returns something else ({_snippet(describer.returned[0])})")
    if not describer.forward_calls and not reasons:
        reasons.append(f"never calls the canonical's {name}()")
    return list(dict.fromkeys(reasons))


class _Describer(cst.CSTVisitor):
    """Collects what a body does: raising, state, logging, other calls, transformed arguments."""

    def __init__(self, function: cst.FunctionDef, kind: str, scope: FacadeScope) -> None:
        self.function = function
        self.kind = kind
        self.scope = scope
        self.self_name = _receiver(function, kind)
        self.name = function.name.value
        self.reasons: list[str] = []
        self.forward_calls = 0
        self.returns_forward = False
        self.returned: list[cst.BaseExpression] = []
        self._inside_forward: list[cst.Call] = []
        self._chained: set[int] = set()

    def _add(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)

    def _own(self, node: cst.BaseExpression) -> str | None:
        while isinstance(node, (cst.Subscript, cst.Attribute)):
            if (
                isinstance(node, cst.Attribute)
                and isinstance(node.value, cst.Name)
                and node.value.value in (self.self_name, "cls")
            ):
                return node.attr.value
            node = node.value
        return None

    def _store(self, target: cst.BaseExpression) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._store(element.value)
            return
        own = self._own(target)
        if own is not None:
            self._add(f"updates state (self.{own})")

    # statements
    def visit_Raise(self, node: cst.Raise) -> bool:
        exc = node.exc
        shown = (
            dotted_name(exc.func, through_subscripts=True)
            if isinstance(exc, cst.Call)
            else (dotted_name(exc, through_subscripts=True) if exc is not None else None)
        )
        self._add(f"raises {shown}" if shown else "raises")
        return False  # building the exception is part of raising it

    def visit_Assert(self, node: cst.Assert) -> None:
        self._add("asserts")

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._store(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._store(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._store(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self._store(node.target)

    def visit_Global(self, node: cst.Global) -> None:
        self._add("updates global state")

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self._add("updates enclosing state")

    def visit_Yield(self, node: cst.Yield) -> None:
        self._add("is a generator")

    def visit_If(self, node: cst.If) -> None:
        self._add("branches")

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._add("branches")

    def visit_For(self, node: cst.For) -> None:
        self._add("loops")

    def visit_While(self, node: cst.While) -> None:
        self._add("loops")

    def visit_Try(self, node: cst.Try) -> None:
        self._add("catches exceptions")

    def visit_With(self, node: cst.With) -> None:
        shown = ", ".join(_snippet(item.item) for item in node.items)
        self._add(f"runs inside a context manager ({shown})")

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is None:
            return
        value = node.value.expression if isinstance(node.value, cst.Await) else node.value
        if self._is_forward_call(value):
            self.returns_forward = True
        else:
            self.returned.append(node.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self._add(f"defines a function ({node.name.value})")
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    # calls
    def _is_forward_call(self, node: cst.BaseExpression) -> bool:
        if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute):
            return False
        if node.func.attr.value != self.name:
            return False
        return _via(node.func.value, self.kind, self.self_name, self.scope, bound=True) is not None

    def visit_Call(self, node: cst.Call) -> bool:
        if id(node) in self._chained:
            return True  # ``a.b().c()``: the outer call already names the whole chain
        func = node.func
        for inner in _calls_in(func):
            self._chained.add(id(inner))
        text = dotted_name(func, through_subscripts=True) or ""
        short = text.rpartition(".")[2]
        if self._is_forward_call(node):
            self.forward_calls += 1
            self._check_arguments(node)
            return True
        # The arguments of a warning, a print or a log call are part of that side effect.
        if text in self.scope.warn_refs:
            self._add("warns")
            return False
        if text == "print":
            self._add("prints")
            return False
        head = text.partition(".")[0].lower()
        if short in _LOG_METHODS and ("log" in head):
            self._add("logs")
            return False
        if isinstance(func, cst.Attribute) and func.attr.value in _MUTATORS:
            own = self._own(func.value)
            if own is not None:
                self._add(f"updates state (self.{own})")
                return True
        if self._inside_forward:
            return True  # described as a transformed argument by _check_arguments
        receiver = func.value if isinstance(func, cst.Attribute) else None
        via = (
            _via(receiver, self.kind, self.self_name, self.scope, bound=True)
            if receiver is not None
            else None
        )
        if via is not None and isinstance(func, cst.Attribute):
            self._add(f"calls the canonical's {func.attr.value}() instead of {self.name}()")
        elif isinstance(func, cst.Attribute) and func.attr.value == self.name:
            self._add(
                f"calls {self.name}() on {_snippet(func.value)}, not on a canonical instance it builds"
            )
        elif text != "super" and text not in _VALUE_BUILTINS:
            # ``super()`` itself is the receiver of a call described above.
            self._add(f"calls other code ({_snippet(func)})")
        return True

    def leave_Call(self, original_node: cst.Call) -> None:
        if self._inside_forward and self._inside_forward[-1] is original_node:
            self._inside_forward.pop()

    def _check_arguments(self, call: cst.Call) -> None:
        self._inside_forward.append(call)
        args = list(call.args)
        assert isinstance(call.func, cst.Attribute)
        via = _via(call.func.value, self.kind, self.self_name, self.scope, bound=True)
        if (
            via == "class" and self.kind == "method" or self.name == "__new__" and via == "super"
        ) and args:
            args = args[1:]
        if _passes_through(self.function, args) is not None:
            return
        names = _parameter_names(self.function)
        given: set[str] = set()
        for arg in args:
            if isinstance(arg.value, cst.Name) and arg.value.value in names:
                given.add(arg.value.value)
                if arg.keyword is not None and arg.keyword.value != arg.value.value:
                    self._add(f"passes {arg.value.value} as {arg.keyword.value}")
                continue
            uses = _names_in(arg.value) & set(names)
            if uses:
                self._add(f"transforms an argument ({_snippet(arg.value)})")
                given |= uses
            else:
                self._add(f"adds an argument ({_snippet(arg.value)})")
        for missing in [n for n in names if n not in given]:
            self._add(f"does not pass {missing} on")
        if not any(
            "transforms" in r or "adds" in r or "does not pass" in r or " as " in r
            for r in self.reasons
        ):
            self._add("passes its arguments differently")


def _parameter_names(function: cst.FunctionDef) -> list[str]:
    params = function.params
    names = [p.name.value for p in [*params.posonly_params, *params.params][_skip(function) :]]
    if isinstance(params.star_arg, cst.Param):
        names.append(params.star_arg.name.value)
    names += [p.name.value for p in params.kwonly_params]
    if params.star_kwarg is not None:
        names.append(params.star_kwarg.name.value)
    return names


def _calls_in(node: cst.CSTNode) -> list[cst.Call]:
    """The calls in a call's callee (``x.strip().lower`` holds ``x.strip()``)."""
    found: list[cst.Call] = []

    class _Calls(cst.CSTVisitor):
        def visit_Call(self, call: cst.Call) -> None:
            found.append(call)

    node.visit(_Calls())
    return found


def _names_in(node: cst.CSTNode) -> set[str]:
    names: set[str] = set()

    class _Names(cst.CSTVisitor):
        def visit_Name(self, name: cst.Name) -> None:
            names.add(name.value)

    node.visit(_Names())
    return names


# --------------------------------------------------------------------------- helpers


def _functions(cls: cst.ClassDef) -> dict[str, cst.FunctionDef]:
    """The class's own methods by name; the last definition wins (setters and deleters aside)."""
    found: dict[str, cst.FunctionDef] = {}
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
    for statement in body:
        if isinstance(statement, cst.FunctionDef):
            decorators = [
                dotted_name(d.decorator, through_subscripts=True) or ""
                for d in statement.decorators
            ]
            if any(d.endswith((".setter", ".deleter")) for d in decorators):
                if statement.name.value in found:
                    setter = found[statement.name.value]
                    found[statement.name.value] = setter.with_changes(
                        decorators=[*setter.decorators, *statement.decorators]
                    )
                continue
            found[statement.name.value] = statement
    return found


def method_bodies(cls: cst.ClassDef | None) -> dict[str, cst.FunctionDef]:
    """A class's own method definitions by name (for the canonical's side of the comparison)."""
    return _functions(cls) if cls is not None else {}


def _units(function: cst.FunctionDef) -> list[cst.CSTNode]:
    """The body's statements, small statements split out, the docstring left out."""
    body = function.body
    units: list[cst.CSTNode] = []
    if isinstance(body, cst.SimpleStatementSuite):
        units = list(body.body)
    else:
        for statement in body.body:
            if isinstance(statement, cst.SimpleStatementLine):
                units.extend(statement.body)
            else:
                units.append(statement)
    if (
        units
        and isinstance(units[0], cst.Expr)
        and isinstance(units[0].value, (cst.SimpleString, cst.ConcatenatedString))
    ):
        units = units[1:]
    return [u for u in units if not isinstance(u, cst.Pass)]


def _is_deprecation_warning(unit: cst.CSTNode, scope: FacadeScope) -> bool:
    """``warnings.warn("...", DeprecationWarning, stacklevel=2)`` and its spellings."""
    if not isinstance(unit, cst.Expr) or not isinstance(unit.value, cst.Call):
        return False
    call = unit.value
    if dotted_name(call.func, through_subscripts=True) not in scope.warn_refs:
        return False
    category: cst.BaseExpression | None = None
    positional = [a for a in call.args if a.keyword is None and not a.star]
    if len(positional) >= 2:
        category = positional[1].value
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "category":
            category = arg.value
        if arg.star:
            return False
    if category is None or dotted_name(category, through_subscripts=True) not in _DEPRECATIONS:
        return False
    return all(_harmless(a.value) for a in call.args)


def _harmless(node: cst.BaseExpression) -> bool:
    """An argument whose evaluation runs no code of the project's (a literal, a name)."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Name)):
        return True
    if isinstance(node, cst.Attribute):
        return _harmless(node.value)
    if isinstance(node, cst.FormattedString):
        return all(
            _harmless(part.expression)
            for part in node.parts
            if isinstance(part, cst.FormattedStringExpression)
        )
    return False


def _spellings(bindings: Mapping[str, str], qualified: str | None) -> frozenset[str]:
    """Every dotted spelling that names ``qualified`` through the module's imports."""
    if qualified is None:
        return frozenset()
    found: set[str] = set()
    for local, bound in bindings.items():
        if bound == qualified:
            found.add(local)
        elif qualified.startswith(bound + "."):
            found.add(local + qualified[len(bound) :])
    return frozenset(found)


class _Stores(cst.CSTVisitor):
    """``self.<name>`` attributes a method assigns (to see whether the instance is replaced)."""

    def __init__(self, params: cst.Parameters) -> None:
        every = [*params.posonly_params, *params.params]
        self.self_name = every[0].name.value if every else None
        self.attrs: set[str] = set()

    def _store(self, target: cst.BaseExpression) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._store(element.value)
        elif (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == self.self_name
        ):
            self.attrs.add(target.attr.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._store(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._store(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._store(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self._store(node.target)


def _code(node: cst.CSTNode | None) -> str:
    return cst.Module(body=[]).code_for_node(node) if node is not None else ""


def _snippet(node: cst.CSTNode) -> str:
    text = " ".join(_code(node).split())
    return text if len(text) <= _SNIPPET else text[: _SNIPPET - 3] + "..."


# --------------------------------------------------------------------------- identical copies


def identical_copy(
    facade: cst.ClassDef,
    facade_names: Mapping[str, str],
    canonical: cst.ClassDef,
    canonical_names: Mapping[str, str],
) -> bool:
    """Whether ``facade`` is the canonical's class body again, meaning the same everywhere.

    A copy drops nothing when it is aliased: the same statements (docstrings, comments and
    layout aside), the same bases, and every name the body reads from its module bound to the
    same object in both modules (``*_names``: local name -> qualified name) or to none (builtins).
    """
    mine, theirs = _class_tree(facade), _class_tree(canonical)
    if mine is None or theirs is None:
        return False
    if ast.dump(_without_docstrings(mine)) != ast.dump(_without_docstrings(theirs)):
        return False
    # The class naming itself names the canonical once it is an alias.
    mine_names = {**facade_names, facade.name.value: "<the class>"}
    their_names = {**canonical_names, canonical.name.value: "<the class>"}
    return all(mine_names.get(name) == their_names.get(name) for name in _free_names(mine))


def _class_tree(cls: cst.ClassDef) -> ast.ClassDef | None:
    try:
        tree = ast.parse(textwrap.dedent(_code(cls.with_changes(leading_lines=[]))))
    except SyntaxError:
        return None
    node = tree.body[0] if tree.body else None
    if not isinstance(node, ast.ClassDef):
        return None
    node.name = "_"
    return node


def _without_docstrings(node: ast.ClassDef) -> ast.ClassDef:
    class _Strip(ast.NodeTransformer):
        def _strip(self, body: list[ast.stmt]) -> list[ast.stmt]:
            first = body[0] if body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                return body[1:] or [ast.Pass()]
            return body

        def visit_ClassDef(self, item: ast.ClassDef) -> ast.ClassDef:
            item.body = self._strip(item.body)
            self.generic_visit(item)
            return item

        def visit_FunctionDef(self, item: ast.FunctionDef) -> ast.FunctionDef:
            item.body = self._strip(item.body)
            self.generic_visit(item)
            return item

        def visit_AsyncFunctionDef(self, item: ast.AsyncFunctionDef) -> ast.AsyncFunctionDef:
            item.body = self._strip(item.body)
            self.generic_visit(item)
            return item

    return _Strip().visit(copy.deepcopy(node))  # type: ignore[no-any-return]


def _free_names(node: ast.ClassDef) -> set[str]:
    """Names the class reads that nothing inside it binds: they come from its module."""
    loaded: set[str] = set()
    bound: set[str] = set()
    for item in ast.walk(node):
        if isinstance(item, ast.Name):
            (loaded if isinstance(item.ctx, ast.Load) else bound).add(item.id)
        elif isinstance(item, ast.arg):
            bound.add(item.arg)
        elif (
            isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and item is not node
        ):
            bound.add(item.name)
    return loaded - bound


def module_names(
    module: cst.Module, module_name: str, imports: Mapping[str, str]
) -> dict[str, str]:
    """Every top-level name of ``module``: its imports, and its own definitions by qualified name."""
    names = dict(imports)
    for statement in module.body:
        if isinstance(statement, (cst.ClassDef, cst.FunctionDef)):
            names[statement.name.value] = f"{module_name}.{statement.name.value}"
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                targets = (
                    [t.target for t in small.targets]
                    if isinstance(small, cst.Assign)
                    else [small.target]
                    if isinstance(small, cst.AnnAssign)
                    else []
                )
                for target in targets:
                    if isinstance(target, cst.Name):
                        names[target.value] = f"{module_name}.{target.value}"
    return names

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

Beside it: ``verdict`` (the answers), ``calls`` (one method read as a call), ``describe`` (the
logic in words), ``bodies`` (statements, stores, warnings), ``copies`` (identical classes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import libcst as cst

from ssot_migrate.codemods.facades.bodies import (
    _functions,
    _is_deprecation_warning,
    _snippet,
    _spellings,
    _Stores,
    _units,
)
from ssot_migrate.codemods.facades.calls import (
    _kind,
    _passes_through,
    _receiver,
    _single_forward,
    _via,
)
from ssot_migrate.codemods.facades.describe import _describe
from ssot_migrate.codemods.facades.verdict import FacadeAnalysis, FacadeScope, Verdict
from ssot_migrate.interfaces import MethodSignature
from ssot_migrate.pysyntax import dotted_name


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

"""One method read as a call: through what it reaches the canonical, with which arguments."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from ssot_migrate.codemods.facades.bodies import _code
from ssot_migrate.codemods.facades.verdict import FacadeScope, Verdict
from ssot_migrate.pysyntax import dotted_name


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

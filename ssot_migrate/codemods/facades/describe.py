"""What a facade method's own logic does, in the words a reviewer reads ("transforms an argument")."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from ssot_migrate.codemods.facades.bodies import _snippet
from ssot_migrate.codemods.facades.calls import (
    _passes_through,
    _receiver,
    _returns_value,
    _skip,
    _via,
)
from ssot_migrate.codemods.facades.verdict import (
    _LOG_METHODS,
    _MUTATORS,
    _VALUE_BUILTINS,
    FacadeScope,
)
from ssot_migrate.pysyntax import dotted_name

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

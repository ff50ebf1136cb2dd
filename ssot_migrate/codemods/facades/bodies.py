"""Method bodies read: their functions, statements, deprecation warnings, stores, harmless values."""

from __future__ import annotations

from collections.abc import Mapping

import libcst as cst

from ssot_migrate.codemods.facades.verdict import _DEPRECATIONS, _SNIPPET, FacadeScope
from ssot_migrate.pysyntax import dotted_name

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


class StoreVisitor(cst.CSTVisitor):
    """Hands ``_stored`` every expression a statement assigns or deletes (``=``, augmented and
    annotated assignments, ``del``), tuple and list targets unpacked."""

    def _stored(self, target: cst.BaseExpression) -> None:
        raise NotImplementedError

    def _store(self, target: cst.BaseExpression) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._store(element.value)
        else:
            self._stored(target)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._store(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._store(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._store(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self._store(node.target)


class _Stores(StoreVisitor):
    """``self.<name>`` attributes a method assigns (to see whether the instance is replaced)."""

    def __init__(self, params: cst.Parameters) -> None:
        every = [*params.posonly_params, *params.params]
        self.self_name = every[0].name.value if every else None
        self.attrs: set[str] = set()

    def _stored(self, target: cst.BaseExpression) -> None:
        if (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == self.self_name
        ):
            self.attrs.add(target.attr.value)


def _code(node: cst.CSTNode | None) -> str:
    return cst.Module(body=[]).code_for_node(node) if node is not None else ""


def _snippet(node: cst.CSTNode) -> str:
    text = " ".join(_code(node).split())
    return text if len(text) <= _SNIPPET else text[: _SNIPPET - 3] + "..."

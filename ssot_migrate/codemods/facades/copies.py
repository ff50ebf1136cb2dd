"""Whether a facade is an identical copy of the canonical (docstrings aside), read through ``ast``."""

from __future__ import annotations

import ast
import copy
import textwrap
from collections.abc import Mapping

import libcst as cst

from ssot_migrate.codemods.facades.bodies import _code

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

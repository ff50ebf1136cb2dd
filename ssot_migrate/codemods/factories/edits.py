"""The second pass of phase 3: each construction site's call rewritten to the factory, and the
imports that makes necessary (``_Rewriter``).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import libcst as cst
from libcst.metadata import (
    Assignment,
    Scope,
)

from ssot_migrate.codemods.factories.plan import TargetPlan
from ssot_migrate.codemods.factories.prefilter import _string_words, _strings_in
from ssot_migrate.codemods.factory_info import FactoryInfo
from ssot_migrate.model import (
    Change,
    SourceFile,
)
from ssot_migrate.pysyntax import (
    alias_local_name,
    drop_aliases,
    free_name,
    import_bindings,
    insert_top_import,
    make_import_from,
    shortest_relative,
)


class _Owner(Protocol):
    """What the rewrite reads of the file's analysis (``rewrite._FileRewrite``)."""

    @property
    def file(self) -> SourceFile: ...
    @property
    def module(self) -> cst.Module: ...
    @property
    def meta_module(self) -> cst.Module: ...
    @property
    def tree(self) -> ast.Module | None: ...
    @property
    def scopes(self) -> Mapping[cst.CSTNode, Scope | None]: ...
    @property
    def changes(self) -> list[Change]: ...
    def _line(self, node: cst.CSTNode) -> tuple[int, int]: ...
    def _parent(self, node: cst.CSTNode) -> cst.CSTNode | None: ...


@dataclass
class _Site:
    call: cst.Call
    plan: TargetPlan
    kind: str  # constructor | legacy
    qname: str
    local: str = ""


@dataclass
class _ImportEdit:
    """The factory import to add after ``anchor``, and the class aliases that become unused."""

    anchor: cst.CSTNode
    statement: cst.BaseSmallStatement


class _Rewriter(cst.CSTTransformer):
    """Applies the sites' call rewrites and the import edits in one pass."""

    def __init__(self, owner: _Owner, sites: list[_Site]) -> None:
        self.owner = owner
        self.sites = {id(site.call): site for site in sites}
        self.local_names: dict[str, str] = {}
        self.adds: dict[int, list[cst.BaseSmallStatement]] = {}
        self.anchor_lines: dict[int, cst.CSTNode] = {}
        self.drops: dict[int, list[cst.ImportAlias]] = {}
        self.prepend: list[cst.BaseSmallStatement] = []
        self.rewritten_funcs: set[int] = {id(site.call.func) for site in sites}
        # The nodes the pass changes: the sites' calls and the import statements it edits.
        self.edited: list[cst.CSTNode] = [site.call for site in sites]
        self._plan_imports(sites)
        self.on_path = self._on_path()

    def _on_path(self) -> set[int] | None:
        """The nodes above an edited node: the pass descends into these only, so every other
        statement stays the very node it was (and is not printed again, see
        ``splice_statements``). ``None`` (descend everywhere) when a chain of parents does
        not reach the module."""
        found: set[int] = set()
        for node in self.edited:
            current: cst.CSTNode | None = node
            while current is not None and not isinstance(current, cst.Module):
                found.add(id(current))
                current = self.owner._parent(current)
            if current is None:
                return None
        return found

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.on_path is not None and id(node) not in self.on_path:
            if not isinstance(node, cst.Module):
                return False
        return super().on_visit(node)

    # -- import planning (on the original tree, with its metadata) -----------------------------

    def _taken_names(self) -> set[str]:
        names: set[str] = set()
        for scope in set(self.owner.scopes.values()):
            if scope is None:
                continue
            names.update(a.name for a in scope.assignments)
        return names

    def _plan_imports(self, sites: list[_Site]) -> None:
        owner = self.owner
        module_scope = owner.scopes.get(owner.meta_module)
        taken = self._taken_names()
        all_strings = (
            _string_words(owner.tree) if owner.tree is not None else _strings_in(owner.module)
        )
        for site in sites:
            factory = site.plan.factory
            binding = self._binding_for(site.call.func)
            anchor_statement = binding.node if binding is not None else None
            anchor_scope = binding.scope if binding is not None else module_scope
            key = (factory.dotted, id(anchor_scope))
            existing = self._existing_factory_binding(factory.dotted, site.call)
            if existing is not None:
                self.local_names[str(key)] = existing
            elif str(key) not in self.local_names:
                local = free_name(factory.name, taken)
                taken.add(local)
                self.local_names[str(key)] = local
                statement = self._import_statement(factory, local, anchor_statement)
                if anchor_statement is not None:
                    self.adds.setdefault(id(anchor_statement), []).append(statement)
                    self.edited.append(anchor_statement)
                else:
                    self.prepend.append(statement)
            site.local = self.local_names[str(key)]
        # Class imports whose every use was rewritten go away.
        for scope in set(owner.scopes.values()):
            if scope is None:
                continue
            for assignment in scope.assignments:
                if not isinstance(assignment, Assignment):
                    continue
                node = assignment.node
                if not isinstance(node, cst.ImportFrom):
                    continue
                statement = node
                references = assignment.references
                if not references:
                    continue
                if not all(id(ref.node) in self.rewritten_funcs for ref in references):
                    continue
                if assignment.name in all_strings:
                    continue  # ``__all__`` or a string annotation still names it
                for alias in _aliases_binding(statement, assignment.name):
                    self.drops.setdefault(id(statement), []).append(alias)
                    self.edited.append(statement)

    def _binding_for(self, func: cst.BaseExpression) -> Assignment | None:
        root: cst.BaseExpression = func
        while isinstance(root, cst.Attribute):
            root = root.value
        if not isinstance(root, cst.Name):
            return None
        scope = self.owner.scopes.get(root)
        if scope is None:
            return None
        for access in scope.accesses[root.value]:
            if access.node is root:
                for referent in access.referents:
                    if isinstance(referent, Assignment) and isinstance(
                        referent.node, (cst.Import, cst.ImportFrom)
                    ):
                        return referent
        return None

    def _existing_factory_binding(self, target: str, at: cst.CSTNode) -> str | None:
        scope = self.owner.scopes.get(at)
        while scope is not None:
            for assignment in scope.assignments:
                if isinstance(assignment, Assignment) and isinstance(
                    assignment.node, (cst.Import, cst.ImportFrom)
                ):
                    bound = import_bindings([assignment.node], self.owner.file.package)
                    if bound.get(assignment.name) == target:
                        return assignment.name
            parent = scope.parent
            scope = None if parent is scope else parent
        return None

    def _import_statement(
        self, factory: FactoryInfo, local: str, anchor: cst.CSTNode | None
    ) -> cst.ImportFrom:
        asname = None if local == factory.name else local
        relative = isinstance(anchor, cst.ImportFrom) and len(anchor.relative) > 0
        if relative:
            spelling = shortest_relative(factory.module, self.owner.file.package)
            if spelling is not None:
                level, module = spelling
                return make_import_from(module, level, [(factory.name, asname)])
        return make_import_from(factory.module, 0, [(factory.name, asname)])

    # -- the transform -----------------------------------------------------------------------

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        site = self.sites.get(id(original_node))
        if site is None:
            return updated_node
        local = site.local
        renames = dict(site.plan.renames)
        args = [
            arg.with_changes(keyword=cst.Name(renames[arg.keyword.value]))
            if arg.keyword is not None and arg.keyword.value in renames
            else arg
            for arg in updated_node.args
        ]
        old = cst.Module(body=[]).code_for_node(original_node.func)
        line, column = self.owner._line(original_node)
        self.owner.changes.append(
            Change(
                self.owner.file.path,
                line,
                column,
                site.plan.target,
                "legacy-factory-call" if site.kind == "legacy" else "factory-call",
                old,
                local,
            )
        )
        return updated_node.with_changes(func=cst.Name(local), args=args)

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        body: list[cst.BaseSmallStatement] = []
        after: list[cst.BaseSmallStatement] = []
        touched = False
        for original, updated in zip(original_node.body, updated_node.body):
            drops = self.drops.get(id(original))
            if drops is not None and isinstance(updated, cst.ImportFrom):
                mapping = _alias_mapping(original, updated)
                remaining = drop_aliases(
                    updated, [mapping[id(a)] for a in drops if id(a) in mapping]
                )
                touched = True
                if remaining is not None:
                    body.append(remaining)
            else:
                body.append(updated)
            if id(original) in self.adds:
                after.extend(self.adds[id(original)])
                touched = True
        if not touched:
            return updated_node
        lines: list[cst.BaseStatement] = []
        if body:
            lines.append(updated_node.with_changes(body=body))
            lines.extend(cst.SimpleStatementLine(body=[s]) for s in after)
        elif after:
            # The whole line went: its replacement keeps its comments and blank lines.
            lines.append(updated_node.with_changes(body=[after[0]]))
            lines.extend(cst.SimpleStatementLine(body=[s]) for s in after[1:])
        if not lines:
            return cst.RemoveFromParent()
        return cst.FlattenSentinel(lines)

    def finish(self, module: cst.Module) -> cst.Module:
        if not self.prepend:
            return module
        for statement in reversed(self.prepend):
            module = insert_top_import(module, cst.SimpleStatementLine(body=[statement]))
        return module


def _aliases_binding(statement: cst.ImportFrom, local: str) -> list[cst.ImportAlias]:
    if isinstance(statement.names, cst.ImportStar):
        return []
    return [a for a in statement.names if alias_local_name(a) == local]


def _alias_mapping(
    original: cst.BaseSmallStatement, updated: cst.ImportFrom
) -> dict[int, cst.ImportAlias]:
    """Original alias identity → the same alias in the updated statement (same positions)."""
    if not isinstance(original, cst.ImportFrom):
        return {}
    if isinstance(original.names, cst.ImportStar) or isinstance(updated.names, cst.ImportStar):
        return {}
    return {id(a): b for a, b in zip(original.names, updated.names)}

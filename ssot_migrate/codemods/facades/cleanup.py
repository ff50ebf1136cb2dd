"""Imports a rewrite left unused, found and dropped (only those the rewritten class read)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import libcst as cst
from libcst.metadata import Access, GlobalScope, ScopeProvider

from ssot_migrate.pysyntax import alias_local_name, dotted_name, drop_aliases, is_import_line

# ---- import clean-up ----------------------------------------------------------------------------


def _names_used(node: cst.CSTNode) -> set[str]:
    collector = _UsedNames()
    node.visit(collector)
    return collector.names


class _UsedNames(cst.CSTVisitor):
    """Every Name a piece of code loads, plus identifier words of its strings."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        word = ""
        for ch in node.value:
            if ch.isalnum() or ch == "_":
                word += ch
            else:
                if word:
                    self.names.add(word)
                word = ""
        if word:
            self.names.add(word)


def _imports_read_in(module: cst.Module, cls: cst.ClassDef) -> set[str]:
    """Names of ``module``'s top-level imports that code inside ``cls`` reads (scope analysis).

    Only these may become unused by rewriting the class; a parameter or local of the class
    that happens to share an import's name says nothing about the import.
    """
    inside: set[int] = set()

    class _Ids(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            inside.add(id(node))
            return True

    cls.visit(_Ids())
    scopes = cst.MetadataWrapper(module, unsafe_skip_copy=True).resolve(ScopeProvider)
    scope = scopes.get(module)
    if not isinstance(scope, GlobalScope):
        return set()
    read: set[str] = set()
    for assignment in scope.assignments:
        node = getattr(assignment, "node", None)
        if not isinstance(node, (cst.Import, cst.ImportFrom)):
            continue
        references: Iterable[Access] = assignment.references
        if any(id(access.node) in inside for access in references):
            read.add(assignment.name)
    return read


def _drop_unused_imports(module: cst.Module, candidates: set[str]) -> cst.Module:
    """Drop top-level ``from`` imports of ``candidates`` nothing in ``module`` uses any more."""
    used = _names_used(module)
    body: list[cst.BaseStatement] = []
    carried: Sequence[cst.EmptyLine] = ()
    for statement in module.body:
        if carried and not getattr(statement, "leading_lines", ()):
            # A removed import line's blank lines and comments stay where they were.
            statement = statement.with_changes(leading_lines=carried)
        carried = ()
        if isinstance(statement, cst.SimpleStatementLine) and is_import_line(statement):
            smalls: list[cst.BaseSmallStatement] = []
            for small in statement.body:
                if (
                    isinstance(small, cst.ImportFrom)
                    and not isinstance(small.names, cst.ImportStar)
                    and dotted_name(small.module or cst.Name("_")) != "__future__"
                ):
                    drop = [
                        a
                        for a in small.names
                        if (alias_local_name(a) or "") in candidates
                        and (alias_local_name(a) or "") not in used
                    ]
                    remaining = drop_aliases(small, drop) if drop else small
                    if remaining is not None:
                        smalls.append(remaining)
                elif isinstance(small, cst.Import):
                    keep = [
                        a
                        for a in small.names
                        if not (
                            a.asname is None
                            and (alias_local_name(a) or "") in candidates
                            and (alias_local_name(a) or "") not in used
                        )
                    ]
                    if keep:
                        if len(keep) != len(small.names):
                            keep[-1] = keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                        smalls.append(small.with_changes(names=keep))
                else:
                    smalls.append(small)
            if not smalls:
                carried = statement.leading_lines
                continue
            body.append(statement.with_changes(body=smalls))
        else:
            body.append(statement)
    return module.with_changes(body=body)

"""Everything one file's rewrite knows and has decided: the one mutable object of phase 1.

``FileRewrite`` creates a ``FileState`` per file and hands it to every step (plan, references,
strings, import edits, rendering); the steps hold no state of their own. Its lazily computed
parts (scope metadata, statement positions, statement order) are computed at most once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import BaseAssignment, ImportAssignment, MetadataWrapper, Scope, ScopeProvider

from ssot_migrate.codemods._common import AliasTable, StatementSpans, statement_spans
from ssot_migrate.codemods.imports.records import (
    Move,
    NodeChange,
    NodeNote,
    PatchCall,
    Spec,
    StatementEdit,
)
from ssot_migrate.codemods.imports.survey import ImportSite, Survey
from ssot_migrate.model import SourceFile
from ssot_migrate.pysyntax import Binding, ImportNode

# Name -> every binding of it in the file: an import's ``Binding``, or ``None`` for any other.
Census = dict[str, list[Binding | None]]


@dataclass
class FileState:
    """One file's rewrite in progress: its input, its survey, and the decisions made so far."""

    module: cst.Module
    source: bytes
    file: SourceFile
    table: AliasTable
    survey: Survey
    # ``module.Name`` paths spelled in strings elsewhere in the repository (``mock.patch``...).
    named_elsewhere: frozenset[str]
    package: str | None
    # A module that is itself an alias re-exports its names: none of them may be renamed.
    keep_all_names: bool
    sites: dict[int, ImportSite] = field(default_factory=dict)  # by id of the statement
    bindings: dict[tuple[int, str], Binding] = field(default_factory=dict)  # (statement, local)
    all_bindings: list[Binding] = field(default_factory=list)
    records: list[NodeChange] = field(default_factory=list)
    notes: list[NodeNote] = field(default_factory=list)
    node_replacements: dict[int, cst.CSTNode] = field(default_factory=dict)
    edits: dict[int, StatementEdit] = field(default_factory=dict)  # by id of the statement
    moves: dict[int, Move] = field(default_factory=dict)  # by id of the moved alias
    fast: Census | None = None  # the symtable census, when scope analysis was not needed
    census: Census = field(default_factory=dict)
    # Imports a rewritten reference is spelled through: they stay.
    reused: set[int] = field(default_factory=set)
    patches: list[PatchCall] = field(default_factory=list)
    # Owner expression -> every attribute its call patches (``patch.multiple``: many).
    object_patches: dict[int, list[PatchCall]] = field(default_factory=dict)
    chosen: set[tuple[int, Spec]] = field(default_factory=set)  # (statement, import) added once
    # (block, local, meaning) -> the statement after which that import was added.
    added_in_block: dict[tuple[int, str, str], ImportNode] = field(default_factory=dict)
    patched_paths: set[str] | None = None  # what the file's patch calls replace, made once
    _wrapper: MetadataWrapper | None = field(default=None, init=False, repr=False)
    _scopes: dict[cst.CSTNode, Scope | None] | None = field(default=None, init=False, repr=False)
    # Where each top-level statement stands in ``source``; None when unusable.
    _spans: StatementSpans | None = field(default=None, init=False, repr=False)
    _spans_known: bool = field(default=False, init=False, repr=False)
    _orders: dict[int, tuple[int, int]] = field(default_factory=dict, init=False, repr=False)

    def wrap(self) -> MetadataWrapper:
        """The metadata wrapper of the original module, made once."""
        if self._wrapper is None:
            # unsafe_skip_copy keeps node identity: every node recorded so far stays a valid key.
            self._wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
        return self._wrapper

    def scopes(self) -> dict[cst.CSTNode, Scope | None]:
        """libcst's scope of every node, resolved once (the slow part: only when needed)."""
        if self._scopes is None:
            self._scopes = dict(self.wrap().resolve(ScopeProvider))
        return self._scopes

    def spans(self) -> StatementSpans | None:
        """The position table of the top-level statements (``None`` when unusable), made once."""
        if not self._spans_known:
            self._spans = statement_spans(self.source, self.module)
            self._spans_known = True
        return self._spans

    def edit(self, statement: ImportNode) -> StatementEdit:
        """The edit of ``statement``, created empty on first use."""
        return self.edits.setdefault(id(statement), StatementEdit())

    def taken(self) -> dict[str, list[BaseAssignment]]:
        """Every name bound anywhere in the file, with its assignments."""
        taken: dict[str, list[BaseAssignment]] = {}
        for scope in {s for s in self.scopes().values() if s is not None}:
            for assignment in scope.assignments:
                taken.setdefault(assignment.name, []).append(assignment)
        return taken

    def binding_for(self, assignment: BaseAssignment) -> Binding | None:
        """The import ``Binding`` behind a scope assignment; ``None`` for any other binding."""
        if not isinstance(assignment, ImportAssignment):
            return None
        return self.bindings.get((id(assignment.node), assignment.name))

    def order(self, statement: ImportNode) -> tuple[int, int]:
        """Where ``statement`` stands in its block: (line index, index within the line)."""
        key = id(statement)
        if key not in self._orders:
            site = self.sites[key]
            line_index = 0
            if not isinstance(site.block, cst.SimpleStatementSuite):
                line_index = next(
                    (i for i, line in enumerate(site.block.body) if line is site.line), 0
                )
            small_index = next(
                (i for i, small in enumerate(site.line.body) if small is statement), 0
            )
            self._orders[key] = (line_index, small_index)
        return self._orders[key]

    def resolve_root(self, scope: Scope | None, name: str) -> list[Binding] | None:
        """The import bindings ``name`` refers to in ``scope``; ``None`` if anything else does."""
        if self.fast is not None:
            if not simple(self.fast, name):
                return None
            return [b for b in self.fast[name] if b is not None]
        if scope is None or name not in scope:
            return None
        result: list[Binding] = []
        for assignment in scope[name]:
            bound = self.binding_for(assignment)
            if bound is None:
                return None
            result.append(bound)
        return result or None


def simple(census: Census, name: str) -> bool:
    """Whether ``name`` is bound, and only by imports."""
    bound = census.get(name)
    return bool(bound) and all(b is not None for b in bound or [])

"""Step 4, edits of import statements: where an import is added, merged, split or dropped.

Imports are edited where they stand: merged into an earlier import of the canonical module in the
same block, deduplicated, never hoisted, never moved across another binding of the name. The
edits are recorded per statement (``StatementEdit``) and applied by ``apply.Apply``.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from ssot_migrate.codemods.imports.records import ModuleChange, Move, NodeChange, Spec
from ssot_migrate.codemods.imports.state import FileState
from ssot_migrate.codemods.imports.survey import Block, ImportSite
from ssot_migrate.pysyntax import (
    Binding,
    ImportNode,
    dotted_name,
    import_from_module,
    make_import,
    make_import_from,
    relative_spelling,
)


class ImportEdits:
    """The planned edits of the file's import statements."""

    def __init__(self, state: FileState) -> None:
        self.state = state

    def add_spec(self, binding: Binding, spec: Spec) -> None:
        """Add the import ``spec`` beside ``binding``'s statement, unless its block already has it."""
        edit = self.state.edit(binding.statement)
        key = (id(binding.statement), spec)
        if key in self.state.chosen:
            return
        self.state.chosen.add(key)
        site = self.state.sites[id(binding.statement)]
        local, meaning = spec.bound()
        if self._block_has(site.block, local, meaning, exclude=binding):
            return
        # Two old imports in one block may need the same new one (``from . import manager`` and
        # ``from .. import core`` both reaching ``unified``): add it once, after the first.
        block_key = (id(site.block), local, meaning)
        first = self.state.added_in_block.get(block_key)
        if first is not None and self.state.order(first) <= self.state.order(binding.statement):
            return
        self.state.added_in_block[block_key] = binding.statement
        if spec.is_from:
            merged = self._merge_into(site.block, spec.module, spec.name, spec.local, binding)
            if merged:
                return
            statement: cst.BaseSmallStatement = make_import_from(
                spec.relmodule if spec.level else spec.module,
                spec.level,
                [(spec.name, spec.local)],
            )
        else:
            statement = make_import(spec.module, spec.local)
        edit.after.append(statement)

    def _pure(self, binding: Binding, local: str, meaning: str) -> bool:
        """Whether every binding of ``local`` in ``binding``'s scope is an import of ``meaning``.

        Only then may imports of it be merged or deduplicated: a plain assignment in between
        (``X = ...``) would otherwise see the binding moved across it.
        """
        scope = self.state.scopes().get(binding.alias)
        if scope is None:
            return False
        for assignment in scope.assignments[local]:
            bound = self.state.binding_for(assignment)
            if bound is None:
                return False
            move = self.state.moves.get(id(bound.alias))
            if bound.qname != meaning and (move is None or move.mapped.new != meaning):
                return False
        return True

    def _block_has(
        self, block: Block, local: str, meaning: str, exclude: Binding | None = None
    ) -> bool:
        """Whether ``block`` already binds ``local`` to ``meaning`` by a kept, earlier import."""
        for other in self.state.all_bindings:
            if exclude is not None and other is exclude:
                continue
            if self.state.sites[id(other.statement)].block is not block:
                continue
            if exclude is not None and self.state.order(other.statement) >= self.state.order(
                exclude.statement
            ):
                continue
            other_edit = self.state.edits.get(id(other.statement))
            if other_edit is not None and any(a is other.alias for a in other_edit.drop):
                continue
            if meaning.startswith("import "):
                if other.plain and "import " + other.loaded == meaning:
                    return True
            elif other.local == local and other.qname == meaning:
                return True
        return False

    def _bound_at_top(self, site: ImportSite, local: str, meaning: str) -> bool:
        """Whether an earlier unconditional module-level import already binds ``local`` so.

        A module-level import under ``try``/``if`` that would repeat it is dropped rather than
        duplicated; imports inside functions and classes bind their own scope and stay.
        """
        if site.depth or site.block is self.state.module:
            return False
        for other in self.state.all_bindings:
            other_site = self.state.sites[id(other.statement)]
            if other_site.block is not self.state.module or other_site.top >= site.top:
                continue
            other_edit = self.state.edits.get(id(other.statement))
            if other_edit is not None and any(a is other.alias for a in other_edit.drop):
                continue
            if other.local == local and other.qname == meaning:
                return True
        return False

    def _drop_later_duplicates(self, move: Move, site: ImportSite) -> None:
        """A later import of the canonical in the same block becomes redundant: drop it.

        The rewritten legacy import binds the name earlier, which only makes it available
        sooner; with a pure import name nothing can observe the difference.
        """
        for other in self.state.all_bindings:
            if other.local != move.local or other.qname != move.mapped.new:
                continue
            if (
                id(other.alias) in self.state.moves
                or self.state.sites[id(other.statement)].block is not site.block
            ):
                continue
            if self.state.order(other.statement) <= self.state.order(move.binding.statement):
                continue
            if self._pure(move.binding, move.local, move.mapped.new):
                self.state.edit(other.statement).drop.append(other.alias)

    def _can_merge(self, move: Move) -> bool:
        """Merging moves the binding to an earlier statement: only for a pure import name."""
        return self._pure(move.binding, move.local, move.mapped.new)

    def _merge_target(self, block: Block, module: str, origin: ImportNode) -> cst.ImportFrom | None:
        """An existing ``from module import ...`` in ``block`` that new names can join."""
        for site in self.state.sites.values():
            statement = site.statement
            if site.block is not block or statement is origin:
                continue
            if not isinstance(statement, cst.ImportFrom):
                continue
            # Never sink a binding below code that may read it: earlier statements only.
            if id(origin) in self.state.sites and self.state.order(statement) >= self.state.order(
                origin
            ):
                continue
            if import_from_module(statement, self.state.package) != module:
                continue
            edit = self.state.edits.get(id(statement))
            if edit is not None and (edit.module_change is not None or edit.drop):
                continue
            return statement
        return None

    def _merge_into(
        self, block: Block, module: str, name: str, local: str | None, origin: Binding
    ) -> bool:
        """Add ``name`` to an existing ``from module import`` in the same block, if any."""
        statement = self._merge_target(block, module, origin.statement)
        if statement is None:
            return False
        alias = cst.ImportAlias(
            name=cst.Name(name),
            asname=cst.AsName(name=cst.Name(local)) if local and local != name else None,
        )
        self.state.edit(statement).append.append(alias)
        return True

    def apply_moves(self, moves: Sequence[Move]) -> None:
        """Record the edits of every ``from`` statement whose names move."""
        by_statement: dict[int, list[Move]] = {}
        for move in moves:
            by_statement.setdefault(id(move.binding.statement), []).append(move)
        produced: dict[tuple[int, str, str], bool] = {}
        for statement_id, group in by_statement.items():
            site = self.state.sites[statement_id]
            statement = site.statement
            assert isinstance(statement, cst.ImportFrom)
            edit = self.state.edit(statement)
            old_module = import_from_module(statement, self.state.package)
            names = list(statement.names) if not isinstance(statement.names, cst.ImportStar) else []
            moving = {id(m.binding.alias) for m in group}
            kept = [a for a in names if id(a) not in moving and a not in edit.drop]
            live: list[Move] = []
            for move in group:
                binding = move.binding
                self.state.records.append(
                    NodeChange(
                        binding.alias,
                        move.mapped.target.name,
                        "import",
                        binding.qname,
                        move.mapped.new,
                    )
                )
                if move.builtin:
                    edit.drop.append(binding.alias)  # the bare builtin needs no import
                    continue
                key = (id(site.block), move.local, move.mapped.new)
                if (
                    key in produced
                    or self._block_has(site.block, move.local, move.mapped.new, exclude=binding)
                    or self._bound_at_top(site, move.local, move.mapped.new)
                ) and self._pure(binding, move.local, move.mapped.new):
                    edit.drop.append(binding.alias)  # dual import: the canonical is already bound
                    continue
                produced[key] = True
                live.append(move)
                self._drop_later_duplicates(move, site)
            same_module = [m for m in live if m.new_module == old_module]
            for move in same_module:
                edit.replace[id(move.binding.alias)] = self._renamed_alias(move)
            elsewhere = [m for m in live if m.new_module != old_module]
            order: list[str] = []
            for move in elsewhere:
                if move.new_module not in order:
                    order.append(move.new_module)
            level = len(statement.relative)
            unmerged: list[str] = []
            for new_module in order:
                members = [m for m in elsewhere if m.new_module == new_module]
                if self._merge_target(site.block, new_module, statement) is None or not all(
                    self._can_merge(m) for m in members
                ):
                    unmerged.append(new_module)
                    continue
                for move in members:
                    edit.drop.append(move.binding.alias)
                    self._merge_into(
                        site.block, new_module, move.new_name, move.local, move.binding
                    )
            if not kept and not same_module and len(unmerged) == 1 and len(order) == 1:
                new_module = unmerged[0]
                rel = relative_spelling(new_module, level, self.state.package)
                edit.module_change = (
                    ModuleChange(rel, level) if rel is not None else ModuleChange(new_module, 0)
                )
                for move in elsewhere:
                    edit.replace[id(move.binding.alias)] = self._renamed_alias(move)
                continue
            for new_module in unmerged:
                members = [m for m in elsewhere if m.new_module == new_module]
                for move in members:
                    edit.drop.append(move.binding.alias)
                rel = relative_spelling(new_module, level, self.state.package)
                edit.after.append(
                    make_import_from(
                        rel if rel is not None else new_module,
                        level if rel is not None else 0,
                        [(m.new_name, m.local) for m in members],
                    )
                )

    def _renamed_alias(self, move: Move) -> cst.ImportAlias:
        alias = move.binding.alias
        asname = alias.asname
        if move.local == move.new_name:
            original = dotted_name(alias.name)
            if asname is not None and original != move.binding.local:
                asname = None
        elif asname is None:
            asname = cst.AsName(name=cst.Name(move.local))
        else:
            asname = asname.with_changes(name=cst.Name(move.local))
        return alias.with_changes(name=cst.Name(move.new_name), asname=asname)

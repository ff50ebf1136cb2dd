"""Step 2, the plan: each import resolved to what it binds and mapped through the alias table.

A ``from`` import of an alias becomes a ``Move`` (to another module, renamed when the canonical's
name differs and nothing stops it); a module import that reaches an alias through attributes is
left to the references step. Decisions that need scopes (may a name change?) are made here too.
"""

from __future__ import annotations

import re
from dataclasses import replace

import libcst as cst
from libcst.metadata import ClassScope

from ssot_migrate.codemods._common import Mapped
from ssot_migrate.codemods.imports.records import Move, NodeChange, NodeNote, Plan, loads_a_module
from ssot_migrate.codemods.imports.state import FileState
from ssot_migrate.model import NameKind
from ssot_migrate.pysyntax import Binding, build_dotted, import_from_module, relative_spelling


class Planner:
    """Which imports move, under which local name, and which chains may reach an alias."""

    def __init__(self, state: FileState) -> None:
        self.state = state

    def plan(self) -> Plan:
        """What moves and what may reach an alias, with the names the scope checks allow."""
        moves: list[Move] = []
        chain_bindings: list[Binding] = []
        for binding in self.state.all_bindings:
            if binding.is_from:
                move = self.plan_from(binding)
                if move is not None:
                    moves.append(move)
                elif self.chain_possible(binding):
                    chain_bindings.append(binding)
            else:
                mapped = self.state.table.lookup(binding.loaded)
                if mapped is not None and loads_a_module(mapped):
                    if not binding.plain:
                        self.replace_import_as(binding, mapped)
                        continue
                    chain_bindings.append(binding)
                elif self.chain_possible(binding):
                    chain_bindings.append(binding)

        for index, move in enumerate(moves):
            if (
                move.mapped.target.keep_names
                or self.state.keep_all_names
                or self.named_elsewhere(move.binding)
            ):
                continue
            existing = self.earlier_binding(move.binding, move.mapped.new)
            if existing is not None and existing.local != move.local:
                # The file already imports the canonical under its own name: reuse that name.
                moves[index] = replace(
                    move, local=existing.local, rename=existing.local != move.binding.local
                )
        renames = [m for m in moves if m.rename]
        resolve = bool(renames or chain_bindings)
        if resolve:
            decided = self.resolve_renames(renames)
            moves = [decided.get(id(m.binding.alias), m) for m in moves]
        # After the scope checks, and whether or not any rename was planned: a builtin whose
        # local name must stay (a string elsewhere names it) has no rewrite at all.
        moves = self.builtins_kept_bare(moves)
        self.state.moves = {id(m.binding.alias): m for m in moves}
        return Plan(tuple(moves), tuple(chain_bindings), resolve)

    def star_notes(self) -> None:
        """Retarget ``from alias_module import *`` of a whole-module alias; list the other stars."""
        alias_modules = self.state.table.alias_modules()
        for star in self.state.survey.stars:
            base = import_from_module(star, self.state.package)
            if base is None:
                continue
            mapped = self.state.table.lookup(base)
            if mapped is not None and loads_a_module(mapped):
                # The whole module is an alias: ``from old import *`` -> ``from new import *``.
                level = len(star.relative)
                rel = relative_spelling(mapped.new, level, self.state.package)
                module_part, level = (rel, level) if rel is not None else (mapped.new, 0)
                self.state.node_replacements[id(star)] = star.with_changes(
                    module=build_dotted(module_part) if module_part else None,
                    relative=[cst.Dot() for _ in range(level)],
                )
                self.state.records.append(
                    NodeChange(star, mapped.target.name, "import", base, mapped.new)
                )
                continue
            if base in alias_modules or mapped is not None:
                target = mapped.target.name if mapped is not None else self._target_of_module(base)
                self.state.notes.append(
                    NodeNote(
                        star,
                        target,
                        "star-import",
                        (
                            f"`from {base} import *` left as is: it may bind a legacy alias; "
                            "import the names it needs from the canonical module explicitly"
                        ),
                    )
                )

    def _target_of_module(self, module: str) -> str:
        for alias, target in self.state.table.entries.items():
            if alias.rpartition(".")[0] == module:
                return target.name
        return ""

    def named_elsewhere(self, binding: Binding) -> bool:
        """Whether a string elsewhere names this module's attribute bound by ``binding``."""
        return f"{self.state.file.module}.{binding.local}" in self.state.named_elsewhere

    def lacks(self, mapped: Mapped, node: cst.CSTNode, old_module: str) -> bool:
        """Whether ``mapped.new`` names something its module canonical does not define; if so
        the site keeps the legacy path and is listed (never an ImportError no check reports)."""
        target = mapped.target
        names = target.canonical_names
        if target.canonical_kind != NameKind.MODULE or names is None:
            return False
        head, _, name = mapped.new.rpartition(".")
        if head != target.canonical or name in names:
            return False
        old_names = dict(target.alias_names).get(mapped.alias)
        if old_names is not None and name not in old_names:
            return False  # the old module lacks it too: nothing there to keep
        self.state.notes.append(
            NodeNote(
                node,
                target.name,
                "missing-in-canonical",
                (
                    f"'{name}' stays imported from {old_module}: the canonical module "
                    f"{target.canonical} does not define it"
                ),
            )
        )
        return True

    def plan_from(self, binding: Binding) -> Move | None:
        """The move of one ``from`` import's name, or ``None`` when it stays as it is."""
        mapped = self.state.table.lookup(binding.qname)
        if mapped is None:
            return None
        if self.lacks(mapped, binding.alias, binding.qname.rpartition(".")[0]):
            return None
        new_module, _, new_name = mapped.new.rpartition(".")
        if not new_module or new_module == self.state.file.module:
            return None
        local = binding.local
        rename = False
        if new_module == "builtins":
            # ``from typing import List`` -> the bare ``list``: no import at all.
            bare = not (
                mapped.target.keep_names
                or self.state.keep_all_names
                or self.named_elsewhere(binding)
            )
            return Move(
                binding,
                mapped,
                new_module,
                new_name,
                new_name if bare else local,
                bare and new_name != local,
                builtin=True,
            )
        if binding.alias.asname is None and new_name != local:
            if mapped.target.keep_names or self.state.keep_all_names:
                local = binding.local
            elif self.named_elsewhere(binding):
                self.state.notes.append(
                    NodeNote(
                        binding.alias,
                        mapped.target.name,
                        "name-kept",
                        (
                            f"kept the local name {local} (imported as `{new_name} as {local}`): "
                            f"'{self.state.file.module}.{local}' is spelled in a string elsewhere in the "
                            "repository (a mock.patch target?), which would stop resolving"
                        ),
                    )
                )
            else:
                local, rename = new_name, True
        return Move(binding, mapped, new_module, new_name, local, rename)

    def builtins_kept_bare(self, moves: list[Move]) -> list[Move]:
        """Moves onto a builtin are renames to the bare name and nothing else (never
        ``from builtins import list``); where the bare name cannot be used, the import stays."""
        kept: list[Move] = []
        for move in moves:
            if move.builtin and not move.rename:
                keep = (
                    move.local != move.new_name
                    and move.local == move.binding.local
                    and (
                        move.mapped.target.keep_names
                        or self.state.keep_all_names
                        or self.named_elsewhere(move.binding)
                    )
                )
                self.note_builtin_kept(move.binding.alias, move.mapped, shadowed=not keep)
                continue
            kept.append(move)
        return kept

    def note_builtin_kept(self, node: cst.CSTNode, mapped: Mapped, *, shadowed: bool) -> None:
        name = mapped.target.canonical.rpartition(".")[2]
        why = (
            f"'{name}' is bound in this file, so the bare builtin would mean something else"
            if shadowed
            else (
                "the local name must stay (keep-names, a module that re-exports its names, "
                "or a string elsewhere naming it)"
            )
        )
        self.state.notes.append(
            NodeNote(
                node, mapped.target.name, "builtin-kept", f"left as is: {why}; use `{name}` by hand"
            )
        )

    def chain_possible(self, binding: Binding) -> bool:
        """Whether ``local.a.b`` reaching an alias is spelled anywhere in the file.

        Scope analysis is the expensive part; ``import django`` in a file that never writes
        ``django.utils.functional.cached_property`` cannot reach that alias through attributes.
        """
        if not self.state.table.leads_to_alias(binding.qname):
            return False
        if not binding.local.isascii():
            return True
        separator = rb"\s*\.\s*"
        for alias in self.state.table.entries:
            if not alias.startswith(binding.qname + "."):
                continue
            parts = [binding.local, *alias[len(binding.qname) + 1 :].split(".")]
            pattern = separator.join(re.escape(part.encode()) for part in parts) + rb"\b"
            if re.search(rb"\b" + pattern, self.state.source):
                return True
        # ``patch.object(local, "Name")`` names ``local.Name`` without spelling it.
        return any(
            (patch.target.owner or "").partition(".")[0] == binding.local
            for patches in self.state.object_patches.values()
            for patch in patches
        )

    def replace_import_as(self, binding: Binding, mapped: Mapped) -> None:
        """``import old.mod as m`` -> ``import new.mod as m``: the local name is kept."""
        edit = self.state.edit(binding.statement)
        alias = binding.alias
        edit.replace[id(alias)] = alias.with_changes(name=build_dotted(mapped.new))
        self.state.records.append(
            NodeChange(alias, mapped.target.name, "import", binding.loaded, mapped.new)
        )

    def resolve_renames(self, renames: list[Move]) -> dict[int, Move]:
        """Keep a rename only when every binding of the name is ours and the new name is free.

        Returns every move of ``renames`` as decided, by id of its alias.
        """
        decided = {id(m.binding.alias): m for m in renames}
        if not renames:
            return decided
        scopes = self.state.scopes()
        taken = self.state.taken()
        for key, move in decided.items():
            scope = scopes.get(move.binding.alias)
            # A class-level import is a class attribute (``self.Name``): its name is API.
            ok = scope is not None and not isinstance(scope, ClassScope)
            if scope is not None:
                for assignment in scope.assignments[move.binding.local]:
                    bound = self.state.binding_for(assignment)
                    other = decided.get(id(bound.alias)) if bound is not None else None
                    if other is None or other.local != move.local:
                        ok = False
            for assignment in taken.get(move.local, []):
                bound = self.state.binding_for(assignment)
                if bound is None or bound.qname != move.mapped.new:
                    ok = False
            if self._read_in_class_body(move.binding.local):
                ok = False
            if not ok:
                decided[key] = replace(move, rename=False, local=move.binding.local)
        # A rename only half-kept (one branch of try/except) would split the name: undo both.
        changed = True
        while changed:
            changed = False
            for key in decided:
                move = decided[key]
                if not move.rename:
                    continue
                scope = scopes.get(move.binding.alias)
                assert scope is not None
                for assignment in scope.assignments[move.binding.local]:
                    bound = self.state.binding_for(assignment)
                    other = decided.get(id(bound.alias)) if bound is not None else None
                    if other is not None and not other.rename:
                        move = replace(move, rename=False, local=move.binding.local)
                        decided[key] = move
                        changed = True
        return decided

    def _read_in_class_body(self, name: str) -> bool:
        """Whether a class body both reads and binds ``name`` (``WSM = WSM``).

        Such a read sees the module-level binding at run time, while scope analysis attributes
        it to the class attribute: renaming would leave it reading a name that no longer exists.
        """
        for scope in {s for s in self.state.scopes().values() if isinstance(s, ClassScope)}:
            if name in scope.assignments and scope.accesses[name]:
                return True
        return False

    def earlier_binding(self, binding: Binding, meaning: str) -> Binding | None:
        """A kept import earlier in ``binding``'s block that binds ``meaning`` already."""
        site = self.state.sites[id(binding.statement)]
        for other in self.state.all_bindings:
            if other.qname != meaning or other.plain:
                continue
            if self.state.sites[id(other.statement)].block is not site.block:
                continue
            if self.state.order(other.statement) < self.state.order(binding.statement):
                return other
        return None

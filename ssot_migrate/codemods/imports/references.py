"""Step 3, references: every use of a moved or aliased name resolved and rewritten.

Resolved from CPython's ``symtable`` when the names involved are bound only by module-level
imports, otherwise with libcst's ``ScopeProvider`` (shadowing, class bodies, ``global``,
conditional bindings). Chains such as ``old.mod.Name`` become the canonical's spelling.
"""

from __future__ import annotations

import symtable
import warnings
from collections.abc import Sequence

import libcst as cst
from libcst.metadata import Scope

from ssot_migrate.codemods._common import Mapped
from ssot_migrate.codemods.imports.edits import ImportEdits
from ssot_migrate.codemods.imports.plan import Planner
from ssot_migrate.codemods.imports.records import (
    Move,
    Needed,
    NodeChange,
    NodeNote,
    Spec,
    loads_a_module,
)
from ssot_migrate.codemods.imports.spelling import Spelling, users
from ssot_migrate.codemods.imports.state import FileState, simple
from ssot_migrate.codemods.imports.strings import Strings
from ssot_migrate.codemods.imports.survey import Chains
from ssot_migrate.pysyntax import Binding, build_dotted


class References:
    """The rewrite of every reference to a moved import or an aliased module."""

    def __init__(
        self,
        state: FileState,
        planner: Planner,
        import_edits: ImportEdits,
        spelling: Spelling,
        strings: Strings,
    ) -> None:
        self.state = state
        self.planner = planner
        self.import_edits = import_edits
        self.spelling = spelling
        self.strings = strings

    def rewrite_references(self, moves: Sequence[Move], chain_bindings: Sequence[Binding]) -> None:
        """Rewrite the references to renamed imports and the chains reaching an alias; then
        decide what becomes of each module import those chains went through."""
        renamed = {id(m.binding.alias): m for m in moves if m.rename}
        chain_ids = {id(b.alias) for b in chain_bindings}
        roots = {m.binding.local for m in renamed.values()} | {b.local for b in chain_bindings}
        collector = Chains(roots, self.state.survey.top_index)
        self.state.module.visit(collector)
        self.state.survey.ancestors |= collector.ancestors
        self.state.survey.subtrees |= collector.subtrees
        self.state.survey.top_of.update(collector.top_of)
        census = None if renamed else self._symbol_census()
        if census is not None and all(simple(census, root) for root in roots):
            # Every root is bound only by module-level imports and nowhere else: each of its
            # references means those imports, so scope analysis (the slow part) is not needed.
            self.state.fast = census
            self.state.census = census
            scopes: dict[cst.CSTNode, Scope | None] = {}
        else:
            scopes = self.state.scopes()
            self.state.census = {
                name: [self.state.binding_for(a) for a in assignments]
                for name, assignments in self.state.taken().items()
            }
        uses: dict[int, int] = {id(b.alias): 0 for b in chain_bindings}
        rewritten: dict[int, int] = {id(b.alias): 0 for b in chain_bindings}
        root_only: dict[int, int] = {id(b.alias): 0 for b in chain_bindings}

        def handle(
            top: cst.BaseExpression,
            parts: Sequence[cst.Name],
            scope: Scope | None,
            replace: dict[int, cst.CSTNode],
        ) -> bool:
            root = parts[0]
            bound = self.state.resolve_root(scope, root.value)
            if bound is None:
                return False
            moved = [renamed.get(id(b.alias)) for b in bound]
            if all(m is not None for m in moved):
                move = moved[0]
                assert move is not None
                replace[id(root)] = root.with_changes(value=move.local)
                self.state.records.append(
                    NodeChange(root, move.mapped.target.name, "reference", root.value, move.local)
                )
                return True
            chained = [b for b in bound if id(b.alias) in chain_ids]
            if len(chained) != len(bound):
                return False
            done = self._rewrite_chain(top, parts, chained, scope, replace)
            if done:
                for b in chained:
                    rewritten[id(b.alias)] += 1
            else:
                chain = ".".join(p.value for p in parts)
                for b in users(chained, parts):
                    uses[id(b.alias)] += 1
                    if b.plain and not (chain == b.loaded or chain.startswith(b.loaded + ".")):
                        # Needs only the root package, which ``import new.mod`` binds as well
                        # when the roots agree.
                        root_only[id(b.alias)] += 1
            return done

        for chain in collector.chains:
            top, parts = chain.top, chain.parts
            owner = collector.scope_owner.get(id(parts[0]), parts[0])
            patches = self.state.object_patches.get(id(top))
            if patches is not None:
                bound = self.state.resolve_root(scopes.get(owner), parts[0].value)
                if (
                    bound
                    and all(id(b.alias) in chain_ids for b in bound)
                    and self.strings.rewrite_object_patch(
                        top, parts, patches, bound, scopes.get(owner)
                    )
                ):
                    for b in bound:
                        rewritten[id(b.alias)] += 1
                    continue
            handle(top, parts, scopes.get(owner), self.state.node_replacements)
        self.strings.rewrite_annotation_strings(roots, handle, scopes)
        if renamed:
            self.strings.rewrite_all(renamed)

        for binding in chain_bindings:
            key = id(binding.alias)
            mapped = self.state.table.lookup(binding.loaded) if binding.plain else None
            is_module_alias = mapped is not None and loads_a_module(mapped)
            if is_module_alias and mapped is not None:
                # ``import old.mod`` becomes ``import new.mod``: in place when nothing else
                # still reads the old module through it (other uses of a shared root package
                # are served by the new import too), otherwise the new one goes beside it.
                same_root = mapped.new.split(".")[0] == binding.local
                replace = uses[key] == 0 or (same_root and uses[key] == root_only[key])
                if replace:
                    self.state.edit(binding.statement).drop.append(binding.alias)
                if replace or rewritten[key]:
                    self.import_edits.add_spec(binding, Spec(False, mapped.new))
                    self.state.records.append(
                        NodeChange(
                            binding.alias, mapped.target.name, "import", binding.loaded, mapped.new
                        )
                    )
            elif rewritten[key] and uses[key] == 0 and key not in self.state.reused:
                self.state.edit(binding.statement).drop.append(binding.alias)

    def _rewrite_chain(
        self,
        top: cst.BaseExpression,
        parts: Sequence[cst.Name],
        bound: list[Binding],
        scope: Scope | None,
        replace: dict[int, cst.CSTNode],
    ) -> bool:
        qnames = {b.qname for b in bound}
        if len(qnames) != 1 or len(parts) < 2:
            return False
        base = qnames.pop()
        binding = users(bound, parts)[0]
        chain_q = ".".join([base, *(p.value for p in parts[1:])])
        mapped = self.state.table.lookup(chain_q)
        # ``import foo`` where ``foo`` itself is a whole-module alias: the root is the alias.
        root_alias = binding.plain and mapped is not None and mapped.alias == base
        if mapped is None or (len(mapped.alias) <= len(base) and not root_alias):
            return False
        covered = len(mapped.alias.split(".")) - len(base.split(".")) + 1
        if len(parts) > covered:
            # ``old.mod.name``: only when the canonical module has ``name`` too.
            reached = self.state.table.lookup(
                ".".join([*mapped.alias.split("."), parts[covered].value])
            )
            if reached is not None and self.planner.lacks(reached, parts[covered], mapped.alias):
                return False
        node: cst.BaseExpression = top
        for _ in range(len(parts) - covered):
            assert isinstance(node, cst.Attribute)
            node = node.value
        canonical = mapped.target.canonical
        if mapped.module == "builtins":
            # ``typing.List`` -> ``list``, unless the file binds that name anywhere.
            bare = canonical.rpartition(".")[2]
            if self.state.census.get(bare):
                self.planner.note_builtin_kept(node, mapped, shadowed=True)
                return False
            old_text = ".".join(p.value for p in parts[:covered])
            replace[id(node)] = cst.Name(bare)
            self.state.records.append(
                NodeChange(node, mapped.target.name, "reference", old_text, bare)
            )
            return True
        needed = self._module_needed(binding, mapped)
        need, either = needed.module, needed.either
        if either and self._patched(mapped):
            # ``old.mod.Name`` is read at each call, so a patch of that attribute reaches it;
            # the one spelling right for both kinds (``from new import Name``) binds once.
            self._note_unproven(node, mapped, ".".join(p.value for p in parts[:covered]))
            return False
        expression = self.spelling.expression_for(binding, canonical, need, scope, either=either)
        if expression is None:
            return False
        old_text = ".".join(p.value for p in parts[:covered])
        replace[id(node)] = build_dotted(expression)
        self.state.records.append(
            NodeChange(node, mapped.target.name, "reference", old_text, expression)
        )
        return True

    def _module_needed(self, binding: Binding, mapped: Mapped) -> Needed:
        """The module an added import must load so the rewritten chain resolves, and whether
        the canonical may be a module or a symbol at this site (its kind unproven here)."""
        if binding.plain:
            loaded = self.state.table.lookup(binding.loaded)
            if loaded is not None and loaded.target is mapped.target and loads_a_module(loaded):
                return Needed(loaded.new, False)
        if mapped.target.kind_assumed:
            # Module or class, unproven here: ``from parent import Leaf`` works for either.
            return Needed(mapped.target.canonical, True)
        return Needed(mapped.module, False)

    def _patched(self, mapped: Mapped) -> bool:
        """Whether a patch call of this file replaces the alias or the canonical itself.

        (``named_elsewhere`` cannot tell ``"old.mod.Name"`` from ``"old.mod.Name.attr"``, and a
        patch of an attribute of the object reaches a ``from`` import of it all the same.)
        """
        if self.state.patched_paths is None:
            bound: dict[str, set[str]] = {}
            for binding in self.state.all_bindings:
                bound.setdefault(binding.local, set()).add(binding.qname)
            paths: set[str] = set()
            for patch in self.state.patches:
                target = patch.target
                if target.owner is None:
                    paths.add(target.string)
                    continue
                root, _, rest = target.owner.partition(".")
                for qname in bound.get(root, ()):
                    paths.add(".".join(filter(None, [qname, rest, target.string])))
            self.state.patched_paths = paths
        names = (mapped.alias, mapped.target.canonical)
        return any(n in self.state.patched_paths for n in names)

    def _note_unproven(self, node: cst.CSTNode, mapped: Mapped, old: str) -> None:
        target = mapped.target
        parent, _, leaf = target.canonical.rpartition(".")
        self.state.notes.append(
            NodeNote(
                node,
                target.name,
                "kind-unproven",
                (
                    f"`{old}` left as is: whether {target.canonical} is a module or a symbol "
                    f"could not be looked up ({target.kind_assumed}), and this site reads it "
                    f"at each call, where a patch of it reaches; `from {parent} import {leaf}` "
                    f"would bind it once. Write `import {target.canonical}` (a module) or "
                    f"`import {parent}` (a symbol) by hand"
                ),
            )
        )

    def _symbol_census(self) -> dict[str, list[Binding | None]] | None:
        """Every name bound anywhere, from CPython's ``symtable`` (fast, C): name -> bindings.

        A module-level binding made only by imports maps to those import ``Binding``s; any
        other binding (assignment, parameter, import inside a function or class, ``global``
        rebinding, ``del``) is ``None``. ``None`` overall when ``symtable`` cannot read the file.
        """
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                text = self.state.source.decode(self.state.module.encoding)
                top = symtable.symtable(text, self.state.file.path, "exec")
        except (SyntaxError, ValueError, LookupError, RecursionError, MemoryError):
            return None
        module_level: dict[str, list[Binding]] = {}
        for binding in self.state.all_bindings:
            if self.state.sites[id(binding.statement)].depth == 0:
                module_level.setdefault(binding.local, []).append(binding)
        census: dict[str, list[Binding | None]] = {}
        tables = [top]
        while tables:
            table = tables.pop()
            tables.extend(table.get_children())
            is_module = table.get_type() == "module"
            for symbol in table.get_symbols():
                if not (symbol.is_assigned() or symbol.is_parameter() or symbol.is_imported()):
                    continue
                name = symbol.get_name()
                entry = census.setdefault(name, [])
                if is_module and symbol.is_imported() and not symbol.is_assigned():
                    entry.extend(module_level.get(name) or [None])
                else:
                    entry.append(None)
        return census

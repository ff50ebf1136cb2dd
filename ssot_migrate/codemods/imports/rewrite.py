"""Steps 2-4 for one parsed file: the plan, the references (string rewrites included), the
import edits, and the splice of the touched statements into the original bytes."""

from __future__ import annotations

import re
import symtable
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import (
    BaseAssignment,
    ClassScope,
    GlobalScope,
    ImportAssignment,
    MetadataWrapper,
    PositionProvider,
    Scope,
    ScopeProvider,
)

from ssot_migrate.codemods._common import (
    AliasTable,
    Binding,
    ImportNode,
    Mapped,
    bindings_of,
    build_dotted,
    dotted_name,
    free_name,
    import_from_module,
    is_dotted_identifier,
    line_offsets,
    make_import,
    make_import_from,
    relative_spelling,
    string_body,
    top_statement_lines,
    with_string_body,
)
from ssot_migrate.codemods.imports.apply import _Apply, _Replace, _StatementEdit
from ssot_migrate.codemods.imports.survey import (
    Block,
    _Chains,
    _ImportSite,
    _Survey,
    call_arg_value,
    call_args,
)
from ssot_migrate.conventions import (
    PatchTarget,
    patch_function,
    patch_targets,
)
from ssot_migrate.model import (
    Change,
    ChangeKind,
    CodemodResult,
    NameKind,
    Note,
    NoteKind,
    SourceFile,
)

# Notes of sites left as they are, that a person must rewrite or accept: listed under "needs a
# decision". The others explain how a site was rewritten (a kept local name, a star import).
LEFT_FOR_A_DECISION = frozenset(
    {"builtin-kept", "missing-in-canonical", "kind-unproven", "patch-object"}
)
# (chain top node, its Name parts, scope of its root, replacements to record into) -> rewritten?
_Handle = Callable[
    [cst.BaseExpression, list[cst.Name], "Scope | None", dict[int, cst.CSTNode]], bool
]


# --------------------------------------------------------------------------- the plan


@dataclass
class _Move:
    """An alias of a ``from`` import that now comes from another module."""

    binding: Binding
    mapped: Mapped
    new_module: str
    new_name: str
    local: str
    rename: bool
    builtin: bool = False  # the canonical is a builtin: references use the bare name


@dataclass(frozen=True)
class _Spec:
    """An import statement to add: ``from module import name as local`` or ``import module``."""

    is_from: bool
    module: str  # absolute
    name: str = ""
    local: str | None = None  # for ``from``: the bound name; for ``import``: the ``as`` name
    level: int = 0
    relmodule: str | None = None

    def bound(self) -> tuple[str, str]:
        if self.is_from:
            return (self.local or self.name, f"{self.module}.{self.name}")
        if self.local:
            return (self.local, self.module)
        return (self.module.split(".")[0], "import " + self.module)


class _FileRewrite:
    """The rewrite of one parsed file: survey, plan, resolve references, apply."""

    def __init__(
        self,
        module: cst.Module,
        source: bytes,
        file: SourceFile,
        table: AliasTable,
        strings: bool = True,
        named_elsewhere: frozenset[str] = frozenset(),
    ) -> None:
        self.module = module
        self.named_elsewhere = named_elsewhere
        self.source = source
        self.file = file
        self.table = table
        self.package = file.package
        self.keep_all_names = file.module is not None and file.module in table.alias_modules()
        self.survey = _Survey(table.needles(), strings)
        self.sites: dict[int, _ImportSite] = {}
        self.bindings: dict[tuple[int, str], Binding] = {}
        self.all_bindings: list[Binding] = []
        self.records: list[tuple[cst.CSTNode, str, ChangeKind, str, str]] = []
        self.notes: list[tuple[cst.CSTNode, str, NoteKind, str]] = []
        self.node_replacements: dict[int, cst.CSTNode] = {}
        self.edits: dict[int, _StatementEdit] = {}
        self._wrapper: MetadataWrapper | None = None
        self._scopes: dict[cst.CSTNode, Scope | None] | None = None
        self._starts: list[int] | None = None  # [] once computed and unusable
        self._moves: dict[int, _Move] = {}
        self._fast: dict[str, list[Binding | None]] | None = None  # symtable census, if used
        self._census: dict[str, list[Binding | None]] = {}
        self._orders: dict[int, tuple[int, int]] = {}
        self._reused: set[int] = set()  # imports a rewritten reference is spelled through
        self._patches: list[tuple[cst.Call, PatchTarget]] = []
        # Owner expression -> its call and every attribute it patches (``patch.multiple``: many).
        self._object_patches: dict[int, tuple[cst.Call, list[PatchTarget]]] = {}
        self._patched_paths: set[str] | None = None

    # ----------------------------------------------------------------- entry point

    def run(self) -> CodemodResult:
        self.survey.walk(self.module)
        for site in self.survey.imports:
            self.sites[id(site.statement)] = site
            for binding in bindings_of(site.statement, self.package):
                self.bindings[(id(site.statement), binding.local)] = binding
                self.all_bindings.append(binding)
        self._star_notes()
        self._patches = self._patch_targets()
        # Owner expressions of ``patch.object(owner, "Name")``, by node: references to rewrite.
        for call, target in self._patches:
            if target.owner_arg is not None:
                owner = id(call_arg_value(call, target.owner_arg))
                self._object_patches.setdefault(owner, (call, []))[1].append(target)

        moves: list[_Move] = []
        chain_bindings: list[Binding] = []
        for binding in self.all_bindings:
            if binding.is_from:
                move = self._plan_from(binding)
                if move is not None:
                    moves.append(move)
                elif self._chain_possible(binding):
                    chain_bindings.append(binding)
            else:
                mapped = self.table.lookup(binding.loaded)
                if mapped is not None and _loads_a_module(mapped):
                    if not binding.plain:
                        self._replace_import_as(binding, mapped)
                        continue
                    chain_bindings.append(binding)
                elif self._chain_possible(binding):
                    chain_bindings.append(binding)

        for move in moves:
            if (
                move.mapped.target.keep_names
                or self.keep_all_names
                or self._named_elsewhere(move.binding)
            ):
                continue
            existing = self._earlier_binding(move.binding, move.mapped.new)
            if existing is not None and existing.local != move.local:
                # The file already imports the canonical under its own name: reuse that name.
                move.local = existing.local
                move.rename = existing.local != move.binding.local
        renames = [m for m in moves if m.rename]
        self._moves = {id(m.binding.alias): m for m in moves}
        if renames or chain_bindings:
            self._resolve_renames(renames)
        # After the scope checks, and whether or not any rename was planned: a builtin whose
        # local name must stay (a string elsewhere names it) has no rewrite at all.
        moves = self._builtins_kept_bare(moves)
        self._moves = {id(m.binding.alias): m for m in moves}
        if renames or chain_bindings:
            self._rewrite_references(moves, chain_bindings)
        self._apply_moves(moves)
        self._rewrite_call_strings()

        if not self.records and not self.notes:
            return CodemodResult(self.source)
        positions = self._positions([r[0] for r in self.records] + [n[0] for n in self.notes])
        changes = sorted(
            (
                Change(
                    path=self.file.path,
                    line=positions[id(node)][0],
                    column=positions[id(node)][1],
                    target=target,
                    kind=kind,
                    old=old,
                    new=new,
                )
                for node, target, kind, old, new in self.records
            ),
            key=lambda c: (c.line, c.column, c.kind),
        )
        notes = tuple(
            Note(
                path=self.file.path,
                line=positions[id(node)][0],
                column=positions[id(node)][1],
                target=target,
                kind=kind,
                message=message,
                severity="needs-decision" if kind in LEFT_FOR_A_DECISION else "warning",
            )
            for node, target, kind, message in self.notes
        )
        out = self._render() if self.records else self.source
        if out == self.source:
            return CodemodResult(self.source, notes=notes)
        return CodemodResult(out, tuple(changes), notes)

    # ----------------------------------------------------------------- metadata, lazily

    def _wrap(self) -> MetadataWrapper:
        if self._wrapper is None:
            # unsafe_skip_copy keeps node identity: every node recorded so far stays a valid key.
            self._wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
        return self._wrapper

    def scopes(self) -> dict[cst.CSTNode, Scope | None]:
        if self._scopes is None:
            self._scopes = dict(self._wrap().resolve(ScopeProvider))
        return self._scopes

    def _positions(self, nodes: list[cst.CSTNode]) -> dict[int, tuple[int, int]]:
        """``(line, column)`` of each node in the original file, both 1-based (``model``'s rule).

        Position metadata costs a full code-generation pass over the module; instead each
        top-level statement holding a node is measured alone and shifted by the line where it
        starts (read from ``ast``, which is fast). Anything unusual falls back to the full pass.
        """
        starts = self._top_starts()
        by_top: dict[int, list[cst.CSTNode]] = {}
        for node in nodes:
            top = self.survey.top_of.get(id(node), -1)
            if top < 0:
                starts = None
                break
            by_top.setdefault(top, []).append(node)
        if starts is None:
            full = self._wrap().resolve(PositionProvider)
            return {id(n): (full[n].start.line, full[n].start.column + 1) for n in nodes}
        result: dict[int, tuple[int, int]] = {}
        for top, members in by_top.items():
            alone = self.module.with_changes(header=(), body=(self.module.body[top],), footer=())
            measured = MetadataWrapper(alone, unsafe_skip_copy=True).resolve(PositionProvider)
            for node in members:
                start = measured[node].start
                result[id(node)] = (start.line + starts[top] - 1, start.column + 1)
        return result

    def _render(self) -> bytes:
        """The new file: only the touched top-level statements are regenerated and spliced in.

        Code generation of a whole large module costs about as much as parsing it; every
        untouched statement keeps its original bytes instead. Each splice is checked (the
        statement regenerated unchanged must equal the bytes it replaces) and any surprise
        falls back to generating the whole module.
        """
        starts = self._top_starts()
        if starts is None or not self.module.has_trailing_newline:
            return self.module.visit(self._apply()).bytes
        marked = self.survey.ancestors | self.survey.subtrees | set(self.node_replacements)
        encoding = "utf-8" if self.module.encoding == "utf-8-sig" else self.module.encoding
        offsets = line_offsets(self.source)
        pieces: list[bytes] = []
        position = 0
        for index, statement in enumerate(self.module.body):
            if id(statement) not in marked:
                continue
            alone = self.module.with_changes(header=(), body=(statement,), footer=())
            old = alone.code.encode(encoding)
            line = starts[index]
            if not 1 <= line <= len(offsets):
                return self.module.visit(self._apply()).bytes
            start = offsets[line - 1]
            if start < position or self.source[start : start + len(old)] != old:
                return self.module.visit(self._apply()).bytes
            rewritten = alone.visit(self._apply())
            # A module with no statement left still prints a newline: nothing is meant.
            if rewritten.body:
                new = rewritten.code.encode(encoding)
            else:  # an empty module still prints a newline; keep only the comments it held
                new = "".join(
                    cst.Module(body=[], header=[line]).code for line in rewritten.footer
                ).encode(encoding)
            pieces.append(self.source[position:start])
            pieces.append(new)
            position = start + len(old)
        pieces.append(self.source[position:])
        return b"".join(pieces)

    def _apply(self) -> _Apply:
        return _Apply(
            self.node_replacements, self.edits, self.survey.ancestors, self.survey.subtrees
        )

    def _top_starts(self) -> list[int] | None:
        """The first line (leading comments included) of every top-level statement."""
        if self._starts is None:
            self._starts = top_statement_lines(self.source, self.module) or []
        return self._starts or None

    # ----------------------------------------------------------------- planning imports

    def _star_notes(self) -> None:
        alias_modules = self.table.alias_modules()
        for star in self.survey.stars:
            base = import_from_module(star, self.package)
            if base is None:
                continue
            mapped = self.table.lookup(base)
            if mapped is not None and _loads_a_module(mapped):
                # The whole module is an alias: ``from old import *`` -> ``from new import *``.
                level = len(star.relative)
                rel = relative_spelling(mapped.new, level, self.package)
                module_part, level = (rel, level) if rel is not None else (mapped.new, 0)
                self.node_replacements[id(star)] = star.with_changes(
                    module=build_dotted(module_part) if module_part else None,
                    relative=[cst.Dot() for _ in range(level)],
                )
                self.records.append((star, mapped.target.name, "import", base, mapped.new))
                continue
            if base in alias_modules or mapped is not None:
                target = mapped.target.name if mapped is not None else self._target_of_module(base)
                self.notes.append(
                    (
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
        for alias, target in self.table.entries.items():
            if alias.rpartition(".")[0] == module:
                return target.name
        return ""

    def _named_elsewhere(self, binding: Binding) -> bool:
        """Whether a string elsewhere names this module's attribute bound by ``binding``."""
        return f"{self.file.module}.{binding.local}" in self.named_elsewhere

    def _lacks(self, mapped: Mapped, node: cst.CSTNode, old_module: str) -> bool:
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
        self.notes.append(
            (
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

    def _plan_from(self, binding: Binding) -> _Move | None:
        mapped = self.table.lookup(binding.qname)
        if mapped is None:
            return None
        if self._lacks(mapped, binding.alias, binding.qname.rpartition(".")[0]):
            return None
        new_module, _, new_name = mapped.new.rpartition(".")
        if not new_module or new_module == self.file.module:
            return None
        local = binding.local
        rename = False
        if new_module == "builtins":
            # ``from typing import List`` -> the bare ``list``: no import at all.
            bare = not (
                mapped.target.keep_names or self.keep_all_names or self._named_elsewhere(binding)
            )
            return _Move(
                binding,
                mapped,
                new_module,
                new_name,
                new_name if bare else local,
                bare and new_name != local,
                builtin=True,
            )
        if binding.alias.asname is None and new_name != local:
            if mapped.target.keep_names or self.keep_all_names:
                local = binding.local
            elif self._named_elsewhere(binding):
                self.notes.append(
                    (
                        binding.alias,
                        mapped.target.name,
                        "name-kept",
                        (
                            f"kept the local name {local} (imported as `{new_name} as {local}`): "
                            f"'{self.file.module}.{local}' is spelled in a string elsewhere in the "
                            "repository (a mock.patch target?), which would stop resolving"
                        ),
                    )
                )
            else:
                local, rename = new_name, True
        return _Move(binding, mapped, new_module, new_name, local, rename)

    def _builtins_kept_bare(self, moves: list[_Move]) -> list[_Move]:
        """Moves onto a builtin are renames to the bare name and nothing else (never
        ``from builtins import list``); where the bare name cannot be used, the import stays."""
        kept: list[_Move] = []
        for move in moves:
            if move.builtin and not move.rename:
                keep = (
                    move.local != move.new_name
                    and move.local == move.binding.local
                    and (
                        move.mapped.target.keep_names
                        or self.keep_all_names
                        or self._named_elsewhere(move.binding)
                    )
                )
                self._note_builtin_kept(move.binding.alias, move.mapped, shadowed=not keep)
                continue
            kept.append(move)
        return kept

    def _note_builtin_kept(self, node: cst.CSTNode, mapped: Mapped, *, shadowed: bool) -> None:
        name = mapped.target.canonical.rpartition(".")[2]
        why = (
            f"'{name}' is bound in this file, so the bare builtin would mean something else"
            if shadowed
            else (
                "the local name must stay (keep-names, a module that re-exports its names, "
                "or a string elsewhere naming it)"
            )
        )
        self.notes.append(
            (node, mapped.target.name, "builtin-kept", f"left as is: {why}; use `{name}` by hand")
        )

    def _chain_possible(self, binding: Binding) -> bool:
        """Whether ``local.a.b`` reaching an alias is spelled anywhere in the file.

        Scope analysis is the expensive part; ``import django`` in a file that never writes
        ``django.utils.functional.cached_property`` cannot reach that alias through attributes.
        """
        if not self.table.leads_to_alias(binding.qname):
            return False
        if not binding.local.isascii():
            return True
        separator = rb"\s*\.\s*"
        for alias in self.table.entries:
            if not alias.startswith(binding.qname + "."):
                continue
            parts = [binding.local, *alias[len(binding.qname) + 1 :].split(".")]
            pattern = separator.join(re.escape(part.encode()) for part in parts) + rb"\b"
            if re.search(rb"\b" + pattern, self.source):
                return True
        # ``patch.object(local, "Name")`` names ``local.Name`` without spelling it.
        return any(
            (target.owner or "").partition(".")[0] == binding.local
            for _, targets in self._object_patches.values()
            for target in targets
        )

    def _replace_import_as(self, binding: Binding, mapped: Mapped) -> None:
        edit = self._edit(binding.statement)
        alias = binding.alias
        edit.replace[id(alias)] = alias.with_changes(name=build_dotted(mapped.new))
        self.records.append((alias, mapped.target.name, "import", binding.loaded, mapped.new))

    def _edit(self, statement: ImportNode) -> _StatementEdit:
        return self.edits.setdefault(id(statement), _StatementEdit())

    # ----------------------------------------------------------------- scope decisions

    def _taken(self) -> dict[str, list[BaseAssignment]]:
        """Every name bound anywhere in the file, with its assignments."""
        taken: dict[str, list[BaseAssignment]] = {}
        for scope in {s for s in self.scopes().values() if s is not None}:
            for assignment in scope.assignments:
                taken.setdefault(assignment.name, []).append(assignment)
        return taken

    def _binding_for(self, assignment: BaseAssignment) -> Binding | None:
        if not isinstance(assignment, ImportAssignment):
            return None
        return self.bindings.get((id(assignment.node), assignment.name))

    def _resolve_renames(self, renames: list[_Move]) -> None:
        """Keep a rename only when every binding of the name is ours and the new name is free."""
        if not renames:
            return
        scopes = self.scopes()
        taken = self._taken()
        by_binding = {id(m.binding.alias): m for m in renames}
        for move in renames:
            scope = scopes.get(move.binding.alias)
            # A class-level import is a class attribute (``self.Name``): its name is API.
            ok = scope is not None and not isinstance(scope, ClassScope)
            if scope is not None:
                for assignment in scope.assignments[move.binding.local]:
                    bound = self._binding_for(assignment)
                    other = by_binding.get(id(bound.alias)) if bound is not None else None
                    if other is None or other.local != move.local:
                        ok = False
            for assignment in taken.get(move.local, []):
                bound = self._binding_for(assignment)
                if bound is None or bound.qname != move.mapped.new:
                    ok = False
            if self._read_in_class_body(move.binding.local):
                ok = False
            if not ok:
                move.rename = False
                move.local = move.binding.local
        # A rename only half-kept (one branch of try/except) would split the name: undo both.
        changed = True
        while changed:
            changed = False
            for move in renames:
                if not move.rename:
                    continue
                scope = scopes.get(move.binding.alias)
                assert scope is not None
                for assignment in scope.assignments[move.binding.local]:
                    bound = self._binding_for(assignment)
                    other = by_binding.get(id(bound.alias)) if bound is not None else None
                    if other is not None and not other.rename:
                        move.rename = False
                        move.local = move.binding.local
                        changed = True

    def _read_in_class_body(self, name: str) -> bool:
        """Whether a class body both reads and binds ``name`` (``WSM = WSM``).

        Such a read sees the module-level binding at run time, while scope analysis attributes
        it to the class attribute: renaming would leave it reading a name that no longer exists.
        """
        for scope in {s for s in self.scopes().values() if isinstance(s, ClassScope)}:
            if name in scope.assignments and scope.accesses[name]:
                return True
        return False

    def _symbol_census(self) -> dict[str, list[Binding | None]] | None:
        """Every name bound anywhere, from CPython's ``symtable`` (fast, C): name -> bindings.

        A module-level binding made only by imports maps to those import ``Binding``s; any
        other binding (assignment, parameter, import inside a function or class, ``global``
        rebinding, ``del``) is ``None``. ``None`` overall when ``symtable`` cannot read the file.
        """
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                text = self.source.decode(self.module.encoding)
                top = symtable.symtable(text, self.file.path, "exec")
        except (SyntaxError, ValueError, LookupError, RecursionError, MemoryError):
            return None
        module_level: dict[str, list[Binding]] = {}
        for binding in self.all_bindings:
            if self.sites[id(binding.statement)].depth == 0:
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

    @staticmethod
    def _simple(census: dict[str, list[Binding | None]], name: str) -> bool:
        bound = census.get(name)
        return bool(bound) and all(b is not None for b in bound or [])

    def _resolve_root(self, scope: Scope | None, name: str) -> list[Binding] | None:
        """The import bindings ``name`` refers to in ``scope``; ``None`` if anything else does."""
        if self._fast is not None:
            if not self._simple(self._fast, name):
                return None
            return [b for b in self._fast[name] if b is not None]
        if scope is None or name not in scope:
            return None
        result: list[Binding] = []
        for assignment in scope[name]:
            bound = self._binding_for(assignment)
            if bound is None:
                return None
            result.append(bound)
        return result or None

    # ----------------------------------------------------------------- references

    def _rewrite_references(self, moves: list[_Move], chain_bindings: list[Binding]) -> None:
        renamed = {id(m.binding.alias): m for m in moves if m.rename}
        chain_ids = {id(b.alias) for b in chain_bindings}
        roots = {m.binding.local for m in renamed.values()} | {b.local for b in chain_bindings}
        collector = _Chains(roots, self.survey.top_index)
        self.module.visit(collector)
        self.survey.ancestors |= collector.ancestors
        self.survey.subtrees |= collector.subtrees
        self.survey.top_of.update(collector.top_of)
        census = None if renamed else self._symbol_census()
        if census is not None and all(self._simple(census, root) for root in roots):
            # Every root is bound only by module-level imports and nowhere else: each of its
            # references means those imports, so scope analysis (the slow part) is not needed.
            self._fast = census
            self._census = census
            scopes: dict[cst.CSTNode, Scope | None] = {}
        else:
            scopes = self.scopes()
            self._census = {
                name: [self._binding_for(a) for a in assignments]
                for name, assignments in self._taken().items()
            }
        uses: dict[int, int] = {id(b.alias): 0 for b in chain_bindings}
        rewritten: dict[int, int] = {id(b.alias): 0 for b in chain_bindings}
        root_only: dict[int, int] = {id(b.alias): 0 for b in chain_bindings}
        self._chosen: dict[tuple[int, _Spec], _Spec] = {}
        self._added_in_block: dict[tuple[int, str, str], ImportNode] = {}

        def handle(
            top: cst.BaseExpression,
            parts: list[cst.Name],
            scope: Scope | None,
            replace: dict[int, cst.CSTNode],
        ) -> bool:
            root = parts[0]
            bound = self._resolve_root(scope, root.value)
            if bound is None:
                return False
            moved = [renamed.get(id(b.alias)) for b in bound]
            if all(m is not None for m in moved):
                move = moved[0]
                assert move is not None
                replace[id(root)] = root.with_changes(value=move.local)
                self.records.append(
                    (root, move.mapped.target.name, "reference", root.value, move.local)
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
                for b in self._users(chained, parts):
                    uses[id(b.alias)] += 1
                    if b.plain and not (chain == b.loaded or chain.startswith(b.loaded + ".")):
                        # Needs only the root package, which ``import new.mod`` binds as well
                        # when the roots agree.
                        root_only[id(b.alias)] += 1
            return done

        for top, parts in collector.chains:
            owner = collector.scope_owner.get(id(parts[0]), parts[0])
            patch = self._object_patches.get(id(top))
            if patch is not None:
                bound = self._resolve_root(scopes.get(owner), parts[0].value)
                if (
                    bound
                    and all(id(b.alias) in chain_ids for b in bound)
                    and self._rewrite_object_patch(top, parts, patch, bound, scopes.get(owner))
                ):
                    for b in bound:
                        rewritten[id(b.alias)] += 1
                    continue
            handle(top, parts, scopes.get(owner), self.node_replacements)
        self._rewrite_annotation_strings(roots, handle, scopes)
        if renamed:
            self._rewrite_all(renamed)

        for binding in chain_bindings:
            key = id(binding.alias)
            mapped = self.table.lookup(binding.loaded) if binding.plain else None
            is_module_alias = mapped is not None and _loads_a_module(mapped)
            if is_module_alias and mapped is not None:
                # ``import old.mod`` becomes ``import new.mod``: in place when nothing else
                # still reads the old module through it (other uses of a shared root package
                # are served by the new import too), otherwise the new one goes beside it.
                same_root = mapped.new.split(".")[0] == binding.local
                replace = uses[key] == 0 or (same_root and uses[key] == root_only[key])
                if replace:
                    self._edit(binding.statement).drop.append(binding.alias)
                if replace or rewritten[key]:
                    self._add_spec(binding, _Spec(False, mapped.new))
                    self.records.append(
                        (binding.alias, mapped.target.name, "import", binding.loaded, mapped.new)
                    )
            elif rewritten[key] and uses[key] == 0 and key not in self._reused:
                self._edit(binding.statement).drop.append(binding.alias)

    def _users(self, bound: list[Binding], parts: list[cst.Name]) -> list[Binding]:
        """Which of the plain imports sharing a root a remaining chain actually needs."""
        chain = ".".join(p.value for p in parts)
        plain = [b for b in bound if b.plain]
        if len(plain) != len(bound) or len(bound) == 1:
            return bound
        best = [b for b in bound if chain == b.loaded or chain.startswith(b.loaded + ".")]
        if not best:
            return bound
        longest = max(len(b.loaded) for b in best)
        return [b for b in best if len(b.loaded) == longest]

    def _rewrite_chain(
        self,
        top: cst.BaseExpression,
        parts: list[cst.Name],
        bound: list[Binding],
        scope: Scope | None,
        replace: dict[int, cst.CSTNode],
    ) -> bool:
        qnames = {b.qname for b in bound}
        if len(qnames) != 1 or len(parts) < 2:
            return False
        base = qnames.pop()
        binding = self._users(bound, parts)[0]
        chain_q = ".".join([base, *(p.value for p in parts[1:])])
        mapped = self.table.lookup(chain_q)
        # ``import foo`` where ``foo`` itself is a whole-module alias: the root is the alias.
        root_alias = binding.plain and mapped is not None and mapped.alias == base
        if mapped is None or (len(mapped.alias) <= len(base) and not root_alias):
            return False
        covered = len(mapped.alias.split(".")) - len(base.split(".")) + 1
        if len(parts) > covered:
            # ``old.mod.name``: only when the canonical module has ``name`` too.
            reached = self.table.lookup(".".join([*mapped.alias.split("."), parts[covered].value]))
            if reached is not None and self._lacks(reached, parts[covered], mapped.alias):
                return False
        node: cst.BaseExpression = top
        for _ in range(len(parts) - covered):
            assert isinstance(node, cst.Attribute)
            node = node.value
        canonical = mapped.target.canonical
        if mapped.module == "builtins":
            # ``typing.List`` -> ``list``, unless the file binds that name anywhere.
            bare = canonical.rpartition(".")[2]
            if self._census.get(bare):
                self._note_builtin_kept(node, mapped, shadowed=True)
                return False
            old_text = ".".join(p.value for p in parts[:covered])
            replace[id(node)] = cst.Name(bare)
            self.records.append((node, mapped.target.name, "reference", old_text, bare))
            return True
        need, either = self._module_needed(binding, mapped)
        if either and self._patched(mapped):
            # ``old.mod.Name`` is read at each call, so a patch of that attribute reaches it;
            # the one spelling right for both kinds (``from new import Name``) binds once.
            self._note_unproven(node, mapped, ".".join(p.value for p in parts[:covered]))
            return False
        expression = self._expression_for(binding, canonical, need, scope, either=either)
        if expression is None:
            return False
        old_text = ".".join(p.value for p in parts[:covered])
        replace[id(node)] = build_dotted(expression)
        self.records.append((node, mapped.target.name, "reference", old_text, expression))
        return True

    def _module_needed(self, binding: Binding, mapped: Mapped) -> tuple[str, bool]:
        """The module an added import must load so the rewritten chain resolves, and whether
        the canonical may be a module or a symbol at this site (its kind unproven here)."""
        if binding.plain:
            loaded = self.table.lookup(binding.loaded)
            if loaded is not None and loaded.target is mapped.target and _loads_a_module(loaded):
                return loaded.new, False
        if mapped.target.kind_assumed:
            # Module or class, unproven here: ``from parent import Leaf`` works for either.
            return mapped.target.canonical, True
        return mapped.module, False

    def _patched(self, mapped: Mapped) -> bool:
        """Whether a patch call of this file replaces the alias or the canonical itself.

        (``named_elsewhere`` cannot tell ``"old.mod.Name"`` from ``"old.mod.Name.attr"``, and a
        patch of an attribute of the object reaches a ``from`` import of it all the same.)
        """
        if self._patched_paths is None:
            bound: dict[str, set[str]] = {}
            for binding in self.all_bindings:
                bound.setdefault(binding.local, set()).add(binding.qname)
            paths: set[str] = set()
            for _, target in self._patches:
                if target.owner is None:
                    paths.add(target.string)
                    continue
                root, _, rest = target.owner.partition(".")
                for qname in bound.get(root, ()):
                    paths.add(".".join(filter(None, [qname, rest, target.string])))
            self._patched_paths = paths
        names = (mapped.alias, mapped.target.canonical)
        return any(n in self._patched_paths for n in names)

    def _note_unproven(self, node: cst.CSTNode, mapped: Mapped, old: str) -> None:
        target = mapped.target
        parent, _, leaf = target.canonical.rpartition(".")
        self.notes.append(
            (
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

    def _expression_for(
        self,
        binding: Binding,
        canonical: str,
        need: str,
        scope: Scope | None,
        *,
        either: bool = False,
    ) -> str | None:
        """How to spell ``canonical`` at this site, adding an import beside ``binding``.

        ``either``: the canonical may be a module or a symbol (its kind was only assumed), so
        only a spelling right for both is written: ``from parent import Leaf``, or an import
        the file already has that reaches it.
        """
        # An existing import that already reaches it; it must then stay, even when it is the
        # very import being rewritten (``import logging``: ``logging.warn`` -> ``logging.warning``).
        for other in self.all_bindings:
            if other.plain and (other.loaded == need or other.loaded.startswith(need + ".")):
                if self._visible(other, scope) and canonical.startswith(other.local):
                    self._reused.add(id(other.alias))
                    return canonical
            elif not other.plain and other.qname == need and canonical.startswith(need):
                if self._visible(other, scope):
                    self._reused.add(id(other.alias))
                    return other.local + canonical[len(need) :]
            elif (
                not other.plain
                and other.qname == canonical
                and other.is_from
                and self._visible(other, scope)
            ):
                self._reused.add(id(other.alias))
                return other.local
            elif (
                either and not other.plain and (moved := self._moved_local(other, canonical, scope))
            ):
                self._reused.add(id(other.alias))
                return moved + canonical[len(need) :]
        if not canonical.startswith(need) and not (
            binding.plain and need.startswith(canonical + ".")
        ):
            return None
        spec: _Spec
        if binding.plain and not either:
            root = need.split(".")[0]
            if root != binding.local and self._name_taken(root, "import " + need):
                return None
            spec = _Spec(False, need)
            self._add_spec(binding, spec)
            return canonical
        last = need.rpartition(".")[2]
        local = self._choose(last, need, binding)
        parent = need.rpartition(".")[0]
        if (binding.is_from or either) and parent:
            name = need.rpartition(".")[2]
            level = (
                len(binding.statement.relative)
                if isinstance(binding.statement, cst.ImportFrom)
                else 0
            )
            rel = relative_spelling(parent, level, self.package)
            if rel is None:
                level = 0
            spec = _Spec(True, parent, name, local, level, rel if rel is not None else parent)
        else:
            spec = _Spec(False, need, local=local)
        self._add_spec(binding, spec)
        return local + canonical[len(need) :]

    def _moved_local(self, other: Binding, canonical: str, scope: Scope | None) -> str | None:
        """The name ``other`` binds once this rewrite moves it onto ``canonical`` (its own, or
        the canonical's when the move renames it), when it is visible at the site: that name
        then already means the canonical, and a second identical import would repeat it."""
        move = self._moves.get(id(other.alias))
        if (
            move is None
            or move.builtin
            or move.mapped.new != canonical
            or not self._visible(other, scope)
        ):
            return None
        return move.local

    def _visible(self, other: Binding, scope: Scope | None) -> bool:
        if scope is None and self._fast is None:
            return False
        found = self._resolve_root(scope, other.local)
        return (
            found is not None
            and all(b.qname == other.qname for b in found)
            and any(b is other or b.loaded == other.loaded for b in found)
        )

    def _name_taken(self, name: str, meaning: str) -> bool:
        for bound in self._census.get(name, []):
            if bound is None:
                return True
            if meaning.startswith("import ") and bound.plain:
                continue
            if bound.qname != meaning:
                return True
        return False

    def _choose(self, base: str, qname: str, binding: Binding) -> str:
        taken = {n for n in self._census if self._name_taken(n, qname)}
        return free_name(base, taken)

    def _add_spec(self, binding: Binding, spec: _Spec) -> None:
        edit = self._edit(binding.statement)
        key = (id(binding.statement), spec)
        if key in self._chosen:
            return
        self._chosen[key] = spec
        site = self.sites[id(binding.statement)]
        local, meaning = spec.bound()
        if self._block_has(site.block, local, meaning, exclude=binding):
            return
        # Two old imports in one block may need the same new one (``from . import manager`` and
        # ``from .. import core`` both reaching ``unified``): add it once, after the first.
        block_key = (id(site.block), local, meaning)
        first = self._added_in_block.get(block_key)
        if first is not None and self._order(first) <= self._order(binding.statement):
            return
        self._added_in_block[block_key] = binding.statement
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

    def _order(self, statement: ImportNode) -> tuple[int, int]:
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

    def _pure(self, binding: Binding, local: str, meaning: str) -> bool:
        """Whether every binding of ``local`` in ``binding``'s scope is an import of ``meaning``.

        Only then may imports of it be merged or deduplicated: a plain assignment in between
        (``X = ...``) would otherwise see the binding moved across it.
        """
        scope = self.scopes().get(binding.alias)
        if scope is None:
            return False
        for assignment in scope.assignments[local]:
            bound = self._binding_for(assignment)
            if bound is None:
                return False
            move = self._moves.get(id(bound.alias))
            if bound.qname != meaning and (move is None or move.mapped.new != meaning):
                return False
        return True

    def _earlier_binding(self, binding: Binding, meaning: str) -> Binding | None:
        """A kept import earlier in ``binding``'s block that binds ``meaning`` already."""
        site = self.sites[id(binding.statement)]
        for other in self.all_bindings:
            if other.qname != meaning or other.plain:
                continue
            if self.sites[id(other.statement)].block is not site.block:
                continue
            if self._order(other.statement) < self._order(binding.statement):
                return other
        return None

    def _block_has(
        self, block: Block, local: str, meaning: str, exclude: Binding | None = None
    ) -> bool:
        """Whether ``block`` already binds ``local`` to ``meaning`` by a kept, earlier import."""
        for other in self.all_bindings:
            if exclude is not None and other is exclude:
                continue
            if self.sites[id(other.statement)].block is not block:
                continue
            if exclude is not None and self._order(other.statement) >= self._order(
                exclude.statement
            ):
                continue
            other_edit = self.edits.get(id(other.statement))
            if other_edit is not None and any(a is other.alias for a in other_edit.drop):
                continue
            if meaning.startswith("import "):
                if other.plain and "import " + other.loaded == meaning:
                    return True
            elif other.local == local and other.qname == meaning:
                return True
        return False

    def _bound_at_top(self, site: _ImportSite, local: str, meaning: str) -> bool:
        """Whether an earlier unconditional module-level import already binds ``local`` so.

        A module-level import under ``try``/``if`` that would repeat it is dropped rather than
        duplicated; imports inside functions and classes bind their own scope and stay.
        """
        if site.depth or site.block is self.module:
            return False
        for other in self.all_bindings:
            other_site = self.sites[id(other.statement)]
            if other_site.block is not self.module or other_site.top >= site.top:
                continue
            other_edit = self.edits.get(id(other.statement))
            if other_edit is not None and any(a is other.alias for a in other_edit.drop):
                continue
            if other.local == local and other.qname == meaning:
                return True
        return False

    def _drop_later_duplicates(self, move: _Move, site: _ImportSite) -> None:
        """A later import of the canonical in the same block becomes redundant: drop it.

        The rewritten legacy import binds the name earlier, which only makes it available
        sooner; with a pure import name nothing can observe the difference.
        """
        for other in self.all_bindings:
            if other.local != move.local or other.qname != move.mapped.new:
                continue
            if (
                id(other.alias) in self._moves
                or self.sites[id(other.statement)].block is not site.block
            ):
                continue
            if self._order(other.statement) <= self._order(move.binding.statement):
                continue
            if self._pure(move.binding, move.local, move.mapped.new):
                self._edit(other.statement).drop.append(other.alias)

    def _can_merge(self, move: _Move) -> bool:
        """Merging moves the binding to an earlier statement: only for a pure import name."""
        return self._pure(move.binding, move.local, move.mapped.new)

    def _merge_target(self, block: Block, module: str, origin: ImportNode) -> cst.ImportFrom | None:
        """An existing ``from module import ...`` in ``block`` that new names can join."""
        for site in self.sites.values():
            statement = site.statement
            if site.block is not block or statement is origin:
                continue
            if not isinstance(statement, cst.ImportFrom):
                continue
            # Never sink a binding below code that may read it: earlier statements only.
            if id(origin) in self.sites and self._order(statement) >= self._order(origin):
                continue
            if import_from_module(statement, self.package) != module:
                continue
            edit = self.edits.get(id(statement))
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
        self._edit(statement).append.append(alias)
        return True

    # ----------------------------------------------------------------- strings

    def _rewrite_annotation_strings(
        self, roots: set[str], handle: _Handle, scopes: dict[cst.CSTNode, Scope | None]
    ) -> None:
        for string in self.survey.annotation_strings:
            parts = string_body(string)
            if parts is None:
                continue
            body = parts[2]
            try:
                expression = cst.parse_expression(body)
            except cst.ParserSyntaxError:
                continue
            collector = _Chains(roots)
            expression.visit(collector)
            replace: dict[int, cst.CSTNode] = {}
            before = len(self.records)
            noted = len(self.notes)
            for top, chain in collector.chains:
                handle(top, chain, scopes.get(string), replace)
            # A site inside the string is listed at the string: its nodes are not the file's.
            self.notes[noted:] = [(string, *note[1:]) for note in self.notes[noted:]]
            if not replace:
                continue
            # References found inside the string are reported once, at the string itself.
            target = self.records[before][1] if len(self.records) > before else ""
            del self.records[before:]
            new_expression = expression.visit(_Replace(replace))
            assert isinstance(new_expression, cst.BaseExpression)
            new_body = cst.Module([]).code_for_node(new_expression)
            self.node_replacements[id(string)] = with_string_body(string, new_body)
            self.records.append((string, target, "string", body, new_body))

    def _rewrite_all(self, renamed: dict[int, _Move]) -> None:
        scopes = self.scopes()
        names: dict[str, _Move] = {}
        for move in renamed.values():
            if move.rename and isinstance(scopes.get(move.binding.alias), GlobalScope):
                names[move.binding.local] = move
        for string in self.survey.all_strings:
            parts = string_body(string)
            if parts is None or parts[2] not in names:
                continue
            move = names[parts[2]]
            self.node_replacements[id(string)] = with_string_body(string, move.local)
            self.records.append((string, move.mapped.target.name, "all", parts[2], move.local))

    def _patch_targets(self) -> list[tuple[cst.Call, PatchTarget]]:
        """Every patch call with a static target, as ``conventions`` defines them (scan agrees)."""
        bound: dict[str, set[str]] = {}
        for binding in self.all_bindings:
            bound.setdefault(binding.local, set()).add(binding.qname)

        def binding_of(name: str) -> str | None:
            meanings = bound.get(name, set())
            return next(iter(meanings)) if len(meanings) == 1 else None

        found: list[tuple[cst.Call, PatchTarget]] = []
        for func, call in self.survey.patch_calls:
            function = patch_function(func, binding_of)
            if function is not None:
                found += [(call, target) for target in patch_targets(function, call_args(call))]
        return found

    def _rewrite_call_strings(self) -> None:
        for call, target in self._patches:
            if target.is_object:
                continue  # with the references: its owner is one
            string = call_arg_value(call, target.string_arg)
            if not isinstance(string, cst.SimpleString):
                continue
            parts = string_body(string)
            if parts is None or not is_dotted_identifier(parts[2]):
                continue
            mapped = self.table.lookup(parts[2])
            if mapped is None:
                continue
            self.node_replacements[id(string)] = with_string_body(string, mapped.new)
            self.records.append((string, mapped.target.name, "string", parts[2], mapped.new))

    def _rewrite_object_patch(
        self,
        top: cst.BaseExpression,
        parts: list[cst.Name],
        patch: tuple[cst.Call, list[PatchTarget]],
        bound: list[Binding],
        scope: Scope | None,
    ) -> bool:
        """``patch.object(legacy_module, "Name")`` -> ``patch.object(new_module, "New")``, and
        ``patch.multiple(legacy_module, Name=v)`` -> ``patch.multiple(new_module, New=v)``.

        The patch names ``legacy_module.Name``; once consumers read the canonical, patching the
        alias intercepts nothing. The canonical's module is imported beside the owner's import
        (or an existing import of it reused), exactly as an attribute chain is rewritten. What
        cannot be retargeted is listed (``patch-object``), never dropped in silence.
        """
        call, targets = patch
        qnames = {b.qname for b in bound}
        if len(qnames) != 1:
            return False
        owner = ".".join([qnames.pop(), *(p.value for p in parts[1:])])
        moving: list[tuple[PatchTarget, Mapped]] = []
        staying: list[str] = []
        for target in targets:
            path = f"{owner}.{target.string}"
            mapped = self.table.lookup(path)
            if mapped is None or mapped.alias != path:
                staying.append(target.string)
            else:
                moving.append((target, mapped))
        if not moving:
            return False
        old = " ".join(_code(call.with_changes(func=cst.Name("_")))[2:-1].split())
        # A module canonical (or one whose kind was assumed) is an attribute of its parent
        # package either way; a symbol one of the module defining it.
        needs = {
            mapped.new.rpartition(".")[0]
            if mapped.target.canonical_kind == NameKind.MODULE or mapped.target.kind_assumed
            else mapped.module
            for _, mapped in moving
        }
        need = needs.pop() if len(needs) == 1 else ""
        why = ""
        if staying:
            why = (
                f"it also patches {', '.join(staying)} of {owner}, which do not move: split "
                "the call by hand"
            )
        elif needs:
            why = "its attributes move to different modules: split the call by hand"
        new_names: list[str] = []
        for target, mapped in moving:
            new_name = mapped.new[len(need) + 1 :]
            new_names.append(new_name)
            value = call_arg_value(call, target.string_arg)
            if why:
                break
            if need == "builtins":
                why = (
                    f"the canonical is the builtin '{new_name}': patching `builtins` would "
                    "change it for every module; patch the name where the code under test "
                    "reads it"
                )
            elif not need:
                why = f"{mapped.new} is a top-level module, the attribute of no package"
            elif not mapped.new.startswith(need + ".") or "." in new_name:
                why = f"{mapped.new} is not an attribute of a module; patch it on its class"
            elif not target.keyword and (
                not isinstance(value, cst.SimpleString) or string_body(value) is None
            ):
                why = "the attribute name is not a plain string literal"
        if not why and len(set(new_names)) != len(new_names):
            why = "two of its attributes would get the same name"
        if not why and any(
            t.keyword
            and n != t.string
            and (dotted_name(call_arg_value(call, t.string_arg)) or "").endswith("DEFAULT")
            for (t, _), n in zip(moving, new_names, strict=True)
        ):
            # ``DEFAULT`` makes the call return the mocks in a dict keyed by those names.
            why = "a renamed attribute is patched with DEFAULT, whose mock is returned by its name"
        expression: str | None = None
        if not why:
            # The owner of an assumed-kind canonical may itself be a module or a class.
            either = any(m.target.kind_assumed for _, m in moving) and "." in need
            users = self._users(bound, parts)[0]
            expression = self._expression_for(users, need, need, scope, either=either)
            if expression is None:
                why = f"{need} cannot be imported here under its name"
        if why:
            for _, mapped in moving:
                self._note_patch_left(top, mapped, call, old, why)
            return False
        assert expression is not None
        self.node_replacements[id(top)] = build_dotted(expression)
        for (target, mapped), new_name in zip(moving, new_names, strict=True):
            if target.keyword:
                arg = call.args[target.string_arg]
                self.node_replacements[id(arg)] = arg.with_changes(keyword=cst.Name(new_name))
                was, now = f"{target.string}=", f"{new_name}="
            else:
                string = call_arg_value(call, target.string_arg)
                assert isinstance(string, cst.SimpleString)
                self.node_replacements[id(string)] = with_string_body(string, new_name)
                was, now = string.value, with_string_body(string, new_name).value
            self.records.append(
                (
                    top,
                    mapped.target.name,
                    "patch-object",
                    f"{'.'.join(p.value for p in parts)}, {was}",
                    f"{expression}, {now}",
                )
            )
        return True

    def _note_patch_left(
        self, node: cst.CSTNode, mapped: Mapped, call: cst.Call, old: str, why: str
    ) -> None:
        """A patch of the alias left as it is: it intercepts nothing once consumers read the
        canonical, so a person must retarget it."""
        function = _code(call.func)
        self.notes.append(
            (
                node,
                mapped.target.name,
                "patch-object",
                (
                    f"`{function}({old})` left as is, so it will intercept nothing once consumers "
                    f"read {mapped.new}: {why}"
                ),
            )
        )

    # ----------------------------------------------------------------- applying moves

    def _apply_moves(self, moves: list[_Move]) -> None:
        by_statement: dict[int, list[_Move]] = {}
        for move in moves:
            by_statement.setdefault(id(move.binding.statement), []).append(move)
        produced: dict[tuple[int, str, str], bool] = {}
        for statement_id, group in by_statement.items():
            site = self.sites[statement_id]
            statement = site.statement
            assert isinstance(statement, cst.ImportFrom)
            edit = self._edit(statement)
            old_module = import_from_module(statement, self.package)
            names = list(statement.names) if not isinstance(statement.names, cst.ImportStar) else []
            moving = {id(m.binding.alias) for m in group}
            kept = [a for a in names if id(a) not in moving and a not in edit.drop]
            live: list[_Move] = []
            for move in group:
                binding = move.binding
                self.records.append(
                    (
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
                rel = relative_spelling(new_module, level, self.package)
                edit.module_change = (rel, level) if rel is not None else (new_module, 0)
                for move in elsewhere:
                    edit.replace[id(move.binding.alias)] = self._renamed_alias(move)
                continue
            for new_module in unmerged:
                members = [m for m in elsewhere if m.new_module == new_module]
                for move in members:
                    edit.drop.append(move.binding.alias)
                rel = relative_spelling(new_module, level, self.package)
                edit.after.append(
                    make_import_from(
                        rel if rel is not None else new_module,
                        level if rel is not None else 0,
                        [(m.new_name, m.local) for m in members],
                    )
                )

    def _renamed_alias(self, move: _Move) -> cst.ImportAlias:
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


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _loads_a_module(mapped: Mapped) -> bool:
    """Whether an import that loads ``mapped`` (``import old.mod``, ``from old.mod import *``)
    loads a module: always for a module target, and for one whose kind was only assumed, since
    that statement itself proves the alias, and so its canonical, is a module."""
    return mapped.target.canonical_kind == NameKind.MODULE or bool(mapped.target.kind_assumed)

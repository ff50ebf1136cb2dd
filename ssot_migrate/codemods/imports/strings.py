"""References spelled inside strings: annotation strings, ``__all__`` entries, and the targets of
``mock.patch`` and its kind (``patch("old.mod.Name")``, ``patch.object(old_module, "Name")``,
``patch.multiple(old_module, Name=...)``), as ``ssot_migrate.conventions`` defines them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import libcst as cst
from libcst.metadata import GlobalScope, Scope

from ssot_migrate.codemods._common import Mapped
from ssot_migrate.codemods.imports.apply import Replace
from ssot_migrate.codemods.imports.records import (
    Move,
    NodeChange,
    NodeNote,
    PatchCall,
    PatchedAttribute,
)
from ssot_migrate.codemods.imports.spelling import Spelling, users
from ssot_migrate.codemods.imports.state import FileState
from ssot_migrate.codemods.imports.survey import Chains, call_arg_value, call_args
from ssot_migrate.conventions import patch_function, patch_targets
from ssot_migrate.model import NameKind
from ssot_migrate.pysyntax import (
    Binding,
    build_dotted,
    dotted_name,
    is_dotted_identifier,
    string_body,
    with_string_body,
)

# (chain top node, its Name parts, scope of its root, replacements to record into) -> rewritten?
Handle = Callable[
    [cst.BaseExpression, Sequence[cst.Name], "Scope | None", dict[int, cst.CSTNode]], bool
]


class Strings:
    """Rewrites of references that sit in string literals or patch calls."""

    def __init__(self, state: FileState, spelling: Spelling) -> None:
        self.state = state
        self.spelling = spelling

    def patch_targets(self) -> list[PatchCall]:
        """Every patch call with a static target, as ``conventions`` defines them (scan agrees)."""
        bound: dict[str, set[str]] = {}
        for binding in self.state.all_bindings:
            bound.setdefault(binding.local, set()).add(binding.qname)

        def binding_of(name: str) -> str | None:
            meanings = bound.get(name, set())
            return next(iter(meanings)) if len(meanings) == 1 else None

        found: list[PatchCall] = []
        for surveyed in self.state.survey.patch_calls:
            call = surveyed.call
            function = patch_function(surveyed.func, binding_of)
            if function is not None:
                found += [PatchCall(call, t) for t in patch_targets(function, call_args(call))]
        return found

    def rewrite_call_strings(self) -> None:
        """``patch("old.mod.Name")`` and the like: a dotted alias in a patch string is retargeted."""
        for patch in self.state.patches:
            call, target = patch.call, patch.target
            if target.is_object:
                continue  # with the references: its owner is one
            string = call_arg_value(call, target.string_arg)
            if not isinstance(string, cst.SimpleString):
                continue
            parts = string_body(string)
            if parts is None or not is_dotted_identifier(parts[2]):
                continue
            mapped = self.state.table.lookup(parts[2])
            if mapped is None:
                continue
            self.state.node_replacements[id(string)] = with_string_body(string, mapped.new)
            self.state.records.append(
                NodeChange(string, mapped.target.name, "string", parts[2], mapped.new)
            )

    def rewrite_object_patch(
        self,
        top: cst.BaseExpression,
        parts: Sequence[cst.Name],
        patches: list[PatchCall],
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
        call = patches[0].call  # one owner expression belongs to one call
        targets = [patch.target for patch in patches]
        qnames = {b.qname for b in bound}
        if len(qnames) != 1:
            return False
        owner = ".".join([qnames.pop(), *(p.value for p in parts[1:])])
        moving: list[PatchedAttribute] = []
        staying: list[str] = []
        for target in targets:
            path = f"{owner}.{target.string}"
            mapped = self.state.table.lookup(path)
            if mapped is None or mapped.alias != path:
                staying.append(target.string)
            else:
                moving.append(PatchedAttribute(target, mapped))
        if not moving:
            return False
        old = " ".join(code_of(call.with_changes(func=cst.Name("_")))[2:-1].split())
        # A module canonical (or one whose kind was assumed) is an attribute of its parent
        # package either way; a symbol one of the module defining it.
        needs = {
            mapped.new.rpartition(".")[0]
            if mapped.target.canonical_kind == NameKind.MODULE or mapped.target.kind_assumed
            else mapped.module
            for mapped in (m.mapped for m in moving)
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
        for moved in moving:
            target, mapped = moved.target, moved.mapped
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
            for t, n in zip((m.target for m in moving), new_names, strict=True)
        ):
            # ``DEFAULT`` makes the call return the mocks in a dict keyed by those names.
            why = "a renamed attribute is patched with DEFAULT, whose mock is returned by its name"
        expression: str | None = None
        if not why:
            # The owner of an assumed-kind canonical may itself be a module or a class.
            either = any(m.mapped.target.kind_assumed for m in moving) and "." in need
            user = users(bound, parts)[0]
            expression = self.spelling.expression_for(user, need, need, scope, either=either)
            if expression is None:
                why = f"{need} cannot be imported here under its name"
        if why:
            for moved in moving:
                self._note_patch_left(top, moved.mapped, call, old, why)
            return False
        assert expression is not None
        self.state.node_replacements[id(top)] = build_dotted(expression)
        for moved, new_name in zip(moving, new_names, strict=True):
            target, mapped = moved.target, moved.mapped
            if target.keyword:
                arg = call.args[target.string_arg]
                self.state.node_replacements[id(arg)] = arg.with_changes(keyword=cst.Name(new_name))
                was, now = f"{target.string}=", f"{new_name}="
            else:
                string = call_arg_value(call, target.string_arg)
                assert isinstance(string, cst.SimpleString)
                self.state.node_replacements[id(string)] = with_string_body(string, new_name)
                was, now = string.value, with_string_body(string, new_name).value
            self.state.records.append(
                NodeChange(
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
        function = code_of(call.func)
        self.state.notes.append(
            NodeNote(
                node,
                mapped.target.name,
                "patch-object",
                (
                    f"`{function}({old})` left as is, so it will intercept nothing once consumers "
                    f"read {mapped.new}: {why}"
                ),
            )
        )

    def rewrite_annotation_strings(
        self, roots: set[str], handle: Handle, scopes: dict[cst.CSTNode, Scope | None]
    ) -> None:
        """References inside quoted annotations (and typing's type strings) are rewritten in the
        string; each string is reported once, at the string."""
        for string in self.state.survey.annotation_strings:
            parts = string_body(string)
            if parts is None:
                continue
            body = parts[2]
            try:
                expression = cst.parse_expression(body)
            except cst.ParserSyntaxError:
                continue
            collector = Chains(roots)
            expression.visit(collector)
            swapped: dict[int, cst.CSTNode] = {}
            before = len(self.state.records)
            noted = len(self.state.notes)
            for chain in collector.chains:
                handle(chain.top, chain.parts, scopes.get(string), swapped)
            # A site inside the string is listed at the string: its nodes are not the file's.
            self.state.notes[noted:] = [
                replace(note, node=string) for note in self.state.notes[noted:]
            ]
            if not swapped:
                continue
            # References found inside the string are reported once, at the string itself.
            records = self.state.records
            target = records[before].target if len(records) > before else ""
            del self.state.records[before:]
            new_expression = expression.visit(Replace(swapped))
            assert isinstance(new_expression, cst.BaseExpression)
            new_body = cst.Module([]).code_for_node(new_expression)
            self.state.node_replacements[id(string)] = with_string_body(string, new_body)
            self.state.records.append(NodeChange(string, target, "string", body, new_body))

    def rewrite_all(self, renamed: dict[int, Move]) -> None:
        """Entries of a module-level ``__all__`` follow the names the imports are renamed to."""
        scopes = self.state.scopes()
        names: dict[str, Move] = {}
        for move in renamed.values():
            if move.rename and isinstance(scopes.get(move.binding.alias), GlobalScope):
                names[move.binding.local] = move
        for string in self.state.survey.all_strings:
            parts = string_body(string)
            if parts is None or parts[2] not in names:
                continue
            move = names[parts[2]]
            self.state.node_replacements[id(string)] = with_string_body(string, move.local)
            self.state.records.append(
                NodeChange(string, move.mapped.target.name, "all", parts[2], move.local)
            )


def code_of(node: cst.CSTNode) -> str:
    """The source of ``node`` alone."""
    return cst.Module([]).code_for_node(node)

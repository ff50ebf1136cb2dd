"""One parsed file through the steps: survey, plan, references, strings, import edits, output.

``FileRewrite`` creates the file's one ``FileState`` and the step objects that share it; ``run``
calls them in order and turns the node-located records into positioned ``Change``s and ``Note``s.
"""

from __future__ import annotations

import libcst as cst

from ssot_migrate.codemods._common import AliasTable
from ssot_migrate.codemods.imports.edits import ImportEdits
from ssot_migrate.codemods.imports.plan import Planner
from ssot_migrate.codemods.imports.references import References
from ssot_migrate.codemods.imports.render import Rendering
from ssot_migrate.codemods.imports.spelling import Spelling
from ssot_migrate.codemods.imports.state import FileState
from ssot_migrate.codemods.imports.strings import Strings
from ssot_migrate.codemods.imports.survey import Survey, call_arg_value
from ssot_migrate.model import Change, CodemodResult, Note, SourceFile
from ssot_migrate.pysyntax import bindings_of

# Notes of sites left as they are, that a person must rewrite or accept: listed under "needs a
# decision". The others explain how a site was rewritten (a kept local name, a star import).
LEFT_FOR_A_DECISION = frozenset(
    {"builtin-kept", "missing-in-canonical", "kind-unproven", "patch-object"}
)


class FileRewrite:
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
        self.state = FileState(
            module=module,
            source=source,
            file=file,
            table=table,
            survey=Survey(table.needles(), strings),
            named_elsewhere=named_elsewhere,
            package=file.package,
            keep_all_names=file.module is not None and file.module in table.alias_modules(),
        )
        self.planner = Planner(self.state)
        self.import_edits = ImportEdits(self.state)
        self.spelling = Spelling(self.state, self.import_edits)
        self.strings = Strings(self.state, self.spelling)
        self.references = References(
            self.state, self.planner, self.import_edits, self.spelling, self.strings
        )
        self.rendering = Rendering(self.state)

    def run(self) -> CodemodResult:
        """The file's result; the input bytes themselves when nothing changes."""
        state = self.state
        state.survey.walk(state.module, state.spans() if state.survey.strings else None)
        for site in state.survey.imports:
            state.sites[id(site.statement)] = site
            for binding in bindings_of(site.statement, state.package):
                state.bindings[(id(site.statement), binding.local)] = binding
                state.all_bindings.append(binding)
        self.planner.star_notes()
        state.patches = self.strings.patch_targets()
        # Owner expressions of ``patch.object(owner, "Name")``, by node: references to rewrite.
        for patch in state.patches:
            if patch.target.owner_arg is not None:
                owner = id(call_arg_value(patch.call, patch.target.owner_arg))
                state.object_patches.setdefault(owner, []).append(patch)

        plan = self.planner.plan()
        if plan.resolve_references:
            self.references.rewrite_references(plan.moves, plan.chain_bindings)
        self.import_edits.apply_moves(plan.moves)
        self.strings.rewrite_call_strings()

        if not state.records and not state.notes:
            return CodemodResult(state.source)
        positions = self.rendering.positions(
            [r.node for r in state.records] + [n.node for n in state.notes]
        )
        changes = sorted(
            (
                Change(
                    path=state.file.path,
                    line=positions[id(record.node)].line,
                    column=positions[id(record.node)].column,
                    target=record.target,
                    kind=record.kind,
                    old=record.old,
                    new=record.new,
                )
                for record in state.records
            ),
            key=lambda c: (c.line, c.column, c.kind),
        )
        notes = tuple(
            Note(
                path=state.file.path,
                line=positions[id(note.node)].line,
                column=positions[id(note.node)].column,
                target=note.target,
                kind=note.kind,
                message=note.message,
                severity="needs-decision" if note.kind in LEFT_FOR_A_DECISION else "warning",
            )
            for note in state.notes
        )
        out = self.rendering.render() if state.records else state.source
        if out == state.source:
            return CodemodResult(state.source, notes=notes)
        return CodemodResult(out, tuple(changes), notes)

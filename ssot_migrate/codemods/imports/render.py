"""Step 5, output: the touched top-level statements regenerated and spliced into the original
bytes (everything else keeps its bytes by construction), and each record's line and column.
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import CodePosition, MetadataWrapper, PositionProvider

from ssot_migrate.codemods._common import Splice
from ssot_migrate.codemods.imports.apply import Apply
from ssot_migrate.codemods.imports.state import FileState


class Rendering:
    """The new bytes of the file, and where each recorded node stands in the old ones."""

    def __init__(self, state: FileState) -> None:
        self.state = state

    def positions(self, nodes: list[cst.CSTNode]) -> dict[int, CodePosition]:
        """``(line, column)`` of each node in the original file, both 1-based (``model``'s rule).

        Position metadata costs a full code-generation pass over the module; instead each
        top-level statement holding a node is measured alone and shifted by the line where it
        starts (read from ``ast``, which is fast). Anything unusual falls back to the full pass.
        """
        spans = self.state.spans()
        starts = spans.lines if spans is not None else None
        by_top: dict[int, list[cst.CSTNode]] = {}
        for node in nodes:
            top = self.state.survey.top_of.get(id(node), -1)
            if top < 0:
                starts = None
                break
            by_top.setdefault(top, []).append(node)
        if starts is None:
            full = self.state.wrap().resolve(PositionProvider)
            return {
                id(n): CodePosition(full[n].start.line, full[n].start.column + 1) for n in nodes
            }
        result: dict[int, CodePosition] = {}
        for top, members in by_top.items():
            alone = self.state.module.with_changes(
                header=(), body=(self.state.module.body[top],), footer=()
            )
            measured = MetadataWrapper(alone, unsafe_skip_copy=True).resolve(PositionProvider)
            for node in members:
                start = measured[node].start
                result[id(node)] = CodePosition(start.line + starts[top] - 1, start.column + 1)
        return result

    def render(self) -> bytes:
        """The new file: only the touched top-level statements are regenerated and spliced in.

        Code generation of a whole large module costs about as much as parsing it; every
        untouched statement keeps its original bytes instead (``StatementSpans.splice``, the
        one splice every phase uses). Each splice is checked (the statement regenerated
        unchanged must equal the bytes it replaces) and any surprise falls back to generating
        the whole module.
        """
        module = self.state.module
        spans = self.state.spans()
        if spans is None or not module.has_trailing_newline:
            return module.visit(self._apply()).bytes
        touched = self._touched()
        if touched is None:  # something not placed: every statement the walk may enter
            marked = (
                self.state.survey.ancestors
                | self.state.survey.subtrees
                | set(self.state.node_replacements)
            )
            touched = {i for i, statement in enumerate(module.body) if id(statement) in marked}
        splices: list[Splice] = []
        for index, statement in enumerate(module.body):
            if index not in touched:
                continue
            rewritten = module.with_changes(header=(), body=(statement,), footer=()).visit(
                self._apply()
            )
            if rewritten.body:
                new = rewritten.code.encode(spans.encoding)
            else:  # an empty module still prints a newline; keep only the comments it held
                new = "".join(
                    cst.Module(body=[], header=[line]).code for line in rewritten.footer
                ).encode(spans.encoding)
            splices.append(Splice(index, index + 1, new))
        spliced = spans.splice(splices)
        return spliced if spliced is not None else module.visit(self._apply()).bytes

    def _touched(self) -> set[int] | None:
        """The top-level statements holding an edit or a replacement (by index), or ``None``
        when one of them cannot be placed.

        Every import statement is on a walked path (the survey cannot know which will change),
        but only these can print differently: regenerating the others, twice with the splice's
        check, cost more than parsing on files with many imports or with imports inside large
        classes (SymPy's ``numbers.py``: 40 statements for one changed line).
        """
        top_of = self.state.survey.top_of
        changed = [*self.state.edits, *self.state.node_replacements, *self.state.survey.subtrees]
        tops = {top_of.get(node, -1) for node in changed}
        return None if -1 in tops else tops

    def _apply(self) -> Apply:
        return Apply(
            self.state.node_replacements,
            self.state.edits,
            self.state.survey.ancestors,
            self.state.survey.subtrees,
        )

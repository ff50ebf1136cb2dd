"""Step 5, output: the touched top-level statements regenerated and spliced into the original
bytes (everything else keeps its bytes by construction), and each record's line and column.
"""

from __future__ import annotations

import libcst as cst
from libcst.metadata import CodePosition, MetadataWrapper, PositionProvider

from ssot_migrate.codemods._common import line_offsets
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
        starts = self.state.top_starts()
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
        untouched statement keeps its original bytes instead. Each splice is checked (the
        statement regenerated unchanged must equal the bytes it replaces) and any surprise
        falls back to generating the whole module.
        """
        starts = self.state.top_starts()
        if starts is None or not self.state.module.has_trailing_newline:
            return self.state.module.visit(self._apply()).bytes
        marked = (
            self.state.survey.ancestors
            | self.state.survey.subtrees
            | set(self.state.node_replacements)
        )
        encoding = (
            "utf-8" if self.state.module.encoding == "utf-8-sig" else self.state.module.encoding
        )
        offsets = line_offsets(self.state.source)
        pieces: list[bytes] = []
        position = 0
        for index, statement in enumerate(self.state.module.body):
            if id(statement) not in marked:
                continue
            alone = self.state.module.with_changes(header=(), body=(statement,), footer=())
            old = alone.code.encode(encoding)
            line = starts[index]
            if not 1 <= line <= len(offsets):
                return self.state.module.visit(self._apply()).bytes
            start = offsets[line - 1]
            if start < position or self.state.source[start : start + len(old)] != old:
                return self.state.module.visit(self._apply()).bytes
            rewritten = alone.visit(self._apply())
            # A module with no statement left still prints a newline: nothing is meant.
            if rewritten.body:
                new = rewritten.code.encode(encoding)
            else:  # an empty module still prints a newline; keep only the comments it held
                new = "".join(
                    cst.Module(body=[], header=[line]).code for line in rewritten.footer
                ).encode(encoding)
            pieces.append(self.state.source[position:start])
            pieces.append(new)
            position = start + len(old)
        pieces.append(self.state.source[position:])
        return b"".join(pieces)

    def _apply(self) -> Apply:
        return Apply(
            self.state.node_replacements,
            self.state.edits,
            self.state.survey.ancestors,
            self.state.survey.subtrees,
        )

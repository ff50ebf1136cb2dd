"""Where a node of phase 3's file stands (``NodeLines``): measured on its innermost statement,
printed alone inside its blocks' indentation, and placed in the file by that statement's ``ast``
line; the whole top-level statement is measured only where the ``ast`` cannot place it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence

import libcst as cst
from libcst.metadata import CodeRange, PositionProvider

from ssot_migrate.codemods._common import top_statement_lines

# The ``ast`` statement types each libcst compound statement parses to.
_COMPOUND: dict[type[cst.CSTNode], tuple[type[ast.stmt], ...]] = {
    cst.FunctionDef: (ast.FunctionDef, ast.AsyncFunctionDef),
    cst.ClassDef: (ast.ClassDef,),
    cst.If: (ast.If,),
    cst.For: (ast.For, ast.AsyncFor),
    cst.While: (ast.While,),
    cst.With: (ast.With, ast.AsyncWith),
    cst.Try: (ast.Try,),
    cst.TryStar: (ast.TryStar,),
    cst.Match: (ast.Match,),
}
_AST_COMPOUND = tuple(kind for kinds in _COMPOUND.values() for kind in kinds)
# Compound statements whose header (decorators, bases, parameters, test, iterable, items) is
# printed before everything else they hold: a node in the header is measured without the body.
_HEADED = (cst.FunctionDef, cst.ClassDef, cst.If, cst.For, cst.While, cst.With)


class NodeLines:
    """Line and 1-based column of the nodes of one file, as libcst's ``PositionProvider`` gives
    them, without a position pass over the whole file.

    A statement printed alone, nested in blocks with the same indentation as in the file, gives
    its nodes the columns they have in the file and lines that differ from the file's by one
    offset: the ``ast`` line of that statement (found by walking both trees' blocks in step)
    minus the line the print puts it on. Where the parent chain or the two parses disagree,
    the node's top-level statement is measured whole (the ``ast`` of top-level statements is
    what ``top_statement_lines`` reads), and the whole module when even that fails.
    """

    def __init__(
        self,
        source: bytes,
        module: cst.Module,
        tree: ast.Module | None,
        parent: Callable[[cst.CSTNode], cst.CSTNode | None],
    ) -> None:
        self.source = source
        self.module = module
        self.tree = tree
        self.parent = parent
        # Per innermost statement: its positions and the offset to the file's lines.
        self._measured: dict[
            tuple[int, bool], tuple[Mapping[cst.CSTNode, CodeRange], int] | None
        ] = {}
        self._positions: dict[int, Mapping[cst.CSTNode, CodeRange]] = {}
        self._starts: list[int] | None = None
        self._top_index: dict[int, int] = {}

    def line(self, node: cst.CSTNode) -> tuple[int, int]:
        """Line and 1-based column of ``node`` (``(0, 0)`` when it has no position)."""
        found = self._in_statement(node)
        return found if found is not None else self._in_top_statement(node)

    # -- the innermost statement -----------------------------------------------------------

    def _in_statement(self, node: cst.CSTNode) -> tuple[int, int] | None:
        if self.tree is None:
            return None
        chain = [node]
        while not isinstance(chain[-1], cst.Module):
            above = self.parent(chain[-1])
            if above is None:
                return None
            chain.append(above)
        chain.reverse()
        inner = max((i for i, n in enumerate(chain) if isinstance(n, cst.BaseStatement)), default=0)
        if inner == 0 or inner == len(chain) - 1:
            return None
        statement, below = chain[inner], chain[inner + 1]
        assert isinstance(statement, cst.BaseStatement)
        # A node in a header is measured without the blocks that follow it.
        header = isinstance(statement, _HEADED) and not _in_suite(statement, below)
        key = (id(statement), header)
        if key not in self._measured:
            self._measured[key] = self._measure(chain[1 : inner + 1], header)
        measured = self._measured[key]
        if measured is None:
            return None
        positions, offset = measured
        position = positions.get(node)
        if position is None:
            return None
        return position.start.line + offset, position.start.column + 1

    def _measure(
        self, path: list[cst.CSTNode], header: bool
    ) -> tuple[Mapping[cst.CSTNode, CodeRange], int] | None:
        """Positions within ``path[-1]`` (reached from a top-level statement through ``path``;
        its header only when ``header``), and what to add to their lines."""
        found = self._ast_statement(path)
        if found is None:
            return None
        statement = path[-1]
        assert isinstance(statement, cst.BaseStatement)
        printed: cst.BaseStatement = statement
        if header and isinstance(statement, _HEADED):
            # Everything after the header is printed after the node: a one-line body will do.
            printed = statement.with_changes(body=statement.body.with_changes(body=()))
            if isinstance(printed, cst.If | cst.For | cst.While):
                printed = printed.with_changes(orelse=None)
        wrapped: cst.BaseStatement = printed
        depth = len(path) - 1
        while depth > 0 and isinstance(wrapped, cst.If):
            above = path[depth - 1]
            if not (isinstance(above, cst.If) and above.orelse is path[depth]):
                break
            # An ``elif`` is printed by the ``if`` it continues (``elif``, not ``if``).
            wrapped = above.with_changes(body=above.body.with_changes(body=()), orelse=wrapped)
            depth -= 1
        # Only the indentation of the blocks (and of a ``match``'s cases) reaches the
        # statement's columns.
        index = depth - 1
        while index >= 0:
            block = path[index]
            index -= 1
            if not isinstance(block, cst.IndentedBlock):
                continue
            body = block.with_changes(body=(wrapped,))
            case, match = path[index], path[index - 1] if index > 0 else None
            if isinstance(case, cst.MatchCase) and isinstance(match, cst.Match):
                wrapped = match.with_changes(cases=(case.with_changes(body=body),))
                index -= 2
            else:
                wrapped = cst.If(test=cst.Name("_"), body=body)
        alone = self.module.with_changes(header=(), body=(wrapped,), footer=())
        positions = cst.MetadataWrapper(alone, unsafe_skip_copy=True).resolve(PositionProvider)
        start = positions.get(printed)
        if start is None:
            return None
        return positions, found.lineno - start.start.line

    def _ast_statement(self, path: Sequence[cst.CSTNode]) -> ast.stmt | None:
        """The ``ast`` statement (the first, for a line of several) of ``path[-1]``, found by
        walking both trees' blocks along ``path``; ``None`` where they do not line up."""
        assert self.tree is not None
        statements: Sequence[cst.BaseStatement] = self.module.body
        nodes: Sequence[ast.stmt] = self.tree.body
        index = 0
        while True:
            statement = path[index]
            found = _counterpart(statements, nodes, statement)
            if found is None:
                return None
            index += 1
            while (
                index < len(path)
                and isinstance(statement, cst.If)
                and isinstance(found, ast.If)
                and isinstance(path[index], cst.If)
                and path[index] is statement.orelse
            ):
                # ``elif``: the ``ast`` nests it as the only statement of ``orelse``.
                if len(found.orelse) != 1 or not isinstance(found.orelse[0], ast.If):
                    return None
                statement, found = path[index], found.orelse[0]
                index += 1
            if index == len(path):
                return found
            part = path[index]
            if isinstance(part, cst.IndentedBlock) and part is getattr(statement, "body", None):
                body = getattr(found, "body", None)
                if not isinstance(body, list):
                    return None
                statements, nodes = part.body, body
                index += 1
                continue
            block = path[index + 1] if index + 1 < len(path) else None
            if not isinstance(block, cst.IndentedBlock):
                return None
            statements = block.body
            inner = _ast_block(statement, found, part)
            if inner is None or getattr(part, "body", None) is not block:
                return None
            nodes = inner
            index += 2

    # -- the top-level statement (the fallback) ----------------------------------------------

    def _in_top_statement(self, node: cst.CSTNode) -> tuple[int, int]:
        """Line and 1-based column of ``node``, measured within its top-level statement only."""
        top: cst.CSTNode | None = node
        while top is not None and not isinstance(self.parent(top), cst.Module):
            top = self.parent(top)
        if self._starts is None:
            self._starts = top_statement_lines(self.source, self.module, self.tree) or []
            self._top_index = {id(statement): i for i, statement in enumerate(self.module.body)}
        index = self._top_index.get(id(top))
        if index is None or not self._starts:
            if -1 not in self._positions:
                whole = cst.MetadataWrapper(self.module, unsafe_skip_copy=True)
                self._positions[-1] = whole.resolve(PositionProvider)
            positions = self._positions[-1]
            offset = 0
        else:
            if index not in self._positions:
                alone = self.module.with_changes(
                    header=(), body=(self.module.body[index],), footer=()
                )
                measured = cst.MetadataWrapper(alone, unsafe_skip_copy=True).resolve(
                    PositionProvider
                )
                self._positions[index] = measured
            positions = self._positions[index]
            offset = self._starts[index] - 1
        position = positions.get(node)
        if position is None:
            return 0, 0
        return position.start.line + offset, position.start.column + 1


def _in_suite(statement: cst.BaseStatement, child: cst.CSTNode) -> bool:
    """Whether ``child`` of ``statement`` is one of its blocks (not part of its header)."""
    return child is getattr(statement, "body", None) or child is getattr(statement, "orelse", None)


def _counterpart(
    statements: Sequence[cst.BaseStatement], nodes: Sequence[ast.stmt], statement: cst.CSTNode
) -> ast.stmt | None:
    """The ``ast`` statement where ``statement`` (one of ``statements``) begins in ``nodes``."""
    index = 0
    found: ast.stmt | None = None
    for candidate in statements:
        if candidate is statement and index < len(nodes):
            found = nodes[index]
        index += len(candidate.body) if isinstance(candidate, cst.SimpleStatementLine) else 1
    if index != len(nodes) or found is None:
        return None
    if isinstance(statement, cst.SimpleStatementLine):
        return None if isinstance(found, _AST_COMPOUND) else found
    return found if isinstance(found, _COMPOUND.get(type(statement), ())) else None


def _ast_block(statement: cst.CSTNode, found: ast.stmt, part: cst.CSTNode) -> list[ast.stmt] | None:
    """The ``ast`` statements of ``part`` (an ``else``, ``finally``, handler or case) of
    ``statement``."""
    if isinstance(part, cst.Else):
        orelse = getattr(found, "orelse", None)
        return (
            orelse
            if isinstance(orelse, list) and part is getattr(statement, "orelse", None)
            else None
        )
    if isinstance(part, cst.Finally) and isinstance(found, ast.Try | ast.TryStar):
        return (
            found.finalbody
            if isinstance(statement, cst.Try | cst.TryStar) and part is statement.finalbody
            else None
        )
    if isinstance(part, cst.ExceptHandler | cst.ExceptStarHandler) and isinstance(
        statement, cst.Try | cst.TryStar
    ):
        assert isinstance(found, ast.Try | ast.TryStar)
        handlers = [i for i, h in enumerate(statement.handlers) if h is part]
        if len(handlers) != 1 or len(statement.handlers) != len(found.handlers):
            return None
        return found.handlers[handlers[0]].body
    if isinstance(part, cst.MatchCase) and isinstance(statement, cst.Match):
        assert isinstance(found, ast.Match)
        cases = [i for i, c in enumerate(statement.cases) if c is part]
        if len(cases) != 1 or len(statement.cases) != len(found.cases):
            return None
        return found.cases[cases[0]].body
    return None

"""Step 5, applying: the import-statement edits and node replacements, as a libcst transform
that walks only the paths to what changes."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from ssot_migrate.codemods.imports.records import StatementEdit
from ssot_migrate.pysyntax import alias_comment, build_dotted, dotted_name, drop_aliases


class Replace(cst.CSTTransformer):
    """Swap nodes by identity of the original node."""

    def __init__(self, replacements: dict[int, cst.CSTNode]) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
        result = super().on_leave(original_node, updated_node)
        return self.replacements.get(id(original_node), result)


class Apply(Replace):
    """Apply reference replacements and import-statement edits in place.

    Only the paths to recorded nodes are walked (``ancestors``), plus whole subtrees where a
    replacement sits deeper (``subtrees``): untouched subtrees are returned as they are.
    """

    def __init__(
        self,
        replacements: dict[int, cst.CSTNode],
        edits: dict[int, StatementEdit],
        ancestors: set[int],
        subtrees: set[int],
    ) -> None:
        super().__init__(replacements)
        self.edits = edits
        self.ancestors = ancestors
        self.subtrees = subtrees
        self._inside = 0  # depth inside a subtree that is walked entirely
        self.emptied: dict[int, cst.CSTNode] = {}  # placeholder lines standing for removed ones
        self.moved_comments: dict[int, list[str]] = {}  # added import -> comments of moved names

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Module):
            return super().on_visit(node)
        if self._inside or id(node) in self.subtrees:
            self._inside += 1
            return super().on_visit(node)
        if id(node) in self.ancestors:
            return super().on_visit(node)
        return False

    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
        if self._inside:
            self._inside -= 1
        return super().on_leave(original_node, updated_node)

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def _edit_statement(
        self, statement: cst.BaseSmallStatement
    ) -> tuple[cst.BaseSmallStatement | None, list[cst.BaseSmallStatement]]:
        """The statement as edited (``None`` when emptied) and the statements to add after it."""
        edit = self.edits.get(id(statement))
        if edit is None or not isinstance(statement, (cst.Import, cst.ImportFrom)):
            return statement, []
        assert not isinstance(statement.names, cst.ImportStar)
        originals = list(statement.names)
        replace = dict(edit.replace)
        dropped = {id(a) for a in edit.drop}
        after = list(edit.after)
        module_change = edit.module_change
        if isinstance(statement, cst.Import):
            # A dropped alias whose replacement import is added takes its place instead.
            for alias in originals:
                if id(alias) not in dropped:
                    continue
                added = next((s for s in after if isinstance(s, cst.Import)), None)
                if added is None:
                    break
                after.remove(added)
                dropped.discard(id(alias))
                new_alias = added.names[0]
                asname = new_alias.asname
                if alias.asname is not None and asname is not None:
                    asname = alias.asname.with_changes(name=asname.name)
                replace[id(alias)] = alias.with_changes(name=new_alias.name, asname=asname)
        elif (
            module_change is None
            and all(id(a) in dropped for a in originals)
            and len(after) == 1
            and isinstance(after[0], cst.ImportFrom)
            and not edit.append
        ):
            # Everything moves to one module: rewrite the path in place, keep the layout.
            first = after.pop()
            assert isinstance(first, cst.ImportFrom)
            assert not isinstance(first.names, cst.ImportStar)
            return (
                statement.with_changes(
                    module=first.module,
                    relative=first.relative,
                    names=_relayout(originals, list(first.names)),
                ),
                [],
            )
        names = [replace.get(id(a), a) for a in originals]
        full = statement.with_changes(names=names)
        drop_nodes = [n for a, n in zip(originals, names, strict=True) if id(a) in dropped]
        comments = [c for a in originals if id(a) in dropped and (c := alias_comment(a))]
        if comments and after:
            # The comment on a moved name's line goes with it to its new import.
            self.moved_comments[id(after[0])] = comments
        trimmed = drop_aliases(full, drop_nodes) if drop_nodes else full
        if edit.append:
            if trimmed is None:
                assert isinstance(statement, cst.ImportFrom)
                trimmed = statement.with_changes(
                    names=[a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in edit.append[:1]]
                )
                rest = edit.append[1:]
            else:
                rest = edit.append
            if rest:
                assert not isinstance(trimmed.names, cst.ImportStar)
                trimmed = trimmed.with_changes(names=_append(list(trimmed.names), rest))
        if trimmed is not None and module_change is not None:
            trimmed = trimmed.with_changes(
                module=build_dotted(module_change.module) if module_change.module else None,
                relative=[cst.Dot() for _ in range(module_change.level)],
            )
        return trimmed, after

    def _edit_body(
        self, body: Sequence[cst.BaseSmallStatement]
    ) -> tuple[list[cst.BaseSmallStatement], list[cst.BaseSmallStatement]]:
        kept: list[cst.BaseSmallStatement] = []
        extra: list[cst.BaseSmallStatement] = []
        for statement in body:
            edited, after = self._edit_statement(statement)
            if edited is not None:
                kept.append(edited)
            extra.extend(after)
        return kept, extra

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        if not any(id(s) in self.edits for s in original_node.body):
            return updated_node
        kept, extra = self._edit_body(updated_node.body)
        kept = _fix_semicolons(kept, updated_node.body)
        lines: list[cst.BaseStatement] = []
        if kept:
            lines.append(updated_node.with_changes(body=kept))
        for statement in extra:
            if not lines:
                # The first added import takes the old line's place, comments included.
                line = updated_node.with_changes(body=[statement])
            else:
                line = cst.SimpleStatementLine(body=[statement])
            lines.append(_with_comments(line, self.moved_comments.get(id(statement), [])))
        if not lines:
            # An emptied line is removed by its block (``_settle``), which hands the comments
            # above it to the next statement instead of losing them. (An empty ``body`` would
            # make libcst drop the line, comments included, before the block sees it.)
            placeholder = updated_node.with_changes(body=[cst.Pass()])
            # Keyed by id, so the placeholder is kept alive here: a freed one's id could be
            # reused by a new node and wrongly drop it (non-deterministic output).
            self.emptied[id(placeholder)] = placeholder
            return placeholder
        return cst.FlattenSentinel(lines) if len(lines) > 1 else lines[0]

    def leave_SimpleStatementSuite(
        self, original_node: cst.SimpleStatementSuite, updated_node: cst.SimpleStatementSuite
    ) -> cst.SimpleStatementSuite:
        if not any(id(s) in self.edits for s in original_node.body):
            return updated_node
        kept, extra = self._edit_body(updated_node.body)
        body = _fix_semicolons(kept + extra, updated_node.body)
        body = [
            s.with_changes(semicolon=cst.Semicolon(whitespace_after=cst.SimpleWhitespace(" ")))
            if i < len(body) - 1 and s.semicolon is cst.MaybeSentinel.DEFAULT
            else s
            for i, s in enumerate(body)
        ]
        return updated_node.with_changes(body=body or [cst.Pass()])

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        body, orphans = _settle(updated_node.body, self.emptied)
        if not body:
            # Removing the only import of a block must leave valid code.
            return updated_node.with_changes(
                body=[cst.SimpleStatementLine([cst.Pass()], leading_lines=orphans)]
            )
        if orphans:
            return updated_node.with_changes(body=body, footer=[*orphans, *updated_node.footer])
        if len(body) != len(updated_node.body):
            return updated_node.with_changes(body=body)
        return updated_node

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body, orphans = _settle(updated_node.body, self.emptied)
        if len(body) == len(updated_node.body):
            return updated_node
        return updated_node.with_changes(body=body, footer=[*orphans, *updated_node.footer])


def _settle(
    body: Sequence[cst.BaseStatement], emptied: dict[int, cst.CSTNode]
) -> tuple[list[cst.BaseStatement], list[cst.EmptyLine]]:
    """``body`` without the ``emptied`` lines; their leading comments go to the next statement.

    Returns the statements and the comment lines left over after the last one.
    """
    kept: list[cst.BaseStatement] = []
    pending: list[cst.EmptyLine] = []
    for statement in body:
        if emptied.get(id(statement)) is statement and isinstance(
            statement, cst.SimpleStatementLine
        ):
            pending.extend(statement.leading_lines)
            continue
        if pending and isinstance(statement, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            statement = statement.with_changes(leading_lines=[*pending, *statement.leading_lines])
            pending = []
        kept.append(statement)
    return kept, pending


def _fix_semicolons(
    body: list[cst.BaseSmallStatement], original: Sequence[cst.BaseSmallStatement]
) -> list[cst.BaseSmallStatement]:
    """Drop a trailing ``;`` a removal left behind when the original line had none."""
    if (
        body
        and original
        and original[-1].semicolon is cst.MaybeSentinel.DEFAULT
        and body[-1].semicolon is not cst.MaybeSentinel.DEFAULT
    ):
        body = body[:-1] + [body[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)]
    return body


def _relayout(original: list[cst.ImportAlias], new: list[cst.ImportAlias]) -> list[cst.ImportAlias]:
    """New aliases wearing the original aliases' commas, so a parenthesised layout survives."""
    if len(original) != len(new):
        return new
    return [n.with_changes(comma=o.comma) for o, n in zip(original, new, strict=True)]


def _append(names: list[cst.ImportAlias], extra: list[cst.ImportAlias]) -> list[cst.ImportAlias]:
    """``names`` plus ``extra`` at the end, following the list's own comma layout."""
    result = list(names)
    known = {
        (
            dotted_name(a.name),
            a.asname.name.value if a.asname and isinstance(a.asname.name, cst.Name) else None,
        )
        for a in result
    }
    for alias in extra:
        key = (
            dotted_name(alias.name),
            alias.asname.name.value
            if alias.asname and isinstance(alias.asname.name, cst.Name)
            else None,
        )
        if key in known:
            continue
        known.add(key)
        last = result[-1]
        if isinstance(last.comma, cst.Comma):
            # Trailing comma (parenthesised, often one per line): copy the separator style.
            separator = (
                result[-2].comma
                if len(result) > 1
                else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            )
            result[-1] = last.with_changes(comma=separator)
            result.append(alias.with_changes(comma=last.comma))
        else:
            result[-1] = last.with_changes(
                comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            )
            result.append(alias)
    return result


def _with_comments(line: cst.SimpleStatementLine, comments: list[str]) -> cst.SimpleStatementLine:
    """``line`` with ``comments`` at its end (after any comment it already has)."""
    if not comments:
        return line
    trailing = line.trailing_whitespace
    existing = [trailing.comment.value] if trailing.comment is not None else []
    text = "  ".join([*existing, *comments])
    return line.with_changes(
        trailing_whitespace=trailing.with_changes(
            whitespace=trailing.whitespace if existing else cst.SimpleWhitespace("  "),
            comment=cst.Comment(text),
        )
    )

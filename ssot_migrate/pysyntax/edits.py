"""Import statements written or edited: a new ``from``/``import``, names dropped, a free name.

Edits keep the statement's layout (parentheses, one name a line, end-of-line comments)::

    make_import_from("a.b", 1, [("X", None), ("Y", "Z")])   # from .a.b import X, Y as Z
    drop_aliases(<from m import a, b>, [<b>])                # from m import a
    relative_spelling("app.ws.x", 1, "app.ws")               # "x": from .x import ... stays relative
    shortest_relative("app.core.f", "app.ws")                # (2, "core.f"): from ..core.f import
    free_name("x", {"x"})                                    # "x_"
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import libcst as cst

from ssot_migrate.pysyntax.bindings import ImportNode, resolve_relative
from ssot_migrate.pysyntax.names import build_dotted


def relative_spelling(new_module: str, level: int, package: str | None) -> str | None:
    """The module part of ``from <level dots><part> import`` that reaches ``new_module``.

    Returns ``None`` when ``new_module`` lies outside the anchor package the dots reach, so the
    caller writes an absolute import; returns ``""`` when the anchor itself is meant.
    """
    if level == 0 or package is None:
        return None
    anchor = resolve_relative(level, None, package)
    if anchor is None:
        return None
    if new_module == anchor:
        return ""
    if new_module.startswith(anchor + "."):
        return new_module[len(anchor) + 1 :]
    return None


def shortest_relative(target_module: str, package: str | None) -> tuple[int, str] | None:
    """``(level, module)`` of the shortest relative import of ``target_module`` from ``package``.

    ``None`` when they share no top-level package (an absolute import is then the only way).
    """
    if not package:
        return None
    here = package.split(".")
    there = target_module.split(".")
    common = 0
    while common < min(len(here), len(there)) and here[common] == there[common]:
        common += 1
    if common == 0:
        return None
    return len(here) - common + 1, ".".join(there[common:])


def drop_aliases(statement: ImportNode, drop: Iterable[cst.ImportAlias]) -> ImportNode | None:
    """``statement`` without the given aliases, its layout kept; ``None`` when none remain.

    When the last alias goes, the new last one takes its comma, so ``from m import a, b`` minus
    ``b`` is ``from m import a`` and a parenthesised one-per-line list keeps its closing layout.
    """
    if isinstance(statement.names, cst.ImportStar):
        return statement
    dropped = {id(alias) for alias in drop}
    names = list(statement.names)
    kept: list[cst.ImportAlias] = []
    for index, alias in enumerate(names):
        if id(alias) in dropped:
            if index == len(names) - 1 and kept:
                kept[-1] = kept[-1].with_changes(
                    comma=_comma_keeping_comment(alias.comma, kept[-1].comma)
                )
            continue
        kept.append(alias)
    if not kept:
        return None
    if len(kept) == len(names):
        return statement
    if isinstance(statement, cst.Import) or statement.lpar is None:
        # Without parentheses a trailing comma is a syntax error.
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return statement.with_changes(names=kept)


def _comma_keeping_comment(
    layout: cst.Comma | cst.MaybeSentinel, own: cst.Comma | cst.MaybeSentinel
) -> cst.Comma | cst.MaybeSentinel:
    """``layout`` (the dropped last name's comma: where the closing parenthesis goes), with the
    end-of-line comment of ``own`` instead of the dropped name's."""
    if not (
        isinstance(layout, cst.Comma)
        and isinstance(layout.whitespace_after, cst.ParenthesizedWhitespace)
    ):
        return layout
    mine = own.whitespace_after if isinstance(own, cst.Comma) else None
    first_line = (
        mine.first_line
        if isinstance(mine, cst.ParenthesizedWhitespace)
        else cst.TrailingWhitespace(newline=layout.whitespace_after.first_line.newline)
    )
    return layout.with_changes(
        whitespace_after=layout.whitespace_after.with_changes(first_line=first_line)
    )


def alias_comment(alias: cst.ImportAlias) -> str | None:
    """The end-of-line comment after ``alias,`` in a parenthesised import, if any."""
    comma = alias.comma
    if isinstance(comma, cst.Comma) and isinstance(
        comma.whitespace_after, cst.ParenthesizedWhitespace
    ):
        comment = comma.whitespace_after.first_line.comment
        return comment.value if comment is not None else None
    return None


def make_alias(name: str, asname: str | None) -> cst.ImportAlias:
    """An ``ImportAlias`` for ``name`` (dotted allowed), with ``as asname`` when it differs."""
    node = build_dotted(name)
    if asname is None or asname == name:
        return cst.ImportAlias(name=node)
    return cst.ImportAlias(name=node, asname=cst.AsName(name=cst.Name(asname)))


def make_import_from(
    module: str | None, level: int, names: Sequence[tuple[str, str | None]]
) -> cst.ImportFrom:
    """``from <dots><module> import a, b as c`` with default whitespace."""
    aliases = [make_alias(name, asname) for name, asname in names]
    return cst.ImportFrom(
        module=build_dotted(module) if module else None,
        names=aliases,
        relative=[cst.Dot() for _ in range(level)],
    )


def make_import(module: str, asname: str | None) -> cst.Import:
    """``import a.b.c`` or ``import a.b.c as x``."""
    return cst.Import(names=[make_alias(module, asname)])


def free_name(base: str, taken: Iterable[str]) -> str:
    """``base`` if it is not taken, else ``base_``, ``base_2``, ... the first free one."""
    used = set(taken)
    if base not in used:
        return base
    candidate = f"{base}_"
    counter = 2
    while candidate in used:
        candidate = f"{base}_{counter}"
        counter += 1
    return candidate

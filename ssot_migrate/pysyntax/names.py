"""Dotted names: ``a.b.c`` read from a libcst or an ``ast`` expression, and written back.

libcst's ``get_full_name_for_node`` is not used: it reads through calls (``f().x`` is ``"f.x"``)
and spells an unreadable head ``"None"`` (``(a or b).x`` is ``"None.x"``), where every caller
here needs ``None`` for anything that is not a name chain::

    dotted_name(parse_expression("a.b.c"))                                    # "a.b.c"
    dotted_name(parse_expression("Generic[T]"))                               # None
    dotted_name(parse_expression("Generic[T]"), through_subscripts=True)      # "Generic"
    ast_dotted_name(ast.parse("a.b", mode="eval").body)                       # "a.b"
"""

from __future__ import annotations

import ast
import re

import libcst as cst


def dotted_parts(node: cst.BaseExpression) -> list[cst.Name] | None:
    """The ``Name`` nodes of a pure ``a.b.c`` chain, root first; ``None`` for anything else."""
    names: list[cst.Name] = []
    current: cst.BaseExpression = node
    while isinstance(current, cst.Attribute):
        names.append(current.attr)
        current = current.value
    if not isinstance(current, cst.Name):
        return None
    names.append(current)
    names.reverse()
    return names


def dotted_name(node: cst.BaseExpression, *, through_subscripts: bool = False) -> str | None:
    """``"a.b.c"`` for a pure attribute chain or name, ``None`` for any other expression.

    ``through_subscripts``: a subscript anywhere in the chain is read through, as class bases,
    decorators and annotations are (``Generic[T]`` is ``Generic``, ``a[0].b`` is ``a.b``).
    """
    if not through_subscripts:
        parts = dotted_parts(node)
        return None if parts is None else ".".join(p.value for p in parts)
    names: list[str] = []
    current: cst.BaseExpression = node
    while isinstance(current, (cst.Attribute, cst.Subscript)):
        if isinstance(current, cst.Attribute):
            names.append(current.attr.value)
        current = current.value
    if not isinstance(current, cst.Name):
        return None
    names.append(current.value)
    return ".".join(reversed(names))


def ast_dotted_name(node: ast.expr) -> str | None:
    """``dotted_name`` for an ``ast`` expression: ``a.b.c`` for a Name/Attribute chain, else None.

    ``ast`` is what scan and discovery parse (a C-speed parser); libcst only where code is edited.
    """
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def build_dotted(name: str) -> cst.Name | cst.Attribute:
    """A ``Name``/``Attribute`` chain spelling the dotted ``name`` with default whitespace."""
    head, *rest = name.split(".")
    node: cst.Name | cst.Attribute = cst.Name(head)
    for part in rest:
        node = cst.Attribute(value=node, attr=cst.Name(part))
    return node


def is_dotted_identifier(text: str) -> bool:
    """Whether ``text`` is a dotted name such as ``pkg.mod.Name`` (each part an identifier)."""
    return bool(text) and all(part.isidentifier() for part in text.split("."))


_WORD = re.compile(r"\w+")


def words(text: str) -> set[str]:
    """The identifier-like words of ``text`` (runs of word characters): a name spelt in source
    is spelt as one whole word, so a file, string or statement without it holds no such name."""
    return set(_WORD.findall(text))

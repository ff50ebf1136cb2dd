"""String literals read and rewritten in place, prefix and quotes kept."""

from __future__ import annotations

import libcst as cst


def string_body(node: cst.SimpleString) -> tuple[str, str, str] | None:
    """``(prefix, quote, body)`` of a plain string literal whose source equals its value.

    ``None`` for bytes, f-strings, or strings with escapes, which a rewrite would have to
    re-escape: those are left alone.
    """
    prefix = node.prefix
    if any(ch in prefix.lower() for ch in "bf"):
        return None
    quote = node.quote
    body = node.value[len(prefix) + len(quote) : len(node.value) - len(quote)]
    if "\\" in body:
        return None
    return prefix, quote, body


def with_string_body(node: cst.SimpleString, body: str) -> cst.SimpleString:
    """``node`` with its content replaced by ``body``, same prefix and quotes."""
    parts = string_body(node)
    assert parts is not None
    prefix, quote, _ = parts
    return node.with_changes(value=f"{prefix}{quote}{body}{quote}")

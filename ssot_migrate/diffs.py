"""Changes to diff text (difflib, bytes-faithful) and diff text to statistics (unidiff).

The diff is built from bytes, not text: CRLF endings, non-UTF-8 bytes under a PEP 263 cookie and
BOMs come out exactly as ``git apply`` needs to reproduce them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

import unidiff

from ssot_migrate.model import FileOutcome

NO_NEWLINE = b"\\ No newline at end of file\n"


def split_lines(data: bytes) -> list[bytes]:
    """Split on ``\\n`` only, keeping it, as git does (a lone ``\\r`` is part of a line)."""
    lines = data.split(b"\n")
    out = [line + b"\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def _quote_path(path: str) -> bytes:
    raw = path.encode("utf-8", "surrogateescape")
    if not any(b < 0x20 or b in (0x22, 0x5C, 0x7F) for b in raw):
        return raw
    escapes = {0x22: b'\\"', 0x5C: b"\\\\", 0x09: b"\\t", 0x0A: b"\\n", 0x0D: b"\\r"}
    body = b"".join(
        escapes.get(b, b"\\%03o" % b if b < 0x20 or b == 0x7F else bytes([b])) for b in raw
    )
    return b'"' + body + b'"'


def _prefixed(prefix: str, path: str) -> bytes:
    quoted = _quote_path(path)
    if quoted.startswith(b'"'):
        return b'"' + prefix.encode() + quoted[1:]
    return prefix.encode() + quoted


def file_diff(path: str, before: bytes, after: bytes, context: int = 3) -> bytes:
    """One file's ``diff --git`` section, or ``b""`` when the bytes are equal."""
    if before == after:
        return b""
    a_name, b_name = _prefixed("a/", path), _prefixed("b/", path)
    body = difflib.diff_bytes(
        difflib.unified_diff,
        split_lines(before),
        split_lines(after),
        a_name,
        b_name,
        n=context,
        lineterm=b"",
    )
    out = [b"diff --git " + a_name + b" " + b_name + b"\n"]
    for index, line in enumerate(body):
        if index < 2:  # the ---/+++ header lines carry no terminator with lineterm=b""
            out.append(line + b"\n")
        elif line.startswith(b"@@"):
            out.append(line + b"\n")
        elif line.endswith(b"\n"):
            out.append(line)
        else:
            out.append(line + b"\n" + NO_NEWLINE)
    return b"".join(out)


def unified_diff_bytes(outcomes: Iterable[FileOutcome]) -> bytes:
    """The git-apply-able diff of every changed outcome, in path order."""
    changed = sorted((o for o in outcomes if o.status == "changed"), key=lambda o: o.path)
    return b"".join(file_diff(o.path, o.before, o.after) for o in changed)


def unified_diff(outcomes: Iterable[FileOutcome]) -> str:
    """``unified_diff_bytes`` as text (undecodable bytes kept as surrogate escapes)."""
    return unified_diff_bytes(outcomes).decode("utf-8", "surrogateescape")


@dataclass(frozen=True)
class FileStat:
    """Lines added and removed in one file of a diff."""

    path: str
    added: int
    removed: int


def diff_stats(diff: str) -> list[FileStat]:
    """Per-file statistics of a unified diff, as unidiff reads it."""
    patch = unidiff.PatchSet(diff.splitlines(keepends=True))
    return [
        FileStat(
            path=f.path,  # unidiff has already dropped the a/ and b/ prefixes
            added=f.added,
            removed=f.removed,
        )
        for f in patch
    ]

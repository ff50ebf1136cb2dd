"""What the phase codemods share beyond Python syntax: the alias table and faithful rendering.

Python-syntax helpers (dotted names, what an import binds, import edits, strings) live in
``ssot_migrate.pysyntax``. Here:

* ``AliasTable``: the longest-prefix lookup from a legacy dotted name to its canonical one;
* byte faithfulness: ``top_statement_lines`` locates top-level statements in the original bytes,
  ``splice_statements`` renders a rewritten module keeping every untouched statement's bytes,
  ``faithful_result`` turns a rewrite into a result (or leaves the file and says why).
"""

from __future__ import annotations

import ast
import codecs
import difflib
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import libcst as cst

from ssot_migrate.model import Change, CodemodResult, NameKind, Note, SourceFile, Target

# --------------------------------------------------------------------------- alias table


@dataclass(frozen=True)
class Mapped:
    """A legacy dotted name mapped to its canonical one.

    ``alias`` is the configured alias that is a prefix of the input (the longest one), ``new``
    the whole input rewritten, ``module`` the canonical module the result lives in (for a symbol
    alias: the canonical's module).
    """

    matched: str
    alias: str
    new: str
    module: str
    target: Target


class AliasTable:
    """Longest-prefix lookup from legacy dotted names to canonical ones, for a set of targets."""

    def __init__(self, targets: Iterable[Target]) -> None:
        self.entries: dict[str, Target] = {}
        for target in targets:
            for alias in target.all_aliases:
                if alias != target.canonical:
                    self.entries.setdefault(alias, target)
        self.prefixes: set[str] = set()
        for alias in self.entries:
            parts = alias.split(".")
            for i in range(1, len(parts)):
                self.prefixes.add(".".join(parts[:i]))

    def lookup(self, qname: str) -> Mapped | None:
        """The mapping of ``qname`` through the longest alias that is a prefix of it, if any."""
        parts = qname.split(".")
        for i in range(len(parts), 0, -1):
            prefix = ".".join(parts[:i])
            target = self.entries.get(prefix)
            if target is None:
                continue
            new = ".".join([target.canonical, *parts[i:]])
            return Mapped(qname, prefix, new, canonical_module(target), target)
        return None

    def leads_to_alias(self, qname: str) -> bool:
        """Whether ``qname`` is a proper prefix of some alias (attribute chains may reach one)."""
        return qname in self.prefixes

    def alias_modules(self) -> set[str]:
        """Modules that define or re-export a symbol alias, and module aliases themselves."""
        result: set[str] = set()
        for alias, target in self.entries.items():
            # A kind that was only assumed may be either: both readings are counted.
            if target.canonical_kind == NameKind.MODULE or target.kind_assumed:
                result.add(alias)
            if target.canonical_kind == NameKind.SYMBOL or target.kind_assumed:
                result.add(alias.rpartition(".")[0])
        return result

    def canonical_modules(self) -> set[str]:
        """Modules that define a canonical (never rewritten)."""
        return {canonical_module(target) for target in self.entries.values()}

    def needles(self) -> frozenset[str]:
        """The last dotted segment of every alias: a file naming none of them needs no change."""
        return frozenset(alias.rpartition(".")[2] for alias in self.entries)


def canonical_module(target: Target) -> str:
    """The module defining the target's canonical (the canonical itself for a module target)."""
    if target.canonical_kind == NameKind.MODULE:
        return target.canonical
    return target.canonical.rpartition(".")[0]


# --------------------------------------------------------------------------- byte faithfulness


def unfaithful_note(
    original: cst.Module, source: bytes, file: SourceFile, target: str
) -> Note | None:
    """A note when libcst cannot give ``source`` back byte for byte from its own parse, else None.

    Codemods that regenerate a whole module (phases 2 and 3) must not write such a file: every
    line libcst drops (blank lines before an indented comment at the end of a file, for one)
    would be an unrelated change in the diff. Checked only for files about to change.
    """
    if original.bytes == source:
        return None
    return Note(
        path=file.path,
        line=1,
        column=1,
        target=target,
        kind="not-reproducible",
        message=(
            "libcst cannot reproduce this file byte for byte, so rewriting it would change "
            "unrelated lines; left unchanged: rewrite it by hand"
        ),
        severity="needs-decision",
    )


def top_statement_lines(source: bytes, module: cst.Module) -> list[int] | None:
    """The first line (leading comments included) of each of ``module``'s top-level statements.

    Taken from ``ast`` line numbers, which are exact where libcst's own positions would cost a
    metadata pass over the whole file; ``None`` when the two parses do not line up.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    statements = tree.body
    index = 0
    starts: list[int] = []
    for node in module.body:
        if index >= len(statements):
            return None
        first = statements[index]
        decorators: list[ast.expr] = getattr(first, "decorator_list", [])
        line = min([first.lineno, *(d.lineno for d in decorators)])
        starts.append(line - len(node.leading_lines))
        index += len(node.body) if isinstance(node, cst.SimpleStatementLine) else 1
    return starts if index == len(statements) else None


def line_offsets(source: bytes) -> list[int]:
    """Byte offset of the start of every line of ``source`` (after a UTF-8 BOM), first line first."""
    offsets = [len(codecs.BOM_UTF8) if source.startswith(codecs.BOM_UTF8) else 0]
    offsets.extend(m.end() for m in re.finditer(rb"\r\n|\r|\n", source))
    return offsets


def _same_lines(a: Sequence[cst.EmptyLine], b: Sequence[cst.EmptyLine]) -> bool:
    return len(a) == len(b) and all(x.deep_equals(y) for x, y in zip(a, b))


def splice_statements(source: bytes, original: cst.Module, new: cst.Module) -> bytes | None:
    """``new`` as bytes, with every top-level statement it shares with ``original`` kept as in ``source``.

    A phase that rewrites one class or one call would otherwise print the whole module again,
    and libcst does not give every file back byte for byte (blank lines before an indented
    comment at the end of a file are dropped): those unrelated lines must not enter the diff.
    Statements are matched by their generated code; each replaced statement must regenerate to
    exactly the bytes it replaces. ``None`` when that cannot be established: the caller decides.
    """
    starts = top_statement_lines(source, original)
    if starts is None or not original.body or not new.body:
        return None
    if original.has_trailing_newline != new.has_trailing_newline:
        return None
    if not _same_lines(original.header, new.header):
        return None
    encoding = "utf-8" if original.encoding == "utf-8-sig" else original.encoding
    offsets = line_offsets(source)
    if not all(1 <= line <= len(offsets) for line in starts):
        return None
    bounds = [offsets[line - 1] for line in starts]

    def alone(module: cst.Module, statement: cst.BaseStatement) -> bytes:
        # Printed with its newline even at the end of a file that has none: the bytes after the
        # last statement are the footer's, kept or reprinted on their own.
        alone = module.with_changes(
            header=(), body=(statement,), footer=(), has_trailing_newline=True
        )
        return alone.code.encode(encoding)

    old_codes = [alone(original, statement) for statement in original.body]
    new_codes = [alone(new, statement) for statement in new.body]
    last = len(old_codes) - 1
    tail = source[bounds[last] :]
    footer_start = bounds[last] + len(old_codes[last]) if tail.startswith(old_codes[last]) else None
    same_footer = _same_lines(original.footer, new.footer)

    def faithful(index: int) -> bool:
        end = bounds[index + 1] if index < last else footer_start
        return end is not None and source[bounds[index] : end] == old_codes[index]

    pieces = [source[: bounds[0]]]
    opcodes = difflib.SequenceMatcher(None, old_codes, new_codes, autojunk=False).get_opcodes()
    for position, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            end_of_run = bounds[i2] if i2 <= last else footer_start
            if end_of_run is None:  # the last statement cannot be told apart from the footer
                if position != len(opcodes) - 1 or not same_footer:
                    return None
                pieces.append(source[bounds[i1] :])
                return b"".join(pieces)
            pieces.append(source[bounds[i1] : end_of_run])
            continue
        if not all(faithful(index) for index in range(i1, i2)):
            return None
        pieces.extend(new_codes[j1:j2])
    if footer_start is None or not same_footer:
        return None
    pieces.append(source[footer_start:])
    return b"".join(pieces)


def render(source: bytes, original: cst.Module, new: cst.Module) -> bytes | None:
    """The bytes a rewrite of ``source`` (parsed as ``original``) into ``new`` should write.

    Untouched statements keep their bytes (``splice_statements``); failing that, the whole new
    module is printed only when libcst reproduces ``source`` exactly. ``None``: no faithful
    rendering exists and the file must be left alone.
    """
    spliced = splice_statements(source, original, new)
    if spliced is not None:
        return spliced
    if original.bytes == source:
        return new.bytes
    return source if new.code == original.code else None


def faithful_result(
    source: bytes,
    original: cst.Module,
    new: cst.Module,
    file: SourceFile,
    target: str,
    changes: Sequence[Change],
    notes: Sequence[Note],
) -> CodemodResult:
    """The codemod result of rewriting ``source`` into ``new`` (see ``render``).

    No faithful rendering: the file is left as it is and listed as needing a decision.
    """
    output = render(source, original, new)
    if output == source:
        return CodemodResult(source, (), tuple(notes))
    if output is None:
        refused = unfaithful_note(original, source, file, target)
        return CodemodResult(source, (), (*notes, refused) if refused else tuple(notes))
    return CodemodResult(output, tuple(changes), tuple(notes))

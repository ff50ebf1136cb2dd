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


def top_statement_lines(
    source: bytes, module: cst.Module, tree: ast.Module | None = None
) -> list[int] | None:
    """The first line (leading comments included) of each of ``module``'s top-level statements.

    Taken from ``ast`` line numbers, which are exact where libcst's own positions would cost a
    metadata pass over the whole file; ``None`` when the two parses do not line up. ``tree`` is
    ``ast.parse(source)`` when the caller has it already.
    """
    if tree is None:
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


@dataclass(frozen=True)
class Splice:
    """Top-level statements ``start`` to ``end`` (exclusive) replaced by ``code``; ``start == end``
    inserts ``code`` before statement ``start`` (after the last one when it is ``len(body)``)."""

    start: int
    end: int
    code: bytes


class StatementSpans:
    """Where each top-level statement of ``module`` stands in ``source``: the one position table.

    ``lines[i]`` is the first line of statement ``i`` (leading comments included, from ``ast``:
    see ``top_statement_lines``), ``bounds[i]`` the byte offset where that line starts. Built by
    ``statement_spans``; ``splice`` writes new statements into ``source`` by it, so every other
    statement keeps its bytes. Each statement is printed at most once (``printed``).
    """

    def __init__(
        self, source: bytes, module: cst.Module, lines: list[int], bounds: list[int]
    ) -> None:
        self.source = source
        self.module = module
        self.lines = lines
        self.bounds = bounds
        self.encoding = "utf-8" if module.encoding == "utf-8-sig" else module.encoding
        self._printed: dict[int, bytes] = {}

    def code(self, module: cst.Module, statement: cst.BaseStatement) -> bytes:
        """``statement`` of ``module`` printed alone, as this file's encoding spells it.

        Printed with its newline even at the end of a file that has none: the bytes after the
        last statement are the footer's, kept or reprinted on their own.
        """
        alone = module.with_changes(
            header=(), body=(statement,), footer=(), has_trailing_newline=True
        )
        return alone.code.encode(self.encoding)

    def printed(self, index: int) -> bytes:
        """Statement ``index`` of the original module printed alone (see ``code``)."""
        if index not in self._printed:
            self._printed[index] = self.code(self.module, self.module.body[index])
        return self._printed[index]

    def _faithful(self, index: int) -> bool:
        """Whether statement ``index`` occupies exactly its printed bytes in ``source``."""
        start = self.bounds[index]
        if index + 1 < len(self.bounds):
            return self.source[start : self.bounds[index + 1]] == self.printed(index)
        return self.source.startswith(self.printed(index), start)

    def _end(self, index: int) -> int | None:
        """Where statements before ``index`` end: the next one's start, or the footer's."""
        if index < len(self.bounds):
            return self.bounds[index]
        last = len(self.bounds) - 1
        return self.bounds[last] + len(self.printed(last)) if self._faithful(last) else None

    def splice(self, splices: Sequence[Splice]) -> bytes | None:
        """``source`` with each splice (in order, not overlapping) written in; ``None`` when a
        replaced statement does not regenerate to exactly the bytes it stands on, or the end of
        the last statement cannot be told apart from the footer: the caller decides."""
        pieces: list[bytes] = []
        position = 0
        for splice in splices:
            start = self._end(splice.start)
            end = self._end(splice.end)
            if start is None or end is None or start < position:
                return None
            if not all(self._faithful(index) for index in range(splice.start, splice.end)):
                return None
            pieces += [self.source[position:start], splice.code]
            position = end
        pieces.append(self.source[position:])
        return b"".join(pieces)


def statement_spans(
    source: bytes, module: cst.Module, tree: ast.Module | None = None
) -> StatementSpans | None:
    """The position table of ``module``'s top-level statements in ``source``; ``None`` when the
    module has none or ``ast`` and libcst do not line up (``tree``: see ``top_statement_lines``)."""
    lines = top_statement_lines(source, module, tree)
    if not lines:
        return None
    offsets = line_offsets(source)
    if not all(1 <= line <= len(offsets) for line in lines):
        return None
    return StatementSpans(source, module, lines, [offsets[line - 1] for line in lines])


def _same_lines(a: Sequence[cst.EmptyLine], b: Sequence[cst.EmptyLine]) -> bool:
    return len(a) == len(b) and all(x.deep_equals(y) for x, y in zip(a, b))


def splice_statements(
    source: bytes, original: cst.Module, new: cst.Module, tree: ast.Module | None = None
) -> bytes | None:
    """``new`` as bytes, with every top-level statement it shares with ``original`` kept as in ``source``.

    A phase that rewrites one class or one call would otherwise print the whole module again,
    and libcst does not give every file back byte for byte (blank lines before an indented
    comment at the end of a file are dropped): those unrelated lines must not enter the diff.
    Statements are matched by their generated code; each replaced statement must regenerate to
    exactly the bytes it replaces. ``None`` when that cannot be established: the caller decides.
    """
    spans = statement_spans(source, original, tree)
    if spans is None or not new.body:
        return None
    if original.has_trailing_newline != new.has_trailing_newline:
        return None
    if not _same_lines(original.header, new.header) or not _same_lines(original.footer, new.footer):
        return None
    old_codes = [spans.printed(index) for index in range(len(original.body))]
    # A statement the rewrite did not descend into is the original node: printed once.
    same_layout = (new.default_indent, new.default_newline, new.encoding) == (
        original.default_indent,
        original.default_newline,
        original.encoding,
    )
    kept = {id(statement): index for index, statement in enumerate(original.body)}
    new_codes = [
        spans.printed(kept[id(statement)])
        if same_layout and id(statement) in kept
        else spans.code(new, statement)
        for statement in new.body
    ]
    opcodes = difflib.SequenceMatcher(None, old_codes, new_codes, autojunk=False).get_opcodes()
    return spans.splice(
        [
            Splice(i1, i2, b"".join(new_codes[j1:j2]))
            for tag, i1, i2, j1, j2 in opcodes
            if tag != "equal"
        ]
    )


def render(
    source: bytes, original: cst.Module, new: cst.Module, tree: ast.Module | None = None
) -> bytes | None:
    """The bytes a rewrite of ``source`` (parsed as ``original``) into ``new`` should write.

    Untouched statements keep their bytes (``splice_statements``); failing that, the whole new
    module is printed only when libcst reproduces ``source`` exactly. ``None``: no faithful
    rendering exists and the file must be left alone.
    """
    spliced = splice_statements(source, original, new, tree)
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
    tree: ast.Module | None = None,
) -> CodemodResult:
    """The codemod result of rewriting ``source`` into ``new`` (see ``render``; ``tree``: the
    ``ast`` of ``source`` when the caller parsed it already).

    No faithful rendering: the file is left as it is and listed as needing a decision.
    """
    output = render(source, original, new, tree)
    if output == source:
        return CodemodResult(source, (), tuple(notes))
    if output is None:
        refused = unfaithful_note(original, source, file, target)
        return CodemodResult(source, (), (*notes, refused) if refused else tuple(notes))
    return CodemodResult(output, tuple(changes), tuple(notes))

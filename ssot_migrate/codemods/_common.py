"""Shared libcst helpers for the phase codemods: name resolution, the alias table, import edits.

Everything here is pure and general: it knows nothing about a particular phase. The pieces are

* dotted names: ``dotted_parts`` / ``dotted_name`` read ``a.b.c`` chains, ``build_dotted`` makes them;
* imports: ``bindings_of`` (with ``pysyntax.resolve_relative``) turns an import statement into the fully qualified
  names it binds (absolute and relative), ``relative_spelling`` keeps a rewritten import relative;
* ``AliasTable``: the longest-prefix lookup from a legacy dotted name to its canonical one;
* in-place import edits: ``drop_aliases`` removes names from an import keeping its layout,
  ``make_import_from`` / ``make_import`` build new statements, ``free_name`` picks a name that
  does not collide;
* strings: ``string_body`` / ``with_string_body`` edit a plain string literal keeping its quotes;
* byte faithfulness: ``top_statement_lines`` locates top-level statements in the original bytes,
  ``splice_statements`` renders a rewritten module keeping every untouched statement's bytes.

Other phases may append general helpers at the end of this module.
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
from ssot_migrate.pysyntax import resolve_relative

ImportNode = cst.Import | cst.ImportFrom


# --------------------------------------------------------------------------- dotted names


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


def dotted_name(node: cst.BaseExpression) -> str | None:
    """``"a.b.c"`` for a pure attribute chain or name, ``None`` for any other expression."""
    parts = dotted_parts(node)
    return None if parts is None else ".".join(p.value for p in parts)


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


# --------------------------------------------------------------------------- imports


def import_from_module(node: cst.ImportFrom, package: str | None) -> str | None:
    """The absolute module of a ``from ... import`` statement (relative ones resolved)."""
    module = dotted_name(node.module) if node.module is not None else None
    return resolve_relative(len(node.relative), module, package)


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


@dataclass(frozen=True)
class Binding:
    """One name an import statement binds.

    ``local`` is the bound name; ``qname`` the fully qualified name that local name denotes
    (``a`` for ``import a.b.c``, ``a.b.c`` for ``import a.b.c as x``, ``m.n`` for
    ``from m import n``); ``loaded`` the dotted path the statement imports (``a.b.c``, or ``m.n``).
    ``plain`` marks ``import a.b.c`` without ``as`` (it binds only the root package).
    """

    local: str
    qname: str
    loaded: str
    statement: ImportNode
    alias: cst.ImportAlias
    plain: bool = False

    @property
    def is_from(self) -> bool:
        """Whether the binding comes from a ``from ... import`` statement."""
        return isinstance(self.statement, cst.ImportFrom)


def alias_local_name(alias: cst.ImportAlias) -> str | None:
    """The name an ``ImportAlias`` binds (``as`` name, else the root of its dotted name)."""
    if alias.asname is not None:
        target = alias.asname.name
        return target.value if isinstance(target, cst.Name) else None
    full = dotted_name(alias.name)
    return None if full is None else full.split(".")[0]


def bindings_of(statement: ImportNode, package: str | None) -> list[Binding]:
    """Every name ``statement`` binds, with the qualified name it denotes (``[]`` for ``*``)."""
    result: list[Binding] = []
    if isinstance(statement, cst.ImportFrom):
        if isinstance(statement.names, cst.ImportStar):
            return result
        base = import_from_module(statement, package)
        if base is None:
            return result
        for alias in statement.names:
            name = dotted_name(alias.name)
            local = alias_local_name(alias)
            if name is None or local is None:
                continue
            qname = f"{base}.{name}"
            result.append(Binding(local, qname, qname, statement, alias))
        return result
    for alias in statement.names:
        name = dotted_name(alias.name)
        local = alias_local_name(alias)
        if name is None or local is None:
            continue
        if alias.asname is not None:
            result.append(Binding(local, name, name, statement, alias))
        else:
            result.append(Binding(local, local, name, statement, alias, plain=True))
    return result


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


# --------------------------------------------------------------------------- strings


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


def class_index(module: cst.Module, name: str) -> int | None:
    """Position of the top-level ``class name`` in ``module.body``, or None."""
    for index, statement in enumerate(module.body):
        if isinstance(statement, cst.ClassDef) and statement.name.value == name:
            return index
    return None


def top_level_names(module: cst.Module) -> set[str]:
    """Every name ``module`` binds at top level: classes, functions, imports, plain assignments."""
    names: set[str] = set()
    for statement in module.body:
        if isinstance(statement, (cst.ClassDef, cst.FunctionDef)):
            names.add(statement.name.value)
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(
                    small.names, cst.ImportStar
                ):
                    names.update(n for n in (alias_local_name(a) for a in small.names) if n)
                elif isinstance(small, cst.Assign):
                    for target in small.targets:
                        if isinstance(target.target, cst.Name):
                            names.add(target.target.value)
                elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    names.add(small.target.value)
    return names

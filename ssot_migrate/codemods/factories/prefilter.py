"""Which files and which statements phase 3 must analyse with libcst's metadata, decided on the
``ast`` the pre-filter already has.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet

import libcst as cst

from ssot_migrate.codemods.factories.plan import TargetPlan
from ssot_migrate.model import (
    SourceFile,
)
from ssot_migrate.pysyntax import (
    alias_local_name,
    dotted_name,
    resolve_relative,
    words,
)


def _parse_ast(source: bytes) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # let libcst decide (newer syntax, encodings) and report


def handled_names(plan: TargetPlan) -> tuple[frozenset[str], frozenset[str]]:
    """The dotted names ``plan`` rewrites or lists (constructors, facades, legacy factories),
    and the modules on the way to them (``a.b`` and ``a`` for ``a.b.C``)."""
    handled = {*plan.constructors, *(n for n, _ in plan.blocked), *(n for n, _ in plan.legacy)}
    prefixes = {
        name.rsplit(".", depth)[0] for name in handled for depth in range(1, name.count(".") + 1)
    }
    return frozenset(handled), frozenset(prefixes)


def _may_reference(
    tree: ast.Module, file: SourceFile, handled: AbstractSet[str], prefixes: AbstractSet[str]
) -> bool:
    """Second, cheap pre-filter: can ``source`` bind any handled name through its imports?

    The text needle (``Manager``) also hits ``ManagerMixin`` and friends; scope and qualified
    name metadata cost far more than the C parser, so a file whose imports (any depth) reach
    no handled name (``handled_names`` of the plans that apply), no module on the way to one,
    and that does not define one is left here.
    """
    if file.module is not None and file.module in prefixes:
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in handled or alias.name in prefixes:
                    return True
        elif isinstance(node, ast.ImportFrom):
            base = resolve_relative(node.level, node.module, file.package)
            if base is None:
                return True
            for alias in node.names:
                if alias.name == "*" and base in prefixes:
                    return True
                full = f"{base}.{alias.name}"
                if full in handled or full in prefixes:
                    return True
    return False


def _as_names(module: cst.Module, names: set[str]) -> set[str]:
    """Local ``as`` names of imports whose imported name ends in one of ``names``."""
    found: set[str] = set()

    class _Visitor(cst.CSTVisitor):
        def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
            imported = dotted_name(node.name) or ""
            if node.asname is not None and imported.rpartition(".")[2] in names:
                local = alias_local_name(node)
                if local:
                    found.add(local)

    module.visit(_Visitor())
    return found


def _as_names_ast(tree: ast.Module, names: set[str]) -> set[str]:
    """``_as_names`` read from the ``ast`` (a C-speed walk instead of a libcst visit)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.asname and alias.name.rpartition(".")[2] in names:
                    found.add(alias.asname)
    return found


def _statements_for_metadata(
    module: cst.Module, tree: ast.Module, names: set[str], factory_names: set[str]
) -> tuple[list[cst.BaseStatement], dict[int, cst.CSTNode]] | None:
    """The statements whose scope analysis can change phase 3's result, or ``None`` when the two
    parses do not line up statement for statement (then: the whole module).

    A candidate (a class name, an ``as`` name, a module-level alias ``M = Manager``), what it
    resolves to and what refers to it, lie in statements that spell it: an identifier, an
    attribute, a parameter, a ``global``, a word of a string (libcst reads string annotations).
    Imports are kept (they are the bindings), and so is any statement spelling a name the
    factory's import could take (``free_name``: ``make``, ``make_``, ``make_2``). The others
    bind and read only names phase 3 never asks about, at module level and inside the body of a
    kept class or function alike (a name is local to a body only where the body binds it, which
    a statement not spelling it cannot do). A kept class or function whose body lost statements
    is a new node: the second value maps each such node to the original.
    """
    wanted = set(names)
    # ``M = Manager`` (and ``N = M``): the alias is a candidate wherever it is spelled.
    aliases: list[tuple[str, set[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(
            node.value, ast.Name | ast.Attribute
        ):
            value = node.value.id if isinstance(node.value, ast.Name) else node.value.attr
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            aliases.append(
                (value, {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)})
            )
    grown = True
    while grown:
        grown = False
        for value, bound in aliases:
            if value in wanted and not bound <= wanted:
                wanted |= bound
                grown = True

    # ``word.startswith(name)`` for some factory name, tested by the word's prefixes of those
    # names' lengths: a thousand targets' factories would be a thousand tests per word.
    lengths = sorted({len(name) for name in factory_names})

    def keep(group: list[ast.stmt]) -> bool:
        spelled = _words_of(group)
        return (
            any(isinstance(s, ast.Import | ast.ImportFrom) for s in group)
            or bool(spelled & wanted)
            or any(word[:size] in factory_names for word in spelled for size in lengths)
        )

    originals: dict[int, cst.CSTNode] = {}
    kept = _kept_statements(module.body, tree.body, keep, originals)
    return None if kept is None else (kept, originals)


def _kept_statements(
    statements: Sequence[cst.BaseStatement],
    nodes: Sequence[ast.stmt],
    keep: Callable[[list[ast.stmt]], bool],
    originals: dict[int, cst.CSTNode],
) -> list[cst.BaseStatement] | None:
    groups: list[list[ast.stmt]] = []
    index = 0
    for line in statements:
        count = len(line.body) if isinstance(line, cst.SimpleStatementLine) else 1
        groups.append(list(nodes[index : index + count]))
        index += count
    if index != len(nodes) or any(not group for group in groups):
        return None
    kept: list[cst.BaseStatement] = []
    for statement, group in zip(statements, groups):
        if not keep(group):
            continue
        body = statement.body if isinstance(statement, cst.ClassDef | cst.FunctionDef) else None
        if (
            not isinstance(body, cst.IndentedBlock)
            or len(group) != 1
            or not isinstance(group[0], ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        ):
            kept.append(statement)
            continue
        inner = _kept_statements(body.body, group[0].body, keep, originals)
        if inner is None or len(inner) == len(body.body):
            kept.append(statement)
            continue
        block = body.with_changes(body=inner or [body.body[0]])
        reduced = statement.with_changes(body=block)
        originals[id(block)], originals[id(reduced)] = body, statement
        kept.append(reduced)
    return kept


def _words_of(statements: Sequence[ast.stmt]) -> set[str]:
    """Every name ``statements`` spell: identifiers, attributes, parameters, imported and
    declared names, keywords, and the words inside their strings."""
    found: set[str] = set()
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name):
                found.add(node.id)
            elif isinstance(node, ast.Attribute):
                found.add(node.attr)
            elif isinstance(node, ast.arg):
                found.add(node.arg)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                found.add(node.name)
            elif isinstance(node, ast.alias):
                found.update(node.name.split("."))
                if node.asname:
                    found.add(node.asname)
            elif isinstance(node, ast.Global | ast.Nonlocal):
                found.update(node.names)
            elif isinstance(node, ast.keyword | ast.ExceptHandler | ast.MatchAs | ast.MatchStar):
                name = node.arg if isinstance(node, ast.keyword) else node.name
                if name:
                    found.add(name)
            elif isinstance(node, ast.MatchMapping) and node.rest:
                found.add(node.rest)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
                text = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
                found |= words(text)
    return found


def _string_words(tree: ast.Module) -> set[str]:
    """``_strings_in`` read from the ``ast``."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
            text = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
            found |= words(text)
    return found


def _strings_in(module: cst.Module) -> set[str]:
    """Identifier-like words inside string literals (``__all__`` entries, string annotations)."""
    words: set[str] = set()

    class _Visitor(cst.CSTVisitor):
        def visit_SimpleString(self, node: cst.SimpleString) -> None:
            text = node.value
            current = ""
            for ch in text:
                if ch.isalnum() or ch == "_":
                    current += ch
                else:
                    if current:
                        words.add(current)
                    current = ""
            if current:
                words.add(current)

    module.visit(_Visitor())
    return words

"""What one file depends on, read with ``ast`` (nothing is imported): the edges of the graph
``selection`` follows from a changed file to the test files that reach it.

Imports (with the names taken from each module), ``mock.patch`` strings, literal dynamic imports,
``pytest_plugins``, and calls of functions that wrap a dynamic import (``wrapper_calls``).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ssot_migrate.conventions import (
    patch_function,
    patch_target,
)
from ssot_migrate.discovery import module_facts, parse_source
from ssot_migrate.model import SourceFile
from ssot_migrate.pysyntax import ast_dotted_name, resolve_relative
from ssot_migrate.scan.filefacts import call_args

# Calls that import a module named by their first argument (dotted as bound in the file).
_DYNAMIC_IMPORTERS = frozenset(
    {
        "importlib.import_module",
        "importlib.__import__",
        "__import__",
        "builtins.__import__",
        "importlib.reload",
        "runpy.run_module",
        "pkgutil.iter_modules",
        "pkgutil.walk_packages",
        "importlib.util.spec_from_file_location",
        "imp.load_source",
        "imp.load_module",
    }
)
_BY_ARGUMENT = frozenset(
    {
        "importlib.import_module",
        "importlib.__import__",
        "__import__",
        "builtins.__import__",
        "runpy.run_module",
    }
)


@dataclass(frozen=True)
class Edge:
    """A dependency of a file: module ``module``; ``names`` imported from it (``None``: the
    whole module object, so everything it binds); ``parent``: only executed as a package of an
    imported submodule."""

    module: str
    names: frozenset[str] | None = None
    parent: bool = False


@dataclass
class FileImports:
    """What one file depends on, statically, and what a package ``__init__`` re-exports."""

    edges: list[Edge] = field(default_factory=list)
    dynamic: list[int] = field(default_factory=list)  # lines of non-literal dynamic imports
    plugins: list[str] = field(default_factory=list)  # ``pytest_plugins`` modules
    exports: dict[str, str] = field(default_factory=dict)  # name -> dotted value (re-exports)
    stars: list[str] = field(default_factory=list)
    defined: frozenset[str] = frozenset()
    # (function, argument index, whether submodules of the name given may be imported too)
    wrappers: list[tuple[str, int, bool]] = field(default_factory=list)


def _with_parents(module: str, names: frozenset[str] | None) -> list[Edge]:
    parts = module.split(".")
    edges = [Edge(".".join(parts[:i]), parent=True) for i in range(1, len(parts))]
    return edges + [Edge(module, names)]


# The last name of every call ``_call_edges`` looks at (dynamic importers, patchers): a cheap
# test that skips the other calls of a file, which are nearly all of them.
_CALL_NAMES = frozenset(
    {n.rpartition(".")[2] for n in _DYNAMIC_IMPORTERS}
    | {"patch", "object", "multiple", "setattr", "delattr"}
)


def file_imports(tree: ast.Module, file: SourceFile) -> FileImports:
    """Every import of ``tree`` (inside functions too: they run when the code does), the
    modules named by patch calls and literal dynamic imports, and ``__init__`` re-exports."""
    found = FileImports()
    if file.is_package:  # only an ``__init__`` is followed name by name
        facts = module_facts(tree, file, uses=False)
        found.exports = {b.name: b.value for b in facts.bindings}
        found.stars = [source for source, _, _ in facts.stars]
        found.defined = facts.defined
    imports: list[ast.Import | ast.ImportFrom] = []
    calls: list[ast.Call] = []
    for node in ast.walk(tree):  # one walk: it is most of the cost after parsing
        if isinstance(node, ast.Call):
            func = node.func
            last = (
                func.attr
                if isinstance(func, ast.Attribute)
                else (func.id if isinstance(func, ast.Name) else "")
            )
            if last in _CALL_NAMES:
                calls.append(node)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            imports.append(node)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytest_plugins" for t in node.targets
        ):
            items = (
                node.value.elts if isinstance(node.value, ast.List | ast.Tuple) else [node.value]
            )
            found.plugins += [
                e.value for e in items if isinstance(e, ast.Constant) and isinstance(e.value, str)
            ]
    for node in imports:
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.edges += _with_parents(alias.name, None)
        elif (source := resolve_relative(node.level, node.module, file.package)) is not None:
            names = frozenset(a.name for a in node.names)
            found.edges += _with_parents(source, None if "*" in names else names)
    if calls:
        local = local_names(tree, file, imports)
        # A module-level function that imports the module its parameter names is a wrapper
        # (``lazy_function(module, name)``): its callers' literal arguments are the edges.
        functions = [
            (s.lineno, s.end_lineno or s.lineno, s)
            for s in tree.body
            if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        for node in calls:
            enclosing = next(
                (f for start, end, f in functions if start <= node.lineno <= end), None
            )
            params = (
                None
                if enclosing is None
                else (
                    enclosing.name,
                    [a.arg for a in (*enclosing.args.posonlyargs, *enclosing.args.args)],
                )
            )
            _call_edges(node, local, found, params)
    for plugin in found.plugins:
        found.edges += _with_parents(plugin, None)
    return found


def local_names(
    tree: ast.Module,
    file: SourceFile,
    imports: Sequence[ast.Import | ast.ImportFrom] | None = None,
) -> dict[str, str]:
    """Local name -> dotted name, for every import in the file and its module-level defs."""
    local: dict[str, str] = {}
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef) and file.module:
            local[statement.name] = f"{file.module}.{statement.name}"
    if imports is None:
        imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    for node in imports:
        if isinstance(node, ast.Import):
            for alias in node.names:
                local[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        else:
            source = resolve_relative(node.level, node.module, file.package)
            for alias in node.names if source is not None else ():
                if alias.name != "*":
                    local[alias.asname or alias.name] = f"{source}.{alias.name}"
    return local


def _callee(node: ast.Call, local: Mapping[str, str]) -> tuple[str, str] | None:
    written = ast_dotted_name(node.func)
    if written is None:
        return None
    head, _, rest = written.partition(".")
    bound = local.get(head)
    return written, written if bound is None else (f"{bound}.{rest}" if rest else bound)


def _literal(node: ast.Call, index: int) -> str | None:
    arg = node.args[index] if len(node.args) > index else None
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value:
        return arg.value
    return None


def _call_edges(
    node: ast.Call,
    local: Mapping[str, str],
    found: FileImports,
    enclosing: tuple[str, list[str]] | None,
) -> None:
    callee = _callee(node, local)
    if callee is None:
        return
    written, full = callee
    if full in _DYNAMIC_IMPORTERS:
        literal = _literal(node, 0)
        first = node.args[0] if node.args else None
        if full in _BY_ARGUMENT and literal and not literal.startswith("."):
            found.edges += _with_parents(literal, None)
        elif (
            full in _BY_ARGUMENT
            and enclosing is not None
            and ((head := _leftmost(first)) is not None and head.id in enclosing[1])
        ):
            # ``module`` or ``module + "." + sub``: under the name the caller gives
            found.wrappers.append((enclosing[0], enclosing[1].index(head.id), head is not first))
        else:
            found.dynamic.append(node.lineno)
        return
    function = patch_function(written, local.get)
    target = patch_target(function, call_args(node)) if function is not None else None
    if target is not None and not target.is_object:
        # patch imports the longest importable prefix; which one is resolved against the graph
        found.edges.append(Edge(target.string, frozenset(), parent=False))


def _leftmost(node: ast.expr | None) -> ast.Name | None:
    """The parameter a module name is built from: ``p``, ``p + "." + x``, ``f"{p}.{x}"``."""
    while True:
        if isinstance(node, ast.Name):
            return node
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            node = node.left
        elif (
            isinstance(node, ast.JoinedStr)
            and node.values
            and isinstance(node.values[0], ast.FormattedValue)
        ):
            node = node.values[0].value
        else:
            return None


def wrapper_calls(
    tree: ast.Module, file: SourceFile, wrappers: Mapping[str, int]
) -> tuple[list[Edge], list[int]]:
    """Edges for the calls of dynamic-import wrappers (``dotted name -> argument index``) in
    ``tree`` with a literal module name, and the lines of the calls without one. (A wrapper
    that may import submodules of that name: the caller adds them.)"""
    local = local_names(tree, file)
    edges: list[Edge] = []
    dynamic: list[int] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        callee = _callee(node, local)
        if callee is None or callee[1] not in wrappers:
            continue
        literal = _literal(node, wrappers[callee[1]])
        if literal and not literal.startswith("."):
            edges += _with_parents(literal, None)
        else:
            dynamic.append(node.lineno)
    return edges, dynamic


def imports_of_source(task: tuple[SourceFile, bytes]) -> FileImports | None:
    """``file_imports`` of one ``(file, source)``; ``None`` when it does not parse (a pool task)."""
    file, source = task
    tree = parse_source(source)
    return file_imports(tree, file) if tree is not None else None

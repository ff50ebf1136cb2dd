"""``init``'s facts of one file (``file_facts``), in a worker process, cheaply.

Statements are walked, never every expression; constructions are found by one regular expression
over the text, docstrings and comments left out. A file that does not parse becomes a
``FileFacts`` with ``error`` set, never an exception.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from ssot_migrate.conventions import DOUBLE_PREFIXES
from ssot_migrate.discovery import module_facts
from ssot_migrate.init_defs import class_facts, function_facts
from ssot_migrate.init_facts import (
    DEPRECATED,
    ClassFacts,
    FileFacts,
    FunctionFacts,
    ImportUse,
    docstring,
    docstring_span,
    is_deprecation_warning,
    statements,
    test_support,
)
from ssot_migrate.model import SourceFile
from ssot_migrate.pysyntax import ast_dotted_name, resolve_relative

# ``Name(`` / ``pkg.mod.Name(`` with a capitalised last segment: a construction, by convention.
_CONSTRUCTION = re.compile(rb"(?<!\w)([A-Z]\w*)[ \t]*\(")
_DOTTED_PREFIX = re.compile(rb"(?<![\w.])(?:[A-Za-z_]\w*\.)+$")


def file_facts(source: bytes, file: SourceFile) -> FileFacts:
    """Facts of one file; a file Python cannot parse comes back with ``error`` and its line."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return FileFacts(
            file.path,
            file.module,
            file.is_package,
            error=f"syntax error: {exc.msg}",
            error_line=exc.lineno or 0,
        )
    except (ValueError, RecursionError, MemoryError) as exc:
        reason = (
            "nested too deeply to analyse"
            if isinstance(exc, RecursionError | MemoryError)
            else f"cannot be parsed: {exc}"
        )
        return FileFacts(file.path, file.module, file.is_package, error=reason)
    try:
        return _Collector(tree, source, file).facts()
    except RecursionError:
        return FileFacts(
            file.path, file.module, file.is_package, error="nested too deeply to analyse"
        )


class _Collector:
    def __init__(self, tree: ast.Module, source: bytes, file: SourceFile) -> None:
        self.tree = tree
        self.source = source
        self.file = file

    def facts(self) -> FileFacts:
        file, tree = self.file, self.tree
        # Test code (most of a Django's bytes) matters to init only through what it imports and
        # builds, and through its test doubles: its bindings, factories and other classes are
        # never candidates, so they are not collected.
        test = test_support(file.path)
        # ``uses=False``: scan's "is this import used" walk visits every expression; init
        # decides re-exports by who imports them, so it skips that (most of the cost).
        module = module_facts(tree, file, uses=False) if file.module and not test else None
        imports: list[ImportUse] = []
        local: dict[str, str] = {}
        docstrings: list[tuple[int, int]] = []
        module_aliases: set[str] = set()
        span = docstring_span(tree.body)
        if span:
            docstrings.append(span)
        for statement, in_def in statements(tree.body):
            if isinstance(statement, ast.ImportFrom):
                source = resolve_relative(statement.level, statement.module, file.package)
                if source is None:
                    continue
                for alias in statement.names:
                    if alias.name == "*":
                        continue
                    name = alias.asname or alias.name
                    imports.append(
                        ImportUse(f"{source}.{alias.name}", name, statement.lineno, not in_def)
                    )
                    local.setdefault(name, f"{source}.{alias.name}")
            elif isinstance(statement, ast.Import):
                for alias in statement.names:
                    imports.append(
                        ImportUse(
                            alias.name, alias.asname or alias.name, statement.lineno, not in_def
                        )
                    )
                    if alias.asname:
                        local.setdefault(alias.asname, alias.name)
                        if not in_def:
                            module_aliases.add(alias.asname)
                    else:
                        head = alias.name.split(".")[0]
                        local.setdefault(head, head)
            elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                span = docstring_span(statement.body)
                if span:
                    docstrings.append(span)
        if module is not None:
            # Module-level bindings win over imports inside functions.
            local.update({b.name: b.value for b in module.bindings if b.how != "typing"})
            for name in module.defined:
                local.pop(name, None)
        defined = (
            module.defined
            if module is not None
            else frozenset(
                s.name
                for s in tree.body
                if isinstance(s, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            )
        )
        facts = FileFacts(
            path=file.path,
            module=file.module,
            is_package=file.is_package,
            bindings=tuple(module.bindings) if module is not None else (),
            stars=tuple((s, line) for s, line, _ in module.stars) if module is not None else (),
            dunder_all=module.dunder_all if module is not None else None,
            defined=frozenset(defined),
            callables=frozenset(
                s.name
                for s in tree.body
                if isinstance(s, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            ),
            module_aliases=frozenset(module_aliases),
            shim=not test and _is_shim(tree.body),
            deprecated=bool(DEPRECATED.search(docstring(tree.body)))
            or any(is_deprecation_warning(s) for s in tree.body),
            imports=tuple(imports),
            local=local,
        )
        classes: list[ClassFacts] = []
        functions: list[FunctionFacts] = []
        for statement in tree.body:
            if isinstance(statement, ast.ClassDef):
                if not test or statement.name.startswith(DOUBLE_PREFIXES):
                    classes.append(class_facts(statement, facts))
            elif test:
                continue
            elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                found = function_facts(statement, facts)
                if found is not None:
                    functions.append(found)
        return replace(
            facts,
            classes=tuple(classes),
            functions=tuple(functions),
            constructions=tuple(self._constructions(docstrings)),
        )

    def _constructions(self, docstrings: Sequence[tuple[int, int]]) -> Iterable[tuple[str, int]]:
        """``Name(`` occurrences outside docstrings, comments and ``class``/``def`` lines."""
        skip: set[int] = set()
        for start, end in docstrings:
            skip.update(range(start, end + 1))
        source = self.source
        found: list[tuple[str, int]] = []
        line, counted = 1, 0
        for match in _CONSTRUCTION.finditer(source):
            start = match.start()
            line += source.count(b"\n", counted, start)
            counted = start
            if line in skip:
                continue
            line_start = source.rfind(b"\n", 0, start) + 1
            before = source[line_start:start]
            if b"#" in before or before.rstrip().endswith((b"class", b"def")):
                continue
            name = match.group(1)
            if before.endswith(b"."):
                prefix = _DOTTED_PREFIX.search(before)
                if prefix is None:
                    continue  # ``call().Name(``: not a name this file binds
                name = prefix.group(0) + name
            found.append((name.decode("ascii", "replace"), line))
        return found


def _is_shim(body: Sequence[ast.stmt]) -> bool:
    """Whether a module's top level only imports and re-exports (and says so, or falls back).

    Allowed: a docstring, imports, ``__all__``, ``Old = New`` aliases, ``try/except ImportError``
    fallbacks, ``if sys.version_info``/``TYPE_CHECKING`` branches, deprecation warnings, ``del``,
    and a module ``__getattr__``/``__dir__`` (the lazy-deprecation idiom).
    """
    imported = False

    def ok(statements: Sequence[ast.stmt]) -> bool:
        nonlocal imported
        for statement in statements:
            if isinstance(statement, ast.ImportFrom):
                if statement.module != "__future__":
                    imported = True
            elif isinstance(statement, ast.Import):
                imported = True
            elif isinstance(statement, ast.Expr):
                if not (
                    isinstance(statement.value, ast.Constant) or is_deprecation_warning(statement)
                ):
                    return False
            elif isinstance(statement, ast.Assign | ast.AnnAssign | ast.AugAssign):
                value = statement.value
                targets = (
                    statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                )
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                if len(names) != len(targets):
                    return False
                if names != ["__all__"] and not (value is not None and ast_dotted_name(value)):
                    return False
            elif isinstance(statement, ast.If):
                if not (ok(statement.body) and ok(statement.orelse)):
                    return False
            elif isinstance(statement, ast.Try):
                caught = {
                    ast_dotted_name(h.type) if h.type is not None else None
                    for h in statement.handlers
                }
                if not caught <= {"ImportError", "ModuleNotFoundError", "AttributeError"}:
                    return False
                if not (
                    ok(statement.body)
                    and ok(statement.orelse)
                    and all(ok(h.body) for h in statement.handlers)
                ):
                    return False
            elif isinstance(statement, ast.FunctionDef):
                if statement.name not in ("__getattr__", "__dir__"):
                    return False
            elif not isinstance(statement, ast.Delete | ast.Pass):
                return False
        return True

    return ok(body) and imported

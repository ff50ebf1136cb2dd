"""Statements of a module body: docstring, import lines, where a new import goes, what is bound.

insert_top_import(module, <from m import X>)   # after the docstring and the leading imports
top_level_names(module)                         # {"X", "main", ...}: what a new name avoids
"""

from __future__ import annotations

import libcst as cst

from ssot_migrate.pysyntax.bindings import alias_local_name
from ssot_migrate.pysyntax.names import dotted_name


def insert_top_import(module: cst.Module, line: cst.SimpleStatementLine) -> cst.Module:
    """``module`` with the import ``line`` after its docstring and leading imports.

    When code (not an import) follows directly, it is pushed two blank lines down, as PEP 8
    separates imports from definitions; otherwise nothing else moves.
    """
    index = _import_insert_index(module)
    body = list(module.body)
    if index > 0 and is_future_import(body[index - 1]) and not line.leading_lines:
        line = line.with_changes(leading_lines=[cst.EmptyLine()])
    if index < len(body) and not is_import_line(body[index]):
        following = body[index]
        leading = list(getattr(following, "leading_lines", ()))
        if not leading or leading[0].comment is not None:
            wanted = 2 if isinstance(following, (cst.ClassDef, cst.FunctionDef)) else 1
            body[index] = following.with_changes(
                leading_lines=[*(cst.EmptyLine() for _ in range(wanted)), *leading]
            )
    return module.with_changes(body=[*body[:index], line, *body[index:]])


def _import_insert_index(module: cst.Module) -> int:
    """After the docstring, ``__future__`` imports and the leading run of imports."""
    index = 0
    body = module.body
    if body and is_docstring(body[0]):
        index = 1
    while index < len(body) and is_import_line(body[index]):
        index += 1
    return index


def is_future_import(statement: cst.BaseStatement) -> bool:
    """A line holding only a ``from __future__ import``."""
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.ImportFrom)
        and dotted_name(statement.body[0].module or cst.Name("_")) == "__future__"
    )


def is_docstring(statement: cst.CSTNode) -> bool:
    """A module or class body's leading string statement."""
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def is_import_line(statement: cst.CSTNode) -> bool:
    """A line holding only import statements."""
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body
    )


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

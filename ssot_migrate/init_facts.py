"""Per-file facts for ``init``: what one file binds, imports, defines, constructs and forwards.

The values and the statement walks they share live here; ``init_collect`` gathers a file's facts
(``file_facts``), ``init_defs`` those of each class and function it defines.

Runs in worker processes over *every* Python file of the commit (``init`` has no names to
pre-filter by), so it must cost little more than ``ast.parse`` itself: statements are walked, never
every expression. Constructions are found by one regular expression over the text (``Name(`` and
``mod.Name(`` with a capitalised last segment), with docstrings and comments left out; the main
process resolves them through the file's imports. A file that does not parse becomes a
``FileFacts`` with ``error`` set, never an exception. Pure: no I/O, no git::

    # app/compat.py                                 FileFacts(module="app.compat", shim=True,
    from app.core.unified import Manager as Old         bindings=(ModuleBinding("Old", "app.core.unified.Manager"),))
    __all__ = ["Old"]
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from ssot_migrate.conventions import is_test_path
from ssot_migrate.discovery import ModuleBinding
from ssot_migrate.pysyntax import ast_dotted_name

DEPRECATED = re.compile(r"\bdeprecat", re.IGNORECASE)


@dataclass(frozen=True)
class ImportUse:
    """One imported name anywhere in a file: the dotted path it reaches and the local name."""

    dotted: str
    local: str
    line: int
    top: bool  # executed at import time (module level, not in a def)


@dataclass(frozen=True)
class MethodSpan:
    """A method of a class body: name, first and last line (for comparing bodies later)."""

    name: str
    line: int
    end_line: int


@dataclass(frozen=True)
class ClassFacts:
    """A top-level class: bases, own methods, what it holds and forwards to, how thin it is.

    ``held`` maps ``self.<attr>`` to the dotted class (or factory) it is built from, or the
    annotation of the parameter stored in it; ``forwards`` lists ``(method, attr)`` for methods
    whose body calls the same-named method of ``self.<attr>``. ``thin_init`` is true when the
    class's only own method is an ``__init__`` that passes its parameters to ``super().__init__``
    (possibly after a warning). ``factories`` are ``(classmethod, product)`` for class methods whose
    every return builds ``cls`` or a named class.
    """

    name: str
    line: int
    bases: tuple[str, ...]
    methods: tuple[MethodSpan, ...]
    decorated: bool = False
    attributes: bool = False  # class-level assignments (behaviour, not a plain copy)
    held: tuple[tuple[str, str], ...] = ()
    forwards: tuple[tuple[str, str], ...] = ()
    thin_init: bool = False
    deprecated: bool = False
    protocol: bool = False
    factories: tuple[tuple[str, str], ...] = ()
    init_shape: str | None = (
        None  # ``__init__``'s parameters (``signature_shape``); None: inherited
    )

    @property
    def method_names(self) -> frozenset[str]:
        """Every method defined in the class body."""
        return frozenset(m.name for m in self.methods)

    @property
    def public_methods(self) -> frozenset[str]:
        """Own methods without a leading underscore."""
        return frozenset(m.name for m in self.methods if not m.name.startswith("_"))


@dataclass(frozen=True)
class FunctionFacts:
    """A module-level function every ``return`` of which builds something (a factory shape).

    ``products`` are the dotted callees of the returns (one per ``return``); ``calls`` every
    dotted callee in the body (to see a legacy factory calling the canonical one).
    """

    name: str
    line: int
    products: tuple[str, ...]
    calls: frozenset[str] = frozenset()
    deprecated: bool = False
    shape: str = ""  # ``signature_shape`` of the function


@dataclass(frozen=True)
class FileFacts:
    """Everything ``init`` needs from one file (picklable: it crosses the process pool)."""

    path: str
    module: str | None
    is_package: bool = False
    error: str = ""
    error_line: int = 0
    bindings: tuple[ModuleBinding, ...] = ()
    stars: tuple[tuple[str, int], ...] = ()  # ``from m import *``: the module and the line
    dunder_all: frozenset[str] | None = None
    defined: frozenset[str] = frozenset()
    callables: frozenset[str] = frozenset()  # top-level classes and functions
    module_aliases: frozenset[str] = frozenset()  # ``import x as y`` at top level: a module
    shim: bool = False
    deprecated: bool = False
    imports: tuple[ImportUse, ...] = ()
    classes: tuple[ClassFacts, ...] = ()
    functions: tuple[FunctionFacts, ...] = ()
    constructions: tuple[tuple[str, int], ...] = ()
    local: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def resolve(self, name: str) -> str | None:
        """The dotted path ``name`` (``Manager``, ``mod.Manager``) means in this file."""
        head, _, rest = name.partition(".")
        base = self.local.get(head)
        if base is None:
            if head in self.defined and self.module:
                base = f"{self.module}.{head}"
            else:
                return None
        return f"{base}.{rest}" if rest else base


def test_support(path: str) -> bool:
    """Test code, or a folder of test helpers (``test_framework/``, ``testing/``, ``tests/``)."""
    if is_test_path(path):
        return True
    return any(
        part.startswith("test") or part.endswith(("tests", "testing"))
        for part in path.split("/")[:-1]
    )


_BLOCKS = ("body", "orelse", "finalbody")


def statements(body: Sequence[ast.stmt], in_def: bool = False) -> Iterator[tuple[ast.stmt, bool]]:
    """Every statement, nested ones included, with whether it sits inside a def or class."""
    stack: list[tuple[Sequence[ast.stmt], bool]] = [(body, in_def)]
    defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    while stack:
        block, inside = stack.pop()
        for statement in block:
            yield statement, inside
            kind = type(statement)
            if (
                kind is ast.Expr
                or kind is ast.Assign
                or kind is ast.Return
                or kind is ast.Import
                or kind is ast.ImportFrom
                or kind is ast.AugAssign
            ):
                continue  # the common leaves
            nested = inside or isinstance(statement, defs)
            for name in _BLOCKS:
                child = getattr(statement, name, None)
                if child:
                    stack.append((child, nested))
            if isinstance(statement, ast.Try | ast.TryStar):
                for handler in statement.handlers:
                    stack.append((handler.body, nested))
            elif isinstance(statement, ast.Match):
                for case in statement.cases:
                    stack.append((case.body, nested))


def docstring_span(body: Sequence[ast.stmt]) -> tuple[int, int] | None:
    first = body[0] if body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return first.lineno, first.end_lineno or first.lineno
    return None


def docstring(body: Sequence[ast.stmt]) -> str:
    first = body[0] if body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return first.value.value
    return ""


def is_deprecation_warning(statement: ast.stmt) -> bool:
    """``warnings.warn(..., DeprecationWarning)`` (any ``*Deprecation*`` category)."""
    if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
        return False
    call = statement.value
    if not (ast_dotted_name(call.func) or "").endswith("warn"):
        return False
    for argument in [*call.args, *(k.value for k in call.keywords)]:
        if "Deprecation" in (ast_dotted_name(argument) or ""):
            return True
    return False

"""Per-file facts for ``init``: what one file binds, imports, defines, constructs and forwards.

Runs in worker processes over *every* Python file of the commit (``init`` has no names to
pre-filter by), so it must cost little more than ``ast.parse`` itself: statements are walked, never
every expression. Constructions are found by one regular expression over the text (``Name(`` and
``mod.Name(`` with a capitalised last segment), with docstrings and comments left out; the main
process resolves them through the file's imports. A file that does not parse becomes a
``FileFacts`` with ``error`` set, never an exception. Pure: no I/O, no git::

    # app/compat.py                                 FileFacts(module="app.compat", shim=True,
    from app.core.unified import Manager as Old         bindings=(Binding("Old", "app.core.unified.Manager"),))
    __all__ = ["Old"]
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from ssot_migrate.conventions import DOUBLE_PREFIXES, is_test_path
from ssot_migrate.discovery import Binding, dotted, module_facts
from ssot_migrate.model import SourceFile
from ssot_migrate.pysyntax import resolve_relative

# ``Name(`` / ``pkg.mod.Name(`` with a capitalised last segment: a construction, by convention.
_CONSTRUCTION = re.compile(rb"(?<!\w)([A-Z]\w*)[ \t]*\(")
_DOTTED_PREFIX = re.compile(rb"(?<![\w.])(?:[A-Za-z_]\w*\.)+$")
_DEPRECATED = re.compile(r"\bdeprecat", re.IGNORECASE)


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
    bindings: tuple[Binding, ...] = ()
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


_BLOCKS = ("body", "orelse", "finalbody")


def _statements(body: Sequence[ast.stmt], in_def: bool = False) -> Iterator[tuple[ast.stmt, bool]]:
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


def _docstring_span(body: Sequence[ast.stmt]) -> tuple[int, int] | None:
    first = body[0] if body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return first.lineno, first.end_lineno or first.lineno
    return None


def _docstring(body: Sequence[ast.stmt]) -> str:
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
    if not (dotted(call.func) or "").endswith("warn"):
        return False
    for argument in [*call.args, *(k.value for k in call.keywords)]:
        if "Deprecation" in (dotted(argument) or ""):
            return True
    return False


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
        span = _docstring_span(tree.body)
        if span:
            docstrings.append(span)
        for statement, in_def in _statements(tree.body):
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
                span = _docstring_span(statement.body)
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
            deprecated=bool(_DEPRECATED.search(_docstring(tree.body)))
            or any(is_deprecation_warning(s) for s in tree.body),
            imports=tuple(imports),
            local=local,
        )
        classes: list[ClassFacts] = []
        functions: list[FunctionFacts] = []
        for statement in tree.body:
            if isinstance(statement, ast.ClassDef):
                if not test or statement.name.startswith(DOUBLE_PREFIXES):
                    classes.append(self._class(statement, facts))
            elif test:
                continue
            elif isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                found = self._factory(statement, facts)
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

    def _class(self, node: ast.ClassDef, facts: FileFacts) -> ClassFacts:
        bases = tuple(facts.resolve(dotted(b) or "") or (dotted(b) or "") for b in node.bases)
        methods: list[MethodSpan] = []
        attributes = False
        deprecated = bool(_DEPRECATED.search(_docstring(node.body)))
        class_factories: list[tuple[str, str]] = []
        held: dict[str, str] = {}
        forwards: list[tuple[str, str]] = []
        init: ast.FunctionDef | ast.AsyncFunctionDef | None = None
        for index, statement in enumerate(node.body):
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                methods.append(
                    MethodSpan(
                        statement.name, statement.lineno, statement.end_lineno or statement.lineno
                    )
                )
                if statement.name == "__init__":
                    init = statement
                decorators = {dotted(d) for d in statement.decorator_list}
                if "classmethod" in decorators:
                    product = self._classmethod_product(statement, node.name, facts)
                    if product is not None:
                        class_factories.append((statement.name, product))
                self._method_holdings(statement, facts, held)
            elif isinstance(statement, ast.Assign | ast.AnnAssign | ast.AugAssign):
                attributes = True
                if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                    annotated = facts.resolve(dotted(statement.annotation) or "")
                    if annotated:
                        held.setdefault(statement.target.id, annotated)
            elif is_deprecation_warning(statement):
                deprecated = True
            elif (
                not (index == 0 and _docstring_span([statement]))
                and not isinstance(statement, ast.Pass)
                and not (
                    isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
                )
            ):
                attributes = True  # nested classes, ifs: more than a plain copy
        if held:
            forwards = self._forwards(node, held)
        if init is not None and any(is_deprecation_warning(s) for s in init.body):
            deprecated = True
        thin = (
            init is not None and {m.name for m in methods} == {"__init__"} and _passes_through(init)
        )
        protocol = any(b.rpartition(".")[2] in ("Protocol", "ABC") for b in bases)
        return ClassFacts(
            name=node.name,
            line=node.lineno,
            bases=bases,
            methods=tuple(methods),
            decorated=bool(node.decorator_list),
            attributes=attributes,
            held=tuple(sorted(held.items())),
            forwards=tuple(forwards),
            thin_init=thin,
            deprecated=deprecated,
            protocol=protocol,
            factories=tuple(class_factories),
            init_shape=signature_shape(init.args, bound=True) if init is not None else None,
        )

    @staticmethod
    def _method_holdings(
        method: ast.FunctionDef | ast.AsyncFunctionDef, facts: FileFacts, held: dict[str, str]
    ) -> None:
        """``self.x = Cls(...)`` / ``self.x = param`` (param annotated with a class) anywhere."""
        typed: dict[str, str] = {}
        for argument in [*method.args.args, *method.args.kwonlyargs]:
            if argument.annotation is not None:
                name = dotted(argument.annotation)
                resolved = facts.resolve(name) if name else None
                if resolved:
                    typed[argument.arg] = resolved
        if method.name not in ("__init__", "__post_init__", "setup", "setUp"):
            return  # holding is set up at construction
        for statement in method.body:
            if isinstance(statement, ast.Assign):
                targets, value = statement.targets, statement.value
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                targets, value = [statement.target], statement.value
            else:
                continue
            source: str | None = None
            if isinstance(value, ast.Call):
                name = dotted(value.func)
                source = facts.resolve(name) if name else None
            elif isinstance(value, ast.Name):
                source = typed.get(value.id)
            if source is None:
                continue
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "self"
                ):
                    held.setdefault(target.attr, source)

    @staticmethod
    def _forwards(node: ast.ClassDef, held: dict[str, str]) -> list[tuple[str, str]]:
        """Methods whose top statements call ``self.<held>.<same name>(...)``."""
        found: list[tuple[str, str]] = []
        for method in node.body:
            if not isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if method.name.startswith("__") and method.name != "__getattr__":
                continue
            for statement in method.body:
                value: ast.expr | None = None
                if isinstance(statement, ast.Return | ast.Expr | ast.Assign):
                    value = statement.value
                if isinstance(value, ast.Await):
                    value = value.value
                if not isinstance(value, ast.Call):
                    continue
                func = value.func
                owner: ast.expr | None = None
                if isinstance(func, ast.Attribute) and func.attr == method.name:
                    owner = func.value
                elif method.name == "__getattr__" and dotted(func) == "getattr" and value.args:
                    owner = value.args[0]
                if (
                    isinstance(owner, ast.Attribute)
                    and isinstance(owner.value, ast.Name)
                    and owner.value.id == "self"
                    and owner.attr in held
                ):
                    found.append((method.name, owner.attr))
                    break
        return found

    @staticmethod
    def _classmethod_product(
        method: ast.FunctionDef | ast.AsyncFunctionDef, class_name: str, facts: FileFacts
    ) -> str | None:
        """The class every return of an alternative constructor builds (``cls(...)``)."""
        receiver = method.args.args[0].arg if method.args.args else "cls"
        products = set()
        for value in _returns(method):
            if not isinstance(value, ast.Call):
                return None
            name = dotted(value.func)
            if name == receiver or name == class_name:
                products.add(f"{facts.module}.{class_name}")
            elif name is not None and (resolved := facts.resolve(name)) is not None:
                products.add(resolved)
            else:
                return None
        return products.pop() if len(products) == 1 else None

    @staticmethod
    def _factory(
        node: ast.FunctionDef | ast.AsyncFunctionDef, facts: FileFacts
    ) -> FunctionFacts | None:
        """A module-level function whose every return is a call (of a class or a factory)."""
        if node.name.startswith("__") or isinstance(node, ast.AsyncFunctionDef):
            return None
        if any(dotted(d) not in (None, "functools.wraps") for d in node.decorator_list):
            return None  # caches, properties, registrations: not a plain factory
        built: dict[str, str] = {}  # local = Cls(...) inside the body
        for statement, _ in _statements(node.body):
            if (
                isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
                and isinstance(statement.value, ast.Call)
            ):
                name = dotted(statement.value.func)
                if name is not None:
                    built[statement.targets[0].id] = name
        products: list[str] = []
        values = list(_returns(node))
        if not values:
            return None
        for value in values:
            callee: str | None = None
            if isinstance(value, ast.Call):
                callee = dotted(value.func)
            elif isinstance(value, ast.Name):
                callee = built.get(value.id)
            resolved = facts.resolve(callee) if callee else None
            if resolved is None:
                return None
            products.append(resolved)
        calls: set[str] = set()
        for statement, _ in _statements(node.body):
            for sub in (
                ast.walk(statement) if isinstance(statement, ast.Return | ast.Assign) else ()
            ):
                if isinstance(sub, ast.Call) and (name := dotted(sub.func)) is not None:
                    resolved = facts.resolve(name)
                    if resolved:
                        calls.add(resolved)
        deprecated = bool(_DEPRECATED.search(_docstring(node.body))) or any(
            is_deprecation_warning(s) for s, _ in _statements(node.body)
        )
        return FunctionFacts(
            node.name,
            node.lineno,
            tuple(products),
            frozenset(calls),
            deprecated,
            signature_shape(node.args, bound=False),
        )


def _returns(node: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.expr]:
    """The value of every ``return`` of the function itself (``None`` for a bare ``return``)."""
    for statement, _ in _statements_no_defs(node.body):
        if isinstance(statement, ast.Return):
            yield statement.value if statement.value is not None else ast.Constant(None)


def _statements_no_defs(body: Sequence[ast.stmt]) -> Iterator[tuple[ast.stmt, bool]]:
    """Statements of a function body, not descending into nested defs or classes."""
    for statement in body:
        yield statement, True
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for name in ("body", "orelse", "finalbody"):
            block = getattr(statement, name, None)
            if isinstance(block, list):
                yield from _statements_no_defs(block)
        if isinstance(statement, ast.Try | ast.TryStar):
            for handler in statement.handlers:
                yield from _statements_no_defs(handler.body)
        elif isinstance(statement, ast.Match):
            for case in statement.cases:
                yield from _statements_no_defs(case.body)


def _passes_through(init: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """``__init__`` does nothing but warn and hand its own parameters to ``super().__init__``."""
    params = {a.arg for a in [*init.args.posonlyargs, *init.args.args, *init.args.kwonlyargs]}
    params |= {a.arg for a in (init.args.vararg, init.args.kwarg) if a is not None}
    called_super = False
    for index, statement in enumerate(init.body):
        if index == 0 and _docstring_span([statement]):
            continue
        if isinstance(statement, ast.Pass) or is_deprecation_warning(statement):
            continue
        if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
            return False
        call = statement.value
        func = call.func
        if not (
            isinstance(func, ast.Attribute)
            and func.attr == "__init__"
            and isinstance(func.value, ast.Call)
            and dotted(func.value.func) == "super"
        ):
            return False
        if not _same_arguments(init.args, call):
            return False  # a fixed, repeated or reordered argument: a specialisation
        called_super = True
    return called_super


def signature_shape(params: ast.arguments, *, bound: bool) -> str:
    """The parameters a caller passes, as text: ``user_context, *, timeout=, **`` (names with
    ``=`` have a default; ``*args`` and ``**`` stand for any further arguments).

    A factory with its class's shape takes every call of the constructor unchanged, so phase 3
    can route the constructions through it.
    """
    positional = [*params.posonlyargs, *params.args][1 if bound else 0 :]
    defaults = len(params.defaults)
    parts = [
        a.arg + ("=" if i >= len(positional) - defaults else "") for i, a in enumerate(positional)
    ]
    if params.vararg is not None:
        parts.append("*args")
    elif params.kwonlyargs:
        parts.append("*")
    parts += [
        a.arg + ("=" if d is not None else "")
        for a, d in zip(params.kwonlyargs, params.kw_defaults)
    ]
    if params.kwarg is not None:
        parts.append("**")
    return ", ".join(parts)


def _same_arguments(params: ast.arguments, call: ast.Call) -> bool:
    """The call passes the parameters on as received: positionals in order, keywords by name."""
    positional = [a.arg for a in [*params.posonlyargs, *params.args][1:]]
    passed: list[str] = []
    for argument in call.args:
        if isinstance(argument, ast.Starred):
            if not (
                isinstance(argument.value, ast.Name)
                and params.vararg is not None
                and argument.value.id == params.vararg.arg
            ):
                return False
        elif isinstance(argument, ast.Name):
            passed.append(argument.id)
        else:
            return False
    keywords = {a.arg for a in params.kwonlyargs} | set(positional[len(passed) :])
    for keyword in call.keywords:
        value = keyword.value
        if keyword.arg is None:
            if not (
                isinstance(value, ast.Name)
                and params.kwarg is not None
                and value.id == params.kwarg.arg
            ):
                return False
        elif not (
            isinstance(value, ast.Name) and value.id == keyword.arg and keyword.arg in keywords
        ):
            return False
    return passed == positional[: len(passed)]


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
                if names != ["__all__"] and not (value is not None and dotted(value)):
                    return False
            elif isinstance(statement, ast.If):
                if not (ok(statement.body) and ok(statement.orelse)):
                    return False
            elif isinstance(statement, ast.Try):
                caught = {
                    dotted(h.type) if h.type is not None else None for h in statement.handlers
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

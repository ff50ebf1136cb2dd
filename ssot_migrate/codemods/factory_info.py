"""A target's factory function, read statically: its signature and whether it returns a shared
instance (``analyze_factory``). Phase 2 builds the canonical through it, phase 3 rewrites
constructions to it; both read it from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import libcst as cst

from ssot_migrate.interfaces import (
    MethodSignature,
    SnapshotLike,
    find_class,
    implementation,
    method_signature,
    module_imports,
    parse_file,
)
from ssot_migrate.pysyntax import PerModule, dotted_name

# Decorators whose function returns the same object for the same arguments.
_CACHING_DECORATORS = frozenset(
    {"lru_cache", "cache", "cached", "memoize", "memoized", "singleton"}
)


@dataclass(frozen=True)
class FactoryInfo:
    """What :func:`analyze_factory` learnt about a factory function, statically.

    ``signature`` is ``None`` when the function could not be found or read. ``shared`` is the
    reason the factory returns a shared instance (``None``: a fresh one per call, as far as
    static analysis can see).
    """

    dotted: str
    signature: MethodSignature | None
    shared: str | None = None

    @property
    def module(self) -> str:
        return self.dotted.rpartition(".")[0]

    @property
    def name(self) -> str:
        return self.dotted.rpartition(".")[2]


def _locate_function(
    snapshot: SnapshotLike, dotted: str, depth: int = 0
) -> tuple[cst.FunctionDef, cst.Module, bool] | None:
    """The definition of function ``dotted`` (``Class.method`` allowed), following re-exports."""
    if depth > 3:
        return None
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        path = snapshot.path_for_module(module_name)
        if path is None:
            continue
        module = parse_file(snapshot, path)
        if module is None:
            return None
        rest = parts[cut:]
        imports = module_imports(module, module_name, path.endswith("__init__.py"))
        # ``@overload`` stubs are skipped: the implementation is the signature calls must fit.
        if len(rest) == 1:
            found = implementation(_tables(module).statements, rest[0], imports)
            if found is not None:
                return found, module, False
        elif len(rest) == 2:
            cls = find_class(module, rest[0])
            if cls is not None:
                found = implementation(_top_level(cls.body.body), rest[1], imports)
                if found is not None:
                    return found, module, True
        if rest[0] in imports:
            return _locate_function(snapshot, ".".join([imports[rest[0]], *rest[1:]]), depth + 1)
        return None
    return None


def _top_level(body: Sequence[cst.CSTNode]) -> Iterable[cst.CSTNode]:
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            yield from statement.body
        elif isinstance(statement, cst.If):
            yield from _top_level(statement.body.body)
            if statement.orelse is not None:
                yield from _top_level(statement.orelse.body.body)
        elif isinstance(statement, cst.Try):
            yield from _top_level(statement.body.body)
        else:
            yield statement


def analyze_factory(snapshot: SnapshotLike, dotted: str) -> FactoryInfo:
    """Read factory ``dotted``: its call signature and whether it returns a shared instance."""
    located = _locate_function(snapshot, dotted)
    if located is None:
        return FactoryInfo(dotted, None)
    node, module, in_class = located
    signature = method_signature(node, bound=in_class)
    return FactoryInfo(dotted, signature, shared_instance_reason(node, module))


def shared_instance_reason(
    node: cst.FunctionDef, module: cst.Module, _depth: int = 0
) -> str | None:
    """Why ``node`` returns a shared instance (a cache, a singleton), or ``None`` if it does not.

    Found statically: a caching decorator (``functools.lru_cache``/``cache``), a ``global``
    it assigns, a module-level dict it stores into, a class attribute it assigns (a class-level
    singleton), a module-level instance it returns, or a same-module function it delegates to
    that does any of these.
    """
    for decorator in node.decorators:
        expr = decorator.decorator
        if isinstance(expr, cst.Call):
            expr = expr.func
        name = dotted_name(expr) or ""
        if name.rpartition(".")[2] in _CACHING_DECORATORS:
            return f"it is decorated with @{name}"
    tables = _tables(module)
    finder = _StateFinder(set(tables.names), set(tables.classes), node)
    node.body.visit(finder)
    if finder.reason is not None:
        return finder.reason
    if _depth < 2:
        for called in finder.called:
            callee = tables.functions.get(called)
            if callee is not None and callee is not node:
                reason = shared_instance_reason(callee, module, _depth + 1)
                if reason is not None:
                    return f"it calls {called}(), and {reason}"
    return None


@dataclass(frozen=True)
class _ModuleTables:
    """What the factory analysis reads of a module's top level, read once per module: a
    thousand factories in fifty modules would walk each module twenty times."""

    statements: tuple[cst.CSTNode, ...]
    names: frozenset[str]
    classes: frozenset[str]
    functions: Mapping[str, cst.FunctionDef]


def _read_tables(module: cst.Module) -> _ModuleTables:
    statements = tuple(_top_level(module.body))
    return _ModuleTables(
        statements,
        frozenset(_module_level_names(statements)),
        frozenset(s.name.value for s in statements if isinstance(s, cst.ClassDef)),
        {s.name.value: s for s in statements if isinstance(s, cst.FunctionDef)},
    )


# As many as the modules ``ParsedModules`` keeps parsed: the factories' modules of a plan.
_tables = PerModule(_read_tables, kept=16)


def _module_level_names(statements: Iterable[cst.CSTNode]) -> set[str]:
    names: set[str] = set()
    for statement in statements:
        if isinstance(statement, cst.Assign):
            for target in statement.targets:
                if isinstance(target.target, cst.Name):
                    names.add(target.target.value)
        elif isinstance(statement, cst.AnnAssign) and isinstance(statement.target, cst.Name):
            names.add(statement.target.value)
    return names


class _StateFinder(cst.CSTVisitor):
    """Finds the first store into state that outlives a call of the function being read."""

    def __init__(self, module_names: set[str], classes: set[str], node: cst.FunctionDef) -> None:
        self.module_names = module_names
        self.classes = classes
        params = node.params
        self.locals: set[str] = {
            p.name.value for p in [*params.posonly_params, *params.params, *params.kwonly_params]
        }
        first = [*params.posonly_params, *params.params]
        self.cls_name = first[0].name.value if first else None
        self.globals: set[str] = set()
        self.reason: str | None = None
        self.called: list[str] = []

    def _found(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason

    def visit_Global(self, node: cst.Global) -> None:
        self.globals.update(n.name.value for n in node.names)

    def _store(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            if target.value in self.globals:
                self._found(f"it keeps the instance in the module global '{target.value}'")
            else:
                self.locals.add(target.value)
        elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            name = target.value.value
            if name in self.module_names and name not in self.locals:
                self._found(f"it stores instances in the module-level cache '{name}'")
        elif isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
            owner = target.value.value
            if owner in self.classes or owner == "cls":
                self._found(f"it keeps a class-level singleton in '{owner}.{target.attr.value}'")
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._store(element.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._store(target.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._store(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._store(node.target)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            owner = func.value.value
            if (
                func.attr.value in ("setdefault", "update", "__setitem__")
                and owner in self.module_names
                and owner not in self.locals
            ):
                self._found(f"it stores instances in the module-level cache '{owner}'")
        elif isinstance(func, cst.Name):
            self.called.append(func.value)

    def visit_Return(self, node: cst.Return) -> None:
        value = node.value
        if (
            isinstance(value, cst.Name)
            and value.value in self.module_names
            and value.value not in self.locals
        ):
            self._found(f"it returns the module-level instance '{value.value}'")

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # nested functions run later, if at all

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

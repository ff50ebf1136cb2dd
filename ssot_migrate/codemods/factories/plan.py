"""What phase 3 knows before reading a file: each target's factory (``analyze_factory``), its
class methods and legacy factories (``TargetPlan``, picklable), and whether the factory shares
one instance (``shared_instance_reason``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import libcst as cst

from ssot_migrate.interfaces import (
    MethodSignature,
    SnapshotLike,
    compare,
    find_class,
    implementation,
    load_class,
    method_signature,
    module_imports,
    parse_file,
)
from ssot_migrate.model import (
    Target,
)
from ssot_migrate.pysyntax import (
    dotted_name,
)

# Decorators whose function returns the same object for the same arguments.
_CACHING_DECORATORS = frozenset(
    {"lru_cache", "cache", "cached", "memoize", "memoized", "singleton"}
)


_PARTIAL = frozenset({"functools.partial", "functools.partialmethod"})


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


@dataclass(frozen=True)
class TargetPlan:
    """Everything the pure transform needs for one target."""

    target: str
    factory: FactoryInfo
    constructors: tuple[str, ...]
    blocked: tuple[tuple[str, str], ...] = ()
    legacy: tuple[tuple[str, str | None], ...] = ()
    exempt: tuple[str, ...] = ()
    skip_modules: tuple[tuple[str, str], ...] = ()
    renames: tuple[tuple[str, str], ...] = ()
    allow_shared: bool = False
    constructor: MethodSignature | None = None
    # Class methods of each constructible class (``Manager.from_config``): they build instances
    # without the factory, so their calls are listed.
    class_methods: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def class_methods_of(self, qname: str) -> tuple[str, ...]:
        """The class methods of constructor or facade ``qname`` (empty when unknown)."""
        return dict(self.class_methods).get(qname, ())

    def kind_of(self, qname: str) -> str | None:
        """``constructor``, ``blocked`` or ``legacy`` for a qualified name this plan handles."""
        if qname in self.constructors:
            return "constructor"
        if any(name == qname for name, _ in self.blocked):
            return "blocked"
        if any(name == qname for name, _ in self.legacy):
            return "legacy"
        return None


def _plan_target(target: Target, snapshot: SnapshotLike, facades_done: bool = False) -> TargetPlan:
    assert target.factory is not None
    factory = analyze_factory(snapshot, target.factory)
    constructors = [target.canonical, *target.all_aliases]
    blocked: list[tuple[str, str]] = []
    canonical = load_class(snapshot, target.canonical)
    for facade in target.facades:
        if facade in constructors:
            constructors.remove(facade)
        interface = load_class(snapshot, facade)
        if interface is None or canonical is None:
            # Phase 2 made it an alias of the canonical, or it cannot be read: an alias when
            # it resolves to the canonical, otherwise unknown.
            if interface is None:
                blocked.append((facade, "facade class could not be read statically"))
            else:
                blocked.append((facade, "the canonical class could not be read statically"))
            continue
        if interface.qualname == canonical.qualname:
            constructors.append(facade)  # already an alias of the canonical
            continue
        comparison = compare(interface, canonical)
        if comparison.is_compatible:
            constructors.append(facade)
        else:
            members = ", ".join(sorted(comparison.incompatible_members()))
            advice = (
                "phase 2 kept it, see its 'Needs a decision'; decide per site"
                if facades_done
                else "run phase 2 first, or decide per site"
            )
            reason = (
                f"{facade} is still a separate class with members the canonical lacks or "
                f"takes differently ({members}); the factory returns a canonical instance "
                f"({advice})"
            )
            blocked.append((facade, reason))
    legacy = tuple(
        (name, analyze_factory(snapshot, name).shared) for name in target.legacy_factories
    )
    class_methods: list[tuple[str, tuple[str, ...]]] = []
    for name in dict.fromkeys([*constructors, *(facade for facade, _ in blocked)]):
        interface = canonical if name in (target.canonical, *target.all_aliases) else None
        interface = interface or load_class(snapshot, name)
        if interface is not None:
            methods = sorted(m.name for m in interface.methods.values() if m.kind == "classmethod")
            class_methods.append((name, tuple(methods)))
    skip: list[tuple[str, str]] = []
    canonical_module = target.canonical.rpartition(".")[0]
    skip.append(
        (
            canonical_module,
            "site in the canonical class's own module: importing the factory here would be circular",
        )
    )
    for imported in _modules_imported_by(snapshot, factory.module):
        if imported != canonical_module:
            reason = (
                f"the factory's module {factory.module} imports this module: importing the "
                "factory here would create an import cycle"
            )
            skip.append((imported, reason))
    return TargetPlan(
        target=target.name,
        factory=factory,
        constructors=tuple(dict.fromkeys(constructors)),
        blocked=tuple(blocked),
        legacy=legacy,
        exempt=target.factory_exempt,
        skip_modules=tuple(skip),
        renames=target.factory_args,
        allow_shared=target.allow_shared,
        constructor=canonical.constructor if canonical is not None else None,
        class_methods=tuple(class_methods),
    )


def _modules_imported_by(snapshot: SnapshotLike, module_name: str) -> set[str]:
    path = snapshot.path_for_module(module_name)
    if path is None:
        return set()
    module = parse_file(snapshot, path)
    if module is None:
        return set()
    found: set[str] = set()
    for dotted in module_imports(module, module_name, path.endswith("__init__.py")).values():
        # ``from pkg.mod import Name`` imports pkg.mod; ``import pkg.mod`` imports it too.
        found.add(dotted)
        found.add(dotted.rpartition(".")[0])
    return {m for m in found if m and snapshot.path_for_module(m) is not None}


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
            found = implementation(_top_level(module.body), rest[0], imports)
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
    module_names = _module_level_names(module)
    classes = {s.name.value for s in _top_level(module.body) if isinstance(s, cst.ClassDef)}
    finder = _StateFinder(module_names, classes, node)
    node.body.visit(finder)
    if finder.reason is not None:
        return finder.reason
    if _depth < 2:
        functions = {
            s.name.value: s for s in _top_level(module.body) if isinstance(s, cst.FunctionDef)
        }
        for called in finder.called:
            callee = functions.get(called)
            if callee is not None and callee is not node:
                reason = shared_instance_reason(callee, module, _depth + 1)
                if reason is not None:
                    return f"it calls {called}(), and {reason}"
    return None


def _module_level_names(module: cst.Module) -> set[str]:
    names: set[str] = set()
    for statement in _top_level(module.body):
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

"""Phase 3: direct instantiation (and legacy factories) → the target's canonical factory.

Before::

    from app.core.unified import UnifiedManager
    from app.core.legacy import get_manager

    manager = UnifiedManager(user_id, cfg=settings)
    other = get_manager(user_id)

After (``factory = "app.core.factory.create_manager"``, ``factory-args = { cfg = "config" }``)::

    from app.core.factory import create_manager
    from app.core.legacy import get_manager

    manager = create_manager(user_id, config=settings)
    other = create_manager(user_id)

Calls are found through imports, ``as`` names, module attributes and module-level aliases bound
once (``M = Manager``; scope and qualified-name metadata, on files that passed the text pre-filter
only), never by text. A site is left alone and listed with a reason when the factory cannot take
its arguments, when the factory returns a shared instance and ``allow-shared`` is off, in the
factory's own module, in a ``factory-exempt`` file, where rewriting would import the factory into
a module it imports (a cycle), or where a string elsewhere (a ``mock.patch`` target) names the
class in that module. Dynamic construction (a module-level alias bound more than once included),
``functools.partial``, constructor references passed as values, subclass ``super().__init__``
calls and class methods of the class (``Manager.from_config()``, alternative constructors) are
listed, never rewritten. The reads of the repository (factory signature, lifetime, patch targets)
happen in :func:`build_codemod` and ``phases``; :meth:`FactoriesCodemod.transform` is pure.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import (
    Assignment,
    BaseAssignment,
    CodeRange,
    PositionProvider,
    QualifiedName,
    QualifiedNameSource,
    ScopeProvider,
)

from ssot_migrate.codemods._common import faithful_result, top_statement_lines
from ssot_migrate.conventions import construction_expected
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
    Change,
    CodemodResult,
    Config,
    NameKind,
    Note,
    NoteKind,
    PhaseId,
    SourceFile,
    Target,
)
from ssot_migrate.pysyntax import (
    alias_local_name,
    dotted_name,
    drop_aliases,
    free_name,
    import_bindings,
    insert_top_import,
    make_import_from,
    resolve_relative,
    shortest_relative,
)

# Decorators whose function returns the same object for the same arguments.
_CACHING_DECORATORS = frozenset(
    {"lru_cache", "cache", "cached", "memoize", "memoized", "singleton"}
)
_PARTIAL = frozenset({"functools.partial", "functools.partialmethod"})


# --------------------------------------------------------------------------- plan (picklable)


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


@dataclass(frozen=True)
class FactoriesCodemod:
    """The phase-3 codemod: picklable, pure; built by :func:`build_codemod`."""

    plans: tuple[TargetPlan, ...]
    nothing_to_do: tuple[str, ...] = ()
    phase: str = field(default=PhaseId.FACTORIES.value)
    # ``module.Name`` paths quoted anywhere in the repository (``mock.patch`` targets): a call
    # of ``Name`` in ``module`` is what such a patch intercepts, so it is not silently bypassed.
    named_elsewhere: frozenset[str] = frozenset()

    def needles(self) -> frozenset[str]:
        """Last segment of every constructor, facade and legacy factory name."""
        names: set[str] = set()
        for plan in self.plans:
            names.update(plan.constructors)
            names.update(name for name, _ in plan.blocked)
            names.update(name for name, _ in plan.legacy)
        return frozenset(name.rpartition(".")[2] for name in names)

    def transform(self, source: bytes, file: SourceFile) -> CodemodResult:
        """Rewrite the constructor and legacy-factory calls of ``source`` (see the module doc)."""
        plans = [p for p in self.plans if _applies(p, file)]
        if not plans:
            return CodemodResult(source)
        tree = _parse_ast(source)
        if tree is not None and not _may_reference(tree, file, plans):
            return CodemodResult(source)
        module = cst.parse_module(source)
        return _FileRewrite(module, source, file, plans, self.named_elsewhere, tree).run()


def _parse_ast(source: bytes) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # let libcst decide (newer syntax, encodings) and report


def _may_reference(tree: ast.Module, file: SourceFile, plans: Sequence[TargetPlan]) -> bool:
    """Second, cheap pre-filter: can ``source`` bind any handled name through its imports?

    The text needle (``Manager``) also hits ``ManagerMixin`` and friends; scope and qualified
    name metadata cost far more than the C parser, so a file whose imports (any depth) reach
    no handled name, no module on the way to one, and that does not define one is left here.
    """
    handled: set[str] = set()
    for plan in plans:
        handled.update(plan.constructors)
        handled.update(name for name, _ in plan.blocked)
        handled.update(name for name, _ in plan.legacy)
    prefixes = {
        name.rsplit(".", depth)[0] for name in handled for depth in range(1, name.count(".") + 1)
    }
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


def _applies(plan: TargetPlan, file: SourceFile) -> bool:
    return not construction_expected(file.path, file.module, plan.factory.module, plan.exempt)


# --------------------------------------------------------------------------- repository reads


def build_codemod(
    config: Config, snapshot: SnapshotLike, *, facades_done: bool = False
) -> FactoriesCodemod:
    """Read every target's factory (signature, lifetime) and facades; return the pure codemod.

    Targets without a ``factory`` do nothing and are named in ``nothing_to_do``. ``facades_done``
    says phase 2 already ran on this base (a facade still separate is one it kept on purpose).
    """
    plans: list[TargetPlan] = []
    idle: list[str] = []
    for target in config.targets:
        if target.factory is None:
            idle.append(f"nothing to do for target {target.name}: no factory configured")
            continue
        if target.canonical_kind == NameKind.MODULE:
            idle.append(
                f"nothing to do for target {target.name}: its canonical is a module, "
                "not a class a factory could build"
            )
            continue
        plans.append(_plan_target(target, snapshot, facades_done))
    return FactoriesCodemod(tuple(plans), tuple(idle))


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


# --------------------------------------------------------------------------- the pure rewrite


class _ParentMap(cst.CSTVisitor):
    """Each node's parent, from one walk of the tree.

    libcst's ``ParentNodeProvider`` asks every node for its ``children`` (a walk of its own per
    node) inside a batched pass of the whole tree: about as much time as scope analysis itself.
    The parents are the same: a node's parent is the node whose visit it is reached from.
    """

    def __init__(self) -> None:
        super().__init__()
        self.parents: dict[cst.CSTNode, cst.CSTNode] = {}
        self._stack: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self._stack:
            self.parents[node] = self._stack[-1]
        self._stack.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self._stack.pop()


def _parents_of(module: cst.Module) -> dict[cst.CSTNode, cst.CSTNode]:
    walk = _ParentMap()
    module.visit(walk)
    return walk.parents


@dataclass
class _Site:
    call: cst.Call
    plan: TargetPlan
    kind: str  # constructor | legacy
    qname: str
    local: str = ""


class _FileRewrite:
    """One file's analysis and rewrite; instantiated per ``transform`` call."""

    def __init__(
        self,
        module: cst.Module,
        source: bytes,
        file: SourceFile,
        plans: list[TargetPlan],
        named_elsewhere: frozenset[str] = frozenset(),
        tree: ast.Module | None = None,
    ) -> None:
        self.file = file
        self.source = source
        self.tree = tree
        self.named_elsewhere = named_elsewhere
        self.plans = plans
        self.module = module
        self.last_segments = {
            name.rpartition(".")[2]
            for plan in plans
            for name in (
                *plan.constructors,
                *(n for n, _ in plan.blocked),
                *(n for n, _ in plan.legacy),
            )
        }
        # ``from m import Manager as M``: the local name ``M`` is a candidate too.
        self.last_segments |= (
            _as_names_ast(tree, self.last_segments)
            if tree is not None
            else _as_names(self.module, self.last_segments)
        )
        # Scope and parent metadata cost a pass over every node: they are computed over the
        # statements that can matter only (see ``_statements_for_metadata``); the rest of the
        # module is still what positions, the rewrite and the output are made of.
        kept = (
            _statements_for_metadata(
                module, tree, self.last_segments, {plan.factory.name for plan in plans}
            )
            if tree is not None
            else None
        )
        self.meta_module = module if kept is None else module.with_changes(body=kept[0])
        self.wrapper = cst.MetadataWrapper(self.meta_module, unsafe_skip_copy=True)
        # Qualified names are asked of the scopes for candidate nodes only: libcst's provider
        # would make a pass over every node of the file to hand out lazy values.
        self.scopes = self.wrapper.resolve(ScopeProvider)
        self.parents: Mapping[cst.CSTNode, cst.CSTNode] = _parents_of(self.meta_module)
        if kept is not None and kept[1]:
            # Parents as in the file itself: a class or function that lost statements for the
            # analysis is its original (``_note_super_inits`` reads the whole class body).
            originals = kept[1]
            self.parents = {
                originals.get(id(child), child): originals.get(id(parent), parent)
                for child, parent in self.parents.items()
            }
        # Positions cost a full pass: only measured, statement by statement, where a site or
        # note needs a line (see ``_line``).
        self._positions: dict[int, Mapping[cst.CSTNode, CodeRange]] = {}
        self._starts: list[int] | None = None
        self._top_index: dict[int, int] = {}
        self.changes: list[Change] = []
        self.notes: list[Note] = []
        self.module_aliases: dict[str, tuple[BaseAssignment, tuple[TargetPlan, str, str]]] = {}
        self.alias_targets: set[int] = set()

    # -- resolution ------------------------------------------------------------------------

    def _absolute(self, qname: QualifiedName) -> str | None:
        name = qname.name
        if qname.source == QualifiedNameSource.LOCAL:
            return None
        if name.startswith("."):
            level = len(name) - len(name.lstrip("."))
            rest = name[level:]
            head, _, tail = rest.rpartition(".")
            base = resolve_relative(level, head or None, self.file.package)
            if base is None:
                return None
            return f"{base}.{tail}" if tail else base
        return name

    def _qualified(self, node: cst.CSTNode) -> Collection[QualifiedName]:
        scope = self.scopes.get(node)
        return scope.get_qualified_names_for(node) if scope is not None else ()

    def _resolve(self, node: cst.CSTNode) -> tuple[TargetPlan, str, str] | None:
        last = node.attr.value if isinstance(node, cst.Attribute) else getattr(node, "value", "")
        if last not in self.last_segments:
            return None
        if isinstance(node, cst.Name) and last in self.module_aliases:
            return self._through_module_alias(node)
        for qname in self._qualified(node):
            absolute = self._absolute(qname)
            if absolute is None:
                continue
            for plan in self.plans:
                kind = plan.kind_of(absolute)
                if kind is not None:
                    return plan, kind, absolute
        return None

    def _through_module_alias(self, node: cst.Name) -> tuple[TargetPlan, str, str] | None:
        assignment, resolved = self.module_aliases[node.value]
        scope = self.scopes.get(node)
        if scope is None:
            return None
        for access in scope.accesses[node.value]:
            if access.node is node:
                return resolved if set(access.referents) == {assignment} else None
        return None

    def _line(self, node: cst.CSTNode) -> tuple[int, int]:
        """Line and 1-based column of ``node``, measured within its top-level statement only."""
        top: cst.CSTNode | None = node
        while top is not None and not isinstance(self._parent(top), cst.Module):
            top = self._parent(top)
        if self._starts is None:
            self._starts = top_statement_lines(self.source, self.module) or []
            self._top_index = {id(statement): i for i, statement in enumerate(self.module.body)}
        index = self._top_index.get(id(top))
        if index is None or not self._starts:
            if -1 not in self._positions:
                whole = cst.MetadataWrapper(self.module, unsafe_skip_copy=True)
                self._positions[-1] = whole.resolve(PositionProvider)
            positions = self._positions[-1]
            offset = 0
        else:
            if index not in self._positions:
                alone = self.module.with_changes(
                    header=(), body=(self.module.body[index],), footer=()
                )
                measured = cst.MetadataWrapper(alone, unsafe_skip_copy=True).resolve(
                    PositionProvider
                )
                self._positions[index] = measured
            positions = self._positions[index]
            offset = self._starts[index] - 1
        position = positions.get(node)
        if position is None:
            return 0, 0
        return position.start.line + offset, position.start.column + 1

    def _note(self, node: cst.CSTNode, plan: TargetPlan, kind: NoteKind, message: str) -> None:
        line, column = self._line(node)
        self.notes.append(
            Note(
                self.file.path,
                line,
                column,
                plan.target,
                kind,
                message,
                severity="needs-decision",
            )
        )

    def _parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.parents.get(node)

    # -- classification ----------------------------------------------------------------------

    def run(self) -> CodemodResult:
        source = self.source
        sites = self._collect()
        if not sites:
            return CodemodResult(source, (), tuple(self.notes))
        rewriter = _Rewriter(self, sites)
        new_module = self.module.visit(rewriter)
        new_module = rewriter.finish(new_module)
        return faithful_result(
            source,
            self.module,
            new_module,
            self.file,
            self.plans[0].target,
            self.changes,
            self.notes,
        )

    def _collect(self) -> list[_Site]:
        sites: list[_Site] = []
        subclasses: list[tuple[cst.ClassDef, TargetPlan, str]] = []
        self._find_module_aliases()
        for node in list(self.scopes):
            if not isinstance(node, (cst.Name, cst.Attribute)):
                continue
            if id(node) in self.alias_targets:
                continue
            parent = self._parent(node)
            if parent is None:
                # Parsed from a string annotation (``-> "list[Manager]"``): a type, never a
                # construction, and with no position in the file.
                continue
            if isinstance(parent, cst.Attribute) and parent.value is node:
                self._note_class_method(node, parent)
                continue  # a prefix of a longer chain, or ``Class.attribute``
            if self._inside(node, (cst.Import, cst.ImportFrom)):
                continue
            if isinstance(node, cst.Name) and isinstance(parent, cst.Attribute):
                continue  # the ``attr`` part of an attribute, handled with the whole chain
            resolved = self._resolve(node)
            if resolved is None:
                continue
            plan, kind, qname = resolved
            if isinstance(parent, cst.Call) and parent.func is node:
                site = self._call_site(parent, plan, kind, qname)
                if site is not None:
                    sites.append(site)
                continue
            if kind == "constructor" or kind == "blocked":
                owner = self._base_of(node)
                if owner is not None:
                    subclasses.append((owner, plan, qname))
                    continue
            self._classify_reference(node, parent, plan, kind, qname)
        for owner, plan, qname in subclasses:
            self._note_super_inits(owner, plan, qname)
        sites.sort(key=lambda s: self._line(s.call))
        return sites

    def _find_module_aliases(self) -> None:
        """``M = Manager`` at module level, ``M`` bound nowhere else: calls of ``M`` are sites."""
        module_scope = self.scopes.get(self.meta_module)
        if module_scope is None:
            return
        for statement in self.module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if not (isinstance(small, cst.Assign) and len(small.targets) == 1):
                    continue
                target = small.targets[0].target
                if not isinstance(target, cst.Name) or not isinstance(
                    small.value, (cst.Name, cst.Attribute)
                ):
                    continue
                resolved = self._resolve(small.value)
                if resolved is None or len(module_scope.assignments[target.value]) != 1:
                    continue
                assignment = next(iter(module_scope.assignments[target.value]))
                self.module_aliases[target.value] = (assignment, resolved)
                self.alias_targets.add(id(target))
        self.last_segments |= set(self.module_aliases)

    def _note_class_method(self, node: cst.CSTNode, attribute: cst.Attribute) -> None:
        resolved = self._resolve(node)
        if resolved is None:
            return
        plan, kind, qname = resolved
        if kind == "legacy" or attribute.attr.value not in plan.class_methods_of(qname):
            return
        method = f"{qname.rpartition('.')[2]}.{attribute.attr.value}"
        called = isinstance(call := self._parent(attribute), cst.Call) and call.func is attribute
        self._note(
            attribute,
            plan,
            "alternative-constructor",
            f"{method}{'()' if called else ''} is a class method of {qname} that may build an "
            f"instance without {plan.factory.dotted}(); not rewritten: route it through the "
            "factory or decide by hand",
        )

    def _inside(self, node: cst.CSTNode, kinds: tuple[type[cst.CSTNode], ...]) -> bool:
        current = self._parent(node)
        while current is not None:
            if isinstance(current, kinds):
                return True
            if isinstance(current, cst.BaseStatement):
                return False
            current = self._parent(current)
        return False

    def _base_of(self, node: cst.CSTNode) -> cst.ClassDef | None:
        parent = self._parent(node)
        if isinstance(parent, cst.Arg):
            owner = self._parent(parent)
            if isinstance(owner, cst.ClassDef) and parent.keyword is None:
                return owner
        return None

    def _classify_reference(
        self,
        node: cst.BaseExpression,
        parent: cst.CSTNode | None,
        plan: TargetPlan,
        kind: str,
        qname: str,
    ) -> None:
        if self._inside(node, (cst.Annotation,)):
            return
        if isinstance(parent, (cst.Comparison, cst.ComparisonTarget, cst.SubscriptElement)):
            return  # ``type(x) is Manager``, ``Manager[int]``
        if isinstance(parent, cst.Subscript):
            return
        call = self._enclosing_call_of_arg(node)
        if call is not None:
            func = dotted_name(call.func) or ""
            if func in ("isinstance", "issubclass"):
                return
            if any(self._absolute(q) in _PARTIAL for q in self._qualified(call.func)):
                self._note(
                    node,
                    plan,
                    "partial",
                    f"functools.partial over {qname}: not rewritten (the factory may need "
                    "different arguments); decide by hand",
                )
                return
        what = "legacy factory" if kind == "legacy" else "constructor"
        # ``Old = Canonical``: a re-export (phase 1/2 alias). Calls through it in this file are
        # sites when ``Old`` is bound once; otherwise they cannot be followed, so it is listed.
        if (
            isinstance(parent, (cst.Assign, cst.AnnAssign))
            and self._module_level(parent)
            and not self._rebound_and_used(parent)
        ):
            return
        if isinstance(parent, cst.Return) and self._in_module_getattr(parent):
            return  # a deprecation ``__getattr__`` handing out the class
        if isinstance(parent, (cst.AssignTarget, cst.Assign, cst.AnnAssign)):
            message = (
                f"dynamic construction: the {what} {qname} is assigned to a name and "
                "may be called through it; not rewritten"
            )
            self._note(node, plan, "dynamic-construction", message)
            return
        self._note(
            node,
            plan,
            "constructor-reference",
            f"the {what} {qname} is passed as a value; calls through it are not rewritten",
        )

    def _rebound_and_used(self, statement: cst.Assign | cst.AnnAssign) -> bool:
        targets = (
            [t.target for t in statement.targets]
            if isinstance(statement, cst.Assign)
            else [statement.target]
        )
        module_scope = self.scopes.get(self.meta_module)
        for target in targets:
            if not isinstance(target, cst.Name) or module_scope is None:
                return True
            if target.value in self.module_aliases:
                continue
            if any(a.references for a in module_scope.assignments[target.value]):
                return True
        return False

    def _module_level(self, statement: cst.CSTNode) -> bool:
        line = self._parent(statement)
        return isinstance(line, cst.SimpleStatementLine) and isinstance(
            self._parent(line), cst.Module
        )

    def _in_module_getattr(self, node: cst.CSTNode) -> bool:
        current = self._parent(node)
        while current is not None and not isinstance(current, cst.FunctionDef):
            current = self._parent(current)
        return (
            isinstance(current, cst.FunctionDef)
            and current.name.value == "__getattr__"
            and isinstance(self._parent(current), cst.Module)
        )

    def _enclosing_call_of_arg(self, node: cst.CSTNode) -> cst.Call | None:
        current = self._parent(node)
        while isinstance(current, (cst.Tuple, cst.Element, cst.Arg)):
            parent = self._parent(current)
            if isinstance(current, cst.Arg) and isinstance(parent, cst.Call):
                return parent
            current = parent
        return None

    def _note_super_inits(self, owner: cst.ClassDef, plan: TargetPlan, qname: str) -> None:
        finder = _SuperInitFinder()
        owner.body.visit(finder)
        for call in finder.calls:
            self._note(
                call,
                plan,
                "super-init",
                f"subclass {owner.name.value} of {qname} initialises it through "
                "super().__init__: not rewritten (instances of the subclass bypass the factory)",
            )

    def _call_site(self, call: cst.Call, plan: TargetPlan, kind: str, qname: str) -> _Site | None:
        if kind == "blocked":
            reason = dict(plan.blocked)[qname]
            self._note(call, plan, "facade-construction", f"not rewritten: {reason}")
            return None
        for module_name, reason in plan.skip_modules:
            if self.file.module == module_name:
                self._note(call, plan, "factory-cycle", f"not rewritten: {reason}")
                return None
        if (
            isinstance(call.func, cst.Name)
            and f"{self.file.module}.{call.func.value}" in self.named_elsewhere
        ):
            self._note(
                call,
                plan,
                "patched-construction",
                f"not rewritten: '{self.file.module}.{call.func.value}' is named in a string "
                "elsewhere (a mock.patch target?) that intercepts this call; a factory call "
                f"would bypass it: patch {plan.factory.dotted} there instead, then rerun",
            )
            return None
        problem = self._argument_problem(call, plan, kind)
        if problem is not None:
            self._note(call, plan, "factory-arguments", f"not rewritten: {problem}")
            return None
        shared = plan.factory.shared
        if shared is not None and not plan.allow_shared:
            legacy_shared = dict(plan.legacy).get(qname) if kind == "legacy" else None
            if legacy_shared is None:
                self._note(
                    call,
                    plan,
                    "shared-instance",
                    f"factory returns a shared instance ({shared}) while this "
                    "site built a fresh one; set allow-shared = true on the target to rewrite",
                )
                return None
        return _Site(call, plan, "legacy" if kind == "legacy" else "constructor", qname)

    def _argument_problem(self, call: cst.Call, plan: TargetPlan, kind: str) -> str | None:
        signature = plan.factory.signature
        factory = plan.factory.dotted
        if signature is None:
            return f"the signature of the factory {factory} could not be read statically"
        renames = dict(plan.renames)
        positional = 0
        keywords: list[str] = []
        for arg in call.args:
            if arg.star == "*":
                if not signature.varargs:
                    return f"*-unpacked arguments cannot be checked against {factory}()"
                continue
            if arg.star == "**":
                if not signature.varkw:
                    return f"**-unpacked arguments cannot be checked against {factory}()"
                continue
            if arg.keyword is None:
                positional += 1
            else:
                keywords.append(renames.get(arg.keyword.value, arg.keyword.value))
        constructor = plan.constructor if kind == "constructor" else None
        if constructor is not None:
            # Same position, different parameter that the factory also has elsewhere: the
            # arguments would land in the wrong parameters.
            for index in range(
                min(positional, len(constructor.positional), len(signature.positional))
            ):
                mine, theirs = constructor.positional[index], signature.positional[index]
                if mine != theirs and mine in signature.keyword_names:
                    return (
                        f"positional argument {index + 1} is '{mine}' for the constructor but "
                        f"'{theirs}' for {factory}(); pass it by keyword"
                    )
        limit = signature.max_positional
        if limit is not None and positional > limit:
            return (
                f"{factory}() takes {limit} positional argument{'s' if limit != 1 else ''} "
                f"but this call passes {positional}"
            )
        accepted = signature.keyword_names
        for keyword in keywords:
            if keyword not in accepted and not signature.varkw:
                return f"{factory}() takes no keyword '{keyword}'"
        has_star = any(arg.star for arg in call.args)
        if not has_star:
            passed = set(keywords) | set(signature.positional[:positional])
            for name in signature.positional[: signature.required_positional]:
                if name not in passed:
                    return f"{factory}() requires '{name}', which this call does not pass"
            for name in signature.required_keyword_only:
                if name not in passed:
                    return f"{factory}() requires keyword '{name}', which this call does not pass"
        return None


class _SuperInitFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.calls: list[cst.Call] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "__init__"):
            return
        value = func.value
        if isinstance(value, cst.Call) and dotted_name(value.func) == "super":
            self.calls.append(node)
        elif dotted_name(value) is not None:
            self.calls.append(node)  # ``Base.__init__(self, ...)``


@dataclass
class _ImportEdit:
    """The factory import to add after ``anchor``, and the class aliases that become unused."""

    anchor: cst.CSTNode
    statement: cst.BaseSmallStatement


class _Rewriter(cst.CSTTransformer):
    """Applies the sites' call rewrites and the import edits in one pass."""

    def __init__(self, owner: _FileRewrite, sites: list[_Site]) -> None:
        self.owner = owner
        self.sites = {id(site.call): site for site in sites}
        self.local_names: dict[str, str] = {}
        self.adds: dict[int, list[cst.BaseSmallStatement]] = {}
        self.anchor_lines: dict[int, cst.CSTNode] = {}
        self.drops: dict[int, list[cst.ImportAlias]] = {}
        self.prepend: list[cst.BaseSmallStatement] = []
        self.rewritten_funcs: set[int] = {id(site.call.func) for site in sites}
        self._plan_imports(sites)

    # -- import planning (on the original tree, with its metadata) -----------------------------

    def _taken_names(self) -> set[str]:
        names: set[str] = set()
        for scope in set(self.owner.scopes.values()):
            if scope is None:
                continue
            names.update(a.name for a in scope.assignments)
        return names

    def _plan_imports(self, sites: list[_Site]) -> None:
        owner = self.owner
        module_scope = owner.scopes.get(owner.meta_module)
        taken = self._taken_names()
        all_strings = (
            _string_words(owner.tree) if owner.tree is not None else _strings_in(owner.module)
        )
        for site in sites:
            factory = site.plan.factory
            binding = self._binding_for(site.call.func)
            anchor_statement = binding.node if binding is not None else None
            anchor_scope = binding.scope if binding is not None else module_scope
            key = (factory.dotted, id(anchor_scope))
            existing = self._existing_factory_binding(factory.dotted, site.call)
            if existing is not None:
                self.local_names[str(key)] = existing
            elif str(key) not in self.local_names:
                local = free_name(factory.name, taken)
                taken.add(local)
                self.local_names[str(key)] = local
                statement = self._import_statement(factory, local, anchor_statement)
                if anchor_statement is not None:
                    self.adds.setdefault(id(anchor_statement), []).append(statement)
                else:
                    self.prepend.append(statement)
            site.local = self.local_names[str(key)]
        # Class imports whose every use was rewritten go away.
        for scope in set(owner.scopes.values()):
            if scope is None:
                continue
            for assignment in scope.assignments:
                if not isinstance(assignment, Assignment):
                    continue
                node = assignment.node
                if not isinstance(node, cst.ImportFrom):
                    continue
                statement = node
                references = assignment.references
                if not references:
                    continue
                if not all(id(ref.node) in self.rewritten_funcs for ref in references):
                    continue
                if assignment.name in all_strings:
                    continue  # ``__all__`` or a string annotation still names it
                for alias in _aliases_binding(statement, assignment.name):
                    self.drops.setdefault(id(statement), []).append(alias)

    def _binding_for(self, func: cst.BaseExpression) -> Assignment | None:
        root: cst.BaseExpression = func
        while isinstance(root, cst.Attribute):
            root = root.value
        if not isinstance(root, cst.Name):
            return None
        scope = self.owner.scopes.get(root)
        if scope is None:
            return None
        for access in scope.accesses[root.value]:
            if access.node is root:
                for referent in access.referents:
                    if isinstance(referent, Assignment) and isinstance(
                        referent.node, (cst.Import, cst.ImportFrom)
                    ):
                        return referent
        return None

    def _existing_factory_binding(self, target: str, at: cst.CSTNode) -> str | None:
        scope = self.owner.scopes.get(at)
        while scope is not None:
            for assignment in scope.assignments:
                if isinstance(assignment, Assignment) and isinstance(
                    assignment.node, (cst.Import, cst.ImportFrom)
                ):
                    bound = import_bindings([assignment.node], self.owner.file.package)
                    if bound.get(assignment.name) == target:
                        return assignment.name
            parent = scope.parent
            scope = None if parent is scope else parent
        return None

    def _import_statement(
        self, factory: FactoryInfo, local: str, anchor: cst.CSTNode | None
    ) -> cst.ImportFrom:
        asname = None if local == factory.name else local
        relative = isinstance(anchor, cst.ImportFrom) and len(anchor.relative) > 0
        if relative:
            spelling = shortest_relative(factory.module, self.owner.file.package)
            if spelling is not None:
                level, module = spelling
                return make_import_from(module, level, [(factory.name, asname)])
        return make_import_from(factory.module, 0, [(factory.name, asname)])

    # -- the transform -----------------------------------------------------------------------

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        site = self.sites.get(id(original_node))
        if site is None:
            return updated_node
        local = site.local
        renames = dict(site.plan.renames)
        args = [
            arg.with_changes(keyword=cst.Name(renames[arg.keyword.value]))
            if arg.keyword is not None and arg.keyword.value in renames
            else arg
            for arg in updated_node.args
        ]
        old = cst.Module(body=[]).code_for_node(original_node.func)
        line, column = self.owner._line(original_node)
        self.owner.changes.append(
            Change(
                self.owner.file.path,
                line,
                column,
                site.plan.target,
                "legacy-factory-call" if site.kind == "legacy" else "factory-call",
                old,
                local,
            )
        )
        return updated_node.with_changes(func=cst.Name(local), args=args)

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        body: list[cst.BaseSmallStatement] = []
        after: list[cst.BaseSmallStatement] = []
        touched = False
        for original, updated in zip(original_node.body, updated_node.body):
            drops = self.drops.get(id(original))
            if drops is not None and isinstance(updated, cst.ImportFrom):
                mapping = _alias_mapping(original, updated)
                remaining = drop_aliases(
                    updated, [mapping[id(a)] for a in drops if id(a) in mapping]
                )
                touched = True
                if remaining is not None:
                    body.append(remaining)
            else:
                body.append(updated)
            if id(original) in self.adds:
                after.extend(self.adds[id(original)])
                touched = True
        if not touched:
            return updated_node
        lines: list[cst.BaseStatement] = []
        if body:
            lines.append(updated_node.with_changes(body=body))
            lines.extend(cst.SimpleStatementLine(body=[s]) for s in after)
        elif after:
            # The whole line went: its replacement keeps its comments and blank lines.
            lines.append(updated_node.with_changes(body=[after[0]]))
            lines.extend(cst.SimpleStatementLine(body=[s]) for s in after[1:])
        if not lines:
            return cst.RemoveFromParent()
        return cst.FlattenSentinel(lines)

    def finish(self, module: cst.Module) -> cst.Module:
        if not self.prepend:
            return module
        for statement in reversed(self.prepend):
            module = insert_top_import(module, cst.SimpleStatementLine(body=[statement]))
        return module


def _aliases_binding(statement: cst.ImportFrom, local: str) -> list[cst.ImportAlias]:
    if isinstance(statement.names, cst.ImportStar):
        return []
    return [a for a in statement.names if alias_local_name(a) == local]


def _alias_mapping(
    original: cst.BaseSmallStatement, updated: cst.ImportFrom
) -> dict[int, cst.ImportAlias]:
    """Original alias identity → the same alias in the updated statement (same positions)."""
    if not isinstance(original, cst.ImportFrom):
        return {}
    if isinstance(original.names, cst.ImportStar) or isinstance(updated.names, cst.ImportStar):
        return {}
    return {id(a): b for a, b in zip(original.names, updated.names)}


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


_WORD = re.compile(r"\w+")


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

    def keep(group: list[ast.stmt]) -> bool:
        spelled = _words_of(group)
        return (
            any(isinstance(s, ast.Import | ast.ImportFrom) for s in group)
            or bool(spelled & wanted)
            or any(word.startswith(name) for word in spelled for name in factory_names)
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
                found.update(_WORD.findall(text))
    return found


def _string_words(tree: ast.Module) -> set[str]:
    """``_strings_in`` read from the ``ast``."""
    words: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
            text = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
            words.update(_WORD.findall(text))
    return words


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

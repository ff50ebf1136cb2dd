"""Static class interfaces: what a class offers callers, and whether one can stand in for another.

This is the single implementation behind ``scan``'s ``interface-drift``, ``duplicate-implementation``
and ``facade`` findings and behind phase 2's alias-or-delegate decision. Nothing is imported or
executed: a class is read from its ``libcst.ClassDef``; base classes are followed in the same file
and, through :func:`load_class`, across the repository's own modules.

Example::

    class Mock:                                  class Unified:
        def add_connection(self, ws): ...            def add_connection(self, user, ws): ...

    compare(mock, unified).mismatches[0].message
    == "add_connection(): takes 1 positional argument but canonical takes 2"
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import libcst as cst
from libcst.metadata import PositionProvider

from ssot_migrate.pysyntax import block_statements, dotted_name, import_bindings

# Construction and representation hooks are not part of what a caller "uses" on an instance; the
# constructor is compared separately (``constructor``) because an alias must also accept every
# construction the facade accepted.
_NOT_INTERFACE_DUNDERS = frozenset(
    {
        "__init__",
        "__new__",
        "__post_init__",
        "__init_subclass__",
        "__class_getitem__",
        "__set_name__",
        "__del__",
        "__repr__",
        "__str__",
        "__format__",
        "__sizeof__",
        "__reduce__",
        "__reduce_ex__",
        "__getstate__",
        "__setstate__",
        "__subclasshook__",
    }
)

# Bases that add nothing a caller could rely on; a class deriving only from these is fully known.
_TRANSPARENT_BASES = frozenset(
    {
        "object",
        "abc.ABC",
        "ABC",
        "typing.Generic",
        "Generic",
        "typing.Protocol",
        "Protocol",
        "typing_extensions.Protocol",
    }
)

_MAX_DEPTH = 4


class SnapshotLike(Protocol):
    """The part of ``engine.Snapshot`` this module reads (a commit's files, never the worktree)."""

    def path_for_module(self, dotted: str) -> str | None: ...

    def read(self, path: str) -> bytes: ...


@dataclass(frozen=True)
class MethodSignature:
    """How a method can be called on an instance (``self``/``cls`` already dropped).

    ``positional`` lists the parameters that can be passed by position, in order; the first
    ``posonly`` of them cannot be passed by keyword; ``required_positional`` of them have no
    default. ``kind`` is ``method``, ``staticmethod``, ``classmethod`` or ``property``.
    """

    name: str
    positional: tuple[str, ...] = ()
    required_positional: int = 0
    posonly: int = 0
    keyword_only: tuple[str, ...] = ()
    required_keyword_only: tuple[str, ...] = ()
    varargs: bool = False
    varkw: bool = False
    is_async: bool = False
    kind: str = "method"
    decorators: tuple[str, ...] = ()
    defaults: tuple[tuple[str, str], ...] = ()
    line: int = 0

    @property
    def max_positional(self) -> int | None:
        """The most positional arguments a call may pass (``None``: unbounded, ``*args``)."""
        return None if self.varargs else len(self.positional)

    @property
    def keyword_names(self) -> frozenset[str]:
        """Every parameter name a caller may pass by keyword."""
        return frozenset(self.positional[self.posonly :]) | frozenset(self.keyword_only)

    def describe(self) -> str:
        """A short human spelling of the parameters, e.g. ``(user, ws, *, timeout=...)``."""
        parts: list[str] = []
        defaults = dict(self.defaults)
        for index, name in enumerate(self.positional):
            parts.append(f"{name}=..." if name in defaults else name)
            if self.posonly and index == self.posonly - 1:
                parts.append("/")
        if self.varargs:
            parts.append("*args")
        elif self.keyword_only:
            parts.append("*")
        parts.extend(f"{name}=..." if name in defaults else name for name in self.keyword_only)
        if self.varkw:
            parts.append("**kwargs")
        prefix = "async " if self.is_async else ""
        return f"{prefix}{self.name}({', '.join(parts)})"


@dataclass(frozen=True)
class ClassInterface:
    """A class as callers see it: its methods (inherited ones included) and instance attributes.

    ``own_methods`` are those defined in the class body itself. ``bases`` are the base classes as
    dotted names where the module's imports resolve them, as written otherwise;
    ``unresolved_bases`` are the ones that could not be read (outside the repository, dynamic),
    so anything they provide is unknown. ``constructor`` is ``None`` when ``__init__`` comes from
    such an unknown base.
    """

    name: str
    methods: dict[str, MethodSignature] = field(default_factory=dict)
    attributes: set[str] = field(default_factory=set)
    bases: tuple[str, ...] = ()
    own_methods: frozenset[str] = frozenset()
    abstract_methods: frozenset[str] = frozenset()
    unresolved_bases: tuple[str, ...] = ()
    constructor: MethodSignature | None = None
    qualname: str = ""
    line: int = 0

    @property
    def public_methods(self) -> frozenset[str]:
        """Methods a caller may use: no leading underscore, plus protocol dunders (``__len__``)."""
        return frozenset(name for name in self.methods if is_public(name))

    @property
    def implemented_methods(self) -> frozenset[str]:
        """Public methods the class body defines itself, abstract declarations left out.

        What a duplicate must share with the canonical: inherited methods are the base's (two
        siblings do not duplicate each other by inheriting them), ``@abstractmethod`` stubs are
        interface, not implementation.
        """
        return frozenset(
            name
            for name in self.own_methods
            if is_public(name) and name not in self.abstract_methods
        )

    @property
    def public_attributes(self) -> frozenset[str]:
        """Instance/class attributes without a leading underscore that are not methods."""
        return frozenset(a for a in self.attributes if is_public(a) and a not in self.methods)


@dataclass(frozen=True)
class MethodMismatch:
    """One difference between a candidate member and the canonical one, spelled out.

    ``breaking`` is true when a caller of the candidate could fail against the canonical (arity,
    keywords, async-ness, a member that does not exist); a differing default value is reported
    but does not break a call.
    """

    member: str
    message: str
    breaking: bool = True


@dataclass(frozen=True)
class InterfaceComparison:
    """The result of :func:`compare`: overlap, missing/extra members and every mismatch.

    ``overlap`` is the percentage of public methods the two share, out of all public methods of
    either (Jaccard; 100.0 when neither has any). ``missing`` are canonical public methods the
    candidate lacks; ``extra`` are candidate public methods the canonical lacks;
    ``missing_attributes``/``extra_attributes`` the same for attributes.
    """

    candidate: str
    canonical: str
    overlap: float
    common: tuple[str, ...]
    missing: tuple[str, ...]
    extra: tuple[str, ...]
    missing_attributes: tuple[str, ...]
    extra_attributes: tuple[str, ...]
    mismatches: tuple[MethodMismatch, ...]

    @property
    def is_compatible(self) -> bool:
        """True when every public member of the candidate works the same way on the canonical."""
        return not any(m.breaking for m in self.mismatches)

    def incompatible_members(self) -> dict[str, list[str]]:
        """Breaking mismatch messages grouped by member name (for "needs a decision" reasons)."""
        grouped: dict[str, list[str]] = {}
        for mismatch in self.mismatches:
            if mismatch.breaking:
                grouped.setdefault(mismatch.member, []).append(mismatch.message)
        return grouped


def is_public(name: str) -> bool:
    """Whether callers may use ``name``: no leading underscore, or an interface dunder."""
    if name.startswith("__") and name.endswith("__") and len(name) > 4:
        return name not in _NOT_INTERFACE_DUNDERS
    return not name.startswith("_")


# ---------------------------------------------------------------------------------------------
# Extraction
# ---------------------------------------------------------------------------------------------


def _decorator_names(node: cst.FunctionDef) -> tuple[str, ...]:
    names: list[str] = []
    for decorator in node.decorators:
        expr = decorator.decorator
        if isinstance(expr, cst.Call):
            expr = expr.func
        names.append(dotted_name(expr, through_subscripts=True) or "<expr>")
    return tuple(names)


# ``@overload`` stubs are type information: the implementation that follows is what runs.
OVERLOAD_DECORATORS = frozenset({"typing.overload", "typing_extensions.overload"})


def is_overload(node: cst.FunctionDef, imports: Mapping[str, str]) -> bool:
    """Whether ``node`` is an ``@overload`` stub, through any import spelling of ``overload``.

    ``imports`` maps the module's local names to dotted names (:func:`module_imports`), so
    ``from typing import overload as ov`` and ``import typing_extensions as te; @te.overload``
    are recognised. A bare ``overload`` the module does not bind (a star import) counts too.
    """
    for decorator in node.decorators:
        written = dotted_name(decorator.decorator, through_subscripts=True)
        if written is None:
            continue
        head, _, rest = written.partition(".")
        bound = imports.get(head)
        full = written if bound is None else (f"{bound}.{rest}" if rest else bound)
        if full in OVERLOAD_DECORATORS or (bound is None and written == "overload"):
            return True
    return False


def implementation(
    body: Iterable[cst.CSTNode], name: str, imports: Mapping[str, str]
) -> cst.FunctionDef | None:
    """The definition of ``name`` that runs: the last one in ``body`` that is not an overload stub."""
    found: cst.FunctionDef | None = None
    for statement in body:
        if (
            isinstance(statement, cst.FunctionDef)
            and statement.name.value == name
            and not is_overload(statement, imports)
        ):
            found = statement
    return found


def _kind(decorators: Sequence[str]) -> str:
    last = {d.rpartition(".")[2] for d in decorators}
    if "property" in last or "cached_property" in last:
        return "property"
    if "staticmethod" in last:
        return "staticmethod"
    if "classmethod" in last:
        return "classmethod"
    return "method"


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def method_signature(
    node: cst.FunctionDef, line: int = 0, *, bound: bool = True
) -> MethodSignature:
    """Read a method's call signature from its definition (``self``/``cls`` dropped).

    With ``bound=False`` the definition is read as a plain function: no parameter is dropped.
    """
    decorators = _decorator_names(node)
    kind = _kind(decorators)
    params = node.params
    posonly = [p for p in params.posonly_params]
    regular = [p for p in params.params]
    every_positional = posonly + regular
    drop = 0 if kind == "staticmethod" or not bound else 1
    # A method without even a self parameter is broken code; keep what is there.
    drop = min(drop, len(every_positional))
    posonly_kept = max(0, len(posonly) - drop)
    kept = every_positional[drop:]
    defaults: list[tuple[str, str]] = []
    required = 0
    for param in kept:
        if param.default is None:
            required += 1
        else:
            defaults.append((param.name.value, _code(param.default)))
    kwonly = [p.name.value for p in params.kwonly_params]
    required_kw = [p.name.value for p in params.kwonly_params if p.default is None]
    defaults.extend((p.name.value, _code(p.default)) for p in params.kwonly_params if p.default)
    star = params.star_arg
    return MethodSignature(
        name=node.name.value,
        positional=tuple(p.name.value for p in kept),
        required_positional=required,
        posonly=posonly_kept,
        keyword_only=tuple(kwonly),
        required_keyword_only=tuple(required_kw),
        varargs=isinstance(star, cst.Param),
        varkw=params.star_kwarg is not None,
        is_async=node.asynchronous is not None,
        kind=kind,
        decorators=decorators,
        defaults=tuple(defaults),
        line=line,
    )


def _assigned_names(target: cst.BaseExpression) -> Iterable[str]:
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _assigned_names(element.value)


class _SelfAttributes(cst.CSTVisitor):
    """Collects ``self.x = ...`` (and ``cls.x``) targets inside one method."""

    def __init__(self, receiver: str) -> None:
        self.receiver = receiver
        self.names: set[str] = set()

    def _collect(self, target: cst.BaseExpression) -> None:
        if (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == self.receiver
        ):
            self.names.add(target.attr.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._collect(element.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._collect(target.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._collect(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._collect(node.target)

    # Nested functions and classes bind their own ``self``.
    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


@dataclass
class _OwnMembers:
    methods: dict[str, MethodSignature]
    attributes: set[str]
    lines: dict[str, int]
    abstract: set[str] = field(default_factory=set)


def _own_members(
    node: cst.ClassDef,
    line_of: Callable[[cst.CSTNode], int] | None = None,
    imports: Mapping[str, str] | None = None,
) -> _OwnMembers:
    methods: dict[str, MethodSignature] = {}
    attributes: set[str] = set()
    lines: dict[str, int] = {}
    abstract: set[str] = set()
    for statement in block_statements(node.body.body):
        if isinstance(statement, cst.FunctionDef):
            decorators = _decorator_names(statement)
            attributes |= _receiver_attributes(statement, _kind(decorators))
            if is_overload(statement, imports or {}):
                continue  # the implementation that follows is what runs
            if any(d.endswith((".setter", ".deleter")) for d in decorators):
                continue  # part of a property already recorded
            line = line_of(statement) if line_of else 0
            signature = method_signature(statement, line)
            methods[signature.name] = signature
            if any(d.rpartition(".")[2] == "abstractmethod" for d in decorators):
                abstract.add(signature.name)
            else:
                abstract.discard(signature.name)
        elif isinstance(statement, cst.Assign):
            for target in statement.targets:
                for name in _assigned_names(target.target):
                    if name == "__slots__":
                        attributes |= _slots(statement.value)
                    else:
                        attributes.add(name)
        elif isinstance(statement, (cst.AnnAssign, cst.AugAssign)):
            attributes |= set(_assigned_names(statement.target))
        elif isinstance(statement, cst.ClassDef):
            attributes.add(statement.name.value)
    attributes.discard("__slots__")
    return _OwnMembers(methods, attributes, lines, abstract)


def _receiver_attributes(node: cst.FunctionDef, kind: str) -> set[str]:
    """Attributes a method assigns on ``self`` (or ``cls`` in a classmethod)."""
    params = [*node.params.posonly_params, *node.params.params]
    if kind == "staticmethod" or not params:
        return set()
    collector = _SelfAttributes(params[0].name.value)
    node.body.visit(collector)
    return collector.names


def _slots(value: cst.BaseExpression) -> set[str]:
    names: set[str] = set()
    if isinstance(value, (cst.Tuple, cst.List, cst.Set)):
        for element in value.elements:
            if isinstance(element.value, cst.SimpleString):
                evaluated = element.value.evaluated_value
                if isinstance(evaluated, str):
                    names.add(evaluated)
    elif isinstance(value, cst.SimpleString) and isinstance(value.evaluated_value, str):
        names.add(value.evaluated_value)
    return names


BaseResolver = Callable[[str], "ClassInterface | None"]


def extract_interface(
    node: cst.ClassDef,
    module: cst.Module | None = None,
    *,
    resolve_base: BaseResolver | None = None,
    imports: dict[str, str] | None = None,
    qualname: str = "",
    _depth: int = 0,
) -> ClassInterface:
    """Build the :class:`ClassInterface` of ``node``.

    Bases defined at the top level of ``module`` are followed in the same file; other bases are
    mapped through ``imports`` (local name → dotted name, see :func:`module_imports`) and handed
    to ``resolve_base``, which may return their interface (``load_class`` does so across the
    repository). Members of bases that cannot be read are unknown and the base is listed in
    ``unresolved_bases``.
    """
    imports = imports if imports is not None else (module_imports(module) if module else {})
    own = _own_members(node, imports=imports)
    methods: dict[str, MethodSignature] = {}
    attributes: set[str] = set()
    bases: list[str] = []
    unresolved: list[str] = []
    constructor: MethodSignature | None = own.methods.get("__init__")
    constructor_known = constructor is not None
    local_classes = _top_level_classes(module) if module is not None else {}
    for arg in node.bases:
        if arg.keyword is not None or arg.star:
            continue  # metaclass=..., *bases
        written = dotted_name(arg.value, through_subscripts=True)
        if written is None:
            unresolved.append(_code(arg.value))
            continue
        head, _, rest = written.partition(".")
        resolved_name = imports.get(head)
        dotted = f"{resolved_name}.{rest}" if resolved_name and rest else resolved_name or written
        bases.append(dotted)
        if written in _TRANSPARENT_BASES or dotted in _TRANSPARENT_BASES:
            continue
        base: ClassInterface | None = None
        if _depth < _MAX_DEPTH:
            if written in local_classes and local_classes[written] is not node:
                base = extract_interface(
                    local_classes[written],
                    module,
                    resolve_base=resolve_base,
                    imports=imports,
                    qualname=written,
                    _depth=_depth + 1,
                )
            elif resolve_base is not None:
                base = resolve_base(dotted)
        if base is None:
            unresolved.append(dotted)
            continue
        # Earlier bases win over later ones (an approximation of the MRO that is exact for
        # single inheritance and for the usual mixin-first layouts).
        for name, signature in base.methods.items():
            methods.setdefault(name, signature)
        attributes |= base.attributes
        unresolved.extend(base.unresolved_bases)
        if not constructor_known and base.constructor is not None:
            constructor, constructor_known = base.constructor, True
    methods.update(own.methods)
    methods.pop("__init__", None)
    attributes |= own.attributes
    if not constructor_known and unresolved:
        constructor = None
    elif not constructor_known:
        # Only transparent bases: ``object.__init__`` takes no arguments.
        constructor = MethodSignature(name="__init__")
    return ClassInterface(
        name=node.name.value,
        methods=methods,
        attributes=attributes,
        bases=tuple(bases),
        own_methods=frozenset(own.methods) - {"__init__"},
        abstract_methods=frozenset(own.abstract),
        unresolved_bases=tuple(dict.fromkeys(unresolved)),
        constructor=constructor,
        qualname=qualname or node.name.value,
    )


def _top_level_classes(module: cst.Module | None) -> dict[str, cst.ClassDef]:
    classes: dict[str, cst.ClassDef] = {}
    if module is None:
        return classes
    for statement in block_statements(module.body):
        if isinstance(statement, cst.ClassDef):
            classes[statement.name.value] = statement
    return classes


class _ModuleIndex:
    """What :func:`find_class` and :func:`module_imports` read from one module's top level.

    Planning or scanning many targets looks up many classes in the same few modules (a compat
    module holding dozens of canonicals); each lookup walked the whole module body again. The
    index is built on the first lookup and kept for the last few modules looked up.
    """

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.classes = _top_level_classes(module)  # the last definition wins, as find_class's
        self.imports: dict[tuple[str | None, bool], dict[str, str]] = {}


_INDEXES: dict[int, _ModuleIndex] = {}
_INDEXES_KEPT = 8  # each holds its module alive: a few, not every module a command parses


def _index(module: cst.Module) -> _ModuleIndex:
    index = _INDEXES.pop(id(module), None)
    if index is None or index.module is not module:
        index = _ModuleIndex(module)
    _INDEXES[id(module)] = index  # most recently used last
    while len(_INDEXES) > _INDEXES_KEPT:
        del _INDEXES[next(iter(_INDEXES))]
    return index


def find_class(module: cst.Module, qualname: str) -> cst.ClassDef | None:
    """The class ``qualname`` (``Outer.Inner`` allowed) defined in ``module``, or ``None``."""
    head, dot, rest = qualname.partition(".")
    found: cst.ClassDef | None = _index(module).classes.get(head)
    if not dot or found is None:
        return found
    parts = rest.split(".")
    body: Sequence[cst.CSTNode] = (
        found.body.body if isinstance(found.body, cst.IndentedBlock) else ()
    )
    for part in parts:
        found = None
        for statement in block_statements(body):
            if isinstance(statement, cst.ClassDef) and statement.name.value == part:
                found = statement
        if found is None:
            return None
        body = found.body.body if isinstance(found.body, cst.IndentedBlock) else ()
    return found


def module_imports(
    module: cst.Module | None, module_name: str | None = None, is_package: bool = False
) -> dict[str, str]:
    """Top-level names a module binds by import, mapped to dotted names (``{"M": "pkg.mod.M"}``)."""
    if module is None:
        return {}
    cache = _index(module).imports
    key = (module_name, is_package)
    if key not in cache:
        cache[key] = _module_imports(module, module_name, is_package)
    return dict(cache[key])  # the caller's to change


def _module_imports(
    module: cst.Module, module_name: str | None, is_package: bool
) -> dict[str, str]:
    package = module_name if is_package or module_name is None else module_name.rpartition(".")[0]
    return import_bindings(block_statements(module.body), package)


# ---------------------------------------------------------------------------------------------
# Loading from a snapshot
# ---------------------------------------------------------------------------------------------


def _split_module(snapshot: SnapshotLike, dotted: str) -> tuple[str, str, str] | None:
    """(module, path, qualname) for the longest module prefix of ``dotted`` in the snapshot."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        path = snapshot.path_for_module(module_name)
        if path is not None:
            return module_name, path, ".".join(parts[cut:])
    return None


class ParsedModules:
    """The last few files a command parsed, with the line of each of their classes.

    Planning a phase or a scan for many targets reads the same modules again and again (a
    compat module holding dozens of canonicals, a factory module per target): each is parsed
    once. Bounded, so a thousand distinct modules are not all held. A snapshot that has one
    (``engine.Snapshot.parsed``) shares it with every caller.
    """

    def __init__(self, read: Callable[[str], bytes], size: int = 16) -> None:
        self._read = read
        self._size = size
        self._modules: dict[str, cst.Module | None] = {}
        self._lines: dict[str, dict[str, int]] = {}

    def module(self, path: str) -> cst.Module | None:
        """``path`` parsed; ``None`` when it cannot be read or parsed."""
        if path in self._modules:
            self._modules[path] = self._modules.pop(path)  # most recently used last
            return self._modules[path]
        try:
            module: cst.Module | None = cst.parse_module(self._read(path))
        except (cst.ParserSyntaxError, OSError, KeyError, ValueError):
            module = None
        self._modules[path] = module
        while len(self._modules) > self._size:
            self._lines.pop(next(iter(self._modules)), None)
            self._modules.pop(next(iter(self._modules)))
        return module

    def class_line(self, path: str, qualname: str) -> int:
        """The line of the class :func:`find_class` finds at ``qualname`` in ``path`` (0: none).

        Read from CPython's ``ast`` (whose ``lineno`` is the ``class`` keyword's line, as
        libcst's positions give it): positions for a whole libcst module cost a code generation
        and a visit of every node, for one number.
        """
        lines = self._lines.get(path)
        if lines is None:
            lines = {}
            try:
                tree = ast.parse(self._read(path))
            except (SyntaxError, ValueError, RecursionError, MemoryError, OSError, KeyError):
                tree = None
            if tree is not None:
                _class_lines(tree.body, "", lines)
            if path in self._modules:
                self._lines[path] = lines
        return lines.get(qualname, 0)


def _class_lines(body: Sequence[ast.stmt], prefix: str, lines: dict[str, int]) -> None:
    """``qualname -> line`` of classes as :func:`ssot_migrate.pysyntax.block_statements` walks them (last wins)."""
    for statement in body:
        if isinstance(statement, ast.If):
            _class_lines(statement.body, prefix, lines)
            _class_lines(statement.orelse, prefix, lines)
        elif isinstance(statement, ast.Try):
            _class_lines(statement.body, prefix, lines)
            for handler in statement.handlers:
                _class_lines(handler.body, prefix, lines)
            _class_lines(statement.orelse, prefix, lines)
        elif isinstance(statement, ast.ClassDef):
            name = f"{prefix}{statement.name}"
            lines.pop(name, None)  # re-defined: the later definition, and its own members
            for inner in [k for k in lines if k.startswith(name + ".")]:
                del lines[inner]
            lines[name] = statement.lineno
            _class_lines(statement.body, name + ".", lines)


def _memo(snapshot: SnapshotLike) -> ParsedModules | None:
    memo = getattr(snapshot, "parsed", None)
    return memo if isinstance(memo, ParsedModules) else None


def parse_file(snapshot: SnapshotLike, path: str) -> cst.Module | None:
    """Parse one snapshot file; ``None`` when it cannot be read or parsed."""
    memo = _memo(snapshot)
    if memo is not None:
        return memo.module(path)
    try:
        return cst.parse_module(snapshot.read(path))
    except (cst.ParserSyntaxError, OSError, KeyError, ValueError):
        return None


def class_source(
    snapshot: SnapshotLike, dotted: str
) -> tuple[str, str, cst.Module, cst.ClassDef] | None:
    """``(module name, path, parsed module, class node)`` of a class defined at ``dotted``.

    Only where the class is defined (``ClassInterface.qualname``); re-exports are not followed.
    """
    located = _split_module(snapshot, dotted)
    if located is None:
        return None
    module_name, path, qualname = located
    module = parse_file(snapshot, path)
    node = find_class(module, qualname) if module is not None else None
    if module is None or node is None:
        return None
    return module_name, path, module, node


def class_level_values(node: cst.ClassDef) -> dict[str, str]:
    """``name -> source of the value`` for each ``name = value`` in the class body itself."""
    values: dict[str, str] = {}
    for statement in block_statements(node.body.body):
        if isinstance(statement, cst.Assign):
            for target in statement.targets:
                for name in _assigned_names(target.target):
                    values[name] = _code(statement.value)
        elif isinstance(statement, cst.AnnAssign) and statement.value is not None:
            for name in _assigned_names(statement.target):
                values[name] = _code(statement.value)
    return values


def load_class(snapshot: SnapshotLike, dotted: str, *, _depth: int = 0) -> ClassInterface | None:
    """The interface of the class ``dotted`` (``pkg.mod.Class``) in the snapshot, or ``None``.

    Reads the defining file through ``snapshot.path_for_module`` and ``snapshot.read``; follows
    a re-export (``from x import Name``, ``from .x import Name as Alias``, ``Name = Other``) in
    the repository a few levels deep, and resolves base classes across the repository's modules.
    Returns ``None`` when the name is outside the repository, not a class, or does not parse.
    """
    if _depth > _MAX_DEPTH:
        return None
    located = _split_module(snapshot, dotted)
    if located is None:
        return None
    module_name, path, qualname = located
    module = parse_file(snapshot, path)
    if module is None:
        return None
    is_package = path.endswith("__init__.py")
    imports = module_imports(module, module_name, is_package)

    def resolve(base: str) -> ClassInterface | None:
        return load_class(snapshot, base, _depth=_depth + 1)

    node = find_class(module, qualname)
    if node is not None:
        interface = extract_interface(
            node,
            module,
            resolve_base=resolve,
            imports=imports,
            qualname=f"{module_name}.{qualname}",
            _depth=_depth,
        )
        memo = _memo(snapshot)
        line = memo.class_line(path, qualname) if memo is not None else _line_of_class(module, node)
        return _with_line(interface, line)
    head, _, rest = qualname.partition(".")
    target = imports.get(head) or _assigned_alias(module, head, imports, module_name)
    if target is None or target == dotted:
        return None
    return load_class(snapshot, f"{target}.{rest}" if rest else target, _depth=_depth + 1)


def _assigned_alias(
    module: cst.Module, name: str, imports: dict[str, str], module_name: str
) -> str | None:
    """Where ``Name = Other`` / ``Name = mod.Other`` at module level points, as a dotted name."""
    for statement in block_statements(module.body):
        if isinstance(statement, cst.Assign) and len(statement.targets) == 1:
            target = statement.targets[0].target
            if isinstance(target, cst.Name) and target.value == name:
                value = dotted_name(statement.value, through_subscripts=True)
                if value is None or isinstance(statement.value, cst.Subscript):
                    return None
                head, _, rest = value.partition(".")
                if head in imports:
                    return f"{imports[head]}.{rest}" if rest else imports[head]
                return f"{module_name}.{value}"
    return None


def _line_of_class(module: cst.Module, node: cst.ClassDef) -> int:
    wrapper = cst.MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    position = positions.get(node)
    return position.start.line if position is not None else 0


def _with_line(interface: ClassInterface, line: int) -> ClassInterface:
    return ClassInterface(
        name=interface.name,
        methods=interface.methods,
        attributes=interface.attributes,
        bases=interface.bases,
        own_methods=interface.own_methods,
        unresolved_bases=interface.unresolved_bases,
        constructor=interface.constructor,
        qualname=interface.qualname,
        line=line,
    )


# ---------------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------------


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _arity(signature: MethodSignature) -> str:
    low, high = signature.required_positional, signature.max_positional
    if high is None:
        return (
            f"{low} or more positional arguments" if low else "any number of positional arguments"
        )
    if low == high:
        return _plural(low, "positional argument")
    return f"{low} to {high} positional arguments"


def _short_arity(signature: MethodSignature) -> str:
    text = _arity(signature)
    return text.replace(" positional arguments", "").replace(" positional argument", "")


@dataclass(frozen=True)
class Voice:
    """How mismatch messages name the two sides of a comparison.

    By default the candidate (a facade) is the implicit subject: "is sync but canonical's is
    async". Comparing a test double the other way round (every call valid on the canonical must
    work on the double) makes the canonical the subject: "the canonical is async but the
    double's is sync".
    """

    subject: str = ""
    other: str = "canonical"
    possessive: str = ""
    on_subject: str = ""


DOUBLE_VOICE = Voice("the canonical ", "the double", "the canonical's ", " on the canonical")


def compare_signatures(
    candidate: MethodSignature, canonical: MethodSignature, *, voice: Voice | None = None
) -> list[MethodMismatch]:
    """Every way a call valid on ``candidate`` could fail (or behave differently) on ``canonical``.

    ``voice`` names the two sides in the messages; by default the candidate is the implicit
    subject and the other side is "canonical" (see :data:`DOUBLE_VOICE` for the reverse check).
    """
    v = voice or Voice()
    name = candidate.name
    label = f"{name}()"
    found: list[MethodMismatch] = []

    def add(message: str, breaking: bool = True) -> None:
        found.append(MethodMismatch(name, f"{label}: {message}", breaking))

    if (candidate.kind == "property") != (canonical.kind == "property"):
        mine = "a property" if candidate.kind == "property" else "a method"
        theirs = "a property" if canonical.kind == "property" else "a method"
        add(f"{v.subject}is {mine} but {v.other}'s is {theirs}")
        return found
    if candidate.is_async != canonical.is_async:
        mine = "async" if candidate.is_async else "sync"
        theirs = "async" if canonical.is_async else "sync"
        add(f"{v.subject}is {mine} but {v.other}'s is {theirs}")
    if candidate.kind == "property":
        return found
    if candidate.kind != canonical.kind and "classmethod" in (candidate.kind, canonical.kind):
        # Reachable on the class itself in one case only: ``Facade.method(...)`` breaks.
        if candidate.kind in ("classmethod", "staticmethod"):
            add(f"{v.subject}is a {candidate.kind} but {v.other}'s is {_article(canonical.kind)}")
    elif candidate.kind == "staticmethod" and canonical.kind == "method":
        add(f"{v.subject}is a staticmethod but {v.other}'s is a method")
    # Positional arity: every count the candidate accepts must be accepted by the canonical.
    low_ok = canonical.required_positional <= candidate.required_positional
    c_high, k_high = candidate.max_positional, canonical.max_positional
    high_ok = k_high is None or (c_high is not None and c_high <= k_high)
    if not (low_ok and high_ok):
        if candidate.max_positional == canonical.max_positional and not low_ok:
            optional = [
                p
                for p in candidate.positional[canonical.required_positional :]
                if p in dict(candidate.defaults)
            ][: canonical.required_positional - candidate.required_positional]
            which = ", ".join(f"'{p}'" for p in optional) or "an argument"
            add(f"{which} is optional{v.on_subject} but {v.other} requires it")
        else:
            add(
                f"{v.subject}takes {_arity(candidate)} but {v.other} takes {_short_arity(canonical)}"
            )
    # Names of parameters a caller may pass by keyword.
    canonical_keywords = canonical.keyword_names
    for index, param in enumerate(candidate.positional):
        if index < candidate.posonly:
            continue
        renamed = index < len(canonical.positional) and canonical.positional[index] != param
        by_keyword = index >= canonical.posonly or param in canonical_keywords
        if renamed and by_keyword:
            add(
                f"{v.possessive}positional parameter {index + 1} is '{param}' but {v.other}'s is "
                f"'{canonical.positional[index]}'"
            )
            continue
        if param not in canonical_keywords and not canonical.varkw:
            add(f"{v.subject}accepts keyword '{param}' but {v.other} does not")
    for param in candidate.keyword_only:
        if param not in canonical_keywords and not canonical.varkw:
            add(f"{v.subject}accepts keyword '{param}' but {v.other} does not")
    if candidate.varkw and not canonical.varkw:
        add(f"{v.subject}accepts **kwargs but {v.other} does not")
    candidate_optional = set(dict(candidate.defaults))
    for param in canonical.required_keyword_only:
        if param not in candidate.required_keyword_only:
            if param in candidate_optional:
                add(f"keyword '{param}' is optional{v.on_subject} but {v.other} requires it")
            else:
                add(
                    f"{v.other} requires keyword '{param}' which {v.subject or 'this '}does not take"
                )
    # Same parameter, both optional, different default: the call works, the behaviour may not.
    canonical_defaults = dict(canonical.defaults)
    for param, value in candidate.defaults:
        other = canonical_defaults.get(param)
        if other is not None and other != value:
            add(
                f"{v.possessive}default of '{param}' is {value} but {v.other}'s is {other}",
                breaking=False,
            )
    return found


def _article(kind: str) -> str:
    return "a plain method" if kind == "method" else f"a {kind}"


def compare(candidate: ClassInterface, canonical: ClassInterface) -> InterfaceComparison:
    """Compare ``candidate`` (facade, mock, duplicate) against ``canonical``, member by member.

    Every public method and attribute of the candidate must exist on the canonical with a
    same-or-more-permissive signature and the same async-ness for ``is_compatible`` to hold;
    the constructor must accept every call the candidate's accepted (an alias is constructed in
    its place). Members a canonical's unreadable base might provide still count as missing, with
    that said in the message.
    """
    mine, theirs = candidate.public_methods, canonical.public_methods
    common = sorted(mine & theirs)
    union = mine | theirs
    overlap = 100.0 if not union else round(100.0 * len(common) / len(union), 1)
    mismatches: list[MethodMismatch] = []
    unknown = ""
    if canonical.unresolved_bases:
        unknown = f" (canonical also inherits from {', '.join(canonical.unresolved_bases)}, which could not be read)"
    canonical_attrs = canonical.attributes | set(canonical.methods)
    for name in sorted(mine - theirs):
        signature = candidate.methods[name]
        if signature.kind == "property" and name in canonical.attributes:
            continue  # a plain attribute reads the same as a property
        mismatches.append(MethodMismatch(name, f"{name}(): not defined on canonical{unknown}"))
    for name in common:
        mismatches.extend(compare_signatures(candidate.methods[name], canonical.methods[name]))
    extra_attributes = sorted(a for a in candidate.public_attributes if a not in canonical_attrs)
    for name in extra_attributes:
        mismatches.append(
            MethodMismatch(name, f"attribute '{name}': not defined on canonical{unknown}")
        )
    missing_attributes = sorted(
        a
        for a in canonical.public_attributes
        if a not in candidate.attributes | set(candidate.methods)
    )
    if candidate.constructor is not None and canonical.constructor is None:
        mismatches.append(
            MethodMismatch(
                "__init__",
                "__init__(): canonical's constructor is inherited from a base that could not be read",
            )
        )
    elif candidate.constructor is not None and canonical.constructor is not None:
        mismatches.extend(compare_signatures(candidate.constructor, canonical.constructor))
    return InterfaceComparison(
        candidate=candidate.qualname or candidate.name,
        canonical=canonical.qualname or canonical.name,
        overlap=overlap,
        common=tuple(common),
        missing=tuple(sorted(theirs - mine)),
        extra=tuple(sorted(mine - theirs)),
        missing_attributes=tuple(missing_attributes),
        extra_attributes=tuple(extra_attributes),
        mismatches=tuple(mismatches),
    )


def compare_double(double: ClassInterface, canonical: ClassInterface) -> InterfaceComparison:
    """Whether ``double`` can stand in for ``canonical``: the reverse of :func:`compare`.

    Code under test calls the double the way it calls the canonical, so every canonical public
    method and attribute must exist on the double and accept every call the canonical accepts.
    What the double adds (``events``, ``event_types()`` for the test to inspect) and how it is
    constructed are the test's business and are not drift. Members an unreadable base of the
    double might provide (``MagicMock``) are not reported missing. Canonical instance attributes
    the double lacks are listed in ``missing_attributes`` but, as in :func:`compare`, are not
    mismatches: instance state a double need not copy.
    """
    mine, theirs = double.public_methods, canonical.public_methods
    common = sorted(mine & theirs)
    union = mine | theirs
    overlap = 100.0 if not union else round(100.0 * len(common) / len(union), 1)
    opaque = bool(double.unresolved_bases)
    mismatches: list[MethodMismatch] = []
    double_members = double.attributes | set(double.methods)
    missing = () if opaque else tuple(sorted(theirs - mine))
    for name in missing:
        signature = canonical.methods[name]
        if signature.kind == "property" and name in double.attributes:
            continue
        mismatches.append(
            MethodMismatch(name, f"{name}(): the canonical has it but the double does not")
        )
    for name in common:
        mismatches.extend(
            compare_signatures(canonical.methods[name], double.methods[name], voice=DOUBLE_VOICE)
        )
    # Listed, not counted as drift (as in ``compare``): instance state a double need not copy.
    missing_attributes = (
        ()
        if opaque
        else tuple(sorted(a for a in canonical.public_attributes if a not in double_members))
    )
    return InterfaceComparison(
        candidate=double.qualname or double.name,
        canonical=canonical.qualname or canonical.name,
        overlap=overlap,
        common=tuple(common),
        missing=missing,
        extra=tuple(sorted(mine - theirs)),
        missing_attributes=missing_attributes,
        extra_attributes=tuple(
            sorted(
                a
                for a in double.public_attributes
                if a not in canonical.attributes | set(canonical.methods)
            )
        ),
        mismatches=tuple(mismatches),
    )


def classes_in_module(
    module: cst.Module,
    module_name: str | None = None,
    is_package: bool = False,
    *,
    resolve_base: BaseResolver | None = None,
) -> dict[str, ClassInterface]:
    """Interfaces of every top-level class of ``module`` (for scanning a file for duplicates)."""
    imports = module_imports(module, module_name, is_package)
    found: dict[str, ClassInterface] = {}
    for name, node in _top_level_classes(module).items():
        qualname = f"{module_name}.{name}" if module_name else name
        found[name] = extract_interface(
            node, module, resolve_base=resolve_base, imports=imports, qualname=qualname
        )
    return found

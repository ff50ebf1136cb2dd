"""A class's interface read from its ``libcst.ClassDef``: members, signatures, own bases."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst

from ssot_migrate.interfaces.records import (
    _MAX_DEPTH,
    _TRANSPARENT_BASES,
    ClassInterface,
    MethodSignature,
)
from ssot_migrate.pysyntax import PerModule, block_statements, dotted_name, import_bindings


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
        self.classes = _top_level_classes(module)  # the last definition wins, as find_class's
        self.imports: dict[tuple[str | None, bool], dict[str, str]] = {}


# Each entry holds its module alive: a few, not every module a command parses.
_index = PerModule(_ModuleIndex, kept=8)


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

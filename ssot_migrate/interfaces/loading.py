"""Classes loaded from a snapshot: modules parsed once, bases followed across the repository."""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import PositionProvider

from ssot_migrate.interfaces.extract import (
    _assigned_names,
    _code,
    extract_interface,
    find_class,
    module_imports,
)
from ssot_migrate.interfaces.records import _MAX_DEPTH, ClassInterface, SnapshotLike
from ssot_migrate.pysyntax import block_statements, dotted_name


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
    found = locate_class(snapshot, dotted, _depth=_depth)
    return found.interface(snapshot) if found is not None else None


@dataclass(frozen=True)
class LocatedClass:
    """Where ``load_class`` finds a class defined; its interface is read when asked for."""

    module_name: str
    path: str
    qualname: str
    module: cst.Module
    node: cst.ClassDef
    imports: dict[str, str]
    depth: int

    def interface(self, snapshot: SnapshotLike) -> ClassInterface:
        """The class's interface, its base classes resolved across the repository."""

        def resolve(base: str) -> ClassInterface | None:
            return load_class(snapshot, base, _depth=self.depth + 1)

        interface = extract_interface(
            self.node,
            self.module,
            resolve_base=resolve,
            imports=self.imports,
            qualname=f"{self.module_name}.{self.qualname}",
            _depth=self.depth,
        )
        memo = _memo(snapshot)
        line = (
            memo.class_line(self.path, self.qualname)
            if memo is not None
            else _line_of_class(self.module, self.node)
        )
        return _with_line(interface, line)


def locate_class(snapshot: SnapshotLike, dotted: str, *, _depth: int = 0) -> LocatedClass | None:
    """Where the class ``dotted`` is defined, as ``load_class`` finds it (re-exports followed),
    without reading its interface: whether a class is there costs no more than a parse."""
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
    node = find_class(module, qualname)
    if node is not None:
        return LocatedClass(module_name, path, qualname, module, node, imports, _depth)
    head, _, rest = qualname.partition(".")
    target = imports.get(head) or _assigned_alias(module, head, imports, module_name)
    if target is None or target == dotted:
        return None
    return locate_class(snapshot, f"{target}.{rest}" if rest else target, _depth=_depth + 1)


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

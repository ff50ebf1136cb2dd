"""What a module binds and where a module is, read from files: the ground ``resolution`` stands on.

:func:`module_names` reads the names a module's source binds (imports, definitions, ``__all__``,
star imports, a module ``__getattr__``); a :class:`SourceTree` is one place's files (the
repository's at a commit, or folders on disk) and :func:`find_module` finds a dotted module in it,
as the import system would, without importing anything.
"""

from __future__ import annotations

import ast
import importlib.machinery
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ssot_migrate.pysyntax import resolve_relative

# --------------------------------------------------------------------------- what a module binds


def bound_names(node: ast.stmt) -> list[str]:
    """Names a module-level statement binds (``*`` for a star import); nested blocks included."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Import | ast.ImportFrom):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    type_alias = getattr(ast, "TypeAlias", None)  # Python 3.12+: `type X = ...`
    if type_alias is not None and isinstance(node, type_alias):
        name = getattr(node, "name", None)
        return [name.id] if isinstance(name, ast.Name) else []
    names: list[str] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.stmt):
            names += bound_names(child)
    return names


@dataclass(frozen=True)
class ModuleNames:
    """What one module's source binds at top level, statically."""

    names: frozenset[str]
    dunder_all: frozenset[str]
    star_from: tuple[str, ...]  # modules of ``from m import *`` (relative ones as written)
    has_getattr: bool
    imports: Mapping[str, str]  # bound name -> dotted module or ``module.name`` it imports
    parsed: bool = True
    # The only names a module ``__getattr__`` answers, when it compares its argument with string
    # literals and raises AttributeError otherwise (``urllib.parse``'s answers only "Quoter").
    getattr_names: frozenset[str] | None = None


def module_names(source: bytes, package: str | None = None) -> ModuleNames:
    """The names ``source`` binds; ``package`` resolves its relative imports."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ModuleNames(frozenset(), frozenset(), (), False, {}, parsed=False)
    names: set[str] = set()
    dunder_all: set[str] = set()
    stars: list[str] = []
    imports: dict[str, str] = {}
    for statement in ast.walk(tree):
        if isinstance(
            statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
        ):
            continue
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                imports[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(statement, ast.ImportFrom):
            base = resolve_relative(statement.level, statement.module, package)
            for alias in statement.names:
                if alias.name == "*":
                    stars.append(base or "")
                elif base is not None:
                    imports[alias.asname or alias.name] = f"{base}.{alias.name}"
        elif isinstance(statement, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                value = statement.value
                if isinstance(value, ast.List | ast.Tuple | ast.Set):
                    dunder_all.update(
                        e.value
                        for e in value.elts
                        if isinstance(e, ast.Constant) and isinstance(e.value, str)
                    )
    literals: dict[str, frozenset[str]] = {}
    getattr_node: ast.FunctionDef | None = None
    for statement in tree.body:
        names.update(n for n in bound_names(statement) if n != "*")
        if isinstance(statement, ast.FunctionDef) and statement.name == "__getattr__":
            getattr_node = statement
        elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name):
                literals[target.id] = _string_keys(statement.value)
    return ModuleNames(
        frozenset(names),
        frozenset(dunder_all),
        tuple(stars),
        "__getattr__" in names,
        imports,
        getattr_names=_getattr_names(getattr_node, literals) if getattr_node else None,
    )


def _string_keys(node: ast.expr | None) -> frozenset[str]:
    """The strings of a literal tuple/list/set, or the string keys of a literal dict."""
    items: list[ast.expr | None] = []
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        items = list(node.elts)
    elif isinstance(node, ast.Dict):
        items = list(node.keys)
    return frozenset(
        i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)
    )


def _getattr_names(
    function: ast.FunctionDef, literals: Mapping[str, frozenset[str]]
) -> frozenset[str] | None:
    """What a module ``__getattr__`` can answer, when that can be read: ``None`` otherwise.

    Readable means: every use of its argument is a comparison with string literals (``name ==
    "X"``, ``name in ("X", "Y")``, ``name in _LAZY`` for a module-level literal) or the message of
    the AttributeError it raises.
    """
    if not function.args.args:
        return None
    param = function.args.args[0].arg
    found: set[str] = set()
    raises = False
    compared: set[int] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Raise) and _raises_attribute_error(node):
            raises = True
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        if not any(isinstance(s, ast.Name) and s.id == param for s in sides):
            continue
        for side in sides:
            compared.add(id(side))
            if isinstance(side, ast.Constant) and isinstance(side.value, str):
                found.add(side.value)
            elif isinstance(side, ast.Name) and side.id != param:
                if side.id not in literals:
                    return None
                found |= literals[side.id]
            elif isinstance(side, ast.Tuple | ast.List | ast.Set):
                found |= _string_keys(side)
    in_message = {
        id(inner)
        for node in ast.walk(function)
        if isinstance(node, ast.Raise) and _raises_attribute_error(node)
        for inner in ast.walk(node)
    }
    for node in ast.walk(function):
        used = isinstance(node, ast.Name) and node.id == param
        if used and id(node) not in compared and id(node) not in in_message:
            return None  # any other use (a dict lookup, an import of it) is dynamic
    return frozenset(found) if raises and found else None


def _raises_attribute_error(node: ast.Raise) -> bool:
    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    return isinstance(exc, ast.Name) and exc.id == "AttributeError"


# --------------------------------------------------------------------------- file trees


class SourceTree:
    """A set of import roots: ``is_file``/``is_dir``/``read``/``list`` on ``root/rel`` paths."""

    def roots(self) -> Sequence[str]:
        raise NotImplementedError

    def is_file(self, path: str) -> bool:
        raise NotImplementedError

    def is_dir(self, path: str) -> bool:
        raise NotImplementedError

    def read(self, path: str) -> bytes:
        raise NotImplementedError

    def list(self, path: str) -> list[str]:
        raise NotImplementedError

    def mapped(self, top: str) -> str | None:
        """Where an editable install maps top-level module ``top`` (a file or a folder)."""
        return None


class RepoTree(SourceTree):
    """The repository's files at the commit, under its source roots (joined with ``/``)."""

    def __init__(
        self, roots: Sequence[str], files: frozenset[str], read: Callable[[str], bytes] | None
    ) -> None:
        self._roots = [r.strip("/") for r in roots]
        self._files = files
        self._read = read
        self._dirs: set[str] = set()
        for path in files:
            parts = path.split("/")[:-1]
            self._dirs.update("/".join(parts[: i + 1]) for i in range(len(parts)))

    def roots(self) -> Sequence[str]:
        return self._roots

    def is_file(self, path: str) -> bool:
        return path.lstrip("/") in self._files

    def is_dir(self, path: str) -> bool:
        return path.strip("/") in self._dirs

    def read(self, path: str) -> bytes:
        return self._read(path.lstrip("/")) if self._read is not None else b""

    def list(self, path: str) -> list[str]:
        prefix = path.strip("/") + "/" if path.strip("/") else ""
        found = {p[len(prefix) :].split("/")[0] for p in self._files if p.startswith(prefix)}
        found |= {d[len(prefix) :].split("/")[0] for d in self._dirs if d.startswith(prefix)}
        return sorted(found)


class DiskTree(SourceTree):
    """Folders on disk searched like ``sys.path`` entries, plus editable-install mappings."""

    def __init__(self, roots: Sequence[Path], mapping: Mapping[str, Path] | None = None) -> None:
        self._roots = [str(r) for r in dict.fromkeys(roots)]
        self._mapping = {k: str(v) for k, v in (mapping or {}).items()}

    def roots(self) -> Sequence[str]:
        return self._roots

    def is_file(self, path: str) -> bool:
        return os.path.isfile(path)

    def is_dir(self, path: str) -> bool:
        return os.path.isdir(path)

    def read(self, path: str) -> bytes:
        try:
            return Path(path).read_bytes()
        except OSError:
            return b""

    def list(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(path))
        except OSError:
            return []

    def mapped(self, top: str) -> str | None:
        return self._mapping.get(top)


def _join(base: str, name: str) -> str:
    return f"{base}/{name}" if base else name


@dataclass(frozen=True)
class FoundModule:
    """A module found in a tree: its source (``None`` when compiled or builtin) and, for a
    package, the folders its submodules live in."""

    name: str
    source: str | None
    dirs: tuple[str, ...] = ()
    compiled: bool = False
    namespace: bool = False

    @property
    def package(self) -> str | None:
        """The package relative imports in this module resolve against."""
        return self.name if self.dirs else self.name.rpartition(".")[0]


_EXTENSION_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)
_ANY_EXTENSION = re.compile(r"^(?P<name>[A-Za-z_]\w*)(?:\.[\w-]+)?\.(?:so|pyd)$")


def _locate(tree: SourceTree, dirs: Sequence[str], name: str, full: str) -> FoundModule | None:
    """Module ``name`` (one segment) in ``dirs`` of ``tree``, as a path-based finder would."""
    namespace: list[str] = []
    for base in dirs:
        package = _join(base, name)
        if tree.is_file(_join(package, "__init__.py")):
            return FoundModule(full, _join(package, "__init__.py"), (package,))
        if tree.is_file(package + ".py"):
            return FoundModule(full, package + ".py")
        if tree.is_file(package + ".pyi"):
            return FoundModule(full, package + ".pyi")
        if isinstance(tree, DiskTree) and any(
            _ANY_EXTENSION.match(entry) and entry.split(".")[0] == name
            for entry in tree.list(base)
            if entry.startswith(name + ".")
        ):
            return FoundModule(full, None, compiled=True)
        if tree.is_dir(package):
            namespace.append(package)
    if namespace:
        return FoundModule(full, None, tuple(namespace), namespace=True)
    return None


def find_module(tree: SourceTree, dotted: str) -> FoundModule | None:
    """The module ``dotted`` in ``tree`` (``None`` when it has no file there)."""
    parts = dotted.split(".")
    mapped = tree.mapped(parts[0])
    if mapped is not None:
        if mapped.endswith(".py"):
            found: FoundModule | None = FoundModule(parts[0], mapped)
        else:
            init = _join(mapped, "__init__.py")
            found = FoundModule(
                parts[0],
                init if tree.is_file(init) else None,
                (mapped,),
                namespace=not tree.is_file(init),
            )
    else:
        found = _locate(tree, tree.roots(), parts[0], parts[0])
    for index in range(1, len(parts)):
        if found is None or not found.dirs:
            return None
        found = _locate(tree, found.dirs, parts[index], ".".join(parts[: index + 1]))
    return found

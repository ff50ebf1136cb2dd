"""Where a configured dotted name lives, found statically: nothing is imported, nothing is run.

A name is looked up in these places, in this order, and the first place that has its top-level
package decides (a later place cannot shadow it, as on ``sys.path``)::

    1. the repository's sources (``source-roots``)
    2. the project's environment: ``python`` / ``--python`` (an interpreter or a venv), else
       ``.venv/``, ``venv/``, ``env/`` in the repository, else ``$VIRTUAL_ENV``, else an
       interpreter path at the start of ``test-command``; its ``site-packages`` and the folders
       its ``.pth`` files list (lines that are code are never run; an editable install's finder
       module is read for its ``MAPPING``)
    3. the standard library of that environment's Python (else of the running one)
    4. ssot-migrate's own environment

``collections.OrderedDict``: ``collections`` is not in the repository, not in the project's
``site-packages``; the standard library has ``collections/__init__.py``, which binds
``OrderedDict`` (``from _collections import OrderedDict``): a symbol. A module without source
(an extension, a builtin) accepts any name, with a note; so does a module with a star import or a
module ``__getattr__``. A name found nowhere comes back with the places looked in and the
nearest names that do exist ("did you mean").
"""

from __future__ import annotations

import ast
import builtins
import difflib
import importlib.machinery
import keyword
import os
import re
import shlex
import sys
import sysconfig
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ssot_migrate.model import NameKind
from ssot_migrate.pysyntax import resolve_relative

# Directory names the issue promises to look at, in the repository, in this order.
VENV_DIRS = (".venv", "venv", "env")
_MAX_FOLLOW = 8  # re-export hops followed when a parent "module" is a name bound in its parent


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


class _Tree:
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


class _RepoTree(_Tree):
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


class _DiskTree(_Tree):
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
class _Module:
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


def _locate(tree: _Tree, dirs: Sequence[str], name: str, full: str) -> _Module | None:
    """Module ``name`` (one segment) in ``dirs`` of ``tree``, as a path-based finder would."""
    namespace: list[str] = []
    for base in dirs:
        package = _join(base, name)
        if tree.is_file(_join(package, "__init__.py")):
            return _Module(full, _join(package, "__init__.py"), (package,))
        if tree.is_file(package + ".py"):
            return _Module(full, package + ".py")
        if tree.is_file(package + ".pyi"):
            return _Module(full, package + ".pyi")
        if isinstance(tree, _DiskTree) and any(
            _ANY_EXTENSION.match(entry) and entry.split(".")[0] == name
            for entry in tree.list(base)
            if entry.startswith(name + ".")
        ):
            return _Module(full, None, compiled=True)
        if tree.is_dir(package):
            namespace.append(package)
    if namespace:
        return _Module(full, None, tuple(namespace), namespace=True)
    return None


def find_module(tree: _Tree, dotted: str) -> _Module | None:
    """The module ``dotted`` in ``tree`` (``None`` when it has no file there)."""
    parts = dotted.split(".")
    mapped = tree.mapped(parts[0])
    if mapped is not None:
        if mapped.endswith(".py"):
            found: _Module | None = _Module(parts[0], mapped)
        else:
            init = _join(mapped, "__init__.py")
            found = _Module(
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


# --------------------------------------------------------------------------- places


@dataclass(frozen=True)
class Place:
    """One place names are looked up in: a label for messages and the tree searched."""

    label: str
    tree: _Tree
    builtins: frozenset[str] = frozenset()  # module names compiled into the interpreter
    top_filter: frozenset[str] | None = None  # only these top-level names live here


@dataclass(frozen=True)
class Environment:
    """A Python environment found statically: where it is, its Python version, its folders."""

    label: str
    site_dirs: tuple[Path, ...]
    extra_dirs: tuple[Path, ...]  # listed by .pth files
    mapping: Mapping[str, Path]  # editable installs: top-level name -> folder or file
    stdlib: Path | None
    version: tuple[int, int] | None


class EnvironmentError_(ValueError):
    """``python``/``--python`` names nothing usable (the config layer turns it into exit 2)."""


def _version_of(text: str) -> tuple[int, int] | None:
    match = re.search(r"(\d)\.(\d+)", text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _read_cfg(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return values
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip().lower()] = value.strip()
    return values


def _lib_dirs(prefix: Path) -> list[Path]:
    """``prefix/lib/pythonX.Y`` folders (POSIX) and ``prefix/Lib`` (Windows), existing ones."""
    found = sorted(p for p in prefix.glob("lib/python3*") if p.is_dir())
    windows = prefix / "Lib"
    if windows.is_dir() and (windows / "site-packages").is_dir():
        found.append(windows)
    return found


def _pth_entries(site: Path) -> tuple[list[Path], dict[str, Path]]:
    """Folders a site folder's ``.pth`` files add, and editable-install mappings.

    Lines starting with ``import`` are code that ``site`` would execute: never run here. The
    one such line read is setuptools' editable finder, whose ``MAPPING`` is a literal.
    """
    folders: list[Path] = []
    mapping: dict[str, Path] = {}
    try:
        pth_files = sorted(p for p in site.iterdir() if p.suffix == ".pth" and p.is_file())
    except OSError:
        return folders, mapping
    for pth in pth_files:
        try:
            lines = pth.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for raw in lines:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith(("import ", "import\t")):
                for finder in re.findall(r"import\s+(__editable___\w+_finder)", line):
                    mapping.update(_editable_mapping(site / f"{finder}.py"))
                continue
            folder = Path(line) if os.path.isabs(line) else site / line
            if folder.is_dir():
                folders.append(folder)
    return folders, mapping


def _editable_mapping(finder: Path) -> dict[str, Path]:
    """``MAPPING = {"pkg": "/src/pkg"}`` of a setuptools editable finder, read as a literal."""
    try:
        tree = ast.parse(finder.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return {}
    for node in tree.body:
        target = (
            node.target
            if isinstance(node, ast.AnnAssign)
            else (
                node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
            )
        )
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if isinstance(target, ast.Name) and target.id == "MAPPING" and value is not None:
            try:
                literal = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                return {}
            if isinstance(literal, dict):
                return {str(k): Path(str(v)) for k, v in literal.items()}
    return {}


def environment_at(path: Path, how: str) -> Environment:
    """The environment of a venv folder or an interpreter file, read from disk only."""
    path = Path(os.path.abspath(path))
    if path.is_dir():
        root = path
    elif path.is_file() or path.is_symlink():
        # ``.venv/bin/python``: the venv is two levels up when it has a pyvenv.cfg.
        root = path.parent.parent
    else:
        raise EnvironmentError_(f"{path} does not exist")
    cfg_path = root / "pyvenv.cfg"
    cfg = _read_cfg(cfg_path) if cfg_path.is_file() else {}
    libs = _lib_dirs(root)
    if not cfg and not libs and path.is_file():
        # A system interpreter: /usr/bin/python3.12 -> /usr/lib/python3.12
        real = Path(os.path.realpath(path))
        root = real.parent.parent
        libs = _lib_dirs(root)
    if not libs:
        raise EnvironmentError_(
            f"{path} is neither a virtual environment (no lib/python3.*/site-packages) "
            "nor a Python interpreter whose prefix has one"
        )
    version = _version_of(cfg.get("version_info", cfg.get("version", "")))
    if version is None and path.is_file():
        version = _version_of(Path(os.path.realpath(path)).name)
    if version is not None:
        matching = [lib for lib in libs if _version_of(lib.name) == version]
        libs = matching or libs
    elif len(libs) == 1:
        version = _version_of(libs[0].name)
    sites = [lib / "site-packages" for lib in libs if (lib / "site-packages").is_dir()]
    sites += [
        lib.parent / "python3" / "dist-packages"
        for lib in libs[:1]
        if (lib.parent / "python3" / "dist-packages").is_dir()
    ]
    stdlib: Path | None = None
    if cfg:
        home = cfg.get("home")
        if home:
            base_libs = _lib_dirs(Path(home).parent)
            same = [lib for lib in base_libs if version is None or _version_of(lib.name) == version]
            stdlib = same[0] if same else None
            system = cfg.get("include-system-site-packages", "").lower() == "true"
            if system and stdlib is not None and (stdlib / "site-packages").is_dir():
                sites.append(stdlib / "site-packages")
    elif libs:
        stdlib = libs[0]
    extra: list[Path] = []
    mapping: dict[str, Path] = {}
    for site in sites:
        folders, mapped = _pth_entries(site)
        extra += folders
        mapping.update(mapped)
    return Environment(
        label=f"the project's environment {root} ({how})",
        site_dirs=tuple(sites),
        extra_dirs=tuple(extra),
        mapping=mapping,
        stdlib=stdlib,
        version=version,
    )


def _interpreter_in_command(command: str | Sequence[str] | None) -> str | None:
    """The interpreter path a test command starts with (``.venv/bin/python -m pytest``)."""
    if command is None:
        return None
    try:
        argv = shlex.split(command) if isinstance(command, str) else list(command)
    except ValueError:
        return None
    while argv and (argv[0] == "env" or re.match(r"^[A-Za-z_]\w*=", argv[0])):
        argv = argv[1:]
    if argv and "/" in argv[0] and re.search(r"python[\d.]*(\.exe)?$", argv[0]):
        return argv[0]
    return None


def find_environment(
    repo: Path,
    python: Path | None,
    how: str,
    test_command: str | Sequence[str] | None,
    environ: Mapping[str, str] | None = None,
) -> Environment | None:
    """The project's environment, in the issue's order; ``python`` is already absolute.

    Raises :class:`EnvironmentError_` only for an explicit ``python`` that names nothing usable;
    a guessed place that is not an environment is passed over.
    """
    if python is not None:
        return environment_at(python, how)
    environ = os.environ if environ is None else environ
    guesses: list[tuple[Path, str]] = [(repo / d, f"found at {d}/") for d in VENV_DIRS]
    if environ.get("VIRTUAL_ENV"):
        guesses.append((Path(environ["VIRTUAL_ENV"]), "from $VIRTUAL_ENV"))
    interpreter = _interpreter_in_command(test_command)
    if interpreter is not None:
        guesses.append(((repo / interpreter), "the interpreter test-command starts with"))
    for path, why in guesses:
        if not path.exists():
            continue
        try:
            return environment_at(path, why)
        except EnvironmentError_:
            continue
    return None


def _running_stdlib() -> list[Path]:
    # In a venv, sysconfig's ``platstdlib`` points into the venv; the extension modules
    # (``math``, ``_socket``) live in the base installation's ``lib-dynload``.
    stdlib = Path(sysconfig.get_path("stdlib"))
    dynload = [Path(p) for p in sys.path if p.endswith("lib-dynload")] or [stdlib / "lib-dynload"]
    return list(dict.fromkeys([stdlib, *dynload]))


def _own_dirs(repo: Path, exclude: Iterable[Path]) -> list[Path]:
    """ssot-migrate's own ``sys.path``, without the repository, the cwd, and ``exclude``."""
    skip = {os.path.abspath(p) for p in exclude}
    repo_text = os.path.abspath(repo)
    out: list[Path] = []
    for entry in sys.path:
        if entry in ("", "."):
            continue
        absolute = os.path.abspath(entry)
        if absolute == os.getcwd() or absolute.startswith(repo_text) or absolute in skip:
            continue
        if os.path.isdir(absolute) and not absolute.endswith(".zip"):
            out.append(Path(absolute))
    return out


def places_for(
    repo: Path,
    roots: Sequence[str],
    files: frozenset[str],
    read: Callable[[str], bytes] | None,
    environment: Environment | None,
) -> list[Place]:
    """The places of the module docstring, in order."""
    shown_roots = ", ".join(repr(r) for r in roots) or "''"
    places = [
        Place(
            f"the repository's sources (source-roots {shown_roots})", _RepoTree(roots, files, read)
        )
    ]
    running = (sys.version_info.major, sys.version_info.minor)
    stdlib_dirs = _running_stdlib()
    version = running
    if environment is not None:
        places.append(
            Place(
                environment.label,
                _DiskTree([*environment.site_dirs, *environment.extra_dirs], environment.mapping),
            )
        )
        if environment.stdlib is not None:
            stdlib_dirs = [environment.stdlib, environment.stdlib / "lib-dynload"]
            version = environment.version or running
    same = version == running
    places.append(
        Place(
            f"the standard library of Python {version[0]}.{version[1]} ({stdlib_dirs[0]})",
            _DiskTree([d for d in stdlib_dirs if d.is_dir()]),
            builtins=frozenset(sys.builtin_module_names),
            top_filter=frozenset(sys.stdlib_module_names) if same else None,
        )
    )
    own = _own_dirs(repo, [*stdlib_dirs, *_running_stdlib()])
    places.append(Place(f"ssot-migrate's own environment ({sys.prefix})", _DiskTree(own)))
    return places


# --------------------------------------------------------------------------- resolving a name


@dataclass(frozen=True)
class Resolution:
    """Where a dotted name was found, and what kind of object it is.

    ``kind`` is ``None`` when the name was found nowhere; ``looked_in`` then lists the places and
    ``suggestions`` the nearest existing names. ``note`` says what could not be checked.
    """

    name: str
    kind: NameKind | None
    place: str = ""
    note: str = ""
    why: str = ""
    looked_in: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()
    # ``a.mod.Outer`` when ``name`` is ``a.mod.Outer.Inner`` and ``Outer`` is a name module
    # ``a.mod`` itself defines: the name is an attribute of an object, not of a module.
    attribute_of: str = ""


@dataclass
class Resolver:
    """Looks names up in :func:`places_for`'s places (cached per module)."""

    places: Sequence[Place]
    _names: dict[tuple[int, str], ModuleNames] = field(default_factory=dict)

    def _module(self, place: Place, dotted: str) -> _Module | None:
        top = dotted.split(".")[0]
        if place.top_filter is not None and top not in place.top_filter:
            return None
        found = find_module(place.tree, dotted)
        if found is None and top in place.builtins and "." not in dotted:
            return _Module(dotted, None, compiled=True)
        return found

    def _names_of(self, place: Place, module: _Module) -> ModuleNames | None:
        if module.source is None:
            return None
        key = (id(place), module.source)
        if key not in self._names:
            self._names[key] = module_names(place.tree.read(module.source), module.package)
        return self._names[key]

    def _owner(self, dotted: str) -> tuple[Place, _Module] | None:
        """The first place whose top-level package of ``dotted`` is not a namespace package
        spread further, and the module ``dotted`` there (the module may be missing)."""
        top = dotted.split(".")[0]
        for place in self.places:
            head = self._module(place, top)
            if head is None:
                continue
            found = self._module(place, dotted)
            if found is not None or not head.namespace:
                return (place, found) if found is not None else (place, head)
        return None

    def find_module(self, dotted: str) -> tuple[Place, _Module] | None:
        """Where module ``dotted`` lives, following ``pkg.name`` bound by an import in ``pkg``
        (``os.path``, which ``os`` binds with ``import posixpath as path``)."""
        seen: set[str] = set()
        current = dotted
        for _ in range(_MAX_FOLLOW):
            owner = self._owner(current)
            if owner is not None and owner[1].name == current:
                return owner
            parent, _, leaf = current.rpartition(".")
            if not parent or current in seen:
                return None
            seen.add(current)
            holder = self.find_module(parent)
            if holder is None:
                return None
            names = self._names_of(*holder)
            target = names.imports.get(leaf) if names is not None else None
            if target is None:
                return None
            current = target
        return None

    def module_names(self, dotted: str, _depth: int = 0) -> frozenset[str] | None:
        """Every name ``from dotted import <name>`` can bind: what the module binds, its
        ``__all__``, its submodules, what its star imports bring; ``None`` when that cannot be
        known statically (compiled, a star import of such a module, an opaque ``__getattr__``)."""
        found = self.find_module(dotted)
        if found is None or _depth > _MAX_FOLLOW:
            return None
        place, module = found
        names = self._names_of(place, module)
        if names is None or (names.has_getattr and names.getattr_names is None):
            return None
        bound = (
            names.names
            | names.dunder_all
            | (names.getattr_names or frozenset())
            | frozenset(self._siblings(place, module, "", full=False))
        )
        for star in names.star_from:
            brought = self.module_names(star, _depth + 1) if star else None
            if brought is None:
                return None
            # ``__all__`` of the star's module is not tracked here: its public names.
            bound |= {n for n in brought if not n.startswith("_")}
        return bound

    def resolve(self, name: str) -> Resolution:
        """Look ``name`` up: a module, a symbol of a module, or found nowhere."""
        labels = tuple(p.label for p in self.places)
        module = self.find_module(name)
        if module is not None:
            place, found = module
            note = ""
            if found.compiled:
                note = f"{name!r} is a compiled or builtin module: found, its contents not read"
            return Resolution(name, NameKind.MODULE, place.label, note)
        parent, _, leaf = name.rpartition(".")
        holder = self.find_module(parent) if parent else None
        if holder is None:
            owner = self._defining_module(parent) if parent else None
            if owner is not None:
                defined_in, where, source = owner
                return Resolution(
                    name,
                    None,
                    looked_in=labels,
                    attribute_of=parent,
                    why=f"{parent!r} is not a module but a name module {defined_in!r} "
                    f"({_shown(source, where)}) defines",
                )
            return Resolution(
                name,
                None,
                looked_in=labels,
                suggestions=tuple(s for s in self._suggest_module(name) if s != name),
                why=f"no module {name!r}" + (f" or {parent!r}" if parent else ""),
            )
        place, found = holder
        names = self._names_of(place, found)
        if names is None and found.name == "builtins":
            # The interpreter's own namespace, not project code: read it, so `builtins.lsit`
            # gets a did-you-mean like any other name.
            names = ModuleNames(frozenset(dir(builtins)), frozenset(), (), False, {})
        if names is None:
            what = "a namespace package" if found.namespace else "a compiled or builtin module"
            if found.namespace:
                return Resolution(
                    name,
                    None,
                    looked_in=labels,
                    suggestions=tuple(self._siblings(place, found, leaf)),
                    why=f"{parent!r} is {what} ({place.label}) with no module {leaf!r}",
                )
            return Resolution(
                name,
                NameKind.SYMBOL,
                place.label,
                note=f"{parent!r} is {what}: {leaf!r} accepted without checking",
            )
        if not names.parsed:
            return Resolution(
                name,
                NameKind.SYMBOL,
                place.label,
                note=f"{parent!r} ({found.source}) could not be parsed: {leaf!r} accepted unchecked",
            )
        if leaf in names.names or leaf in names.dunder_all:
            return Resolution(name, NameKind.SYMBOL, place.label)
        for star in names.star_from:
            sub = self.resolve(f"{star}.{leaf}") if star and star != parent else None
            if sub is not None and sub.kind is not None:
                return Resolution(
                    name,
                    NameKind.SYMBOL,
                    place.label,
                    note=f"{leaf!r} reaches {parent!r} through `from {star} import *`",
                )
        if names.has_getattr and names.getattr_names is not None and not names.star_from:
            if leaf in names.getattr_names:
                return Resolution(
                    name,
                    NameKind.SYMBOL,
                    place.label,
                    note=f"{parent!r} answers {leaf!r} from its module __getattr__",
                )
        elif names.star_from or names.has_getattr:
            how = "a star import" if names.star_from else "a module __getattr__"
            return Resolution(
                name,
                NameKind.SYMBOL,
                place.label,
                note=f"{parent!r} may bind {leaf!r} through {how}: accepted without proof",
            )
        candidates = sorted(names.names | names.dunder_all | (names.getattr_names or frozenset()))
        candidates += self._siblings(place, found, leaf, full=False)
        close = _close(leaf, candidates)
        return Resolution(
            name,
            None,
            looked_in=labels,
            suggestions=tuple(f"{parent}.{c}" for c in close),
            why=f"module {parent!r} ({_shown(found, place)}) does not define {leaf!r}",
        )

    def _defining_module(self, dotted: str) -> tuple[str, Place, _Module] | None:
        """The nearest module above ``dotted`` when the segment after it is a name that module
        binds to an object (a class, function or assignment, or an import of a symbol), not to
        a module: ``dotted`` then lives inside an object."""
        parts = dotted.split(".")
        for index in range(len(parts) - 1, 0, -1):
            holder = self.find_module(".".join(parts[:index]))
            if holder is None:
                continue
            names = self._names_of(*holder)
            segment = parts[index]
            if names is None or segment not in names.names:
                return None
            imported = names.imports.get(segment)
            if imported is not None and self.resolve(imported).kind is not NameKind.SYMBOL:
                return None  # a module it imports, or a name that cannot be looked up
            return ".".join(parts[:index]), *holder
        return None

    def _siblings(self, place: Place, module: _Module, leaf: str, full: bool = True) -> list[str]:
        entries = {
            e.removesuffix(".py")
            for d in module.dirs
            for e in place.tree.list(d)
            if e.removesuffix(".py").isidentifier() and not keyword.iskeyword(e.removesuffix(".py"))
        }
        if not full:
            return sorted(entries)
        return [f"{module.name}.{c}" for c in _close(leaf, entries)]

    def _suggest_module(self, name: str) -> tuple[str, ...]:
        """Nearest existing names for the first segment that is missing."""
        parts = name.split(".")
        for index in range(len(parts) - 1, 0, -1):
            holder = self.find_module(".".join(parts[:index]))
            if holder is None:
                continue
            place, found = holder
            names = self._names_of(place, found)
            candidates = sorted(names.names if names else frozenset()) + self._siblings(
                place, found, parts[index], full=False
            )
            close = _close(parts[index], candidates)
            rest = parts[index + 1 :]
            return tuple(".".join([*parts[:index], c, *rest]) for c in close)
        tops: set[str] = set()
        for place in self.places:
            if place.top_filter is not None:
                tops |= place.top_filter
                continue
            for root in place.tree.roots():
                tops.update(
                    e.removesuffix(".py")
                    for e in place.tree.list(root)
                    if e.removesuffix(".py").isidentifier()
                )
        close = _close(parts[0], tops)
        return tuple(".".join([c, *parts[1:]]) for c in close)


def _close(word: str, candidates: Iterable[str]) -> list[str]:
    """Up to three near names; private ones only for a private word."""
    pool = sorted({c for c in candidates if word.startswith("_") or not c.startswith("_")})
    return difflib.get_close_matches(word, pool, n=3, cutoff=0.6)


def _shown(module: _Module, place: Place) -> str:
    if isinstance(place.tree, _RepoTree):
        return module.source or module.name
    return module.source or place.label


def describe_missing(resolution: Resolution) -> str:
    """One sentence: what is missing, where it was looked for, what exists nearby."""
    text = f"{resolution.name!r} was found nowhere: {resolution.why}; looked in " + "; ".join(
        resolution.looked_in
    )
    if resolution.suggestions:
        text += " (did you mean " + " or ".join(repr(s) for s in resolution.suggestions) + "?)"
    return text

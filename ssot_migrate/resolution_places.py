"""Where ``resolution`` looks names up: the repository, the project's environment, the standard
library and ssot-migrate's own, found statically (see ``resolution`` for the order and why).

An environment (``python``/``--python``, a venv in the repository, ``$VIRTUAL_ENV``, an interpreter
at the start of ``test-command``) is read from its files: ``pyvenv.cfg``, ``site-packages``,
``.pth`` lines that are paths (code in them is never run), editable installs' finder mappings.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import sys
import sysconfig
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ssot_migrate.resolution_modules import DiskTree, RepoTree, SourceTree

VENV_DIRS = (".venv", "venv", "env")


# --------------------------------------------------------------------------- places


@dataclass(frozen=True)
class Place:
    """One place names are looked up in: a label for messages and the tree searched."""

    label: str
    tree: SourceTree
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
            f"the repository's sources (source-roots {shown_roots})", RepoTree(roots, files, read)
        )
    ]
    running = (sys.version_info.major, sys.version_info.minor)
    stdlib_dirs = _running_stdlib()
    version = running
    if environment is not None:
        places.append(
            Place(
                environment.label,
                DiskTree([*environment.site_dirs, *environment.extra_dirs], environment.mapping),
            )
        )
        if environment.stdlib is not None:
            stdlib_dirs = [environment.stdlib, environment.stdlib / "lib-dynload"]
            version = environment.version or running
    same = version == running
    places.append(
        Place(
            f"the standard library of Python {version[0]}.{version[1]} ({stdlib_dirs[0]})",
            DiskTree([d for d in stdlib_dirs if d.is_dir()]),
            builtins=frozenset(sys.builtin_module_names),
            top_filter=frozenset(sys.stdlib_module_names) if same else None,
        )
    )
    own = _own_dirs(repo, [*stdlib_dirs, *_running_stdlib()])
    places.append(Place(f"ssot-migrate's own environment ({sys.prefix})", DiskTree(own)))
    return places

"""Which legacy path each guard can ban, and how (``plan_guard``): the part of ``guard`` that
decides, shared by its ruff and import-linter writers (``guard_ruff``, ``guard_import_linter``).

Pure: the sources come through a snapshot, configuration files through a ``Reader``.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ssot_migrate.errors import UsageError
from ssot_migrate.model import Config, NameKind, Target
from ssot_migrate.pysyntax import resolve_relative

MARK = "(ssot-migrate)"
CONTRACT_PREFIX = "ssot-migrate: "
RULE = "TID251"

# Reads a file by repository-relative POSIX path (``../x`` for files outside it); None if absent.
Reader = Callable[[str], bytes | None]


def _module_of(target: Target, name: str) -> str:
    return name if target.canonical_kind == NameKind.MODULE else name.rpartition(".")[0]


def _allowed_modules(target: Target) -> set[str]:
    """Modules that may keep referencing legacy paths: the canonical's and the facades'."""
    allowed = {_module_of(target, target.canonical)}
    allowed |= {f.rpartition(".")[0] for f in target.facades}
    return allowed


# --- which ban goes to which linter -----------------------------------------------------------


@dataclass(frozen=True)
class Ban:
    """One legacy path to keep out, and the linter that can enforce it (with the reason)."""

    target: str
    alias: str
    canonical: str
    module: str
    linter: Literal["import-linter", "ruff"]
    reason: str


@dataclass(frozen=True)
class GuardPlan:
    """Every ban, the import-linter sources, and the imports kept on purpose."""

    bans: tuple[Ban, ...]
    packages: tuple[str, ...]  # top-level packages (regular and namespace): import-linter roots
    top_modules: tuple[str, ...]  # top-level plain modules: import-linter cannot see them
    ignores: tuple[tuple[str, str], ...] = ()  # (importer, forbidden module) kept on purpose
    allowed_files: tuple[str, ...] = ()  # files ruff exempts from TID251
    package_modules: frozenset[str] = frozenset()  # modules that are packages (have submodules)
    unparsable: tuple[tuple[str, str], ...] = ()  # (top-level package, a file that does not parse)
    unbannable: tuple[str, ...] = ()  # symbol paths that are also module names

    def forbidden_modules(self, target: str) -> list[str]:
        """The modules ``target``'s import-linter contract forbids."""
        return sorted(
            {b.module for b in self.bans if b.target == target and b.linter == "import-linter"}
        )

    def ruff_bans(self, kind: str) -> list[Ban]:
        """The bans written to ruff: all of them for ``ruff``, the rest for ``import-linter``."""
        if kind == "ruff":
            return list(self.bans)
        return [b for b in self.bans if b.linter == "ruff"]


def _object_names(target: Target) -> set[str]:
    return {target.canonical, *target.all_aliases}


def _is_warn_call(node: ast.expr) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Name) and func.id == "warn") or (
        isinstance(func, ast.Attribute) and func.attr == "warn"
    )


def shim_blocker(tree: ast.Module, module: str, is_package: bool, names: set[str]) -> str | None:
    """Why ``module`` is not a pure shim (None when every name it binds is the canonical object).

    A pure shim holds only a docstring, imports, ``__all__`` and ``__getattr__``/``__dir__``, and
    bindings of names in ``names`` (the canonical and its paths): importing anything from it is
    a legacy import, so the whole module can be forbidden.
    """
    package = module if is_package else module.rpartition(".")[0]
    local: set[str] = set()
    for statement in tree.body:
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue
        if isinstance(statement, ast.Expr) and _is_warn_call(statement.value):
            continue  # ``warnings.warn("moved", DeprecationWarning)``: what shims do
        if isinstance(statement, ast.Import):
            continue  # binds module names (``warnings``) nobody imports from a shim
        if isinstance(statement, ast.ImportFrom):
            source = resolve_relative(statement.level, statement.module, package or None)
            if source == "__future__":
                continue
            for alias in statement.names:
                value = f"{source}.{alias.name}"
                if alias.name == "*" or value not in names:
                    return f"it imports {alias.name} from {source}"
                local.add(alias.asname or alias.name)
            continue
        if isinstance(statement, ast.Assign | ast.AnnAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for node in targets:
                if not isinstance(node, ast.Name):
                    return f"line {statement.lineno} is not a re-export"
                if node.id.startswith("__") and node.id.endswith("__"):
                    continue
                bound = statement.value
                if isinstance(bound, ast.Name) and bound.id in local:
                    local.add(node.id)
                    continue
                return f"it defines {node.id}"
            continue
        if isinstance(statement, ast.FunctionDef) and statement.name in ("__getattr__", "__dir__"):
            continue
        if isinstance(statement, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            return f"it defines {statement.name}"
        return f"line {statement.lineno} is not a re-export"
    return None


def plan_guard(config: Config, snapshot: Any, legacy_sites: Iterable[tuple[str, str]]) -> GuardPlan:
    """Decide, per alias, which linter can ban it; find the sources and the kept imports.

    ``config`` carries discovered aliases; ``legacy_sites`` are ``(target, path)`` of scan's
    ``legacy-import`` sites: an import of a forbidden module in a file scan does not count is kept
    on purpose and goes to ``ignore_imports``.
    """
    from ssot_migrate.discovery import parse_source

    module_files = module_files_of(snapshot)
    bans: list[Ban] = []
    unbannable: list[str] = []
    for target in config.targets:
        names = _object_names(target)
        for alias in target.all_aliases:
            if target.canonical_kind == NameKind.SYMBOL and alias in module_files:
                # ``sympy.core.sympify`` is a function re-exported by ``sympy.core`` and a
                # module: a ban of the path would ban every import from that module too.
                unbannable.append(alias)
                continue
            module = _module_of(target, alias)
            linter, reason = _linter_for(target, module, module_files.get(module), snapshot, names)
            bans.append(Ban(target.name, alias, target.canonical, module, linter, reason))
    tops: set[str] = set()
    packages: set[str] = set()
    for module, path in module_files.items():
        head = module.split(".")[0]
        if "." in module or path.endswith("__init__.py"):
            packages.add(head)
        else:
            tops.add(head)
    # import-linter stops at the first file it cannot parse (Django's tests hold one on purpose):
    # such a package cannot be a root; the ruff guard still covers it.
    unparsable: dict[str, str] = {}
    for module, path in sorted(module_files.items(), key=lambda item: item[1]):
        head = module.split(".")[0]
        if (
            head in packages
            and head not in unparsable
            and parse_source(snapshot.read(path)) is None
        ):
            unparsable[head] = path
    packages -= set(unparsable)
    # import-linter refuses to forbid a module outside its graph: that ban is ruff's.
    bans = [
        dataclasses.replace(
            b, linter="ruff", reason=f"{b.module.split('.')[0]} is not in import-linter's graph"
        )
        if b.linter == "import-linter" and b.module.split(".")[0] not in packages
        else b
        for b in bans
    ]
    forbidden = {b.module for b in bans if b.linter == "import-linter"}
    counted = {(t, p) for t, p in legacy_sites}
    ignores = [
        (importer, module)
        for importer, importer_path, module in _import_edges(snapshot, module_files, forbidden)
        if importer.split(".")[0] in packages
        and not any((b.target, importer_path) in counted for b in bans if b.module == module)
    ]
    allowed = sorted(
        {module_files[m] for t in config.targets for m in _allowed_modules(t) if m in module_files}
    )
    return GuardPlan(
        tuple(bans),
        tuple(sorted(packages)),
        tuple(sorted(tops - packages)),
        tuple(sorted(set(ignores))),
        tuple(allowed),
        frozenset(m for m, p in module_files.items() if p.endswith("__init__.py")),
        tuple(sorted(unparsable.items())),
        tuple(sorted(set(unbannable))),
    )


def _linter_for(
    target: Target, module: str, path: str | None, snapshot: Any, names: set[str]
) -> tuple[Literal["import-linter", "ruff"], str]:
    """Which linter can ban ``module``'s alias, and why."""
    from ssot_migrate.discovery import parse_source

    canonical_module = _module_of(target, target.canonical)
    if path is None:
        return "ruff", f"{module} is not a module of this repository"
    if canonical_module == module or canonical_module.startswith(module + "."):
        return "ruff", f"{module} holds the canonical {target.canonical}"
    if target.canonical_kind == NameKind.MODULE:
        return "import-linter", "whole-module alias"
    tree = parse_source(snapshot.read(path))
    if tree is None:
        return "ruff", f"{module} does not parse"
    blocker = shim_blocker(tree, module, path.endswith("__init__.py"), names)
    if blocker is not None:
        return "ruff", f"{module} cannot be forbidden whole: {blocker}"
    return "import-linter", "pure shim: it binds nothing but the canonical"


def _import_edges(
    snapshot: Any, module_files: dict[str, str], forbidden: set[str]
) -> list[tuple[str, str, str]]:
    """``(importer, importer path, forbidden module)`` for each module importing a forbidden one."""
    from ssot_migrate.discovery import parse_source

    if not forbidden:
        return []
    by_path = {p: m for m, p in module_files.items()}
    edges: set[tuple[str, str, str]] = set()
    needles = {m.rpartition(".")[2] for m in forbidden}
    for path in snapshot.grep(needles):
        importer = by_path.get(path)
        tree = parse_source(snapshot.read(path)) if importer else None
        if importer is None or tree is None:
            continue
        package = importer if path.endswith("__init__.py") else importer.rpartition(".")[0]
        for node in ast.walk(tree):
            reached: list[str] = []
            if isinstance(node, ast.Import):
                reached = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = resolve_relative(node.level, node.module, package or None)
                if source is not None:
                    reached = [source] + [f"{source}.{a.name}" for a in node.names]
            for name in reached:
                for module in forbidden:
                    if module != importer and (name == module or name.startswith(module + ".")):
                        edges.add((importer, path, module))
    return sorted(edges)


def parse_toml(raw: bytes, path: str) -> Any:
    import tomlkit

    try:
        return tomlkit.parse(raw.decode("utf-8").replace("\r\n", "\n"))
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 ({exc})") from exc
    except Exception as exc:  # tomlkit raises its own ParseError hierarchy
        raise UsageError(f"{path} does not parse as TOML: {exc}") from exc


def toml_get(doc: Any, keys: Sequence[str]) -> Any:
    node = doc
    for key in keys:
        if not hasattr(node, "get"):
            return None
        node = node.get(key)
        if node is None:
            return None
    return node


def module_files_of(snapshot: Any) -> dict[str, str]:
    """Dotted module -> file for every Python file of a snapshot."""
    found: dict[str, str] = {}
    for path in snapshot.paths:
        module = snapshot.source_file(path).module
        if module is not None:
            found.setdefault(module, path)
    return found


def legacy_sites_of(config: Config, snapshot: Any) -> list[tuple[str, str]]:
    """``(target, path)`` of every ``legacy-import`` site scan finds on ``snapshot``."""
    from ssot_migrate.scan.analysis import scan_snapshot

    report = scan_snapshot(config, snapshot)
    return [(s.target, s.path) for s in report.sites if s.category == "legacy-import"]


def toml_table(parent: Any, *keys: str) -> Any:
    import tomlkit

    node = parent
    for key in keys:
        if key not in node:
            node[key] = tomlkit.table(is_super_table=True)
        node = node[key]
    return node

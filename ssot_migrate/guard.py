"""Guardrails that keep a target consolidated: ruff ``banned-api`` entries, import-linter contracts.

``ssot-migrate guard --write ruff`` bans every alias path (configured and discovered) in the file
ruff reads for the repository (``.ruff.toml``, ``ruff.toml``, then ``pyproject.toml`` with a
``[tool.ruff]`` table, the order ruff itself looks in)::

    [lint]                                    # [tool.ruff.lint] in pyproject.toml
    extend-select = ["TID251"]
    [lint.flake8-tidy-imports.banned-api]
    "app.legacy.manager.WebSocketManager".msg = "use app.core.unified.UnifiedWebSocketManager instead (ssot-migrate)"
    [lint.per-file-ignores]
    "app/core/unified.py" = ["TID251"]        # canonical and facade modules stay allowed

``--write import-linter`` writes one ``forbidden`` contract per target into ``pyproject.toml``.
import-linter works on modules, so it can only forbid a legacy module that is nothing but a way to
the canonical: a whole-module alias, or a *pure shim* (every name it binds is the canonical
object). Its sources are every top-level package as a wildcard (``app``, ``app.**``), so code added
later anywhere in those packages is covered. A legacy module that still defines other names, or
holds the canonical, cannot be forbidden without forbidding those: its symbol-level bans go to the
ruff guard instead, and the command says which ban went where. Imports of a forbidden module that
``scan`` does not count (a star re-export kept on purpose) are listed in ``ignore_imports``.

Existing settings are kept; entries written before by this tool are replaced, so running it twice
changes nothing. Editing goes through ``tomlkit`` so comments and formatting survive.

Pure: files are read through a ``Reader`` and the sources through a snapshot, nothing is
written; phase 1 (``guard`` key) commits the result, ``guard_cli`` writes it to the checkout.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import posixpath
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ssot_migrate.errors import UsageError
from ssot_migrate.model import Config, NameKind, Target
from ssot_migrate.pysyntax import resolve_relative

GUARDS = ("ruff", "import-linter")
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


# --- ruff: where it reads its configuration ---------------------------------------------------


@dataclass(frozen=True)
class RuffConfig:
    """The file ruff reads for the repository root, and the chain of files it ``extend``s."""

    path: str  # repository-relative
    prefix: tuple[str, ...]  # ("tool", "ruff") in pyproject.toml, () in ruff.toml
    chain: tuple[tuple[str, tuple[str, ...], Any], ...] = field(default=())  # (path, prefix, doc)


def _parse_toml(raw: bytes, path: str) -> Any:
    import tomlkit

    try:
        return tomlkit.parse(raw.decode("utf-8").replace("\r\n", "\n"))
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 ({exc})") from exc
    except Exception as exc:  # tomlkit raises its own ParseError hierarchy
        raise UsageError(f"{path} does not parse as TOML: {exc}") from exc


def _get(doc: Any, keys: Sequence[str]) -> Any:
    node = doc
    for key in keys:
        if not hasattr(node, "get"):
            return None
        node = node.get(key)
        if node is None:
            return None
    return node


def find_ruff_config(read: Reader) -> RuffConfig:
    """Ruff's discovery for the repository root: ``.ruff.toml``, ``ruff.toml``, then a
    ``pyproject.toml`` with ``[tool.ruff]`` (the first that exists wins, as in ruff), and the files
    its ``extend`` chain names. Without any, ``pyproject.toml`` (created or extended).
    """
    for name, prefix in (
        (".ruff.toml", ()),
        ("ruff.toml", ()),
        ("pyproject.toml", ("tool", "ruff")),
    ):
        raw = read(name)
        if raw is None:
            continue
        doc = _parse_toml(raw, name)
        if prefix and _get(doc, prefix) is None:
            continue  # ruff ignores a pyproject.toml without [tool.ruff]
        return RuffConfig(name, prefix, _extend_chain(read, name, prefix, doc))
    return RuffConfig("pyproject.toml", ("tool", "ruff"))


def _extend_chain(read: Reader, path: str, prefix: tuple[str, ...], doc: Any) -> tuple[Any, ...]:
    chain = [(path, prefix, doc)]
    seen = {path}
    while True:
        extend = _get(doc, [*prefix, "extend"])
        if extend is None:
            return tuple(chain)
        rel = str(extend)
        if rel.startswith("~") or "$" in rel:
            rel = os.path.expandvars(os.path.expanduser(rel))
        parent = posixpath.normpath(posixpath.join(posixpath.dirname(path), rel))
        if parent in seen:
            raise UsageError(f"{path}: extend = {str(extend)!r} makes a cycle")
        raw = read(parent)
        if raw is None:
            raise UsageError(f"{path}: extend = {str(extend)!r}: {parent} not found")
        seen.add(parent)
        prefix = ("tool", "ruff") if posixpath.basename(parent) == "pyproject.toml" else ()
        doc = _parse_toml(raw, parent)
        chain.append((parent, prefix, doc))
        path = parent


def _lint_section(doc: Any, prefix: tuple[str, ...], key: str) -> Any:
    """The table holding lint option ``key``: ``lint`` unless only the legacy top level has it."""
    top = _get(doc, prefix)
    if top is not None and key in top and key not in (_get(top, ["lint"]) or {}):
        return top
    return _table(doc, *prefix, "lint")


def _table(parent: Any, *keys: str) -> Any:
    import tomlkit

    node = parent
    for key in keys:
        if key not in node:
            node[key] = tomlkit.table(is_super_table=True)
        node = node[key]
    return node


def apply_ruff(
    doc: Any,
    prefix: tuple[str, ...],
    bans: Sequence[Ban],
    files: Sequence[str],
    parents: Sequence[tuple[str, tuple[str, ...], Any]] = (),
) -> None:
    """Select TID251, write one banned-api entry per ban, exempt ``files`` (canonical, facades).

    ``parents`` are the files ``doc`` extends: ``per-file-ignores`` written here would replace
    theirs, so ``extend-per-file-ignores`` is used when one of them has some.
    """
    import tomlkit

    key = "per-file-ignores"
    here = _get(_lint_section(doc, prefix, key), [key])
    if here is None and any(
        _get(pdoc, [*pprefix, "lint", key]) is not None or _get(pdoc, [*pprefix, key]) is not None
        for _p, pprefix, pdoc in parents
    ):
        key = "extend-per-file-ignores"
    top = _get(doc, prefix) if prefix else doc
    if top is not None and _lint_is_dotted(top):
        _apply_ruff_dotted(top, bans, files, key)
        return
    lint = _lint_section(doc, prefix, "extend-select")
    selected = lint.get("extend-select")
    if selected is None:
        lint["extend-select"] = tomlkit.array().multiline(False)
        selected = lint["extend-select"]
        selected.append(RULE)
    elif RULE not in selected:
        selected.append(RULE)
    tidy = _lint_section(doc, prefix, "flake8-tidy-imports")
    banned = _table(tidy, "flake8-tidy-imports", "banned-api")
    if not isinstance(banned, dict):
        raise UsageError("flake8-tidy-imports.banned-api must be a table")
    for alias in [k for k, v in banned.items() if MARK in str(_get(v, ["msg"]) or "")]:
        del banned[alias]  # ours from an earlier run: a path no longer an alias goes
    for ban in sorted(bans, key=lambda b: b.alias):
        entry = tomlkit.inline_table()
        entry["msg"] = f"use {ban.canonical} instead {MARK}"
        banned[ban.alias] = entry
    ignores = _table(_lint_section(doc, prefix, key), key)
    for path in files:
        rules = ignores.get(path)
        if rules is None:
            ignores[path] = tomlkit.array().multiline(False)
            ignores[path].append(RULE)
        elif RULE not in rules:
            rules.append(RULE)


def _lint_is_dotted(top: Any) -> bool:
    """Whether the lint settings are dotted keys (``lint.select = [...]`` under ``[tool.ruff]``).

    Tables cannot be added under a dotted key (tomlkit would write them at the top level, where
    ruff never looks), so such a file gets dotted keys too.
    """
    body = top.body if hasattr(top, "body") else top.value.body
    return any(k is not None and k.is_dotted() and k.key == "lint" for k, _ in body)


def _apply_ruff_dotted(top: Any, bans: Sequence[Ban], files: Sequence[str], key: str) -> None:
    """``apply_ruff`` for lint settings written as dotted keys: add only what is missing."""
    import tomlkit

    lint = top.unwrap().get("lint", {})
    selected = lint.get("extend-select")
    if selected is None:
        top.append(tomlkit.key(["lint", "extend-select"]), [RULE])
    elif RULE not in selected:
        top["lint"]["extend-select"].append(RULE)
    banned = lint.get("flake8-tidy-imports", {}).get("banned-api", {})
    for ban in sorted(bans, key=lambda b: b.alias):
        if ban.alias not in banned:
            top.append(
                tomlkit.key(["lint", "flake8-tidy-imports", "banned-api", ban.alias, "msg"]),
                f"use {ban.canonical} instead {MARK}",
            )
    ignores = lint.get(key)
    for path in files:
        rules = (ignores or {}).get(path)
        if rules is None and ignores is None:
            top.append(tomlkit.key(["lint", key, path]), [RULE])
        elif rules is None:
            top["lint"][key][path] = tomlkit.array().multiline(False)
            top["lint"][key][path].append(RULE)
        elif RULE not in rules:
            top["lint"][key][path].append(RULE)


def _banned_api_home(ruff: RuffConfig) -> str | None:
    """The file of the extend chain whose banned-api ruff uses, when it is not the leaf."""
    for path, prefix, doc in ruff.chain:
        for keys in (
            [*prefix, "lint", "flake8-tidy-imports", "banned-api"],
            [*prefix, "flake8-tidy-imports", "banned-api"],
        ):
            if _get(doc, keys) is not None:
                return None if path == ruff.path else path
    return None


# --- import-linter ----------------------------------------------------------------------------


def import_linter_contracts(plan: GuardPlan, config: Config) -> list[dict[str, Any]]:
    """One ``forbidden`` contract per target that has a module import-linter can forbid."""
    sources = [s for p in plan.packages for s in (p, f"{p}.**")]
    contracts: list[dict[str, Any]] = []
    for target in config.targets:
        forbidden = plan.forbidden_modules(target.name)
        if not forbidden or not sources:
            continue
        # A whole-module alias's submodules are legacy paths too (phase 1 rewrites them); a
        # pure shim's are not (``app/legacy/__init__.py`` a shim, ``app.legacy.factory`` not).
        whole = target.canonical_kind == NameKind.MODULE
        modules = [
            m
            for f in forbidden
            for m in ((f, f"{f}.**") if whole and f in plan.package_modules else (f,))
        ]
        contract: dict[str, Any] = {
            "name": f"{CONTRACT_PREFIX}use {target.canonical}, not its legacy modules",
            "type": "forbidden",
            "source_modules": sources,
            "forbidden_modules": modules,
            # Each module on its own: a package holding a legacy module is checked too.
            "as_packages": False,
            "allow_indirect_imports": True,
        }
        kept = [
            f"{importer} -> {module}" for importer, module in plan.ignores if module in forbidden
        ]
        if kept:
            contract["ignore_imports"] = kept
            contract["unmatched_ignore_imports_alerting"] = "none"
        contracts.append(contract)
    return contracts


def apply_import_linter(doc: Any, plan: GuardPlan, config: Config) -> None:
    """Add the contracts (replacing earlier ssot-migrate ones) and the root packages they need."""
    import tomlkit

    linter = _table(doc, "tool", "importlinter")
    existing_roots = list(linter.get("root_packages", []))
    if "root_package" in linter:
        existing_roots.append(str(linter["root_package"]))
    wanted_roots = list(dict.fromkeys([*existing_roots, *plan.packages]))
    if "root_package" in linter and len(wanted_roots) > 1:
        del linter["root_package"]
    if "root_package" not in linter:
        linter["root_packages"] = wanted_roots
    contracts = linter.get("contracts")
    if contracts is None:
        contracts = tomlkit.aot()
        linter["contracts"] = contracts
    keep = [c for c in contracts if not str(c.get("name", "")).startswith(CONTRACT_PREFIX)]
    while len(contracts):
        contracts.pop(0)
    for contract in keep:
        contracts.append(contract)
    for contract in import_linter_contracts(plan, config):
        table = tomlkit.table()
        for key, value in contract.items():
            table[key] = value
        contracts.append(table)


def _import_linter_home(read: Reader) -> None:
    """import-linter reads ``setup.cfg`` or ``.importlinter`` first: TOML cannot go there."""
    import configparser

    for name in ("setup.cfg", ".importlinter"):
        raw = read(name)
        if raw is None:
            continue
        parser = configparser.ConfigParser()
        try:
            parser.read_string(raw.decode("utf-8", "replace"))
        except configparser.Error:
            continue
        if "importlinter" in parser.sections():
            raise UsageError(
                f"{name} has an [importlinter] section, which import-linter reads instead of "
                f"pyproject.toml: move it to [tool.importlinter] in pyproject.toml (or add the "
                f"contracts to {name} by hand), then rerun"
            )


# --- both -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GuardOutcome:
    """The files to write (path -> (before, after) bytes) and what went where, for the user."""

    files: dict[str, tuple[bytes | None, bytes]]
    lines: tuple[str, ...]


def _edit(raw: bytes | None, path: str, edit: Callable[[Any], None]) -> bytes:
    """``edit`` applied to the TOML document of ``raw``, keeping CRLF line endings if any."""
    import tomlkit

    doc = _parse_toml(raw or b"", path)
    edit(doc)
    text = tomlkit.dumps(doc)
    text = text if text.endswith("\n") else text + "\n"
    if raw is not None and b"\r\n" in raw:
        text = text.replace("\n", "\r\n")
    return text.encode("utf-8")


def guard_outcome(
    kind: str, config: Config, snapshot: Any, read: Reader, legacy_sites: Iterable[tuple[str, str]]
) -> GuardOutcome:
    """The ``kind`` guard for ``config`` (discovered aliases in it) on ``snapshot``'s files.

    ``read`` reads the configuration files (the working tree, or the phase's base commit).
    Raises ``UsageError`` when ruff or import-linter would not read what could be written.
    """
    if kind not in GUARDS:
        raise UsageError(f"--write {kind!r}: expected one of {', '.join(GUARDS)}")
    plan = plan_guard(config, snapshot, legacy_sites)
    files: dict[str, tuple[bytes | None, bytes]] = {}
    lines: list[str] = []

    def edit(path: str, change: Callable[[Any], None]) -> None:
        before = files[path][1] if path in files else read(path)
        files[path] = (files[path][0] if path in files else before, _edit(before, path, change))

    if kind == "import-linter":
        _import_linter_home(read)
        edit("pyproject.toml", lambda doc: apply_import_linter(doc, plan, config))
        forbidden = [b for b in plan.bans if b.linter == "import-linter"]
        if forbidden:
            lines.append(
                f"import-linter (pyproject.toml) forbids {len(forbidden)} legacy path(s), "
                f"whole modules, from {', '.join(plan.packages)} and everything added there:"
            )
            lines += [f"  {b.module} ({b.alias}: {b.reason})" for b in forbidden]
        else:
            lines.append("import-linter: no legacy module can be forbidden whole")
        for package, path in plan.unparsable:
            lines.append(
                f"import-linter cannot build the graph of {package} ({path} does not "
                "parse): left out of its contracts; `guard --write ruff` covers it"
            )
        if plan.top_modules:
            lines.append(
                "import-linter cannot check top-level modules (not packages): "
                + ", ".join(plan.top_modules)
                + "; `guard --write ruff` covers them"
            )
        if plan.ignores:
            lines.append(
                "kept on purpose (ignore_imports; scan does not count them): "
                + ", ".join(f"{i} -> {m}" for i, m in plan.ignores)
            )
    if plan.unbannable:
        lines.append(
            "not banned (each is also a module's name; a ban would forbid every import "
            "from that module): " + ", ".join(plan.unbannable)
        )
    bans = plan.ruff_bans(kind)
    if bans:
        ruff = find_ruff_config(read)
        home = _banned_api_home(ruff)
        if home is not None:
            raise UsageError(
                f"ruff reads banned-api from {home} ({ruff.path} extends it and has none), so "
                f"entries written to {ruff.path} would replace it: edit {home}, or copy its "
                f"banned-api table into {ruff.path}, then rerun"
            )
        if ruff.path.startswith("../"):
            raise UsageError(f"ruff's configuration {ruff.path} is outside the repository; edit it")
        edit(
            ruff.path,
            lambda doc: apply_ruff(doc, ruff.prefix, bans, plan.allowed_files, ruff.chain[1:]),
        )
        where = "" if kind == "ruff" else " (import-linter cannot express them)"
        lines.append(f"ruff ({ruff.path}) bans {len(bans)} path(s){where}:")
        lines += [f"  {b.alias}" + ("" if kind == "ruff" else f" ({b.reason})") for b in bans]
    return GuardOutcome(files, tuple(lines))


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

"""Guardrails that keep a target consolidated: ruff ``banned-api`` entries or import-linter contracts.

``ssot-migrate guard --write ruff`` adds to the repository's ``pyproject.toml``::

    [tool.ruff.lint]
    extend-select = ["TID251"]
    [tool.ruff.lint.flake8-tidy-imports.banned-api]
    "app.legacy.manager.WebSocketManager".msg = "use app.core.unified.UnifiedWebSocketManager (ssot-migrate)"
    [tool.ruff.lint.per-file-ignores]
    "app/core/unified.py" = ["TID251"]        # canonical and facade modules stay allowed

``--write import-linter`` adds one ``forbidden`` contract per alias module (import-linter works on
modules, so a symbol alias forbids its module; a module that is the canonical's own module or one
of its packages cannot be forbidden and is left to ruff). Existing settings are kept; entries
written before by this tool are replaced, so running it twice changes nothing. Editing goes through
``tomlkit`` so comments and formatting of the rest of the file survive.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from ssot_migrate.errors import UsageError
from ssot_migrate.model import Config, NameKind, Target

GUARDS = ("ruff", "import-linter")
MARK = "(ssot-migrate)"
CONTRACT_PREFIX = "ssot-migrate: "
RULE = "TID251"


def _module_of(target: Target, name: str) -> str:
    return name if target.canonical_kind == NameKind.MODULE else name.rpartition(".")[0]


def _allowed_modules(target: Target) -> set[str]:
    """Modules that may keep referencing legacy paths: the canonical's and the facades'."""
    allowed = {_module_of(target, target.canonical)}
    allowed |= {f.rpartition(".")[0] for f in target.facades}
    return allowed


def ruff_entries(config: Config) -> dict[str, str]:
    """``banned-api`` entries: every alias (configured and discovered) -> message naming the canonical."""
    entries: dict[str, str] = {}
    for target in config.targets:
        for alias in target.all_aliases:
            entries.setdefault(alias, f"use {target.canonical} instead {MARK}")
    return entries


def _table(parent: Any, *keys: str) -> Any:
    import tomlkit

    node = parent
    for key in keys:
        if key not in node:
            node[key] = tomlkit.table(is_super_table=True)
        node = node[key]
    return node


def apply_ruff(doc: Any, config: Config, module_files: dict[str, str]) -> None:
    """Add banned-api entries, select TID251, and exempt the canonical and facade files."""
    import tomlkit

    lint = _table(doc, "tool", "ruff", "lint")
    selected = lint.get("extend-select")
    if selected is None:
        lint["extend-select"] = tomlkit.array().multiline(False)
        selected = lint["extend-select"]
        selected.append(RULE)
    elif RULE not in selected:
        selected.append(RULE)
    banned = _table(lint, "flake8-tidy-imports", "banned-api")
    if not isinstance(banned, dict):
        raise UsageError("pyproject.toml: tool.ruff.lint.flake8-tidy-imports.banned-api must be a table")
    for alias, message in sorted(ruff_entries(config).items()):
        entry = tomlkit.inline_table()
        entry["msg"] = message
        banned[alias] = entry
    ignores = _table(lint, "per-file-ignores")
    for target in config.targets:
        for module in sorted(_allowed_modules(target)):
            path = module_files.get(module)
            if path is None:
                continue
            rules = ignores.get(path)
            if rules is None:
                ignores[path] = tomlkit.array().multiline(False)
                ignores[path].append(RULE)
            elif RULE not in rules:
                rules.append(RULE)


def _covering_sources(
    forbidden: str, allowed: set[str], modules: set[str], roots: Sequence[str]
) -> list[str]:
    """The largest modules/packages that contain neither ``forbidden`` nor an allowed module.

    import-linter treats a source package as a whole, so a package holding the forbidden module
    would hide every import inside it; we descend into such packages and list their siblings.
    """
    keep = allowed | {forbidden}
    found: list[str] = []

    def contains(package: str) -> bool:
        return any(m == package or m.startswith(package + ".") for m in keep)

    def cover(name: str) -> None:
        if name in keep:
            return
        if not contains(name):
            found.append(name)
            return
        children = sorted(
            {name + "." + m[len(name) + 1:].split(".")[0] for m in modules if m.startswith(name + ".")}
        )
        for child in children:
            cover(child)

    for root in roots:
        cover(root)
    return found


def import_linter_contracts(
    config: Config, modules: Iterable[str], roots: Sequence[str]
) -> list[dict[str, Any]]:
    """One ``forbidden`` contract per alias module that can be forbidden without the canonical."""
    module_set = set(modules)
    contracts: list[dict[str, Any]] = []
    seen: set[str] = set()
    for target in config.targets:
        canonical_module = _module_of(target, target.canonical)
        allowed = _allowed_modules(target)
        for alias in target.all_aliases:
            module = _module_of(target, alias)
            if module in seen or module not in module_set:
                continue
            if canonical_module == module or canonical_module.startswith(module + "."):
                continue  # forbidding it would forbid the canonical: ruff's banned-api can say it
            if module in allowed:
                continue
            seen.add(module)
            sources = _covering_sources(module, allowed, module_set, roots)
            if not sources:
                continue
            contracts.append({
                "name": f"{CONTRACT_PREFIX}use {target.canonical}, not {alias}",
                "type": "forbidden",
                "source_modules": sources,
                "forbidden_modules": [module],
                "allow_indirect_imports": True,
            })
    return contracts


def apply_import_linter(doc: Any, config: Config, modules: Sequence[str], roots: Sequence[str]) -> None:
    """Add the contracts (replacing earlier ssot-migrate ones) and the root packages they need."""
    import tomlkit

    linter = _table(doc, "tool", "importlinter")
    existing_roots = list(linter.get("root_packages", []))
    if "root_package" in linter:
        existing_roots.append(str(linter["root_package"]))
    wanted_roots = list(dict.fromkeys([*existing_roots, *roots]))
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
    for contract in import_linter_contracts(config, modules, wanted_roots):
        table = tomlkit.table()
        for key, value in contract.items():
            table[key] = value
        contracts.append(table)


def guard_pyproject(
    text: str, kind: str, config: Config, module_files: dict[str, str]
) -> str:
    """``pyproject.toml`` text with the ``kind`` guard added (pure: the workflow reuses it).

    ``module_files`` maps every dotted module of the repository to its file
    (``{"app.core.unified": "app/core/unified.py"}``); targets should carry discovered aliases.
    """
    import tomlkit

    if kind not in GUARDS:
        raise UsageError(f"--write {kind!r}: expected one of {', '.join(GUARDS)}")
    try:
        doc = tomlkit.parse(text)
    except Exception as exc:  # tomlkit raises its own ParseError hierarchy
        raise UsageError(f"pyproject.toml does not parse as TOML: {exc}") from exc
    if kind == "ruff":
        apply_ruff(doc, config, module_files)
    else:
        packages = sorted(
            m for m, p in module_files.items() if "." not in m and p.endswith("__init__.py")
        )
        apply_import_linter(doc, config, sorted(module_files), packages)
    result = tomlkit.dumps(doc)
    return result if result.endswith("\n") else result + "\n"


def guard_pyproject_bytes(
    raw: bytes, kind: str, config: Config, module_files: dict[str, str]
) -> bytes:
    """``guard_pyproject`` on a file's bytes, keeping its CRLF line endings if it has them.

    Raises ``UnicodeDecodeError`` when the file is not UTF-8 (TOML must be).
    """
    text = raw.decode("utf-8")
    crlf = b"\r\n" in raw
    updated = guard_pyproject(text.replace("\r\n", "\n"), kind, config, module_files)
    if crlf:
        updated = updated.replace("\n", "\r\n")
    return updated.encode("utf-8")


def module_files_of(snapshot: Any) -> dict[str, str]:
    """Dotted module -> file for every Python file of a snapshot."""
    found: dict[str, str] = {}
    for path in snapshot.paths:
        module = snapshot.source_file(path).module
        if module is not None:
            found.setdefault(module, path)
    return found


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".pyproject-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_guard_command(kind: str, repo: Path, config_path: Path | None, *, console: Console) -> int:
    """Write the guard into ``<repo>/pyproject.toml`` (the file ruff and import-linter read)."""
    from ssot_migrate.discovery import discover_aliases
    from ssot_migrate.engine import open_config_and_snapshot

    if kind not in GUARDS:
        raise UsageError(f"--write {kind!r}: expected one of {', '.join(GUARDS)}")
    config, snapshot = open_config_and_snapshot(repo, config_path)
    with snapshot:
        config = discover_aliases(config, snapshot)
        module_files = module_files_of(snapshot)
    target = config.repo / "pyproject.toml"
    try:
        raw = target.read_bytes() if target.exists() else b""
        updated = guard_pyproject_bytes(raw, kind, config, module_files)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{target}: cannot read: {exc}") from exc
    if updated == raw:
        console.print(f"guard: {target} already holds the {kind} guard; nothing to do", markup=False)
        return 0
    _write_atomic(target, updated.decode("utf-8"))
    aliases = sum(len(t.all_aliases) for t in config.targets)
    console.print(
        f"guard: wrote the {kind} guard for {aliases} alias path(s) to {target}", markup=False
    )
    return 0

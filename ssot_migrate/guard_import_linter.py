"""The import-linter guard: one ``forbidden`` contract per target in ``pyproject.toml``."""

from __future__ import annotations

from typing import Any

from ssot_migrate.errors import UsageError
from ssot_migrate.guard_plan import CONTRACT_PREFIX, GuardPlan, Reader, toml_table
from ssot_migrate.model import Config, NameKind

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

    linter = toml_table(doc, "tool", "importlinter")
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


def import_linter_home(read: Reader) -> None:
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

"""Fail-first SSOT checks: they fail while the manager is fragmented and pass once it is not.

They read the source tree statically, so each consolidation step flips exactly one of them:
import paths (phase 1), competing implementations (phase 2), construction outside the
factory (phase 3). Names are assembled from parts so that these checks' own data never looks
like a reference to the code they inspect.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CORE = ".".join(("netra_backend", "app", "websocket_core"))
CANONICAL_CLASS = "Unified" + "WebSocketManager"
CANONICAL_MODULE = f"{CORE}.unified_manager"
LEGACY_MODULES = frozenset(f"{CORE}.{name}" for name in ("manager", "websocket_manager"))
FACTORY_MODULE = f"{CORE}.factory"
# Everything a caller could construct a manager with, besides the factory.
CONSTRUCTORS = frozenset((CANONICAL_CLASS, "WebSocket" + "Manager", "WebSocketConnection" + "Manager"))
LEGACY_FACTORIES = frozenset(("get_websocket" + "_manager",))
# A class offering two of these competes with the canonical manager.
MANAGER_METHODS = frozenset(("add_connection", "send_to_user", "send_agent_event", "remove_connection"))
PRODUCTION = ("netra_backend", "auth_service")
EVERYWHERE = ("netra_backend", "auth_service", "test_framework", "tests")


def python_files(roots: tuple[str, ...]) -> Iterator[tuple[str, Path, ast.Module]]:
    for root in roots:
        for path in sorted((ROOT / root).rglob("*.py")):
            if HERE in path.parents:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield module, path, ast.parse(path.read_bytes(), filename=str(path))


def absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def is_legacy(dotted: str) -> bool:
    return any(dotted == m or dotted.startswith(m + ".") for m in LEGACY_MODULES)


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_only_one_import_path() -> None:
    """Every import of the manager comes from the canonical module (strings for mock.patch too)."""
    offenders: list[str] = []
    for module, path, tree in python_files(EVERYWHERE):
        for node in ast.walk(tree):
            where = f"{rel(path)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.ImportFrom):
                source = absolute(module, path, node)
                names = {f"{source}.{alias.name}" for alias in node.names}
                if is_legacy(source) or any(is_legacy(name) for name in names):
                    offenders.append(f"{where} from {source} import ...")
            elif isinstance(node, ast.Import):
                offenders += [f"{where} import {a.name}" for a in node.names if is_legacy(a.name)]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and is_legacy(node.value):
                offenders.append(f"{where} {node.value!r}")
    assert not offenders, f"{len(offenders)} imports bypass {CANONICAL_MODULE}:\n" + "\n".join(offenders)


def test_only_one_implementation() -> None:
    """No production class but the canonical one implements the manager's interface."""
    competing: list[str] = []
    for _module, path, tree in python_files(PRODUCTION):
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name != CANONICAL_CLASS:
                methods = {f.name for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
                if len(methods & MANAGER_METHODS) >= 2:
                    competing.append(f"{rel(path)}:{node.lineno} class {node.name}")
    assert not competing, f"{len(competing)} classes compete with {CANONICAL_CLASS}:\n" + "\n".join(competing)


def test_factory_used_everywhere() -> None:
    """Managers are built only by the factory: no direct construction, no legacy factory calls."""
    forbidden = CONSTRUCTORS | LEGACY_FACTORIES
    direct: list[str] = []
    for module, path, tree in python_files(EVERYWHERE):
        if module == FACTORY_MODULE:
            continue
        local = {name: name for name in forbidden}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name in forbidden:
                        local[alias.asname or alias.name] = alias.name
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = local.get(func.id) if isinstance(func, ast.Name) else None
            if isinstance(func, ast.Attribute) and func.attr in forbidden:
                called = func.attr
            if called:
                direct.append(f"{rel(path)}:{node.lineno} {called}(...)")
    assert not direct, f"{len(direct)} managers built outside the factory:\n" + "\n".join(direct)


DOUBLES = (("test_framework", "mock_websocket_manager.py", "MockWebSocketManager"),)


def methods_of(path: Path, class_name: str) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    tree = ast.parse(path.read_bytes(), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return {
                f.name: f for f in node.body
                if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and not f.name.startswith("_")
            }
    raise AssertionError(f"{rel(path)} defines no class {class_name}")


def test_test_doubles_accept_production_calls() -> None:
    """A test double takes every call the canonical takes: same methods, async-ness, parameters."""
    canonical = methods_of(ROOT / Path(*CANONICAL_MODULE.split(".")).with_suffix(".py"), CANONICAL_CLASS)
    drift: list[str] = []
    for *parts, class_name in DOUBLES:
        path = ROOT.joinpath(*parts)
        double = methods_of(path, class_name)
        for name, theirs in sorted(canonical.items()):
            mine = double.get(name)
            if mine is None:
                drift.append(f"{class_name}.{name}: missing")
                continue
            if isinstance(mine, ast.AsyncFunctionDef) != isinstance(theirs, ast.AsyncFunctionDef):
                drift.append(f"{class_name}.{name}: async-ness differs")
            wanted = [a.arg for a in theirs.args.args[1:]]
            have = [a.arg for a in mine.args.args[1:]]
            if have[: len(wanted)] != wanted:
                drift.append(f"{class_name}.{name}({', '.join(have)}): production takes ({', '.join(wanted)})")
    assert not drift, f"{len(drift)} ways test doubles reject production calls:\n" + "\n".join(drift)

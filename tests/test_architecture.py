"""Our own layering, enforced by import-linter itself from pyproject.toml's contracts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_layering_contracts_hold() -> None:
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports is not None, "import-linter is a test dependency"
    proc = subprocess.run(
        [lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_package_is_mypy_strict_clean() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_layers_and_acyclic_contracts_are_checked() -> None:
    # A `forbidden` contract cannot see a cycle through imports inside functions; these can.
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "importlinter"
    ]["contracts"]
    layers = [c for c in contracts if c["type"] == "layers"]
    assert layers and layers[0]["containers"] == ["ssot_migrate"]
    order = [
        name.strip() for layer in layers[0]["layers"] for name in layer.replace("|", ":").split(":")
    ]
    assert (
        order.index("cli")
        < order.index("workflow")
        < order.index("phases")
        < order.index("engine")
        < order.index("codemods")
        < order.index("model")
    )
    assert any(
        c["type"] == "acyclic_siblings" and c["ancestors"] == ["ssot_migrate"] for c in contracts
    )

"""Analysis is static: ``scan`` and every ``--dry-run`` must never import the project's code.

Every Python file of the test repository writes a marker file and raises when imported
(``__init__``s, ``conftest.py``, ``setup.py``, the target modules themselves, and a package that
sits outside the configured source roots). The CLI runs as ``python -m ssot_migrate`` with the
repository as its working directory, so the repository's root IS on ``sys.path``: any
``import``, ``importlib.import_module`` or ``importlib.util.find_spec("pkg.sub")`` (which imports
``pkg``) of project code would leave a marker.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.repos import run_cli

TRAP = """\
import pathlib as _p
_p.Path({marker!r}, "imported-" + __name__.replace(".", "_")).write_text("x")
raise RuntimeError("project code was executed: " + __name__)
"""

MODULES = {
    "setup.py": "",
    "conftest.py": "",
    "src/app/__init__.py": "",
    "src/app/core/__init__.py": "",
    "src/app/core/manager.py": "class Manager:\n    pass\n\n\ndef create_manager():\n    return Manager()\n",
    "src/app/legacy/__init__.py": "",
    "src/app/legacy/manager.py": (
        "from app.core.manager import Manager\n\n\nclass LegacyManager(Manager):\n"
        "    def send(self, message):\n        return super().send(message)\n"
    ),
    "src/app/users.py": (
        "from app.legacy.manager import LegacyManager\n"
        "import app.legacy.manager as legacy\n\n\n"
        "def build():\n    return LegacyManager(), legacy.LegacyManager()\n"
    ),
    "tests/test_users.py": (
        "from unittest import mock\n\nfrom app.legacy.manager import LegacyManager\n\n\n"
        "@mock.patch('app.legacy.manager.LegacyManager')\ndef test_it(m):\n"
        "    assert LegacyManager\n"
    ),
    # outside the source roots, at the repository root (which is on sys.path)
    "outside/__init__.py": "",
    "outside/thing.py": "VALUE = 1\n",
}

CONFIG = """\
[tool.ssot-migrate]
source-roots = ["src"]
test-command = "python -c 'raise SystemExit(0)'"

[[tool.ssot-migrate.targets]]
name = "manager"
canonical = "app.core.manager.Manager"
aliases = ["app.legacy.manager.LegacyManager"]
facades = ["app.legacy.manager.LegacyManager"]
factory = "app.core.manager.create_manager"
"""

# A canonical name that is not in the repository's source roots is looked up outside them (the
# environment, the standard library), statically: that lookup must not import the repository's
# own package.
OUTSIDE_CONFIG = """\
[tool.ssot-migrate]
source-roots = ["src"]

[[tool.ssot-migrate.targets]]
name = "outside"
canonical = "outside.thing.VALUE"
aliases = ["app.legacy.manager.LegacyManager"]
"""


@pytest.fixture
def trapped_repo(repo_factory: Callable[..., Path], tmp_path: Path) -> tuple[Path, Path]:
    markers = tmp_path / "markers"
    markers.mkdir()
    trap = TRAP.format(marker=str(markers))
    files = {path: trap + body for path, body in MODULES.items()}
    files["pyproject.toml"] = CONFIG
    return repo_factory(files), markers


def _assert_no_marker(markers: Path, what: str) -> None:
    left = sorted(p.name for p in markers.iterdir())
    assert not left, f"{what} executed project code: {left}"


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "sarif"])
def test_scan_imports_nothing(trapped_repo: tuple[Path, Path], fmt: str) -> None:
    repo, markers = trapped_repo
    proc = run_cli("scan", "--format", fmt, cwd=repo)
    assert proc.returncode in (0, 1), proc.stderr
    assert "internal error" not in proc.stderr
    assert "LegacyManager" in proc.stdout + proc.stderr  # it did find the violations
    _assert_no_marker(markers, f"scan --format {fmt}")


@pytest.mark.parametrize("phase", ["phase1", "phase2", "phase3"])
def test_dry_run_imports_nothing(trapped_repo: tuple[Path, Path], phase: str) -> None:
    repo, markers = trapped_repo
    proc = run_cli(phase, "--dry-run", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    if phase == "phase1":
        assert "+from app.core.manager import Manager" in proc.stdout, proc.stdout
    _assert_no_marker(markers, f"{phase} --dry-run")


def test_status_imports_nothing(trapped_repo: tuple[Path, Path]) -> None:
    repo, markers = trapped_repo
    proc = run_cli("status", cwd=repo)
    assert proc.returncode in (0, 1), proc.stderr
    _assert_no_marker(markers, "status")


def test_external_canonical_lookup_does_not_import_the_repository(
    trapped_repo: tuple[Path, Path], tmp_path: Path
) -> None:
    repo, markers = trapped_repo
    config = tmp_path / "outside.toml"
    config.write_text(OUTSIDE_CONFIG)
    proc = run_cli("phase1", "--dry-run", "--config", str(config), cwd=repo)
    assert "internal error" not in proc.stderr
    _assert_no_marker(markers, "config validation (lookup of a name outside the roots)")

"""The bundled sample repository: how it ships, its own suite, and the violations it carries."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ssot_migrate.config import load_config
from ssot_migrate.demo import create_sample_repo, sample_root
from ssot_migrate.errors import UsageError
from ssot_migrate.model import NameKind
from ssot_migrate.scan.analysis import scan_repository
from tests.helpers import paths
from tests.helpers.repos import git

EXPECTED_FIXES = (
    "tests/ssot/test_single_manager.py::test_only_one_import_path",
    "tests/ssot/test_single_manager.py::test_only_one_implementation",
    "tests/ssot/test_single_manager.py::test_test_doubles_accept_production_calls",
    "tests/unit/test_mock_manager.py::test_supervisor_against_the_mock",
    "tests/ssot/test_single_manager.py::test_factory_used_everywhere",
)
CORE = "netra_backend.app.websocket_core"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return create_sample_repo(tmp_path_factory.mktemp("sample") / "netra")


def run_sample_suite(repo: Path, junit: Path) -> dict[str, str]:
    """The sample's own test command (with this interpreter), results per test id."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", f"--junitxml={junit}"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    results: dict[str, str] = {}
    for case in ET.parse(junit).iter("testcase"):
        path = case.get("classname", "").replace(".", "/")
        test_id = f"{path}.py::{case.get('name')}"
        failed = case.find("failure") is not None or case.find("error") is not None
        results[test_id] = "failed" if failed else "passed"
    return results


def test_sample_becomes_a_clean_git_repository(sample: Path) -> None:
    assert git(sample, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git(sample, "rev-list", "--count", "HEAD").strip() == "1"
    assert git(sample, "status", "--porcelain", "--ignored") == ""
    assert git(sample, "config", "user.name").strip() == "ssot-migrate demo"
    files = git(sample, "ls-files").split()
    assert ".gitignore" in files and "pyproject.toml" in files
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]
    shipped = sorted(
        str(p.relative_to(Path(str(sample_root()))).as_posix())
        for p in Path(str(sample_root())).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and ".pytest_cache" not in p.parts
    )
    assert sorted(f for f in files if f != ".gitignore") == shipped


def test_sample_suite_golden_path_passes_and_fail_first_tests_fail(
    sample: Path, tmp_path: Path
) -> None:
    results = run_sample_suite(sample, tmp_path / "junit.xml")
    failing = sorted(t for t, status in results.items() if status == "failed")
    assert failing == sorted(EXPECTED_FIXES)
    golden = [t for t in results if t.startswith("tests/golden_path/")]
    assert len(golden) >= 5
    assert len(results) >= 40
    assert git(sample, "status", "--porcelain") == ""  # the run leaves nothing to commit


def test_sample_config_names_the_fail_first_tests(sample: Path) -> None:
    config = load_config(sample)
    assert config.expected_fixes == EXPECTED_FIXES
    assert config.test_command == "python -m pytest -q"
    (target,) = config.targets
    assert target.name == "websocket-manager"
    assert target.canonical == f"{CORE}.unified_manager.UnifiedWebSocketManager"
    assert target.canonical_kind is NameKind.SYMBOL
    assert target.factory == f"{CORE}.factory.create_websocket_manager"
    assert target.legacy_factories == (f"{CORE}.factory.get_websocket_manager",)
    assert f"{CORE}.websocket_manager.WebSocketManager" in target.facades
    assert f"{CORE}.manager.WebSocketManager" in target.aliases


def test_sample_carries_every_kind_of_fragmentation(sample: Path) -> None:
    counts = scan_repository(load_config(sample), jobs=1).violations()
    for category in (
        "legacy-import",
        "dual-import",
        "import-paths",
        "duplicate-implementation",
        "facade",
        "direct-instantiation",
        "interface-drift",
    ):
        assert counts[category] > 0, category
    # Hand counts from reading the sample: 15 direct constructions (13 consumers, the facade's
    # own, one test) and 3 legacy factory calls; 3 files importing both paths (bridge, admin
    # route, factory); 2 classes competing with the canonical (the facade, the drifted copy).
    assert counts["dual-import"] == 3
    assert counts["duplicate-implementation"] == 2
    assert counts["direct-instantiation"] == 18
    # The facade, the drifted copy, and the test double that rejects production's keywords.
    assert counts["interface-drift"] == 3


def test_sample_has_the_import_shapes_phase1_handles() -> None:
    root = Path(str(sample_root()))
    consumers = [
        p
        for p in root.rglob("*.py")
        if "websocket_core" in p.read_text(encoding="utf-8")
        and "tests" not in p.relative_to(root).parts[:1]
        and "websocket_core" not in p.parent.name
    ]
    assert len(consumers) >= 20
    text = "\n".join(p.read_text(encoding="utf-8") for p in consumers)
    for shape in (
        "from ..websocket_core.websocket_manager import WebSocketManager",  # relative
        "import WebSocketManager as WSManager",  # aliased
        "if TYPE_CHECKING:",
        "    from netra_backend.app.websocket_core.manager import WebSocketManager",  # local
        "import netra_backend.app.websocket_core.manager as ws_manager",  # module alias
        "except ImportError:",
        '"WebSocketManager"',  # string annotation
    ):
        assert shape in text, shape
    patch_test = (root / "tests" / "unit" / "test_mock_manager.py").read_text(encoding="utf-8")
    assert 'mock.patch("netra_backend.app.websocket_core.manager.WebSocketManager' in patch_test


def test_outer_test_runs_do_not_collect_the_sample() -> None:
    # Run from the project root on the package directory: the sample's tests must stay out.
    project = paths.ROOT
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "ssot_migrate",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 5, proc.stdout + proc.stderr  # "no tests collected"
    assert "test_single_manager" not in proc.stdout


def test_create_sample_repo_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine\n", encoding="utf-8")
    with pytest.raises(UsageError, match="not empty"):
        create_sample_repo(tmp_path / "busy")
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["keep.txt"]

"""``guard --write``: the configuration it writes is accepted and enforced by ruff and import-linter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import git_env, make_repo, run_cli
from tests.test_scan import fixture_files

BIN = Path(sys.executable).parent


def tool(repo: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run a linter the way a user would, in the repo, with the repo importable (import-linter)."""
    return subprocess.run(
        list(argv), cwd=repo, env=git_env({"PYTHONPATH": str(repo)}),
        capture_output=True, text=True, timeout=120, check=False,
    )


def clean_repo(root: Path) -> Path:
    """The consolidated fixture plus the legacy alias module, which nothing imports any more."""
    files = fixture_files("consolidated")
    files["app/legacy/__init__.py"] = ""
    files["app/legacy/manager.py"] = (
        "from app.core.unified import UnifiedWebSocketManager\n\n"
        "WebSocketManager = UnifiedWebSocketManager\n"
    )
    return make_repo(root, files)


def test_ruff_guard(tmp_path: Path) -> None:
    bad = make_repo(tmp_path / "bad", fixture_files("violating"))
    good = clean_repo(tmp_path / "good")
    pyproject = bad / "pyproject.toml"
    pyproject.write_text("# keep me\n" + pyproject.read_text())
    for repo in (bad, good):
        result = run_cli("guard", "--write", "ruff", "--repo", str(repo))
        assert result.returncode == 0, result.stderr
    text = pyproject.read_text()
    assert text.startswith("# keep me\n[tool.ssot-migrate]")  # the rest of the file is kept
    assert ('"app.legacy.manager.WebSocketManager" = {msg = "use '
            'app.core.unified.UnifiedWebSocketManager instead (ssot-migrate)"}') in text
    # Running it again changes nothing.
    again = run_cli("guard", "--write", "ruff", "--repo", str(bad))
    assert again.returncode == 0 and "nothing to do" in again.stderr
    assert pyproject.read_text() == text

    # ruff accepts the configuration (a bad key would exit 2) and enforces it.
    violations = tool(bad, str(BIN / "ruff"), "check", "--no-cache", "--select", "TID251",
                      "--output-format", "concise", ".")
    assert violations.returncode == 1, violations.stderr
    flagged = sorted(line.split(":")[0] for line in violations.stdout.splitlines() if "TID251" in line)
    assert flagged == ["app/compat.py", "app/services/chat.py", "app/services/notify.py",
                       "app/services/rooms.py", "app/services/rooms.py"]
    assert "use app.core.unified.UnifiedWebSocketManager instead" in violations.stdout
    clean = tool(good, str(BIN / "ruff"), "check", "--no-cache", "--select", "TID251", ".")
    assert clean.returncode == 0, clean.stdout + clean.stderr


def test_import_linter_guard(tmp_path: Path) -> None:
    bad = make_repo(tmp_path / "bad", fixture_files("violating"))
    good = clean_repo(tmp_path / "good")
    for repo in (bad, good):
        result = run_cli("guard", "--write", "import-linter", "--repo", str(repo))
        assert result.returncode == 0, result.stderr
    text = (bad / "pyproject.toml").read_text()
    assert 'forbidden_modules = ["app.legacy.manager"]' in text
    assert "ssot-migrate: use app.core.unified.UnifiedWebSocketManager, not " in text
    assert '"app.legacy.facade"' not in text  # facade modules stay allowed

    broken = tool(bad, str(BIN / "lint-imports"), "--no-cache")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "app.compat is not allowed to import app.legacy.manager" in broken.stdout
    assert "app.services.chat -> app.legacy.manager" in broken.stdout
    kept = tool(good, str(BIN / "lint-imports"), "--no-cache")
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "KEPT" in kept.stdout and "BROKEN" not in kept.stdout


def test_guard_refuses_unknown_kind(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", fixture_files("consolidated"))
    result = run_cli("guard", "--write", "flake8", "--repo", str(repo))
    assert result.returncode == 2
    assert "--write 'flake8'" in result.stderr

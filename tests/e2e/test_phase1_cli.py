"""Phase 1 through the real CLI on real repositories: the diff, its summary, guard, exit codes."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.helpers.repos import git, git_env, make_repo, run_cli


def dry_run_bytes(repo: Path, *extra: str) -> tuple[int, bytes, str]:
    """The real CLI with stdout kept as bytes (text mode would turn CRLF into LF)."""
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "ssot_migrate", "phase1", "--dry-run", "--repo", str(repo), *extra],
        env=git_env(),
        capture_output=True,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr.decode()


CONFIG = """\
[tool.ssot-migrate]
{extra}
[[tool.ssot-migrate.targets]]
name = "manager"
canonical = "app.core.unified.Unified"
aliases = ["app.core.manager.Manager"]
"""

FILES = {
    "app/__init__.py": "",
    "app/core/__init__.py": "",
    "app/core/unified.py": "class Unified:\n    pass\n",
    "app/core/manager.py": "from app.core.unified import Unified as Manager\n",
    "app/use_a.py": "from app.core.manager import Manager\n\nm = Manager()\n",
    "app/use_b.py": "from .core.manager import Manager as M\r\n\r\nx = M()\r\n",
    "app/plain.py": "value = 1\n",
    "app/broken.py": "from app.core.manager import Manager\ndef (:\n",
}


def repo_with(tmp_path: Path, extra: str = "") -> Path:
    return make_repo(tmp_path / "repo", {**FILES, "pyproject.toml": CONFIG.format(extra=extra)})


def test_dry_run_prints_an_applicable_diff_and_a_summary(tmp_path: Path) -> None:
    repo = repo_with(tmp_path)
    code, out, err = dry_run_bytes(repo, "--jobs", "1")
    assert code == 0, err
    assert out.startswith(b"diff --git a/app/use_a.py b/app/use_a.py\n")
    assert b"+from app.core.unified import Unified\n" in out
    assert b"+m = Unified()\n" in out
    assert b"+from .core.unified import Unified as M\r\n" in out
    assert b"app/plain.py" not in out
    assert "2 changed" in err and "manager: " in err
    assert "app/broken.py:" in err and "syntax error" in err
    patch = tmp_path / "p.diff"
    patch.write_bytes(out)
    check = subprocess.run(
        ["git", "-C", str(repo), "apply", "--check", str(patch)], capture_output=True
    )
    assert check.returncode == 0, check.stderr
    assert git(repo, "status", "--porcelain") == ""


def test_second_run_on_the_result_is_empty(tmp_path: Path) -> None:
    repo = repo_with(tmp_path)
    _, out, _ = dry_run_bytes(repo)
    patch = tmp_path / "p.diff"
    patch.write_bytes(out)
    git(repo, "apply", str(patch))
    git(repo, "commit", "-qam", "phase 1 applied")
    second = run_cli("phase1", "--dry-run", "--repo", str(repo))
    assert second.returncode == 0
    assert second.stdout == ""
    assert "nothing to do" in second.stderr


def test_guard_is_part_of_phase1_diff_and_branch(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, 'guard = "ruff"\n')
    dry = run_cli("phase1", "--dry-run", "--repo", str(repo))
    assert dry.returncode == 0, dry.stderr
    assert "diff --git a/pyproject.toml b/pyproject.toml" in dry.stdout
    assert '+"app.core.manager.Manager"' in dry.stdout
    assert "guard: the ruff guard is added" in dry.stderr
    branch = run_cli("phase1", "--repo", str(repo), "--no-verify")
    assert branch.returncode == 0, branch.stderr
    shown = git(repo, "show", "ssot/phase1-imports:pyproject.toml")
    assert "banned-api" in shown and "app.core.unified.Unified" in shown


def test_progress_never_reaches_stdout(tmp_path: Path) -> None:
    repo = repo_with(tmp_path)
    proc = run_cli("phase1", "--dry-run", "--repo", str(repo))
    assert all(line[:1] in ("d", "-", "+", " ", "@", "\\", "") for line in proc.stdout.split("\n"))


def test_unknown_phase_option_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_cli("phase1", "--dry-rn")
    assert proc.returncode == 2
    assert "No such option" in proc.stderr or "no such option" in proc.stderr.lower()

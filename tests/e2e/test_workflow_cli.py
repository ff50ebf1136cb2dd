"""End to end: the real ``phase1`` (no ``--dry-run``) through the CLI on a real repository."""

from __future__ import annotations

import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.helpers.repos import git, git_env, make_repo, run_cli

PYPROJECT = textwrap.dedent(f"""\
    [tool.ssot-migrate]
    test-command = "env PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {shlex.quote(sys.executable)} -m pytest -q tests"
    test-timeout = 120

    [[tool.ssot-migrate.targets]]
    name = "manager"
    canonical = "app.core.unified.Manager"
    aliases = ["app.core.legacy.Manager"]
    """)

FILES = {
    "pyproject.toml": PYPROJECT,
    "app/__init__.py": "",
    "app/core/__init__.py": "",
    "app/core/unified.py": "class Manager:\n    def ping(self):\n        return 'pong'\n",
    "app/core/legacy.py": "class Manager:\n    def ping(self):\n        return 'legacy'\n",
    "app/use.py": (
        "from app.core.legacy import Manager  # the old path\n\n\n"
        "def make():\n    return Manager()\n"
    ),
    "app/other.py": "import os\n",
    "tests/__init__.py": "",
    "tests/test_use.py": (
        "import pytest\n\nfrom app.use import make\n\n\n"
        "def test_works():\n    assert make().ping() in ('pong', 'legacy')\n\n\n"
        "@pytest.mark.ssot_expected_fix\n"
        "def test_canonical():\n    assert make().ping() == 'pong'\n"
    ),
    "pytest.ini": "[pytest]\nmarkers =\n    ssot_expected_fix: fails until the migration\n",
}


def tree_of_patch(repo: Path, patch: str, tmp_path: Path) -> str:
    """The tree ``main`` + ``patch`` would have, computed in a scratch index."""
    env = git_env({"GIT_INDEX_FILE": str(tmp_path / "scratch-index")})

    def run(*args: str, stdin: str | None = None) -> str:
        return subprocess.run(
            ["git", "-C", str(repo), *args],
            env=env,
            input=stdin,
            text=True,
            capture_output=True,
            check=True,
        ).stdout

    run("read-tree", "main")
    run("apply", "--cached", "-", stdin=patch)
    return run("write-tree").strip()


def test_phase1_branch_matches_dry_run_and_verifies(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", FILES)
    dry = run_cli("phase1", "--repo", str(repo), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "app/use.py" in dry.stdout
    (repo / "app/other.py").write_text("import sys  # dirty, uncommitted\n")
    index_before = (repo / ".git/index").read_bytes()
    proc = run_cli("phase1", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    branch = "ssot/phase1-imports"
    assert f"created branch {branch}" in proc.stderr and "test log: " in proc.stderr
    assert git(repo, "rev-parse", f"{branch}^{{tree}}").strip() == tree_of_patch(
        repo, dry.stdout, tmp_path
    )
    message = git(repo, "log", "-1", "--format=%B", branch)
    assert "manager: " in message and "Scan (violations per category)" in message
    assert "expected fail-first flips (fail -> pass): 1" in message
    assert "SSOT-Verified: yes" in message and "SSOT-Tests-Before: 1 passed, 1 failed" in message
    assert (repo / "app/other.py").read_text() == "import sys  # dirty, uncommitted\n"
    assert (repo / ".git/index").read_bytes() == index_before
    # a second run refuses, --refresh regenerates and keeps the old tip
    again = run_cli("phase1", "--repo", str(repo))
    assert again.returncode == 2 and "--refresh" in again.stderr
    old = git(repo, "rev-parse", branch).strip()
    refreshed = run_cli("phase1", "--repo", str(repo), "--refresh", "--no-verify")
    assert refreshed.returncode == 0, refreshed.stderr
    assert "SSOT-Verified: skipped" in git(repo, "log", "-1", "--format=%B", branch)
    backups = git(repo, "for-each-ref", "--format=%(objectname)", "refs/ssot-backup/")
    assert backups.split() == [old]


def test_phase1_regression_exits_1(tmp_path: Path) -> None:
    files = dict(FILES)
    files["tests/test_use.py"] = (
        "from app.use import make\n\n\ndef test_legacy():\n    assert make().ping() == 'legacy'\n"
    )
    repo = make_repo(tmp_path / "repo", files)
    proc = run_cli("phase1", "--repo", str(repo))
    assert proc.returncode == 1, proc.stderr
    assert "regressions (pass -> fail/error): 1" in proc.stderr
    assert "tests/test_use.py::test_legacy" in proc.stderr
    assert "SSOT-Verified: failed" in git(repo, "log", "-1", "--format=%B", "ssot/phase1-imports")


def test_phase1_nothing_to_do_exit_0(tmp_path: Path) -> None:
    files = dict(FILES)
    files["app/use.py"] = "from app.core.unified import Manager\n"
    files["tests/test_use.py"] = "def test_x():\n    pass\n"
    files["pyproject.toml"] = PYPROJECT.replace(
        "test-timeout = 120", "test-timeout = 120\ntest-jobs = 2"
    )
    repo = make_repo(tmp_path / "repo", files)
    proc = run_cli("phase1", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    assert "nothing to do" in proc.stderr
    assert git(repo, "branch", "--list", "ssot/*") == ""
    # both worktrees, checked out while the change was computed (test-jobs 2), are removed
    # and no suite ran: the tests start only once there is a change
    assert "phase1: nothing to do, no branch created\n" in proc.stderr
    assert "running tests" not in proc.stderr
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1


def test_phase1_bisect_and_quarantine_through_the_cli(tmp_path: Path) -> None:
    files = dict(FILES)
    for i in range(4):
        files[f"app/user{i}.py"] = (
            f"from app.core.legacy import Manager\n\n\ndef make{i}():\n    return Manager()\n"
        )
    files["tests/test_use.py"] = (
        "from app.user2 import make2\n\n\n"
        "def test_user2_still_legacy():\n    assert make2().ping() == 'legacy'\n"
    )
    repo = make_repo(tmp_path / "repo", files)
    proc = run_cli("phase1", "--repo", str(repo), "--bisect", "--quarantine")
    assert proc.returncode == 0, proc.stderr
    assert "bisect: 1 file(s) cause the regression" in proc.stderr
    assert "quarantined (left out, needs a decision): app/user2.py" in proc.stderr
    branch = "ssot/phase1-imports"
    changed = git(repo, "diff", "--name-only", "main", branch).split()
    assert "app/user2.py" not in changed and {"app/use.py", "app/user0.py"} <= set(changed)
    message = git(repo, "log", "-1", "--format=%B", branch)
    assert "app/user2.py: left out of this phase (quarantined): breaks " in message
    assert "tests/test_use.py::test_user2_still_legacy" in message
    assert "SSOT-Verified: yes" in message


def test_a_closed_pipe_does_not_change_the_phase(tmp_path: Path) -> None:
    """``ssot-migrate phase1 2>&1 | head -2``: the reader goes away; the phase still finishes."""
    import os

    repo = make_repo(tmp_path / "repo", FILES)
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line: every write gets EPIPE
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "ssot_migrate", "phase1", "--repo", str(repo)],
            env=git_env(),
            stdout=write_end,
            stderr=write_end,
            timeout=300,
            check=False,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 0  # its own outcome: verified, no regression
    message = git(repo, "log", "-1", "--format=%B", "ssot/phase1-imports")
    assert "SSOT-Verified: yes" in message
    assert git(repo, "worktree", "list").count("\n") == 1  # and it cleaned up after itself


def test_commit_shows_violations_as_the_pull_request_does(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", FILES)
    assert run_cli("phase1", "--repo", str(repo), "--no-verify").returncode == 0
    message = git(repo, "log", "-1", "--format=%B", "ssot/phase1-imports")
    assert "Scan (violations per category) before -> after:" in message
    # import-paths counts 2 -> 1 paths; what must reach zero is the one beyond the canonical.
    assert "  import-paths: 1 -> 0" in message and "legacy-import: 1 -> 0" in message


FACADE_FILES = {
    "pyproject.toml": textwrap.dedent("""\
        [tool.ssot-migrate]

        [[tool.ssot-migrate.targets]]
        name = "engine"
        canonical = "pkg.core.Engine"
        aliases = ["pkg.old.OldEngine"]
        facades = ["pkg.facade.EngineFacade", "pkg.pure.PureFacade"]
        factory = "pkg.factory.make_engine"
        """),
    "pkg/__init__.py": "",
    "pkg/core.py": (
        "class Engine:\n    def __init__(self, name):\n        self.name = name\n\n"
        "    def run(self):\n        return self.name\n"
    ),
    "pkg/old.py": "from pkg.core import Engine as OldEngine\n",
    # Kept by phase 2 (extra() has no counterpart); PureFacade becomes an alias, so phase 2
    # has a branch.
    "pkg/facade.py": (
        "from pkg.core import Engine\n\n\nclass EngineFacade:\n"
        "    def __init__(self, name):\n        self._engine = Engine(name)\n\n"
        "    def run(self):\n        return self._engine.run()\n\n"
        "    def extra(self):\n        return 42\n"
    ),
    "pkg/pure.py": (
        "from pkg.core import Engine\n\n\nclass PureFacade:\n"
        "    def __init__(self, name):\n        self._engine = Engine(name)\n\n"
        "    def run(self):\n        return self._engine.run()\n"
    ),
    "pkg/factory.py": "from pkg.core import Engine\n\n\ndef make_engine(name):\n    return Engine(name)\n",
    "app/__init__.py": "",
    "app/use.py": "from pkg.facade import EngineFacade\n\n\ndef build():\n    return EngineFacade('x')\n",
}


def test_phase3_notes_after_phase2_do_not_ask_for_phase2(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", FACADE_FILES)
    before = run_cli("phase3", "--repo", str(repo), "--dry-run")
    assert before.returncode == 0, before.stderr
    assert "EngineFacade is still a separate class" in before.stderr
    assert "run phase 2 first" in before.stderr
    phase2 = run_cli("phase2", "--repo", str(repo), "--no-verify")
    assert phase2.returncode == 0, phase2.stderr
    kept = git(repo, "log", "-1", "--format=%B", "ssot/phase2-facades")
    assert "extra()" in kept  # phase 2 kept the member the canonical lacks, and said so
    after = run_cli("phase3", "--repo", str(repo), "--dry-run", "--base", "ssot/phase2-facades")
    assert after.returncode == 0, after.stderr
    assert "EngineFacade is still a separate class" in after.stderr
    assert "run phase 2 first" not in after.stderr
    assert "phase 2 kept it, see its 'Needs a decision'" in after.stderr

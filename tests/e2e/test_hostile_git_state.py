"""Repository states that misled phases, status and rollback (issue #19: D2, D10-D14).

Each case is the reproduction from the issue, through the real CLI on a real repository: the
command either does the right thing or stops with exit 2 and a message naming the cause, before
running any test, and the user's checkout, index and HEAD stay byte for byte as they were.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.checkout import assert_untouched, project_files, snapshot
from tests.helpers.faults import FAULTS, report_faults
from tests.helpers.repos import git, make_repo, run_cli

BRANCH = "ssot/phase1-imports"


def _repo(tmp_path: Path, **replace: str) -> Path:
    files = project_files()
    pyproject = str(files["pyproject.toml"])
    for old, new in replace.items():
        pyproject = pyproject.replace(old, new)
    files["pyproject.toml"] = pyproject
    return make_repo(tmp_path / "repo", files)


def _runs(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    ctl = tmp_path / "ctl"
    ctl.mkdir(exist_ok=True)
    return ctl, {"SSOT_FAULT_DIR": str(ctl)}


def test_refresh_refuses_a_branch_checked_out_in_the_users_checkout(tmp_path: Path) -> None:
    """D2: --refresh moved a checked-out branch; git status then showed a staged revert."""
    repo = _repo(tmp_path)
    assert run_cli("phase1", "--no-verify", "--repo", str(repo)).returncode == 0
    git(repo, "checkout", "-q", BRANCH)
    git(repo, "commit", "-q", "--allow-empty", "-m", "move the base")  # something to refresh
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    before = snapshot(repo)
    result = run_cli("phase1", "--refresh", "--no-verify", "--repo", str(repo), "--base", "main")
    FAULTS["injected"] += 1
    assert result.returncode == 2, result.stderr
    assert f"branch {BRANCH} is checked out in {repo}" in result.stderr
    assert_untouched(repo, before)
    assert git(repo, "status", "--porcelain") == ""


def test_a_tag_named_like_the_phase_branch(tmp_path: Path) -> None:
    """D10: status showed heads/ssot/..., and rollback failed after making a backup ref."""
    repo = _repo(tmp_path)
    assert run_cli("phase1", "--no-verify", "--repo", str(repo)).returncode == 0
    git(repo, "tag", BRANCH, "main")
    status = run_cli("status", "--repo", str(repo))
    FAULTS["injected"] += 1
    assert status.returncode == 0 and f" {BRANCH} " in status.stdout, status.stdout
    assert "heads/" not in status.stdout
    rollback = run_cli("rollback", "phase1", "--yes", "--repo", str(repo))
    assert rollback.returncode == 0, rollback.stderr
    assert git(repo, "branch", "--list", BRANCH) == ""
    assert git(repo, "tag", "--list", BRANCH).strip() == BRANCH


def test_a_user_commit_on_top_of_the_phase_branch(tmp_path: Path) -> None:
    """D11: status/rollback said there was no phase branch while phase1 said to roll it back."""
    repo = _repo(tmp_path)
    assert run_cli("phase1", "--no-verify", "--repo", str(repo)).returncode == 0
    git(repo, "checkout", "-q", BRANCH)
    (repo / "review.txt").write_text("a reviewer's fix\n")
    git(repo, "add", "review.txt")
    git(repo, "commit", "-q", "-m", "review fix")
    user_tip = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "main")
    FAULTS["injected"] += 1
    again = run_cli("phase1", "--no-verify", "--repo", str(repo))
    assert again.returncode == 2 and "rollback phase1" in again.stderr, again.stderr
    status = run_cli("status", "--repo", str(repo))
    assert f"{BRANCH} (+1 commit(s) on top)" in status.stdout, (status.stdout, status.stderr)
    assert "yes" in status.stdout or "skipped" in status.stdout
    rollback = run_cli("rollback", "phase1", "--yes", "--repo", str(repo))
    assert rollback.returncode == 0, rollback.stderr
    backups = git(repo, "for-each-ref", "--format=%(objectname)", "refs/ssot-backup/")
    assert user_tip in backups.split(), "the user's commit must be kept"
    assert run_cli("phase1", "--no-verify", "--repo", str(repo)).returncode == 0


def test_rollback_of_a_merged_phase_takes_config(tmp_path: Path) -> None:
    """D12: rollback of a merged phase read only pyproject.toml and had no --config."""
    files = project_files()
    config = tmp_path / "ssot.toml"
    config.write_text(str(files.pop("pyproject.toml")))
    repo = make_repo(tmp_path / "repo", files)
    _ctl, env = _runs(tmp_path)
    FAULTS["injected"] += 1
    done = run_cli("phase1", "--repo", str(repo), "--config", str(config), env=env)
    assert done.returncode == 1, done.stderr  # the suite fails on the phase tree by design
    git(repo, "merge", "-q", "--ff-only", BRANCH)
    without = run_cli("rollback", "phase1", "--repo", str(repo), env=env)
    assert without.returncode == 2 and "no configuration" in without.stderr, without.stderr
    result = run_cli("rollback", "phase1", "--repo", str(repo), "--config", str(config), env=env)
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 1), result.stderr
    assert git(repo, "branch", "--list", "ssot/rollback-phase1").strip(), result.stderr


@pytest.mark.parametrize("obstacle", ["branch-ssot", "hook"])
def test_a_branch_that_cannot_be_created_is_found_before_any_test_runs(
    tmp_path: Path, obstacle: str
) -> None:
    """D13: found only after both test runs, reported as 'changed while phase1 ran'."""
    repo = _repo(tmp_path)
    if obstacle == "branch-ssot":
        git(repo, "branch", "ssot")
        why = "ssot"
    else:
        hook = repo / ".git" / "hooks" / "reference-transaction"
        hook.write_text(
            "#!/bin/sh\n"
            'if [ "$1" = prepared ] && grep -q "refs/heads/ssot/" ; then\n'
            "  echo 'policy: no ssot branches here' >&2; exit 1\nfi\nexit 0\n"
        )
        hook.chmod(0o755)
        why = "aborted by hook"
    ctl, env = _runs(tmp_path)
    before = snapshot(repo)
    result = run_cli("phase1", "--repo", str(repo), env=env)
    FAULTS["injected"] += 1
    assert result.returncode == 2, result.stderr
    assert f"branch {BRANCH} cannot be created here, so nothing was run" in result.stderr
    assert why in result.stderr, result.stderr
    assert "changed while" not in result.stderr
    assert not list(ctl.glob("run-*")), "a test ran before the branch was known to be creatable"
    assert_untouched(repo, before)


def test_dubious_ownership_is_named(tmp_path: Path) -> None:
    """D13: git refusing a repository owned by someone else was reported as 'no commits yet'."""
    if os.geteuid() != 0:
        pytest.skip("needs root to give the repository to another user")
    repo = _repo(tmp_path)
    for root, dirs, files in os.walk(repo):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(root, name), 4242, 4242)
    os.lchown(repo, 4242, 4242)
    result = run_cli("scan", "--repo", str(repo))
    FAULTS["injected"] += 1
    assert result.returncode == 2, result.stderr
    assert "dubious ownership" in result.stderr and "safe.directory" in result.stderr
    assert "no commits" not in result.stderr


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_config_that_is_not_a_regular_file(tmp_path: Path, kind: str) -> None:
    """D13: --config on a FIFO or a device said 'not found'."""
    repo = _repo(tmp_path)
    if kind == "fifo":
        config = tmp_path / "config.fifo"
        os.mkfifo(config)
    else:
        config = Path("/dev/null")
    result = run_cli("scan", "--repo", str(repo), "--config", str(config), timeout=60)
    FAULTS["injected"] += 1
    assert result.returncode == 2, result.stderr
    assert f"{config} is not a regular file" in result.stderr, result.stderr


def test_pytest_usage_error_is_not_no_tests(tmp_path: Path) -> None:
    """D14: pytest exit 4 (a test path that does not exist) counted as 'no tests', exit 0."""
    python = '"' + sys.executable + '"'
    repo = _repo(
        tmp_path,
        **{f'[{python}, "suite.py"]': f'[{python}, "-m", "pytest", "-q", "tests/not_there"]'},
    )
    result = run_cli("phase1", "--repo", str(repo))
    FAULTS["injected"] += 1
    assert result.returncode == 1, result.stderr
    assert (
        "verified: failed" in result.stderr
        and "could not run on the base tree (exit 4)" in result.stderr
    )
    assert "SSOT-Verified: failed" in git(repo, "log", "-1", "--format=%B", BRANCH)


def test_a_suite_killed_by_a_signal_on_both_trees_is_not_verified(tmp_path: Path) -> None:
    """D14: a non-pytest suite killed by a signal on both trees counted as 'verified: yes'."""
    repo = _repo(tmp_path)
    (repo / "suite.py").write_text("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    git(repo, "commit", "-q", "-am", "a suite that dies")
    result = run_cli("phase1", "--repo", str(repo))
    FAULTS["injected"] += 1
    assert result.returncode == 1, result.stderr
    assert "killed by signal 9 on the base tree" in result.stderr, result.stderr
    assert "SSOT-Verified: failed" in git(repo, "log", "-1", "--format=%B", BRANCH)


@pytest.fixture(autouse=True, scope="module")
def _report_counts() -> Iterator[None]:
    yield
    report_faults(__name__)

"""``status`` and ``rollback`` through the real CLI, and recovery from a run killed mid-phase."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.helpers import paths
from tests.helpers.repos import git_env, run_cli
from tests.helpers.workflow import (
    MarkerCodemod,
    git,
    git_identity,  # noqa: F401  (autouse fixture)
    make_config,
    phase,
    project,
    pytest_command,
    trailers,
)

ROOT = paths.ROOT


def configured_project(tmp_path: Path, extra: dict[str, str] | None = None) -> Path:
    """A project with a valid ``[tool.ssot-migrate]`` table (needed by merged rollbacks)."""
    pyproject = textwrap.dedent(f"""\
        [tool.ssot-migrate]
        test-command = "env PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {shlex.quote(sys.executable)} -m pytest -q tests"
        test-timeout = 120

        [[tool.ssot-migrate.targets]]
        name = "other"
        canonical = "pkg.mod_b.OTHER"
        aliases = ["pkg.mod_a.OTHER"]
        """)
    files = {"pyproject.toml": pyproject, "pkg/mod_b.py": "OTHER = 'SECOND_MARKER'\n"}
    files.update(extra or {})
    return project(tmp_path, extra=files)


def two_stacked_phases(repo: Path) -> tuple[str, str]:
    # a cheap non-pytest command: these tests are about refs, not about test comparison
    config = make_config(repo, (sys.executable, "-c", "pass"))
    p1 = phase(repo, config)
    p2 = phase(
        repo,
        config,
        phase="phase2",
        codemod=MarkerCodemod("phase2", "SECOND_MARKER", "DONE_MARKER"),
    )
    assert p1.commit and p2.commit
    return p1.commit, p2.commit


def test_status_table_from_branches_and_trailers(tmp_path: Path) -> None:
    repo = configured_project(tmp_path)
    empty = run_cli("status", "--repo", str(repo))
    assert empty.returncode == 0 and empty.stdout == "" and "no phase branches" in empty.stderr
    two_stacked_phases(repo)
    proc = run_cli("status", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:3] == ["PHASE", "BRANCH", "BASE"]
    row1 = next(line for line in lines if line.startswith("phase1"))
    row2 = next(line for line in lines if line.startswith("phase2"))
    assert "ssot/phase1-imports" in row1 and "main @" in row1 and "+1/-0" in row1
    assert "exit 0 -> exit 0" in row1 and row1.split()[-1] == "no"
    assert row2.split()[2] == "ssot/phase1-imports" and "yes" in row2.split()
    # phase 1 regenerated: phase 2 still sits on the old tip, and status says so
    phase(
        repo,
        make_config(repo, (sys.executable, "-c", "pass")),
        refresh=True,
        codemod=MarkerCodemod(new="NEWER_MARKER"),
    )
    row2 = next(
        line
        for line in run_cli("status", "--repo", str(repo)).stdout.splitlines()
        if line.startswith("phase2")
    )
    assert "ssot/phase1-imports (old tip: refresh phase2)" in row2
    git(repo, "merge", "-q", "--ff-only", "ssot/phase1-imports")
    row1 = next(
        line
        for line in run_cli("status", "--repo", str(repo)).stdout.splitlines()
        if line.startswith("phase1")
    )
    assert row1.split()[-1] == "yes"
    git(repo, "branch", "-D", "ssot/phase1-imports")  # as a hosting service does after merging
    row1 = next(
        line
        for line in run_cli("status", "--repo", str(repo)).stdout.splitlines()
        if line.startswith("phase1")
    )
    assert "(branch deleted)" in row1 and row1.split()[-1] == "yes"


def test_rollback_unmerged_asks_deletes_stack_and_restores(tmp_path: Path) -> None:
    repo = configured_project(tmp_path)
    tip1, tip2 = two_stacked_phases(repo)
    refused = run_cli("rollback", "phase1", "--repo", str(repo), input="")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    declined = run_cli("rollback", "phase1", "--repo", str(repo), input="n\n")
    assert declined.returncode == 0 and "nothing deleted" in declined.stderr
    assert "ssot/phase2-facades" in declined.stderr  # the stacked branch is announced
    assert git(repo, "rev-parse", "ssot/phase1-imports").strip() == tip1
    done = run_cli("rollback", "phase1", "--repo", str(repo), input="y\n")
    assert done.returncode == 0, done.stderr
    assert git(repo, "branch", "--list", "ssot/*") == ""
    restores = [
        line.strip() for line in done.stderr.splitlines() if line.strip().startswith("git -C ")
    ]
    assert len(restores) == 2
    for command in restores:  # exactly as printed
        subprocess.run(shlex.split(command), env=git_env(), check=True, cwd=tmp_path)
    assert git(repo, "rev-parse", "ssot/phase1-imports").strip() == tip1
    assert git(repo, "rev-parse", "ssot/phase2-facades").strip() == tip2
    # --yes deletes without asking; only phase 2 and nothing below it
    only2 = run_cli("rollback", "phase2", "--repo", str(repo), "--yes")
    assert only2.returncode == 0, only2.stderr
    assert git(repo, "branch", "--list", "ssot/*").split() == ["ssot/phase1-imports"]


@pytest.mark.parametrize("how", ["merge-commit, branch deleted", "fast-forward, branch kept"])
def test_rollback_merged_builds_verified_revert_branch(tmp_path: Path, how: str) -> None:
    repo = configured_project(tmp_path)
    base = git(repo, "rev-parse", "HEAD").strip()
    p1 = phase(repo, make_config(repo, pytest_command()))
    if how.startswith("merge-commit"):
        git(repo, "merge", "-q", "--no-ff", "-m", "merge phase 1", p1.branch)
        git(repo, "branch", "-D", p1.branch)  # as a hosting service does after merging
    else:
        git(repo, "merge", "-q", "--ff-only", p1.branch)  # main's tip now carries the trailers
    proc = run_cli("rollback", "phase1", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    branch = "ssot/rollback-phase1"
    assert git(repo, "rev-parse", f"{branch}^").strip() == git(repo, "rev-parse", "main").strip()
    assert (
        git(repo, "rev-parse", f"{branch}^{{tree}}").strip()
        == git(repo, "rev-parse", f"{base}^{{tree}}").strip()
    )
    t = trailers(repo, branch)
    assert t["SSOT-Phase"] == "rollback-phase1"
    assert t["SSOT-Reverts"] == p1.commit
    assert t["SSOT-Verified"] == "yes" and t["SSOT-Tests-After"] == "2 passed"
    again = run_cli("rollback", "phase1", "--repo", str(repo))
    assert again.returncode == 2 and "already exists" in again.stderr


def test_rollback_of_unknown_or_absent_phase(tmp_path: Path) -> None:
    repo = configured_project(tmp_path)
    absent = run_cli("rollback", "phase3", "--repo", str(repo), "--yes")
    assert absent.returncode == 2 and "nothing to roll back" in absent.stderr
    unknown = run_cli("rollback", "phase9", "--repo", str(repo), "--yes")
    assert unknown.returncode == 2 and "unknown phase" in unknown.stderr


KILLABLE_RUN = """\
import faulthandler, signal, sys
from pathlib import Path
# Ctrl-C as a terminal delivers it: a suite started with `cmd &` from a non-interactive shell
# inherits SIGINT ignored, and the run would never see the signal this test sends.
signal.signal(signal.SIGINT, signal.default_int_handler)
faulthandler.register(signal.SIGUSR1)  # the test dumps where a run hangs, if it does
from tests.helpers.workflow import make_config, phase, pytest_command
repo = Path(sys.argv[1])
# test-jobs = 2: the base and phase suites run at the same time
result = phase(repo, make_config(repo, pytest_command(), test_jobs=2))
print(result.commit)
"""


def test_sigkill_mid_phase_then_clean_rerun(tmp_path: Path) -> None:
    flag = tmp_path / "hang.flag"
    pid_file = tmp_path / "suite.pid"
    conftest = (
        "import os, time, pathlib\n"
        f"pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()))\n"
        f"while pathlib.Path({str(flag)!r}).exists():\n    time.sleep(0.1)\n"
    )
    repo = project(tmp_path, extra={"tests/conftest.py": conftest})
    flag.write_text("hang")
    env = git_env({"PYTHONPATH": str(ROOT)})
    runner = subprocess.Popen(
        [sys.executable, "-c", KILLABLE_RUN, str(repo)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pid_file.exists(), "the test suite never started"
        runner.send_signal(signal.SIGKILL)
        runner.communicate(timeout=30)
    finally:
        flag.unlink(missing_ok=True)
        suite = int(pid_file.read_text()) if pid_file.exists() else 0
        if suite:
            try:
                os.kill(suite, signal.SIGKILL)
            except ProcessLookupError:
                pass
    stale = [p for p in (repo / ".git" / "ssot-worktrees").iterdir() if p.suffix != ".lock"]
    # the phase's worktree, and the base's when both suites run at the same time (test-jobs)
    assert 1 <= len(stale) <= 2 and "locked" in git(repo, "worktree", "list", "--porcelain")
    assert git(repo, "branch", "--list", "ssot/*") == ""  # no half-made branch
    rerun = subprocess.run(
        [sys.executable, "-c", KILLABLE_RUN, str(repo)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr
    commit = rerun.stdout.strip().splitlines()[-1]
    assert git(repo, "rev-parse", "ssot/phase1-imports").strip() == commit
    assert not any((repo / ".git" / "ssot-worktrees").iterdir())
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_mid_phase_cleans_up_worktree_and_suite(tmp_path: Path, sig: int) -> None:
    # Both suites (base and phase, at the same time) are running when the signal comes: each
    # process group must go.
    flag = tmp_path / "hang.flag"
    pid_file = tmp_path / "suite.pid"
    conftest = (
        "import os, time, pathlib\n"
        f"with open({str(pid_file)!r}, 'a') as out:\n    out.write(f'{{os.getpid()}}\\n')\n"
        f"while pathlib.Path({str(flag)!r}).exists():\n    time.sleep(0.1)\n"
    )
    repo = project(tmp_path, extra={"tests/conftest.py": conftest})
    flag.write_text("hang")
    env = git_env({"PYTHONPATH": str(ROOT)})
    runner = subprocess.Popen(
        [sys.executable, "-c", KILLABLE_RUN, str(repo)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while (not pid_file.exists() or len(pid_file.read_text().split()) < 2) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.05)
        assert pid_file.exists() and len(pid_file.read_text().split()) == 2, (
            "the base and phase suites never both started"
        )
        time.sleep(0.3)
        runner.send_signal(sig)
        try:
            _, err = runner.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            runner.send_signal(signal.SIGUSR1)
            time.sleep(1)
            runner.kill()
            _, err = runner.communicate()
            pytest.fail(
                "the run did not stop on the signal; where it was:\n" + err.decode(errors="replace")
            )
        assert runner.returncode != 0 and b"KeyboardInterrupt" in err
        suites = [int(pid) for pid in pid_file.read_text().split()]
        deadline = time.monotonic() + 5
        while any(Path(f"/proc/{p}").exists() for p in suites) and time.monotonic() < deadline:
            time.sleep(0.05)
        alive = [p for p in suites if Path(f"/proc/{p}").exists()]
        assert not alive, f"suite process group(s) {alive} of {suites} not killed"
    finally:
        flag.unlink(missing_ok=True)
        if runner.poll() is None:
            runner.kill()
    assert not any((repo / ".git" / "ssot-worktrees").iterdir())
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert git(repo, "branch", "--list", "ssot/*") == ""


def test_rollback_refuses_a_checked_out_branch(tmp_path: Path) -> None:
    repo = configured_project(tmp_path)
    tip1, _ = two_stacked_phases(repo)
    git(repo, "checkout", "-q", "ssot/phase2-facades")
    proc = run_cli("rollback", "phase1", "--repo", str(repo), "--yes")
    assert proc.returncode == 2 and "is checked out" in proc.stderr
    assert git(repo, "rev-parse", "ssot/phase1-imports").strip() == tip1
    assert git(repo, "for-each-ref", "refs/ssot-backup/") == ""


def test_status_outside_a_repository_says_so_like_scan(tmp_path: Path) -> None:
    plain = tmp_path / "not-a-repo"
    plain.mkdir()
    status = run_cli("status", "--repo", str(plain))
    scan = run_cli("scan", "--repo", str(plain))
    assert status.returncode == 2
    assert (
        status.stderr == f"error: not a git repository: {plain} (run 'git init' and commit first)\n"
    )
    assert scan.stderr.startswith(status.stderr.rstrip("\n"))
    from_cwd = run_cli("status", cwd=plain)
    assert from_cwd.returncode == 2 and from_cwd.stderr == status.stderr

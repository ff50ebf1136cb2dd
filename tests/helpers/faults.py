"""Fault injection through the real CLI: the project whose suite reports to a control folder, the
faults counted, the checks after a kill (shared by ``tests/e2e`` and ``tests/stress``).
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.repos import git, git_env, make_repo, run_cli

SUITE = """\
import os, pathlib, sys, time
ctl = pathlib.Path(os.environ["SSOT_FAULT_DIR"])
n = len(list(ctl.glob("run-*")))
(ctl / f"run-{n}-{os.getpid()}").write_text(os.getcwd())
mode = os.environ.get("SSOT_FAULT_MODE", "")
if mode == "flood":
    chunk = b"x" * 1023 + b"\\n"
    out = sys.stdout.buffer
    for _ in range(int(os.environ.get("SSOT_FAULT_FLOOD_MB", "100")) * 1024):
        out.write(chunk)
    out.flush()
elif mode == "delete":
    for path in pathlib.Path(".").rglob("*.py"):
        if path.name != "fault_suite.py":
            path.unlink()
time.sleep(float(os.environ.get("SSOT_FAULT_SLEEP", "0")))
if str(n) == os.environ.get("SSOT_FAULT_HANG_RUN"):
    time.sleep(30)
sys.exit(int(os.environ.get("SSOT_FAULT_EXIT", "0")))
"""


def pyproject(timeout: float = 120) -> str:
    return (
        "[tool.ssot-migrate]\n"
        f'test-command = [{_toml(sys.executable)}, "fault_suite.py"]\n'
        f"test-timeout = {timeout}\n\n"
        "[[tool.ssot-migrate.targets]]\n"
        'name = "thing"\ncanonical = "pkg.new.Real"\naliases = ["pkg.old.Old"]\n'
    )


def _toml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def files(users: int = 12, timeout: float = 120) -> dict[str, str | bytes]:
    tree: dict[str, str | bytes] = {
        "pyproject.toml": pyproject(timeout),
        "fault_suite.py": SUITE,
        "pkg/__init__.py": "",
        "pkg/new.py": "class Real:\n    pass\n",
        "pkg/old.py": "from pkg.new import Real as Old\n",
        "README.txt": "not python\n",
    }
    for i in range(users):
        tree[f"pkg/use{i:03d}.py"] = (
            f"# user {i}\nfrom pkg.old import Old\n\n\ndef make{i}():\n    return Old()\n"
        )
    return tree


@dataclass(frozen=True)
class RepoState:
    """Everything of the user's repository a phase must never change."""

    refs: str
    head: str
    symbolic: str
    status: str
    index: str
    checkout: str
    stash: str


def state(repo: Path) -> RepoState:
    digest = hashlib.sha256()
    for path in sorted(p for p in repo.rglob("*") if ".git" not in p.relative_to(repo).parts):
        if path.is_file():
            digest.update(str(path.relative_to(repo)).encode() + b"\0" + path.read_bytes())
    return RepoState(
        refs=git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
        head=git(repo, "rev-parse", "HEAD"),
        symbolic=git(repo, "symbolic-ref", "-q", "HEAD", check=False),
        status=git(repo, "status", "--porcelain", "--ignored"),
        index=git(repo, "ls-files", "-s"),
        checkout=digest.hexdigest(),
        stash=git(repo, "stash", "list"),
    )


def expected_tree(repo: Path, tmp_path: Path) -> str:
    """The tree ``HEAD`` + the dry-run diff has (a scratch index; the repo is not touched)."""
    dry = run_cli("phase1", "--dry-run", "--repo", str(repo))
    assert dry.returncode == 0 and dry.stdout, dry.stderr
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

    run("read-tree", "HEAD")
    run("apply", "--cached", "-", stdin=dry.stdout)
    return run("write-tree").strip()


BRANCH = "refs/heads/ssot/phase1-imports"


def assert_intact_or_complete(repo: Path, before: RepoState, tree: str) -> bool:
    """The repo is as before, or as before plus a complete phase branch; True if the branch exists."""
    after = state(repo)
    assert after.head == before.head and after.symbolic == before.symbolic
    assert after.status == before.status, after.status
    assert after.index == before.index and after.checkout == before.checkout
    assert after.stash == before.stash
    extra = set(after.refs.splitlines()) - set(before.refs.splitlines())
    missing = set(before.refs.splitlines()) - set(after.refs.splitlines())
    assert not missing, f"refs lost: {missing}"
    extra = {line for line in extra if not line.startswith("refs/ssot-backup/")}
    if not extra:
        return False
    assert len(extra) == 1, extra
    ref, sha = next(iter(extra)).split()
    assert ref == BRANCH, ref
    assert git(repo, "rev-parse", f"{sha}^{{tree}}").strip() == tree, (
        "branch tree is not the phase's"
    )
    assert git(repo, "rev-parse", f"{sha}^").strip() == before.head.strip()
    message = git(repo, "log", "-1", "--format=%B", sha)
    assert "SSOT-Phase: phase1" in message, message
    return True


def assert_clean_rerun(repo: Path, tree: str, env: Mapping[str, str], had_branch: bool) -> None:
    """The next run cleans whatever the fault left and ends with the complete branch."""
    rerun = run_cli("phase1", "--repo", str(repo), env=env)
    if had_branch:
        assert rerun.returncode == 2 and "already exists" in rerun.stderr, rerun.stderr
    else:
        assert rerun.returncode == 0, rerun.stderr
    assert git(repo, "rev-parse", f"{BRANCH}^{{tree}}").strip() == tree
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    leftovers = repo / ".git" / "ssot-worktrees"
    assert not leftovers.exists() or not any(leftovers.iterdir())


class Run:
    """A ``phase1`` run in a subprocess whose test-command runs we can observe and kill."""

    def __init__(self, repo: Path, ctl: Path, env: Mapping[str, str]) -> None:
        self.ctl = ctl
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ssot_migrate", "phase1", "--repo", str(repo)],
            env=git_env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def suite_runs(self) -> list[Path]:
        return sorted(self.ctl.glob("run-*"))

    def wait_for_runs(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.suite_runs()) < count:
            if self.proc.poll() is not None:
                raise AssertionError(f"ssot-migrate ended early: {self.proc.communicate()}")
            assert time.monotonic() < deadline, "test command never started"
            time.sleep(0.005)

    def kill(self) -> None:
        """SIGKILL the ssot-migrate process only (its test command runs in its own group)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.communicate(timeout=60)

    def kill_suites(self) -> None:
        """Kill the test-command processes this run started (by pid), if still alive."""
        for marker in self.suite_runs():
            pid = int(marker.name.rsplit("-", 1)[1])
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def prepare(tmp_path: Path, users: int = 12, timeout: float = 120) -> tuple[Path, RepoState, str]:
    repo = make_repo(tmp_path / "repo", files(users, timeout))
    tree = expected_tree(repo, tmp_path)
    return repo, state(repo), tree


# Faults injected by the reliability suite (this module, tests/test_faults_*.py,
# tests/test_hostile_{git_state,environment}.py, tests/stress/): appended to
# $SSOT_RELIABILITY_COUNTS by each module's _report_counts fixture.
FAULTS: Counter[str] = Counter()


def report_faults(label: str) -> None:
    """Append the faults counted since the last report (see ``append_counts``)."""
    from tests.helpers.counts import append_counts

    append_counts(label, FAULTS)


def sigkill_from_start(
    tmp_path: Path, fault_env: tuple[Path, dict[str, str]], delay: float
) -> None:
    """Kill ``delay`` seconds after start (start-up, configuration, the codemod over 120 files)."""
    ctl, env = fault_env
    repo, before, tree = prepare(tmp_path, users=120)
    run = Run(repo, ctl, env)
    try:
        time.sleep(delay)
        run.kill()
    finally:
        run.kill_suites()
    FAULTS["injected"] += 1
    had = assert_intact_or_complete(repo, before, tree)
    assert_clean_rerun(repo, tree, env, had)

"""The user's checkout is never touched, whatever happens to a phase's worktree (issue #19, D1).

The user's repository is on branch ``feature`` with an unstaged edit, a staged edit, an
untracked file and a stash entry. A test command removes (or replaces) the phase's worktree at
each of its runs: the base run, the phase run, each bisection run. Whatever step of the phase
comes next must stop with exit 2 and a message; the user's files, ``.git/index``, ``HEAD``,
refs, stash and config must be byte for byte as they were. The same holds for every worktree
operation called directly with the process's current directory in the user's checkout, and for
a second run that cannot tell whether the first is alive (another PID namespace).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ssot_migrate.errors import GitError
from ssot_migrate.gitlayer import branches as refs
from ssot_migrate.gitlayer.worktree import (
    Worktree,
    clean_stale,
    started_worktree,
    temporary_worktree,
)
from tests.helpers.checkout import assert_untouched, project_files, snapshot
from tests.helpers.faults import FAULTS, report_faults
from tests.helpers.repos import git, git_env, make_repo, run_cli


def dirty_feature_checkout(root: Path, files: dict[str, str | bytes]) -> Path:
    """A repository on ``feature`` with unstaged, staged and untracked edits and a stash entry."""
    repo = make_repo(root, files)
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "pkg" / "new.py").write_text("class Real:\n    stashed = True\n")
    git(repo, "stash", "push", "-q", "-m", "user's work in progress")
    (repo / "pkg" / "use001.py").write_text("# staged by the user\n")
    git(repo, "add", "pkg/use001.py")
    (repo / "pkg" / "use002.py").write_text("# unstaged edit of the user\n")
    (repo / "notes.txt").write_text("untracked, precious\n")
    return repo


def _vanish_run(
    tmp_path: Path, run: int, how: str, *, bisect: bool, jobs: int = 1
) -> tuple[Path, dict[str, bytes], subprocess.CompletedProcess[str]]:
    files = project_files()
    # one suite at a time: run N is then step N of the phase (base, phase, bisect 1, ...)
    files["pyproject.toml"] = str(files["pyproject.toml"]).replace(
        "[tool.ssot-migrate]\n", f"[tool.ssot-migrate]\ntest-jobs = {jobs}\n"
    )
    repo = dirty_feature_checkout(tmp_path / "repo", files)
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    before = snapshot(repo)
    env = {
        "SSOT_FAULT_DIR": str(ctl),
        "SSOT_USER_REPO": str(repo),
        "SSOT_VANISH_RUN": str(run),
        "SSOT_VANISH_HOW": how,
    }
    args = ["phase1", "--repo", str(repo), *(["--bisect"] if bisect else [])]
    result = run_cli(*args, cwd=repo, env=env)
    FAULTS["injected"] += 1
    runs = len(list(ctl.glob("run-*")))
    assert runs == run + 1 if jobs == 1 else runs > run, "the suite did not reach the planned run"
    return repo, before, result


def assert_stopped_cleanly(
    repo: Path, before: dict[str, bytes], result: subprocess.CompletedProcess[str]
) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    assert "worktree" in result.stderr and "was replaced" in result.stderr, result.stderr
    assert_untouched(repo, before)
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    leftovers = repo / ".git" / "ssot-worktrees"
    assert not leftovers.exists() or not any(leftovers.iterdir())


# runs: 0 = base tree, 1 = phase tree, 2-5 = bisection, one file each (the last one regresses)
@pytest.mark.parametrize(
    ("run", "how", "bisect"),
    [
        (0, "rmtree", False),
        (1, "rmtree", False),
        (1, "symlink", True),
        (2, "git-remove", True),
        (3, "rmtree", True),
        (5, "empty", True),
    ],
)
def test_worktree_removed_during_a_run_leaves_the_checkout_byte_for_byte(
    tmp_path: Path, run: int, how: str, bisect: bool
) -> None:
    repo, before, result = _vanish_run(tmp_path, run, how, bisect=bisect)
    assert_stopped_cleanly(repo, before, result)


@pytest.mark.parametrize("run", [0, 1])
def test_worktree_removed_while_base_and_phase_run_at_once(tmp_path: Path, run: int) -> None:
    """Base and phase suites in two worktrees at once (test-jobs 2): either may vanish."""
    repo, before, result = _vanish_run(tmp_path, run, "rmtree", bisect=True, jobs=2)
    _no_traceback = "Traceback" not in result.stderr
    assert _no_traceback, result.stderr
    if result.returncode == 2:
        assert_stopped_cleanly(repo, before, result)
        return
    # the vanished worktree was not needed any more: the phase completed, nothing else changed
    assert result.returncode in (0, 1), result.stderr
    after = snapshot(repo)
    for state in (before, after):
        state.pop("for-each-ref")
        state.pop(".git/refs/heads/ssot/phase1-imports", None)
        for key in [k for k in state if k.startswith(".git/refs/ssot-backup/")]:
            state.pop(key)
    assert after == before


def test_pytest_conftest_removing_its_own_directory_with_bisect(tmp_path: Path) -> None:
    """The issue's reproduction: a ``conftest.py`` that removes its directory at session end."""
    files = project_files()
    files["pyproject.toml"] = str(files["pyproject.toml"]).replace(
        '"suite.py"]', '"-m", "pytest", "-q", "-p", "no:cacheprovider"]'
    )
    files["conftest.py"] = (
        "import os, pathlib, shutil\n"
        "def pytest_sessionfinish(session):\n"
        "    here = pathlib.Path(__file__).parent\n"
        "    if here.parent.name == 'ssot-worktrees' and os.environ.get('SSOT_VANISH') == '1':\n"
        "        shutil.rmtree(here)\n"
    )
    files["tests/test_it.py"] = (
        "import pathlib\n"
        "def test_unchanged():\n"
        "    assert 'pkg.new' not in pathlib.Path('pkg/use000.py').read_text()\n"
    )
    repo = dirty_feature_checkout(tmp_path / "repo", files)
    before = snapshot(repo)
    result = run_cli("phase1", "--bisect", "--repo", str(repo), cwd=repo, env={"SSOT_VANISH": "1"})
    FAULTS["injected"] += 1
    assert_stopped_cleanly(repo, before, result)


def _each_operation(head: str) -> dict[str, Callable[[Worktree], object]]:
    return {
        "git clean": lambda wt: wt.clean(),
        "checkout --force": lambda wt: wt.reset(head),
        "update-index": lambda wt: wt.write_files([("pkg/use000.py", b"x = 1\n")]),
        "write-tree": lambda wt: wt.write_tree(),
        "commit-tree": lambda wt: wt.commit(wt.write_tree(), head, "m\n"),
        "revert": lambda wt: wt.revert(head),
        "rev-parse": lambda wt: wt.head(),
        "read-tree": lambda wt: wt.git("read-tree", head),
    }


@pytest.mark.parametrize("how", ["rmtree", "git-remove", "symlink", "empty", "foreign-dotgit"])
@pytest.mark.parametrize("operation", list(_each_operation("HEAD")))
def test_every_worktree_operation_refuses_once_the_worktree_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str, operation: str
) -> None:
    repo = dirty_feature_checkout(tmp_path / "repo", project_files())
    head = git(repo, "rev-parse", "HEAD").strip()
    before = snapshot(repo)
    # GitPython falls back to the process's current directory: make that the user's checkout.
    monkeypatch.chdir(repo)
    for key in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(key, git_env()[key])
    with temporary_worktree(repo, head, "probe") as wt:
        if how == "git-remove":
            git(repo, "worktree", "remove", "--force", "--force", str(wt.path))
        else:
            shutil.rmtree(wt.path)
            if how == "symlink":
                wt.path.symlink_to(repo)
            elif how == "empty":
                wt.path.mkdir()
            elif how == "foreign-dotgit":  # a directory whose .git names the user's repository
                wt.path.mkdir()
                (wt.path / ".git").write_text(f"gitdir: {repo / '.git'}\n")
        with pytest.raises(GitError, match="gone or was replaced"):
            _each_operation(head)[operation](wt)
    FAULTS["injected"] += 1
    assert_untouched(repo, before)
    assert not (repo / ".git" / "ssot-worktrees").exists() or not any(
        (repo / ".git" / "ssot-worktrees").iterdir()
    )


@pytest.mark.parametrize(
    "args",
    [
        ("clean", "-ffdq"),
        ("-c", "x.y=1", "checkout", "--force", "HEAD"),
        ("reset", "--hard"),
        ("update-index", "--refresh"),
    ],
)
def test_destructive_git_commands_never_run_outside_a_worktree(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    repo = dirty_feature_checkout(tmp_path / "repo", project_files())
    before = snapshot(repo)
    with pytest.raises(GitError, match="refusing to run"):
        refs.run_git(repo, *args)
    assert_untouched(repo, before)


def test_git_errors_name_the_subcommand_not_the_options(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", project_files())
    head = git(repo, "rev-parse", "HEAD").strip()
    with temporary_worktree(repo, head, "probe") as wt, pytest.raises(GitError) as caught:
        wt.git("rev-parse", "--verify", "no-such-ref")
    assert str(caught.value).startswith("git rev-parse --verify failed"), caught.value


def _our_worktrees(repo: Path) -> list[str]:
    listed = git(repo, "worktree", "list", "--porcelain").splitlines()
    on_disk = repo / ".git" / "ssot-worktrees"
    left = sorted(p.name for p in on_disk.iterdir()) if on_disk.exists() else []
    return [line for line in listed if line.startswith("worktree ")][1:] + left


def test_a_worktree_begun_and_never_used_is_stopped_and_removed(tmp_path: Path) -> None:
    """A phase checks its worktrees out while it computes its change; when it ends first (no
    change, an error, Ctrl-C), git is stopped mid-checkout and nothing is left behind."""
    files = project_files()
    files.update({f"pkg/bulk/m{i:04d}.py": f"N = {i}\n" * 50 for i in range(600)})
    repo = dirty_feature_checkout(tmp_path / "repo", files)
    head = git(repo, "rev-parse", "HEAD").strip()
    before = snapshot(repo)
    with started_worktree(repo, head, "probe"):
        pass  # ended while git may still be writing files
    with pytest.raises(KeyboardInterrupt), started_worktree(repo, head, "probe"):
        raise KeyboardInterrupt
    assert _our_worktrees(repo) == []
    assert_untouched(repo, before)


def test_worktrees_begun_at_once_do_not_trip_over_each_others_records(tmp_path: Path) -> None:
    """A phase begins its two worktrees together. ``git worktree`` commands (``list``, and
    ``add`` itself) fail outright on a record another ``add`` is still writing, so each record
    is made before the next command, and only the checkouts run at the same time: cleaning and
    a second worktree while the first one's files are being written (this once ended a phase
    with exit 2, "failed to read .../commondir")."""
    repo = make_repo(tmp_path / "repo", project_files())
    head = git(repo, "rev-parse", "HEAD").strip()
    for _ in range(5):
        with started_worktree(repo, head, "first") as first:
            for _ in range(20):  # while git writes the first one's records
                assert clean_stale(repo) == []
            with started_worktree(repo, head, "second") as second:
                assert second.ready().head() == head
            assert first.ready().head() == head
        assert _our_worktrees(repo) == []


def test_a_worktree_git_cannot_make_is_a_clear_error(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", project_files())
    with pytest.raises(GitError, match="^git worktree add failed"):
        with started_worktree(repo, "0" * 40, "probe"):
            pass
    assert _our_worktrees(repo) == []
    head = git(repo, "rev-parse", "HEAD").strip()
    with started_worktree(repo, head, "probe", checkout=False) as pending:
        first = pending.ready()
        assert pending.ready() is first
        assert not (first.path / "pkg").exists()  # an index only
        assert first.git("ls-files", "pkg/new.py") == "pkg/new.py"
    assert _our_worktrees(repo) == []


# --- ownership: a lock held for the life of the run, in any PID namespace ----------------------


# Run A's suite waits (at most a minute) until the test lets it go: B runs meanwhile.
SLOW_SUITE = """\
import os, pathlib, time
ctl = pathlib.Path(os.environ["SSOT_FAULT_DIR"])
(ctl / f"run-{len(list(ctl.glob('run-*')))}-{os.getpid()}").write_text(os.getcwd())
deadline = time.monotonic() + 60
while os.environ.get("SSOT_HOLD") and not (ctl / "release").exists() and time.monotonic() < deadline:
    time.sleep(0.05)
"""


def _concurrent_repo(tmp_path: Path) -> Path:
    files = project_files()
    files["suite.py"] = SLOW_SUITE
    return dirty_feature_checkout(tmp_path / "repo", files)


def _two_runs(repo: Path, tmp_path: Path, prefix_a: list[str]) -> tuple[int, str, int, str]:
    """Run A (sleeping in its tests, maybe in its own PID namespace), then B with another prefix."""
    ctl_a, ctl_b = tmp_path / "ctl-a", tmp_path / "ctl-b"
    ctl_a.mkdir()
    ctl_b.mkdir()
    config_b = tmp_path / "b.toml"
    config_b.write_text(
        (repo / "pyproject.toml")
        .read_text()
        .replace("[tool.ssot-migrate]\n", '[tool.ssot-migrate]\nbranch-prefix = "other/"\n')
    )
    a = subprocess.Popen(
        [*prefix_a, sys.executable, "-m", "ssot_migrate", "phase1", "--repo", str(repo)],
        env=git_env({"SSOT_FAULT_DIR": str(ctl_a), "SSOT_HOLD": "1"}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(ctl_a.glob("run-*")):
            assert a.poll() is None, a.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        a_tree = Path(next(ctl_a.glob("run-*")).read_text())
        b = run_cli(
            "phase1",
            "--repo",
            str(repo),
            "--config",
            str(config_b),
            env={"SSOT_FAULT_DIR": str(ctl_b)},
        )
        assert a.poll() is None, "run A did not wait for B"
        assert a_tree.is_dir(), "run B removed run A's live worktree"
        (ctl_a / "release").write_text("")
        _a_out, a_err = a.communicate(timeout=120)
    finally:
        if a.poll() is None:
            a.kill()
            a.communicate()
    return a.returncode, a_err, b.returncode, b.stderr


def test_a_concurrent_run_never_removes_a_live_runs_worktree(tmp_path: Path) -> None:
    repo = _concurrent_repo(tmp_path)
    before = snapshot(repo)
    a_code, a_err, b_code, b_err = _two_runs(repo, tmp_path, [])
    FAULTS["injected"] += 1
    assert (a_code, b_code) == (0, 0), (a_err, b_err)
    assert git(repo, "rev-parse", "ssot/phase1-imports") and git(
        repo, "rev-parse", "other/phase1-imports"
    )
    before.pop("for-each-ref")
    after = snapshot(repo)
    after.pop("for-each-ref")
    assert {k: v for k, v in after.items() if not k.startswith(".git/refs/heads/")} == {
        k: v for k, v in before.items() if not k.startswith(".git/refs/heads/")
    }


def _unshare_refused() -> str | None:
    if shutil.which("unshare") is None:
        return "unshare(1) is not installed"
    probe = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", "true"],
        capture_output=True,
        text=True,
        check=False,
    )
    return None if probe.returncode == 0 else f"unshare refused here: {probe.stderr.strip()}"


def test_a_run_in_another_pid_namespace_keeps_its_worktree(tmp_path: Path) -> None:
    """The issue's second trigger: A in its own PID namespace (pid 1 there), B on the host."""
    reason = _unshare_refused()
    if reason:
        pytest.skip(reason)
    repo = _concurrent_repo(tmp_path)
    before = snapshot(repo)
    a_code, a_err, b_code, b_err = _two_runs(
        repo, tmp_path, ["unshare", "--pid", "--fork", "--mount-proc"]
    )
    FAULTS["injected"] += 1
    assert (a_code, b_code) == (0, 0), (a_err, b_err)
    for key in ("checkout/notes.txt", ".git/index", ".git/HEAD", ".git/refs/stash", "stash"):
        assert snapshot(repo)[key] == before[key], key


def test_the_lock_is_released_when_its_holder_dies(tmp_path: Path) -> None:
    """A worktree is stale exactly when its lock can be taken: the kernel frees it at death."""
    repo = make_repo(tmp_path / "repo", project_files())
    head = git(repo, "rev-parse", "HEAD").strip()
    root = repo / ".git" / "ssot-worktrees"
    path = root / "phase1-1-cafe"
    git(repo, "worktree", "add", "-q", "--detach", "--lock", str(path), head)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import fcntl, sys, time\n"
                f"f = open({str(root / 'phase1-1-cafe.lock')!r}, 'w')\n"
                "fcntl.flock(f, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(60)\n"
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        assert clean_stale(repo) == [] and path.is_dir()
    finally:
        holder.kill()
        holder.communicate()
    assert clean_stale(repo) == [path] and not path.exists()
    with open(root / "probe.lock", "w") as probe:  # flock itself, for the record
        fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.unlink(root / "probe.lock")


@pytest.fixture(autouse=True, scope="module")
def _report_counts() -> Iterator[None]:
    yield
    report_faults(__name__)

"""Faults against real temporary repositories, through the real CLI (``phase1``, not dry-run).

After every fault the user's repository must be exactly as before (HEAD, index, checkout,
refs), or additionally hold a COMPLETE phase branch (right parent, trailers, the tree the dry-run
diff describes) - never a half-made one; and the next run must clean up and succeed.

The test command is ``fault_suite.py`` inside the repository; ``SSOT_FAULT_*`` variables steer it
(sleep, flood output, delete files, leave a pid marker per run) so the test knows when the run
reached which point and can kill exactly the processes it caused.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.faults import (
    FAULTS,
    SUITE,
    RepoState,
    Run,
    assert_clean_rerun,
    assert_intact_or_complete,
    expected_tree,
    files,
    prepare,
    report_faults,
    state,
)
from tests.helpers.repos import git, git_env, make_repo, run_cli


@pytest.fixture
def fault_env(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    yield ctl, {"SSOT_FAULT_DIR": str(ctl)}


@pytest.fixture(autouse=True, scope="module")
def _report_counts() -> Iterator[None]:
    yield
    report_faults(__name__)


@pytest.mark.parametrize("point", ["phase-tests"])  # "base-tests" too in tests/stress
def test_sigkill_during_test_run(
    tmp_path: Path, fault_env: tuple[Path, dict[str, str]], point: str
) -> None:
    ctl, env = fault_env
    repo, before, tree = prepare(tmp_path)
    hang = "0" if point == "base-tests" else "1"
    run = Run(repo, ctl, {**env, "SSOT_FAULT_HANG_RUN": hang})
    try:
        run.wait_for_runs(int(hang) + 1)
        time.sleep(0.2)  # let it settle into the sleep
        run.kill()
    finally:
        run.kill_suites()
    FAULTS["injected"] += 1
    had = assert_intact_or_complete(repo, before, tree)
    assert not had  # killed before any commit could exist
    for marker in ctl.glob("run-*"):
        marker.unlink()
    assert_clean_rerun(repo, tree, env, had)


@pytest.mark.parametrize("delay", [0.05])
def test_sigkill_around_commit(
    tmp_path: Path, fault_env: tuple[Path, dict[str, str]], delay: float
) -> None:
    """Kill at a delay after the second test run ends: compare, commit, ref update.

    ``tests/stress/test_faults_stress.py`` sweeps many delays; one runs in the normal suite.
    """
    ctl, env = fault_env
    repo, before, tree = prepare(tmp_path)
    run = Run(repo, ctl, env)
    try:
        run.wait_for_runs(2)
        time.sleep(delay)
        run.kill()
    finally:
        run.kill_suites()
    FAULTS["injected"] += 1
    had = assert_intact_or_complete(repo, before, tree)
    assert_clean_rerun(repo, tree, env, had)


def test_hanging_test_command_is_killed_with_its_group(
    tmp_path: Path, fault_env: tuple[Path, dict[str, str]]
) -> None:
    ctl, env = fault_env
    repo, before, tree = prepare(tmp_path, timeout=1)
    started = time.monotonic()
    proc = run_cli(
        "phase1", "--repo", str(repo), env={**env, "SSOT_FAULT_SLEEP": "120"}, timeout=90
    )
    elapsed = time.monotonic() - started
    FAULTS["injected"] += 1
    try:
        assert elapsed < 30, f"a 1 s test-timeout took {elapsed:.0f} s"
        assert proc.returncode in (1, 2), proc.stderr
        assert "timeout" in proc.stderr.lower() or "timed out" in proc.stderr.lower(), proc.stderr
        assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
        for marker in ctl.glob("run-*"):
            pid = int(marker.name.rsplit("-", 1)[1])
            assert not Path(f"/proc/{pid}").exists() or _zombie(pid), (
                f"test command {pid} still runs"
            )
    finally:
        for marker in ctl.glob("run-*"):
            try:
                os.kill(int(marker.name.rsplit("-", 1)[1]), signal.SIGKILL)
            except ProcessLookupError:
                pass
    had = assert_intact_or_complete(repo, before, tree)
    assert not any((repo / ".git" / "ssot-worktrees").glob("*")), "worktree left behind"
    del had


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_test_command_without_junit_is_compared_by_exit_code(
    tmp_path: Path, fault_env: tuple[Path, dict[str, str]]
) -> None:
    """A runner named like pytest that ignores ``--junitxml``: no XML, exit codes compared."""
    ctl, env = fault_env
    tree_files = files()
    tree_files["tools/pytest"] = SUITE
    tree_files["pyproject.toml"] = str(tree_files["pyproject.toml"]).replace(
        '"fault_suite.py"', '"tools/pytest"'
    )
    repo = make_repo(tmp_path / "repo", tree_files)
    tree = expected_tree(repo, tmp_path)
    before = state(repo)
    proc = run_cli("phase1", "--repo", str(repo), env=env)
    FAULTS["injected"] += 1
    assert proc.returncode == 0, proc.stderr
    assert len(list(ctl.glob("run-*"))) == 2  # it did run, before and after
    assert assert_intact_or_complete(repo, before, tree)


def test_test_command_deleting_files_cannot_change_the_commit(
    tmp_path: Path, fault_env: tuple[Path, dict[str, str]]
) -> None:
    ctl, env = fault_env
    repo, before, tree = prepare(tmp_path)
    proc = run_cli("phase1", "--repo", str(repo), env={**env, "SSOT_FAULT_MODE": "delete"})
    FAULTS["injected"] += 1
    assert proc.returncode in (0, 1), proc.stderr
    assert "internal error" not in proc.stderr
    assert assert_intact_or_complete(repo, before, tree), "no branch was made"
    assert len(list(ctl.glob("run-*"))) >= 2


def test_file_gone_from_checkout_is_read_from_the_commit(tmp_path: Path) -> None:
    """The engine reads git objects: a file deleted or unreadable in the checkout changes nothing."""
    repo = make_repo(tmp_path / "repo", files())
    clean = run_cli("phase1", "--dry-run", "--repo", str(repo))
    assert clean.returncode == 0 and "pkg/use000.py" in clean.stdout
    (repo / "pkg" / "use000.py").unlink()
    (repo / "pkg" / "use001.py").write_text("garbage (((\n")
    os.chmod(repo / "pkg" / "use002.py", 0)
    dirty = run_cli("phase1", "--dry-run", "--repo", str(repo))
    FAULTS["injected"] += 3
    assert dirty.returncode == 0, dirty.stderr
    assert dirty.stdout == clean.stdout


def test_blob_missing_from_the_object_store(tmp_path: Path) -> None:
    """A listed file whose object cannot be read (corrupt store): a clear error, never a crash."""
    repo = make_repo(tmp_path / "repo", files())
    sha = git(repo, "rev-parse", "HEAD:pkg/use003.py").strip()
    (repo / ".git" / "objects" / sha[:2] / sha[2:]).unlink()
    proc = run_cli("phase1", "--dry-run", "--repo", str(repo))
    FAULTS["injected"] += 1
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    if proc.returncode == 0:  # the rest proceeds, the file is listed as skipped
        assert "pkg/use003.py" in proc.stderr and "pkg/use003.py" not in proc.stdout
        assert "pkg/use004.py" in proc.stdout
    else:
        assert proc.returncode == 2 and sha[:7] in proc.stderr or "use003" in proc.stderr, (
            proc.stderr
        )


# --- read-only checkouts and repositories ---------------------------------------------------------
# Root ignores file permissions, and CI runs as root. There the CLI runs as root WITHOUT the
# capabilities that bypass them (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, dropped from
# the bounding set by ``setpriv``, so git and every other child inherits the loss): the owner's
# write bits then apply to root as to any user. (Switching to ``nobody`` instead cannot work
# here: the interpreter lives under /root, mode 0700, out of that user's reach.)

CONFINE = ["--bounding-set=-dac_override,-dac_read_search,-fowner", "--inh-caps=-all"]


@dataclass(frozen=True)
class Confined:
    """How the CLI runs so that write permissions really apply to it."""

    prefix: tuple[str, ...] = ()

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The real CLI, confined."""
        return subprocess.run(
            [*self.prefix, sys.executable, "-m", "ssot_migrate", *args],
            env=git_env({"PYTHONDONTWRITEBYTECODE": "1"}),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


@pytest.fixture(scope="module")
def confined() -> Confined:
    if os.geteuid() != 0:
        return Confined()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip(
            "running as root, and no setpriv to drop the capabilities that ignore permissions"
        )
    probe = subprocess.run([setpriv, *CONFINE, "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"running as root, and setpriv cannot drop capabilities here: {probe.stderr}")
    return Confined((setpriv, *CONFINE))


def test_permissions_apply_to_the_confined_cli(tmp_path: Path, confined: Confined) -> None:
    """The confinement is real: the confined interpreter cannot write a read-only file."""
    target = tmp_path / "read-only.txt"
    target.write_text("before\n")
    target.chmod(0o444)
    proc = subprocess.run(
        [*confined.prefix, sys.executable, "-c", f"open({str(target)!r}, 'w').write('after')"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0 and "PermissionError" in proc.stderr, proc
    assert target.read_text() == "before\n"


def _lock(repo: Path, *, git_dir_too: bool) -> list[Path]:
    """Take the write bits off the checkout (and ``.git`` when asked), directories included."""
    paths = [repo, *(p for p in repo.rglob("*") if ".git" not in p.relative_to(repo).parts)]
    if git_dir_too:
        paths += [repo / ".git", *(repo / ".git").rglob("*")]
    for path in paths:
        path.chmod(path.stat().st_mode & ~0o222)
    return paths


def _unlock(paths: list[Path]) -> None:
    for path in paths:
        path.chmod(path.stat().st_mode | 0o200)


def test_read_only_checkout(tmp_path: Path, confined: Confined) -> None:
    """Checkout unwritable, ``.git`` writable: the phase works (it only writes git objects,
    refs and its private worktree) and the checkout is untouched."""
    repo = make_repo(tmp_path / "repo", files())
    tree = expected_tree(repo, tmp_path)
    before = state(repo)
    locked = _lock(repo, git_dir_too=False)
    try:
        proc = confined.run("phase1", "--repo", str(repo), "--no-verify")
    finally:
        _unlock(locked)
    FAULTS["injected"] += 1
    assert proc.returncode == 0, proc.stderr
    assert assert_intact_or_complete(repo, before, tree)


def _git_bytes(repo: Path) -> dict[str, bytes]:
    """Every file under ``.git`` byte for byte (refs, packed refs, index, objects, config)."""
    git_dir = repo / ".git"
    return {str(p.relative_to(git_dir)): p.read_bytes() for p in git_dir.rglob("*") if p.is_file()}


def _read_only_repository(tmp_path: Path, confined: Confined) -> tuple[Path, RepoState, str]:
    repo = make_repo(tmp_path / "repo", files())
    dry = run_cli("phase1", "--dry-run", "--repo", str(repo))
    assert dry.returncode == 0 and "pkg/use000.py" in dry.stdout, dry.stderr
    return repo, state(repo), dry.stdout


def test_read_only_repository_reads_and_refuses(tmp_path: Path, confined: Confined) -> None:
    """Nothing writable, not even ``.git``: ``scan`` and ``phase1 --dry-run`` work as usual;
    ``phase1`` fails without a traceback and leaves every byte of the repository as it was."""
    repo, before, diff = _read_only_repository(tmp_path, confined)
    raw = _git_bytes(repo)
    locked = _lock(repo, git_dir_too=True)
    try:
        scan = confined.run("scan", "--repo", str(repo))
        dry = confined.run("phase1", "--dry-run", "--repo", str(repo))
        real = confined.run("phase1", "--repo", str(repo), "--no-verify")
    finally:
        _unlock(locked)
    FAULTS["injected"] += 3
    assert scan.returncode == 0 and "legacy-import" in scan.stdout, scan.stderr
    assert dry.returncode == 0 and dry.stdout == diff, dry.stderr
    assert real.returncode != 0, real.stdout
    assert "Traceback" not in real.stderr, real.stderr
    assert _git_bytes(repo) == raw  # before our own git status refreshes the index's stat data
    assert state(repo) == before
    assert "ssot/" not in git(repo, "for-each-ref")


def test_read_only_repository_phase_says_why(tmp_path: Path, confined: Confined) -> None:
    """Found here: this ended in 'internal error: PermissionError ... .git/ssot-worktrees'
    (exit 3); a phase that cannot write the git directory must say so, with exit 2."""
    repo, _, _ = _read_only_repository(tmp_path, confined)
    locked = _lock(repo, git_dir_too=True)
    try:
        real = confined.run("phase1", "--repo", str(repo), "--no-verify")
    finally:
        _unlock(locked)
    assert real.returncode == 2, real.stderr
    assert "internal error" not in real.stderr
    assert "permission" in real.stderr.lower() or "writ" in real.stderr.lower(), real.stderr

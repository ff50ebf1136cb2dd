"""The environment, not the tool, goes wrong (issue #19: D3-D9, D16-D18 and the shared-state warning).

Full disks, full or closed pipes, ASCII-only encodings, malformed caches, huge pattern lists,
hostile baselines, symlinked and device files, Ctrl-C during imports, a repository that shadows
``typer``, terminal escapes in file names, a suite that changes the user's refs: each ends in a
result or in exit 2 with a message, never in exit 3 or a traceback, and never loses a byte of the
user's checkout.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ssot_migrate.gitlayer.tree import grep_paths, open_repo, resolve_commit
from ssot_migrate.verify import TestRunner
from tests.helpers.checkout import project_files, snapshot
from tests.helpers.faults import FAULTS, report_faults
from tests.helpers.repos import git, git_env, make_repo, run_cli

BRANCH = "ssot/phase1-imports"


def _cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, **popen: object
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "ssot_migrate", *args],
        cwd=cwd,
        env=git_env(env),
        capture_output="stdout" not in popen,
        timeout=300,
        check=False,
        **popen,
    )


def _no_crash(stderr: bytes | str) -> None:
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    assert "Traceback" not in text and "internal error" not in text, text


# --- D4: stdout / stderr full or closed ----------------------------------------------------------


@pytest.mark.parametrize("args", [("scan",), ("phase1", "--dry-run")])
def test_stdout_full(tmp_path: Path, args: tuple[str, ...]) -> None:
    repo = make_repo(tmp_path / "repo", project_files())
    with open("/dev/full", "wb") as full:
        result = _cli(*args, "--repo", str(repo), stdout=full, stderr=subprocess.PIPE)
    FAULTS["injected"] += 1
    assert result.returncode == 2, result.stderr
    assert b"error: No space left on device (writing the output)" in result.stderr
    _no_crash(result.stderr)


@pytest.mark.parametrize(
    ("args", "closed"),
    [(("phase1", "--dry-run"), 1), (("scan",), 2), (("phase1", "--no-verify"), 1)],
)
def test_stdout_or_stderr_closed(tmp_path: Path, args: tuple[str, ...], closed: int) -> None:
    repo = make_repo(tmp_path / "repo", project_files())
    log = tmp_path / "other-stream"
    with open(log, "wb") as other:
        streams = (
            {"stdout": other, "stderr": subprocess.DEVNULL}
            if closed == 2
            else {"stdout": subprocess.DEVNULL, "stderr": other}
        )
        result = _cli(*args, "--repo", str(repo), preexec_fn=lambda: os.close(closed), **streams)
    FAULTS["injected"] += 1
    assert result.returncode == 0, log.read_text()
    if closed == 1:
        _no_crash(log.read_bytes())


# --- D5: encodings --------------------------------------------------------------------------------


def test_ascii_output_encoding_and_a_non_ascii_path(tmp_path: Path) -> None:
    files = project_files()
    files["pkg/usé.py"] = "from pkg.old import Old\n\ny = Old()  # café\n"
    repo = make_repo(tmp_path / "répo", files)
    plain = _cli("phase1", "--dry-run", "--repo", str(repo))
    ascii_env = {"PYTHONIOENCODING": "ascii", "LC_ALL": "C"}
    for args in (("scan",), ("scan", "--format", "markdown"), ("phase1", "--dry-run")):
        result = _cli(*args, "--repo", str(repo), env=ascii_env)
        FAULTS["injected"] += 1
        assert result.returncode == 0, result.stderr
        _no_crash(result.stderr)
        if args == ("phase1", "--dry-run"):
            assert result.stdout == plain.stdout and "usé".encode() in result.stdout
    phase = _cli("phase1", "--no-verify", "--repo", str(repo), env=ascii_env)
    assert phase.returncode == 0, phase.stderr
    _no_crash(phase.stderr)


# --- D3: a full disk under the repository ----------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("room", [0, 4096, 65536, 400_000])
def test_disk_full_in_the_repository(small_disk: Path, tmp_path: Path, room: int) -> None:
    repo = dirty_repo = make_repo(small_disk / "repo", project_files(users=8))
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    before = snapshot(dirty_repo)
    free = os.statvfs(small_disk)
    filler = small_disk / "filler"
    size = max(free.f_bavail * free.f_frsize - room, 0)
    with open(filler, "wb") as handle:
        try:
            handle.write(b"\0" * size)
        except OSError:
            pass
    result = run_cli("phase1", "--repo", str(repo), env={"SSOT_FAULT_DIR": str(ctl)})
    FAULTS["injected"] += 1
    assert result.returncode in (0, 1, 2), result.stderr
    _no_crash(result.stderr)
    if result.returncode == 2:
        assert any(line.startswith("error: ") for line in result.stderr.splitlines()), result.stderr
    after = snapshot(repo)
    if result.returncode in (0, 1):  # a complete branch is the one thing a run may add
        assert (
            git(repo, "rev-parse", f"{BRANCH}^").strip() == git(repo, "rev-parse", "HEAD").strip()
        )
        for state in (before, after):
            state.pop("for-each-ref")
            state.pop(f".git/refs/heads/{BRANCH}", None)
    assert after == before


# --- D6: the test cache ----------------------------------------------------------------------------

GOOD_ENTRY = {
    "tree": "",
    "argv": ["x"],
    "exit_code": 0,
    "duration": 1.0,
    "log": "l",
    "results": {},
    "timed_out": False,
    "cached": False,
}


@pytest.mark.parametrize(
    "case",
    [
        "list",
        "extra-key",
        "missing-key",
        "results-string",
        "exit-code-string",
        "other-tree",
        "not-json",
    ],
)
def test_malformed_test_cache_is_ignored_and_rebuilt(tmp_path: Path, case: str) -> None:
    repo = make_repo(tmp_path / "repo", project_files())
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    argv = (sys.executable, "suite.py")
    key = TestRunner(argv, 1, Path(), Path())._cache_key()
    entry: object = dict(GOOD_ENTRY, tree=tree)
    assert isinstance(entry, dict)
    if case == "list":
        table: object = [entry]
    else:
        if case == "extra-key":
            entry["surprise"] = 1
        elif case == "missing-key":
            del entry["log"]
        elif case == "results-string":
            entry["results"] = "no tests"
        elif case == "exit-code-string":
            entry["exit_code"] = "0"
        elif case == "other-tree":
            entry["tree"] = "0" * 40
        table = {key: entry}
    cache = repo / ".git" / "ssot-cache" / "tests"
    cache.mkdir(parents=True)
    text = "{not json" if case == "not-json" else json.dumps(table)
    (cache / f"{tree}.json").write_text(text)
    result = run_cli("phase1", "--repo", str(repo), env={"SSOT_FAULT_DIR": str(ctl)})
    FAULTS["injected"] += 1
    _no_crash(result.stderr)
    assert "(cached)" not in result.stderr, result.stderr
    assert len(list(ctl.glob("run-*"))) >= 2, "the base tree was not measured again"
    stored = json.loads((cache / f"{tree}.json").read_text())
    assert stored[key]["tree"] == tree  # rebuilt


# --- D7: many patterns ----------------------------------------------------------------------------


def test_git_grep_takes_150000_patterns(tmp_path: Path) -> None:
    repo_path = make_repo(tmp_path / "repo", project_files())
    repo = open_repo(repo_path)
    try:
        head = resolve_commit(repo, "HEAD")
        needles = [f"pkg.alias{i}.Old{i}" for i in range(150_000)] + ["pkg.old"]
        hits, unreadable = grep_paths(repo, head, needles)
    finally:
        repo.close()
    FAULTS["injected"] += 1
    assert "pkg/use000.py" in hits and not unreadable


def test_git_missing_from_path_is_a_clear_error(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", project_files())
    result = run_cli("phase1", "--dry-run", "--repo", str(repo), env={"PATH": str(tmp_path)})
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == "error: git is not installed (no `git` on PATH)"


# --- D8: hostile baselines -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["nested", "device", "fifo", "huge"])
def test_hostile_baseline(tmp_path: Path, kind: str) -> None:
    repo = make_repo(tmp_path / "repo", project_files())
    path = tmp_path / "baseline.json"
    if kind == "nested":
        path.write_text("[" * 100_000 + "]" * 100_000)
        why = "nested too deeply"
    elif kind == "device":
        path = Path("/dev/zero")
        why = "not a regular file"
    elif kind == "fifo":
        os.mkfifo(path)
        why = "not a regular file"
    else:
        with open(path, "wb") as handle:
            handle.truncate(17 * 2**20)
        why = "larger than 16 MiB"
    result = run_cli("scan", "--repo", str(repo), "--baseline", str(path), timeout=120)
    FAULTS["injected"] += 1
    assert result.returncode == 2, result.stderr
    assert why in result.stderr, result.stderr
    _no_crash(result.stderr)


# --- D9: symlinks, modes, devices ------------------------------------------------------------------


def test_guard_writes_through_a_symlinked_pyproject(tmp_path: Path) -> None:
    files = project_files()
    shared = tmp_path / "shared" / "pyproject.toml"
    shared.parent.mkdir()
    shared.write_text(str(files.pop("pyproject.toml")))
    shared.chmod(0o640)
    repo = make_repo(tmp_path / "repo", files)
    (repo / "pyproject.toml").symlink_to(shared)
    git(repo, "add", "pyproject.toml")
    git(repo, "commit", "-q", "-m", "link")
    result = run_cli("guard", "--write", "ruff", "--repo", str(repo))
    FAULTS["injected"] += 1
    assert result.returncode == 0, result.stderr
    assert (repo / "pyproject.toml").is_symlink(), "the symlink was replaced by a file"
    assert "TID251" in shared.read_text()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o640


def test_write_baseline_through_a_symlink_keeps_the_mode(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", project_files())
    target = tmp_path / "kept.json"
    target.write_text("{}")
    target.chmod(0o644)
    link = tmp_path / "baseline.json"
    link.symlink_to(target)
    result = run_cli("scan", "--repo", str(repo), "--write-baseline", str(link))
    FAULTS["injected"] += 1
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and json.loads(target.read_text())["kind"] == "ssot-migrate-baseline"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    fresh = tmp_path / "fresh.json"
    assert run_cli("scan", "--repo", str(repo), "--write-baseline", str(fresh)).returncode == 0
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_write_baseline_refuses_a_device_node(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", project_files())
    device = tmp_path / "full"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 7))  # what /dev/full is
    except PermissionError:
        pytest.skip("creating a device node needs root")
    result = run_cli("scan", "--repo", str(repo), "--write-baseline", str(device))
    FAULTS["injected"] += 1
    assert result.returncode == 2 and "not a regular file" in result.stderr, result.stderr
    assert stat.S_ISCHR(device.lstat().st_mode), "the device node was replaced"


# --- D16 / D17: before the CLI is imported -----------------------------------------------------------


@pytest.mark.parametrize("delay", [0.02, 0.05, 0.1, 0.15, 0.25])
@pytest.mark.parametrize("twice", [False, True])
def test_ctrl_c_during_imports(tmp_path: Path, delay: float, twice: bool) -> None:
    repo = make_repo(tmp_path / "repo", project_files())
    proc = subprocess.Popen(
        [sys.executable, "-m", "ssot_migrate", "scan", "--repo", str(repo)],
        env=git_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        # a shell that started the suite with `&` ignores SIGINT for its children: undo that
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    if twice:
        time.sleep(0.005)
        proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=120)
    FAULTS["injected"] += 1
    ours = b"ssot_migrate/" in err.replace(b"__editable___ssot_migrate", b"")
    if b"Traceback" in err and not ours:
        # The interpreter's own start-up (site, runpy compiling the module: before any line of
        # ssot-migrate runs) was interrupted: CPython's behaviour, out of a program's reach.
        FAULTS["ctrl-c-before-our-code"] += 1
        return
    _no_crash(err)
    # -2: the signal came before Python installed its handler (default action, nothing printed)
    assert proc.returncode in (0, 130, -signal.SIGINT), (proc.returncode, err)
    if proc.returncode == 130:
        assert err.decode().rstrip().endswith("interrupted"), err


def test_repository_holding_typer_and_rich_modules(tmp_path: Path) -> None:
    files = project_files()
    marker = tmp_path / "shadow-imported"
    for name in ("typer", "rich"):
        files[f"{name}.py"] = f"open({str(marker)!r}, 'a').write('{name}')\nraise SystemExit(9)\n"
    repo = make_repo(tmp_path / "repo", files)
    result = _cli("scan", "--repo", str(repo), cwd=repo)
    FAULTS["injected"] += 1
    assert result.returncode == 0, result.stderr
    assert not marker.exists(), "python -m ssot_migrate imported the repository's typer.py/rich.py"


# --- D18: junit outside TMPDIR, terminal escapes ----------------------------------------------------


def test_junit_report_is_not_left_in_tmpdir(tmp_path: Path) -> None:
    files = project_files()
    python = '"' + sys.executable + '"'
    files["pyproject.toml"] = str(files["pyproject.toml"]).replace(
        f'[{python}, "suite.py"]', f'[{python}, "-m", "pytest", "-q", "tests"]'
    )
    seen = tmp_path / "seen"
    files["tests/test_tmp.py"] = (
        "import os\n"
        "def test_lists_tmpdir():\n"
        f"    with open({str(seen)!r}, 'a') as f:\n"
        "        f.write(' '.join(os.listdir(os.environ['SSOT_USER_TMP'])) + '\\n')\n"
    )
    repo = make_repo(tmp_path / "repo", files)
    private_tmp = tmp_path / "tmpdir"
    private_tmp.mkdir()
    # the TMPDIR ssot-migrate itself was given, listed while the suite runs
    env = {"TMPDIR": str(private_tmp), "SSOT_USER_TMP": str(private_tmp)}
    result = run_cli("phase1", "--repo", str(repo), env=env)
    FAULTS["injected"] += 1
    assert result.returncode == 0, result.stderr
    assert len(seen.read_text().splitlines()) == 2  # the base and the phase run
    assert "ssot-junit" not in seen.read_text()
    assert not [p for p in private_tmp.iterdir() if p.name.startswith("ssot-junit")]


def test_terminal_escapes_in_a_file_name_are_shown_escaped(tmp_path: Path) -> None:
    files = project_files()
    evil = "pkg/evil\x1b]0;pwned\x07\x1b[31m.py"
    files[evil] = "from pkg.old import Old\n\nz = Old()\n"
    repo = make_repo(tmp_path / "repo", files)
    outputs = [
        run_cli("scan", "--repo", str(repo)),
        run_cli("phase1", "--dry-run", "--repo", str(repo)),
        run_cli("phase1", "--no-verify", "--repo", str(repo)),
    ]
    FAULTS["injected"] += 1
    for result in outputs:
        assert result.returncode == 0, result.stderr
        assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "\x1b" not in outputs[0].stdout and "pkg/evil\\x1b]0;pwned\\x07" in outputs[0].stdout
    message = git(repo, "log", "-1", "--format=%B", BRANCH)
    assert "\x1b" not in message and "pkg/evil\\x1b" in message


# --- a suite that changes what worktrees share with the checkout ------------------------------------


def test_a_suite_changing_the_users_refs_and_config_is_reported(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", project_files())
    (repo / "suite.py").write_text(
        "import os, subprocess\n"
        "if not os.environ.get('DONE_ONCE'):\n"
        "    subprocess.run(['git', 'tag', '-f', 'made-by-tests'], check=True)\n"
        "    subprocess.run(['git', 'config', 'tests.touched', 'yes'], check=True)\n"
    )
    git(repo, "commit", "-q", "-am", "a suite that tags")
    result = run_cli("phase1", "--repo", str(repo))
    FAULTS["injected"] += 1
    assert result.returncode == 0, result.stderr
    assert (
        "warning: while the test command ran, your repository's shared state changed"
        in result.stderr
    )
    assert "refs/tags/made-by-tests: added" in result.stderr and "config: changed" in result.stderr


@pytest.fixture(autouse=True, scope="module")
def _report_counts() -> Iterator[None]:
    yield
    report_faults(__name__)

"""The phase workflow on real git repositories: branch, commit, trailers, stacking, isolation."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from ssot_migrate.errors import GitError, UsageError
from ssot_migrate.workflow import PhaseResult
from tests.helpers.repos import git
from tests.helpers.workflow import (
    MarkerCodemod,
    git_identity,  # noqa: F401  (autouse fixture)
    make_config,
    phase,
    project,
    pytest_command,
    trailers,
)


def test_branch_commit_and_trailers(tmp_path: Path) -> None:
    repo = project(tmp_path)
    head = git(repo, "rev-parse", "HEAD").strip()
    result = phase(repo, make_config(repo, pytest_command()))
    assert result.commit is not None and result.exit_code == 0
    assert git(repo, "rev-parse", "ssot/phase1-imports").strip() == result.commit
    assert git(repo, "rev-parse", "ssot/phase1-imports^").strip() == head
    assert git(repo, "diff", "--name-only", head, "ssot/phase1-imports").split() == ["pkg/mod_a.py"]
    assert git(repo, "show", "ssot/phase1-imports:pkg/mod_a.py") == "VALUE = 'NEW_MARKER'  # keep\n"
    t = trailers(repo, "ssot/phase1-imports")
    assert t["SSOT-Phase"] == "phase1"
    assert t["SSOT-Base"] == head
    assert t["SSOT-Config"] == "testdigest"
    assert t["SSOT-Tests-Before"] == "2 passed"
    assert t["SSOT-Tests-After"] == "2 passed"
    assert t["SSOT-Verified"] == "yes"
    message = git(repo, "log", "-1", "--format=%B", "ssot/phase1-imports")
    assert message.startswith("ssot-migrate phase1 (imports):")
    assert "pkg/mod_a.py (+1 -1)" in message and "marker: 1" in message
    assert git(repo, "log", "-1", "--format=%an <%ae>", "ssot/phase1-imports").strip() == (
        "Test Author <author@example.invalid>"
    )
    # the worktree is gone, and git has no record of it
    assert "ssot-worktrees" not in git(repo, "worktree", "list")
    assert not any((repo / ".git" / "ssot-worktrees").iterdir())


def test_no_tests_and_no_verify_verdicts(tmp_path: Path) -> None:
    repo = project(tmp_path)
    result = phase(repo, make_config(repo, None))
    assert trailers(repo, result.branch)["SSOT-Verified"] == "no-tests"
    result = phase(repo, make_config(repo, pytest_command()), refresh=True, verify=False)
    assert trailers(repo, result.branch)["SSOT-Verified"] == "skipped"
    assert result.backup is not None and result.backup.startswith(
        "refs/ssot-backup/ssot/phase1-imports/"
    )


def test_nothing_to_do_creates_no_branch(tmp_path: Path) -> None:
    repo = project(tmp_path)
    result = phase(repo, make_config(repo, None), codemod=MarkerCodemod(old="ABSENT_MARKER"))
    assert result.commit is None
    assert git(repo, "branch", "--list", "ssot/*") == ""


def test_existing_branch_refused_then_refreshed_with_backup(tmp_path: Path) -> None:
    repo = project(tmp_path)
    config = make_config(repo, None)
    first = phase(repo, config)
    with pytest.raises(UsageError, match="already exists.*--refresh"):
        phase(repo, config)
    # the base moved: refresh regenerates on the new base and keeps the old tip
    (repo / "pkg/mod_c.py").write_text("C = 'OLD_MARKER'\n")
    git(repo, "add", "pkg/mod_c.py")
    git(repo, "commit", "-qm", "more")
    second = phase(repo, config, refresh=True)
    assert second.commit != first.commit
    assert second.backup and git(repo, "rev-parse", second.backup).strip() == first.commit
    changed = git(repo, "diff", "--name-only", "main", second.branch).split()
    assert changed == ["pkg/mod_a.py", "pkg/mod_c.py"]


def test_stacking_on_unmerged_previous_phase(tmp_path: Path) -> None:
    repo = project(tmp_path, extra={"pkg/mod_b.py": "OTHER = 'SECOND_MARKER'\n"})
    config = make_config(repo, None)
    p1 = phase(repo, config)
    p2 = phase(
        repo,
        config,
        phase="phase2",
        codemod=MarkerCodemod("phase2", "SECOND_MARKER", "DONE_MARKER"),
    )
    assert p2.base == p1.commit
    assert trailers(repo, p2.branch)["SSOT-Base"] == p1.commit
    assert git(repo, "rev-parse", f"{p2.branch}^").strip() == p1.commit
    # once phase 1 is merged, phase 2 starts from the base again
    git(repo, "merge", "-q", "--ff-only", p1.branch)
    p2b = phase(
        repo,
        config,
        phase="phase2",
        refresh=True,
        codemod=MarkerCodemod("phase2", "SECOND_MARKER", "DONE_MARKER"),
    )
    assert p2b.base == git(repo, "rev-parse", "main").strip()


def _snapshot_checkout(repo: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for root, dirs, files in os.walk(repo):
        rel_root = Path(root).relative_to(repo)
        if rel_root.parts[:1] == (".git",):
            dirs[:] = []
            continue
        for name in files:
            out[str(rel_root / name)] = (Path(root) / name).read_bytes()
    for name in ("index", "HEAD", "refs/stash"):
        path = repo / ".git" / name
        out[f".git/{name}"] = path.read_bytes() if path.exists() else b""
    return out


def test_dirty_checkout_untouched(tmp_path: Path) -> None:
    repo = project(tmp_path)
    (repo / "pkg/mod_b.py").write_text("OTHER = 2  # stashed\n")
    git(repo, "stash", "-q")
    (repo / "pkg/mod_a.py").write_text("VALUE = 'OLD_MARKER'  # modified, unstaged\n")
    (repo / "pkg/staged.py").write_text("S = 'OLD_MARKER'\n")
    git(repo, "add", "pkg/staged.py")
    (repo / "untracked.txt").write_bytes(b"untracked\r\n")
    git(repo, "checkout", "-q", "-b", "feature")
    before = _snapshot_checkout(repo)
    stash_before = git(repo, "stash", "list")
    result = phase(repo, make_config(repo, pytest_command()))
    assert result.commit is not None and result.exit_code == 0
    assert _snapshot_checkout(repo) == before
    assert git(repo, "stash", "list") == stash_before
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/feature"
    # the phase saw the commit, not the dirty files
    assert git(repo, "diff", "--name-only", "HEAD", result.branch).split() == ["pkg/mod_a.py"]


def test_missing_identity_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = project(tmp_path)
    for var in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("HOME", str(tmp_path))
    git(repo, "config", "user.useConfigOnly", "true")
    with pytest.raises(GitError, match="no git identity"):
        phase(repo, make_config(repo, None))
    assert git(repo, "branch", "--list", "ssot/*") == ""


def test_crlf_and_mode_kept_bytes_exact(tmp_path: Path) -> None:
    repo = project(tmp_path, extra={"pkg/crlf.py": "A = 'OLD_MARKER'\r\nB = 1\r\n"})
    (repo / "pkg/crlf.py").chmod(0o755)
    git(repo, "add", "pkg/crlf.py")
    git(repo, "commit", "-qm", "exec")
    result = phase(repo, make_config(repo, None))
    raw = git_bytes(repo, "cat-file", "blob", f"{result.branch}:pkg/crlf.py")
    assert raw == b"A = 'NEW_MARKER'\r\nB = 1\r\n"
    assert git(repo, "ls-tree", result.branch, "pkg/crlf.py").startswith("100755")


def git_bytes(repo: Path, *args: str) -> bytes:
    import subprocess

    from tests.helpers.repos import git_env

    return subprocess.run(
        ["git", "-C", str(repo), *args], env=git_env(), capture_output=True, check=True
    ).stdout


PhaseFn = Callable[..., PhaseResult]


def test_branch_created_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    repo = project(tmp_path)
    head = git(repo, "rev-parse", "HEAD").strip()

    def racing_echo(line: str) -> None:
        # another run (or the user) creates the branch while this phase is being built
        if line.startswith("phase1: base"):
            git(repo, "branch", "ssot/phase1-imports", head)

    with pytest.raises(GitError, match="changed while phase1 ran"):
        phase(repo, make_config(repo, None), echo=racing_echo)
    assert git(repo, "rev-parse", "ssot/phase1-imports").strip() == head
    assert not any((repo / ".git" / "ssot-worktrees").iterdir())


def test_user_hooks_do_not_run_in_the_private_worktree(tmp_path: Path) -> None:
    repo = project(tmp_path)
    hook = repo / ".git" / "hooks" / "post-checkout"
    hook.write_text(f"#!/bin/sh\necho ran >> {tmp_path / 'hook.log'}\nexit 1\n")
    hook.chmod(0o755)
    result = phase(repo, make_config(repo, None))
    assert result.commit is not None
    assert not (tmp_path / "hook.log").exists()


def test_worktree_clean_drops_bytecode_and_untracked_keeps_ignored(tmp_path: Path) -> None:
    """Between the base and the phase run: no stale bytecode (a same-size rewrite in the same
    second passes CPython's mtime+size check), no leftovers, but ignored tool state stays."""
    from ssot_migrate.gitlayer.worktree import temporary_worktree

    repo = project(tmp_path, extra={".gitignore": ".tox/\n__pycache__/\n"})
    head = git(repo, "rev-parse", "HEAD").strip()
    with temporary_worktree(repo, head, "probe") as wt:
        pyc = wt.path / "pkg" / "__pycache__" / "mod_a.cpython-311.pyc"
        pyc.parent.mkdir()
        pyc.write_bytes(b"stale")
        (wt.path / "leftover.txt").write_text("from the base run")
        (wt.path / ".tox").mkdir()
        (wt.path / ".tox" / "env").write_text("expensive to rebuild")
        wt.clean()
        assert not pyc.parent.exists()
        assert not (wt.path / "leftover.txt").exists()
        assert (wt.path / ".tox" / "env").exists()
        assert (wt.path / "pkg" / "mod_a.py").exists()
    assert not any((repo / ".git" / "ssot-worktrees").iterdir())


def test_stale_worktree_whose_directory_vanished_is_pruned(tmp_path: Path) -> None:
    import shutil

    repo = project(tmp_path)
    head = git(repo, "rev-parse", "HEAD").strip()
    stale = repo / ".git" / "ssot-worktrees" / "phase1-999999999-12345"
    git(repo, "worktree", "add", "-q", "--detach", "--lock", str(stale), head)
    shutil.rmtree(stale)  # someone cleaned the directory by hand; git still records it, locked
    phase(repo, make_config(repo, None))
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1


def test_worktree_whose_lock_is_held_is_left_alone_and_one_whose_lock_is_free_is_not(
    tmp_path: Path,
) -> None:
    import fcntl

    from ssot_migrate.gitlayer.worktree import clean_stale

    repo = project(tmp_path)
    head = git(repo, "rev-parse", "HEAD").strip()
    root = repo / ".git" / "ssot-worktrees"
    live = root / "phase1-1-aaaa"  # pid 1 is alive from anywhere: only the lock may decide
    dead = root / f"phase2-{os.getpid()}-bbbb"  # our own live pid, but nobody holds its lock
    for path in (live, dead):
        git(repo, "worktree", "add", "-q", "--detach", "--lock", str(path), head)
    (root / "phase3-1-cccc.lock").write_text("")  # a lock whose worktree is gone: swept
    with open(root / "phase1-1-aaaa.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert clean_stale(repo) == [dead]
        assert live.is_dir() and not dead.exists()
    assert clean_stale(repo) == [live]
    assert not any(root.iterdir())


def test_unicode_path_listed_verbatim(tmp_path: Path) -> None:
    repo = project(tmp_path, extra={"pkg/módulo.py": "X = 'OLD_MARKER'\n"})
    result = phase(repo, make_config(repo, None))
    assert "pkg/módulo.py" in result.files
    assert "  pkg/módulo.py (+1 -1)" in git(repo, "log", "-1", "--format=%B", result.branch)


@pytest.mark.parametrize("checkout", [True, False])
def test_write_files_stages_many_files_byte_exact_with_their_modes(
    tmp_path: Path, checkout: bool
) -> None:
    """Written in one batch (one listing, one hashing, one index update): each file's exact
    bytes, an executable's mode kept, new files and odd names (spaces, non-ASCII, a newline)
    staged too, checked out or not."""
    from ssot_migrate.gitlayer.worktree import temporary_worktree

    repo = project(tmp_path, extra={"bin/tool.py": "print('old')\n"})
    (repo / "bin/tool.py").chmod(0o755)
    git(repo, "add", "bin/tool.py")
    git(repo, "commit", "-qm", "exec")
    head = git(repo, "rev-parse", "HEAD").strip()
    files = {
        "bin/tool.py": b"print('new')\r\n",
        "pkg/mod_a.py": b"VALUE = 'changed'\n",
        "new pkg/café module.py": b"\xef\xbb\xbfX = 1\n",
        "pkg/line\nbreak.py": b"Y = 2\n",
        **{f"pkg/gen/m{i:03d}.py": f"N = {i}\n".encode() for i in range(40)},
    }
    with temporary_worktree(repo, head, "probe", checkout=checkout) as wt:
        assert wt.write_files(sorted(files.items())) == sorted(files)
        tree = wt.write_tree()
    for rel, data in files.items():
        assert git_bytes(repo, "cat-file", "blob", f"{tree}:{rel}") == data
    listing = git_bytes(repo, "ls-tree", "-r", "-z", tree).split(b"\0")
    modes = {
        entry.split(b"\t", 1)[1].decode(): entry.split(b" ", 1)[0] for entry in listing if entry
    }
    assert modes["bin/tool.py"] == b"100755"
    assert {modes[rel] for rel in files if rel != "bin/tool.py"} == {b"100644"}
    # the files not written are the base's, untouched
    assert git(repo, "diff", "--name-only", "-z", head, tree).split("\0")[:-1] == sorted(files)

"""Temporary ``git worktree``s: where a phase writes, tests and commits, away from the checkout.

Each worktree lives under ``<git-dir>/ssot-worktrees/<label>-<pid>-<start>``, detached at its
base commit and locked, so neither ``git worktree prune`` nor a concurrent run
removes it while in use. It is removed on exit, after errors and on Ctrl-C/SIGTERM; one left by
a killed run (its pid no longer alive) is removed by the next run.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from ssot_migrate.errors import GitError
from ssot_migrate.gitlayer.branches import git_dir, run_git

WORKTREES_DIR = "ssot-worktrees"
# The user's hooks are for their own checkouts; a post-checkout hook failing (or printing) in
# our private worktree must not decide the outcome of a phase.
NO_HOOKS = ("-c", "core.hooksPath=/dev/null")
_LOCK_PREFIX = "ssot-migrate pid "


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks (Linux ``/proc``), ``"0"`` where unknown.

    With the pid it identifies a process uniquely: a recycled pid has another start time.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "0"
    fields = stat.rpartition(")")[2].split()
    if len(fields) < 20 or fields[0] == "Z":  # a zombie has finished running
        return "dead"
    return fields[19]


def _owner_alive(path: Path) -> bool:
    """Whether the run that made worktree ``<label>-<pid>-<start>`` is still running."""
    try:
        _label, pid_text, start = path.name.rsplit("-", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    now = _start_time(pid)
    return now != "dead" and (start == "0" or now in ("0", start))


def remove_worktree(repo: Path, path: Path) -> None:
    """Remove one of our worktrees, whatever state a run left it in, then prune git's record."""
    run_git(repo, "worktree", "unlock", str(path), ok_codes=(128,))
    run_git(repo, "worktree", "remove", "--force", "--force", str(path), ok_codes=(128,))
    if path.exists():
        shutil.rmtree(path, ignore_errors=True)
    run_git(repo, "worktree", "prune")


def clean_stale(repo: Path) -> list[Path]:
    """Remove worktrees left by runs that no longer exist; return what was removed."""
    root = git_dir(repo) / WORKTREES_DIR
    candidates = set(root.iterdir()) if root.is_dir() else set()
    # git's own records too: a locked worktree whose directory was deleted is never pruned
    for line in run_git(repo, "worktree", "list", "--porcelain").splitlines():
        if line.startswith("worktree "):
            path = Path(line[len("worktree "):])
            if path.parent == root:
                candidates.add(path)
    removed: list[Path] = []
    for path in sorted(candidates):
        if not _owner_alive(path):
            remove_worktree(repo, path)
            removed.append(path)
    return removed


@dataclass(frozen=True)
class Worktree:
    """A temporary worktree of ``repo`` at ``path``; all commands run inside it."""

    repo: Path
    path: Path

    def git(self, *args: str) -> str:
        """Run git inside the worktree."""
        return run_git(self.path, *NO_HOOKS, "--literal-pathspecs", *args)

    def reset(self, commit: str) -> None:
        """Make the worktree and its index exactly ``commit`` again (our own files only)."""
        self.git("checkout", "--quiet", "--force", "--detach", commit)
        self.clean()

    def clean(self) -> None:
        """Remove untracked files and all bytecode; keep ignored tool state (``.tox``, builds).

        Bytecode must go: a rewrite of the same size within the same second as the previous
        run would pass CPython's mtime+size check, and the old code would be tested again.
        """
        self.git("clean", "-ffdq")
        for root, dirs, _files in os.walk(self.path):
            if ".git" in dirs:
                dirs.remove(".git")
            if "__pycache__" in dirs:
                dirs.remove("__pycache__")
                shutil.rmtree(Path(root) / "__pycache__", ignore_errors=True)

    def head(self) -> str:
        """The commit the worktree is detached at."""
        return self.git("rev-parse", "HEAD")

    def write_files(self, files: Iterable[tuple[str, bytes]]) -> list[str]:
        """Write each ``(path, bytes)`` atomically (temp file + rename, mode kept) and stage it.

        The blob is hashed from the exact bytes without filters (no CRLF or clean-filter
        rewriting), so the commit holds precisely what the codemod produced.
        """
        written: list[str] = []
        for rel, data in files:
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            # The index knows the mode even when nothing is checked out (--no-verify).
            entry = self.git("ls-files", "--stage", "--", rel)
            index_mode = entry.split(" ", 1)[0] if entry else "100644"
            if target.exists():
                mode = target.stat().st_mode & 0o7777
            else:
                mode = 0o755 if index_mode == "100755" else 0o644
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".ssot-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.chmod(tmp, mode)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            blob = self.git("hash-object", "-w", "--no-filters", "--", rel)
            self.git("update-index", "--add", "--cacheinfo", f"{index_mode},{blob},{rel}")
            written.append(rel)
        return written

    def write_tree(self) -> str:
        """The tree sha of the worktree's index."""
        return self.git("write-tree")

    def commit(self, tree: str, parent: str, message: str) -> str:
        """Create a commit object of ``tree`` on ``parent`` (no ref moves, no hooks)."""
        fd, tmp = tempfile.mkstemp(prefix="ssot-msg-", suffix=".txt")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(message)
            return self.git("commit-tree", tree, "-p", parent, "-F", tmp)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def revert(self, commit: str) -> None:
        """Apply the reverse of ``commit`` to the index and files, without committing."""
        self.git("revert", "--no-commit", "--no-edit", commit)


@contextmanager
def temporary_worktree(
    repo: Path, commit: str, label: str, *, checkout: bool = True
) -> Iterator[Worktree]:
    """A detached, locked worktree of ``repo`` at ``commit``, removed however the block ends.

    ``checkout=False`` fills only the worktree's index (enough to build a commit), which saves
    writing every file of a large repository when no test will read them.
    """
    clean_stale(repo)
    root = git_dir(repo) / WORKTREES_DIR
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = tempfile.mkdtemp(prefix=".probe-", dir=root)
        os.rmdir(probe)
    except OSError as exc:
        raise GitError(
            f"cannot create a worktree in {root}: {exc.strerror or exc}. A phase builds its "
            "branch in a worktree inside the repository's git directory, which must be "
            "writable; `--dry-run` needs no write access"
        ) from exc
    path = root / f"{label}-{os.getpid()}-{_start_time(os.getpid())}"
    if path.exists():
        remove_worktree(repo, path)
    previous = _install_handlers()
    try:
        run_git(
            repo, *NO_HOOKS, "worktree", "add", "--quiet", "--detach", "--lock",
            "--reason", f"{_LOCK_PREFIX}{os.getpid()}",
            *([] if checkout else ["--no-checkout"]), str(path), commit,
        )
        worktree = Worktree(repo=repo, path=path)
        if not checkout:
            worktree.git("read-tree", commit)
        yield worktree
    finally:
        try:
            remove_worktree(repo, path)
        finally:
            _restore_handlers(previous)


_Handler = signal.Handlers | int | None | object


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"terminated by signal {signum}")


def _install_handlers() -> dict[int, _Handler]:
    # Only the main thread may set handlers; elsewhere the caller's own handling applies.
    previous: dict[int, _Handler] = {}
    try:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            previous[sig] = signal.signal(sig, _raise_interrupted)
    except ValueError:
        pass
    return previous


def _restore_handlers(previous: dict[int, _Handler]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)  # type: ignore[arg-type]

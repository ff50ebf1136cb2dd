"""Temporary ``git worktree``s: where a phase writes, tests and commits, away from the checkout.

Each worktree lives under ``<git-dir>/ssot-worktrees/<label>-<pid>-<random>``, detached at its
base commit and locked, so neither ``git worktree prune`` nor a concurrent run removes it while
in use. Its owner holds ``<name>.lock`` beside it with ``flock`` for the life of the run: the
kernel releases that lock when the process dies, in whatever PID namespace it ran, so a worktree
is stale exactly when its lock can be taken. It is removed on exit, after errors and on
Ctrl-C/SIGTERM; one left by a killed run is removed by the next run.

Every git command in a worktree names the worktree's own git dir and work tree and first checks
that the directory is still the one this run made: a test command that deletes or replaces it
makes the phase stop, never run ``clean`` or ``checkout --force`` somewhere else.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import signal
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from ssot_migrate.atomic import write_atomic
from ssot_migrate.errors import GitError
from ssot_migrate.gitlayer.branches import StartedGit, git_dir, run_git, subcommand

WORKTREES_DIR = "ssot-worktrees"
LOCK_SUFFIX = ".lock"
# The user's hooks are for their own checkouts; a post-checkout hook failing (or printing) in
# our private worktree must not decide the outcome of a phase.
NO_HOOKS = ("-c", "core.hooksPath=/dev/null")
_LOCK_PREFIX = "ssot-migrate pid "


def _take_lock(path: Path, *, wait: bool = False) -> int | None:
    """An fd holding ``flock`` on ``path`` (created if needed), or ``None`` when another holds it.

    A cleaner unlinks a lock file it took; whoever opened that file just before would then hold
    a lock on a name nobody sees, so the lock counts only while ``path`` is still the locked file.
    """
    for _ in range(100):
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            held = os.fstat(fd)
            try:
                now = path.stat()
            except FileNotFoundError:
                now = None
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        if now is not None and (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
            return fd
        os.close(fd)  # unlinked under us: try again with the file now at that name
    raise GitError(f"cannot lock {path}: it keeps being replaced")


def _lock_path(path: Path) -> Path:
    return path.with_name(path.name + LOCK_SUFFIX)


def remove_worktree(repo: Path, path: Path) -> None:
    """Remove one of our worktrees, whatever state a run left it in, then prune git's record."""
    if path.is_symlink():
        # Replaced by a link (to the checkout, say): remove the link, never what it points at.
        path.unlink()
    run_git(repo, "worktree", "unlock", str(path), ok_codes=(128,))
    run_git(repo, "worktree", "remove", "--force", "--force", str(path), ok_codes=(128,))
    if path.exists():
        shutil.rmtree(path, ignore_errors=True)
    run_git(repo, "worktree", "prune")


def clean_stale(repo: Path) -> list[Path]:
    """Remove worktrees whose owner's lock is free (the run is gone); return what was removed."""
    root = git_dir(repo) / WORKTREES_DIR
    candidates: set[Path] = set()
    if root.is_dir():
        for entry in root.iterdir():
            if entry.name.endswith(LOCK_SUFFIX):
                entry = entry.with_name(entry.name[: -len(LOCK_SUFFIX)])
            candidates.add(entry)
    # git's own records too: a locked worktree whose directory was deleted is never pruned
    candidates.update(path for path in _listed(repo) if path.parent == root)
    removed: list[Path] = []
    for path in sorted(candidates):
        lock = _lock_path(path)
        try:
            fd = _take_lock(lock)
        except OSError:
            continue  # cannot even open the lock (read-only git dir): leave it alone
        if fd is None:
            continue  # its run holds the lock: alive, whatever its pid looks like from here
        try:
            if path.exists() or path.is_symlink() or _registered(repo, path):
                remove_worktree(repo, path)
                removed.append(path)
        finally:
            lock.unlink(missing_ok=True)
            os.close(fd)
    return removed


def _registered(repo: Path, path: Path) -> bool:
    return path in _listed(repo)


def _listed(repo: Path) -> list[Path]:
    """The worktrees git has records of; none while it cannot read them all.

    ``git worktree list`` fails outright on a worktree another ``worktree add`` is still
    creating (its record is not complete yet: "failed to read .../commondir"). A phase starts
    its two worktrees at once, and another run may be starting one: the records are read
    again by the next cleaning.
    """
    out = run_git(repo, "worktree", "list", "--porcelain", ok_codes=(128,))
    return [
        Path(line[len("worktree ") :]) for line in out.splitlines() if line.startswith("worktree ")
    ]


@dataclass(frozen=True)
class Worktree:
    """A temporary worktree of ``repo`` at ``path``; all commands run inside it.

    ``admin`` is the worktree's own git dir (``<common git dir>/worktrees/<name>``: its HEAD
    and index), named on every command so none can reach the user's.
    """

    repo: Path
    path: Path
    admin: Path

    def check(self, action: str) -> None:
        """Refuse ``action`` unless ``path`` is still the worktree this run made.

        It must be a real directory whose ``.git`` file points at ``admin``, and ``admin`` must
        point back at it; a test command that deleted or replaced it stops the phase here.
        """
        dotgit = self.path / ".git"
        try:
            intact = (
                not self.path.is_symlink()
                and self.path.is_dir()
                and dotgit.is_file()
                and not dotgit.is_symlink()
                and dotgit.read_text(encoding="utf-8").strip() == f"gitdir: {self.admin}"
                and Path((self.admin / "gitdir").read_text(encoding="utf-8").strip()).resolve()
                == dotgit.resolve()
            )
        except (OSError, UnicodeDecodeError):
            intact = False
        if not intact:
            raise GitError(
                f"this run's worktree {self.path} is gone or was replaced while the phase ran "
                f"(did the test command remove it?); refusing to {action}. Nothing in your "
                "checkout, index or branches was touched; run the phase again"
            )

    def git(self, *args: str, stdin: bytes | None = None) -> str:
        """Run git in the worktree, its git dir and work tree named explicitly."""
        _at, name = subcommand(args)
        self.check(f"run `git {name}`")
        return run_git(
            self.path,
            *NO_HOOKS,
            "--literal-pathspecs",
            *args,
            worktree=(self.admin, self.path),
            stdin=stdin,
        )

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
        self.check("remove bytecode")
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
        rewriting), so the commit holds precisely what the codemod produced. Three git
        processes whatever the number of files (a phase may change a thousand).
        """
        files = list(files)
        if not files:
            return []
        # The index knows the mode even when nothing is checked out (--no-verify).
        modes: dict[str, str] = {}
        for entry in self.git("ls-files", "--stage", "-z").split("\0"):
            if entry:
                info, rel = entry.split("\t", 1)
                modes[rel] = info.split(" ", 1)[0]
        for rel, data in files:
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            # A file not checked out gets the mode git would give it, not the umask's.
            executable = modes.get(rel) == "100755"
            write_atomic(target, data, new_mode=0o755 if executable else 0o644)
        paths = [rel for rel, _ in files]
        blobs = self._hash_files(paths)
        records = "".join(
            f"{modes.get(rel, '100644')} {blob}\t{rel}\0" for rel, blob in zip(paths, blobs)
        )
        self.git("update-index", "-z", "--add", "--index-info", stdin=os.fsencode(records))
        return paths

    def _hash_files(self, paths: list[str]) -> list[str]:
        """Store each file as a blob, byte for byte (``--no-filters``); their shas in order."""
        if any("\n" in rel for rel in paths):  # --stdin-paths reads one name per line
            return [self.git("hash-object", "-w", "--no-filters", "--", rel) for rel in paths]
        names = os.fsencode("".join(f"{rel}\n" for rel in paths))
        out = self.git("hash-object", "-w", "--no-filters", "--stdin-paths", stdin=names)
        return out.splitlines()

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


def _admin_dir(repo: Path, path: Path) -> Path:
    """The git dir ``git worktree add`` gave ``path`` (read back from its ``.git`` file)."""
    text = (path / ".git").read_text(encoding="utf-8").strip()
    admin = Path(text.removeprefix("gitdir: "))
    expected = (git_dir(repo) / "worktrees").resolve()
    if not text.startswith("gitdir: ") or admin.resolve().parent != expected:
        raise GitError(f"{path}/.git does not point into {git_dir(repo) / 'worktrees'}: {text}")
    return admin


@contextmanager
def temporary_worktree(
    repo: Path, commit: str, label: str, *, checkout: bool = True
) -> Iterator[Worktree]:
    """A detached, locked worktree of ``repo`` at ``commit``, removed however the block ends.

    ``checkout=False`` fills only the worktree's index (enough to build a commit), which saves
    writing every file of a large repository when no test will read them.
    """
    with started_worktree(repo, commit, label, checkout=checkout) as pending:
        yield pending.ready()


class PendingWorktree:
    """A worktree whose files git is still writing: ``ready()`` waits for them.

    Creating a file costs far more than writing its bytes on some file systems (about 1 ms on
    a virtual disk here: 2 s for SymPy's 2,000 files), so a phase begins its worktrees first
    and computes its change while git checks them out. The worktree's record is made here and
    now (``worktree add --no-checkout``: no other ``git worktree`` command may read a record
    half written, and git itself reads them all); only the checkout, a ``reset --hard`` as
    ``worktree add`` runs it, goes on in its own process, with git's parallel checkout.
    """

    def __init__(self, repo: Path, path: Path, commit: str, checkout: bool) -> None:
        run_git(
            repo,
            *NO_HOOKS,
            "worktree",
            "add",
            "--quiet",
            "--detach",
            "--lock",
            "--reason",
            f"{_LOCK_PREFIX}{os.getpid()}",
            "--no-checkout",
            str(path),
            commit,
        )
        self._worktree = Worktree(repo=repo, path=path, admin=_admin_dir(repo, path))
        self._checkout: StartedGit | None = None
        if checkout:
            self._worktree.check("check files out")
            self._checkout = StartedGit(
                path,
                *NO_HOOKS,
                "-c",
                "checkout.workers=0",  # one process per core once there are 100 files
                "reset",
                "--hard",
                "--quiet",
                "--no-recurse-submodules",
                commit,
                worktree=(self._worktree.admin, path),
            )
        else:
            self._worktree.git("read-tree", commit)

    def ready(self) -> Worktree:
        """The worktree, once git has checked it out (a ``GitError`` if git could not)."""
        if self._checkout is not None:
            started, self._checkout = self._checkout, None
            started.wait()
        return self._worktree

    def abandon(self) -> None:
        """Stop the checkout if it still runs (the block ended before the files were needed)."""
        if self._checkout is not None:
            started, self._checkout = self._checkout, None
            started.stop()


@contextmanager
def started_worktree(
    repo: Path, commit: str, label: str, *, checkout: bool = True
) -> Iterator[PendingWorktree]:
    """``temporary_worktree`` whose checkout runs while the block goes on: the block calls
    ``ready()`` when it needs the files. Removed however the block ends, as that one is."""
    clean_stale(repo)
    root = git_dir(repo) / WORKTREES_DIR
    path = root / f"{label}-{os.getpid()}-{secrets.token_hex(4)}"
    lock = _lock_path(path)
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = tempfile.mkdtemp(prefix=".probe-", dir=root)
        os.rmdir(probe)
        fd = _take_lock(lock, wait=True)
    except OSError as exc:
        raise GitError(
            f"cannot create a worktree in {root}: {exc.strerror or exc}. A phase builds its "
            "branch in a worktree inside the repository's git directory, which must be "
            "writable; `--dry-run` needs no write access"
        ) from exc
    assert fd is not None  # a blocking lock is always taken
    previous = _install_handlers()
    pending: PendingWorktree | None = None
    try:
        pending = PendingWorktree(repo, path, commit, checkout)
        yield pending
    finally:
        try:
            if pending is not None:
                pending.abandon()
            remove_worktree(repo, path)
        finally:
            lock.unlink(missing_ok=True)
            os.close(fd)
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

"""Refs, commits and trailers: the git state every phase leaves behind, and the only state store.

Every ref change goes through ``git update-ref`` with the expected old value, so two runs (or a
run and the user) racing on the same branch fail cleanly instead of losing a commit. Deleted or
replaced branch tips are first saved under ``refs/ssot-backup/<branch>/<timestamp>``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ssot_migrate.errors import GitError
from ssot_migrate.gitlayer import process
from ssot_migrate.gitlayer.tree import open_repo
from ssot_migrate.record import phase_grep

ZERO_SHA = "0" * 40
BACKUP_NAMESPACE = "refs/ssot-backup/"

# Variables that would point git at the user's checkout instead of the repository we name.
_LEAKY_GIT_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX")


def _forget_foreign_git_env() -> None:
    # Every call merges os.environ (``process.git_environment``), which cannot unset a variable;
    # a GIT_INDEX_FILE inherited from a hook would make our worktree commands write the user's
    # index.
    for key in _LEAKY_GIT_ENV:
        os.environ.pop(key, None)


# Subcommands that write a work tree or an index. They run only through ``Worktree.git``, with
# the worktree's own git dir and work tree named on the command line: never in the user's
# checkout, whatever the process's current directory is.
WORKTREE_ONLY = frozenset(
    {
        "add",
        "am",
        "apply",
        "checkout",
        "checkout-index",
        "cherry-pick",
        "clean",
        "commit",
        "merge",
        "mv",
        "read-tree",
        "rebase",
        "reset",
        "restore",
        "revert",
        "rm",
        "stash",
        "switch",
        "update-index",
    }
)
# Global options that take their value as the next argv item.
_VALUE_OPTIONS = frozenset({"-c", "-C", "--git-dir", "--work-tree", "--namespace"})


def subcommand(args: Sequence[str]) -> tuple[int, str]:
    """Index and name of the git subcommand in ``args`` (after global options such as ``-c``)."""
    i = 0
    while i < len(args):
        item = args[i]
        if item in _VALUE_OPTIONS:
            i += 2
        elif item.startswith("-"):
            i += 1
        else:
            return i, item
    return len(args), ""


def run_git(
    cwd: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    ok_codes: Sequence[int] = (),
    worktree: tuple[Path, Path] | None = None,
    stdin: bytes | None = None,
) -> str:
    """Run ``git -C <cwd> <args>`` and return stdout (trailing newline cut).

    Every command names its directory: a command whose ``cwd`` is gone must not run in the
    process's current directory (normally the user's checkout), so ``cwd`` is checked here and
    passed to git as ``-C`` too, which fails instead of falling back. ``worktree`` is
    ``(admin dir, work tree)`` of a phase's worktree, named as ``--git-dir``/``--work-tree``;
    without it a subcommand in ``WORKTREE_ONLY`` is refused.

    A failure becomes a ``GitError`` naming the subcommand and git's own message, unless its
    exit status is in ``ok_codes`` (then the empty string is returned).
    """
    where, argv = _checked_argv(cwd, args, worktree)
    done = process.run(where, argv, stdin=stdin or None, env=dict(env or {}))
    return _outcome(done, args, ok_codes)


class StartedGit:
    """A ``run_git`` that has started and not yet ended: ``wait`` gives what ``run_git`` gives."""

    def __init__(self, cwd: Path, *args: str, worktree: tuple[Path, Path] | None = None) -> None:
        self._args = args
        where, argv = _checked_argv(cwd, args, worktree)
        self._running = process.Running(where, argv, None)

    def wait(self) -> str:
        """stdout once git has ended, or the ``GitError`` ``run_git`` would raise."""
        return _outcome(self._running.finish(), self._args, ())

    def stop(self) -> None:
        """Abandon the command: end it and reap it."""
        self._running.stop()


def _checked_argv(
    cwd: Path, args: Sequence[str], worktree: tuple[Path, Path] | None
) -> tuple[Path, list[str]]:
    """``run_git``'s checks before anything runs, and the argv that names every directory."""
    _forget_foreign_git_env()
    at, name = subcommand(args)
    what = " ".join(args[at : at + 2])
    if name in WORKTREE_ONLY and worktree is None:
        raise GitError(
            f"refusing to run `git {what}` in {cwd}: it writes files or an index and runs only "
            "in a phase's own worktree"
        )
    explicit: list[str] = []
    if worktree is not None:
        admin, work_tree = worktree
        explicit = ["--git-dir", str(admin), "--work-tree", str(work_tree)]
    where = cwd.absolute()
    if not where.is_dir():
        raise GitError(f"git {what}: {where} does not exist (any more); nothing was run")
    return where, ["-C", str(where), *explicit, *args]


def _outcome(done: process.GitResult, args: Sequence[str], ok_codes: Sequence[int]) -> str:
    if done.status != 0:
        if done.status in ok_codes:
            return ""
        at, _name = subcommand(args)
        raise GitError(f"git {' '.join(args[at : at + 2])} failed: {done.message}")
    return done.text


def git_dir(repo: Path) -> Path:
    """The repository's common git directory (shared by all its worktrees), absolute."""
    handle = open_repo(repo)
    handle.close()
    out = run_git(repo, "rev-parse", "--path-format=absolute", "--git-common-dir")
    return Path(out)


def identity(repo: Path) -> str:
    """The author identity git would use (``git var GIT_AUTHOR_IDENT``), or a clear ``GitError``.

    Environment variables (``GIT_AUTHOR_NAME`` …) and ``user.name``/``user.email`` are honoured
    exactly as ``git commit`` honours them; both the author and committer identity must exist.
    """
    idents = []
    for var in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        try:
            idents.append(run_git(repo, "var", var))
        except GitError as exc:
            raise GitError(
                'no git identity: set one with `git config --global user.name "Your Name"` and '
                "`git config --global user.email you@example.com` (or GIT_AUTHOR_NAME/EMAIL); "
                f"git said: {exc}"
            ) from exc
    return idents[0]


def resolve(repo: Path, ref: str) -> str | None:
    """The commit sha ``ref`` names, or ``None`` when it names nothing."""
    if ref.startswith("-"):
        return None
    out = run_git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", ok_codes=(1,))
    return out or None


def branch_tip(repo: Path, branch: str) -> str | None:
    """The tip of local branch ``branch`` (short name), or ``None`` when there is no such branch."""
    return resolve(repo, f"refs/heads/{branch}")


def tree_of(repo: Path, commit: str) -> str:
    """The tree sha of ``commit``."""
    return run_git(repo, "rev-parse", f"{commit}^{{tree}}")


def symbolic_name(repo: Path, ref: str) -> str | None:
    """The full ref name ``ref`` stands for (``HEAD`` → ``refs/heads/main``), or ``None``."""
    out = run_git(repo, "rev-parse", "--symbolic-full-name", ref, ok_codes=(128,))
    return out if out.startswith("refs/") else None


def update_branch(repo: Path, branch: str, new: str, old: str | None, reason: str) -> None:
    """Point ``refs/heads/<branch>`` at ``new`` atomically, only if it is still at ``old``.

    ``old=None`` means the branch must not exist yet, so a concurrent creation is refused.
    """
    run_git(
        repo,
        "update-ref",
        "-m",
        f"ssot-migrate: {reason}",
        f"refs/heads/{branch}",
        new,
        old or ZERO_SHA,
    )


def check_branch_update(repo: Path, branch: str, new: str, old: str | None) -> None:
    """Raise ``GitError`` unless ``update_branch`` could move ``branch`` now; change nothing.

    The update is prepared in a ref transaction and aborted, so a name git cannot create (a
    branch ``ssot`` blocks ``ssot/...``, and the reverse) or a ``reference-transaction`` hook
    that rejects it is found before any test runs, not after both.
    """
    verb = f"update refs/heads/{branch} {new} {old}" if old else f"create refs/heads/{branch} {new}"
    run_git(repo, "update-ref", "--stdin", stdin=f"start\n{verb}\nprepare\nabort\n".encode())


def checked_out(repo: Path) -> dict[str, Path]:
    """Branch short name -> the worktree (the user's checkout included) that has it checked out."""
    found: dict[str, Path] = {}
    path: Path | None = None
    for line in run_git(repo, "worktree", "list", "--porcelain").splitlines():
        if line.startswith("worktree "):
            path = Path(line[len("worktree ") :])
        elif line.startswith("branch refs/heads/") and path is not None:
            found[line[len("branch refs/heads/") :]] = path
    return found


def shared_state(repo: Path) -> dict[str, str]:
    """What every worktree shares with the user's checkout: refs (stash included) and config.

    ``refname -> sha`` for every ref but our backups, and ``config -> <its bytes>`` (as text);
    a test suite running ``git branch``/``stash``/``config`` in a worktree changes these.
    """
    out = run_git(repo, "for-each-ref", "--format=%(refname) %(objectname)")
    state = dict(
        line.split(" ", 1)
        for line in out.splitlines()
        if line and not line.startswith(BACKUP_NAMESPACE)
    )
    try:
        state["config"] = (git_dir(repo) / "config").read_bytes().decode("utf-8", "replace")
    except OSError:
        state["config"] = ""
    return state


def delete_branch(repo: Path, branch: str, old: str) -> None:
    """Delete ``refs/heads/<branch>`` only if it is still at ``old``."""
    run_git(repo, "update-ref", "-m", "ssot-migrate: rollback", "-d", f"refs/heads/{branch}", old)


def backup(repo: Path, branch: str, sha: str) -> str:
    """Keep ``sha`` under ``refs/ssot-backup/<branch>/<UTC timestamp>`` and return that ref."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    ref = f"{BACKUP_NAMESPACE}{branch}/{stamp}"
    suffix = 1
    while resolve(repo, ref) is not None:
        suffix += 1
        ref = f"{BACKUP_NAMESPACE}{branch}/{stamp}-{suffix}"
    run_git(repo, "update-ref", "-m", "ssot-migrate: backup", ref, sha, ZERO_SHA)
    return ref


def backups(repo: Path, branch: str | None = None) -> list[tuple[str, str]]:
    """``(ref, sha)`` of the backup refs (of one branch, or all), oldest first."""
    pattern = BACKUP_NAMESPACE + (f"{branch}/" if branch else "")
    out = run_git(repo, "for-each-ref", "--format=%(refname) %(objectname)", pattern)
    pairs = [tuple(line.split(" ", 1)) for line in out.splitlines() if line]
    return sorted((p[0], p[1]) for p in pairs if len(p) == 2)


def is_ancestor(repo: Path, ancestor: str, descendant: str) -> bool:
    """Whether ``ancestor`` is reachable from ``descendant``."""
    try:
        run_git(repo, "merge-base", "--is-ancestor", ancestor, descendant)
    except GitError:
        return False
    return True


def is_merged(repo: Path, commit: str, into: str) -> bool:
    """Whether ``commit`` is in ``into``: as an ancestor, or as an equivalent patch (rebase/squash).

    ``git cherry`` compares patch ids, so a phase merged by rebase or a one-commit squash counts.
    """
    if is_ancestor(repo, commit, into):
        return True
    parents = run_git(repo, "rev-list", "--parents", "-n", "1", commit).split()
    if len(parents) != 2:
        return False
    out = run_git(repo, "cherry", into, commit, parents[1])
    return out.startswith("- ")


def ahead_behind(repo: Path, base: str, tip: str) -> tuple[int, int]:
    """``(ahead, behind)``: commits on ``tip`` not on ``base``, and on ``base`` not on ``tip``."""
    out = run_git(repo, "rev-list", "--left-right", "--count", f"{base}...{tip}")
    behind, ahead = (int(x) for x in out.split())
    return ahead, behind


@dataclass(frozen=True)
class CommitInfo:
    """A commit's subject, full message, parent and parsed trailers (last value per key wins)."""

    sha: str
    subject: str
    message: str
    parent: str | None
    trailers: dict[str, str]


def commit_info(repo: Path, sha: str) -> CommitInfo:
    """Read ``sha``'s message and its trailers (``git interpret-trailers`` semantics)."""
    raw = run_git(repo, "show", "-s", "--format=%P%x00%B%x00%(trailers:only,unfold)", sha)
    parents, message, trailer_text = (raw.split("\0") + ["", ""])[:3]
    trailers: dict[str, str] = {}
    for line in trailer_text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            trailers[key.strip()] = value.strip()
    parent_list = parents.split()
    return CommitInfo(
        sha=sha,
        subject=message.splitlines()[0] if message else "",
        message=message,
        parent=parent_list[0] if parent_list else None,
        trailers=trailers,
    )


def phase_commit_in_history(repo: Path, phase: str, rev: str = "HEAD") -> str | None:
    """The newest commit reachable from ``rev`` whose message carries ``SSOT-Phase: <phase>``."""
    found = run_git(repo, "log", "-1", "--format=%H", phase_grep(phase), rev, ok_codes=(128,))
    return found or None

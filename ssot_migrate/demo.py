"""``ssot-migrate demo``: the whole tool on the bundled sample repository, in one command.

The sample (``ssot_migrate/sample/``, shipped as package data) is copied into a fresh git
repository; then scan, phases 1-3 with verification and status run on it through the same
functions the CLI commands call, and the user is told what happened and what to look at next.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from ssot_migrate.errors import GitError, UsageError

# A fixed identity for the demo repository's own commits, so the demo works on a machine where
# git has never been configured, and its first commit does not depend on who runs it.
DEMO_IDENTITY = {
    "GIT_AUTHOR_NAME": "ssot-migrate demo",
    "GIT_AUTHOR_EMAIL": "demo@ssot-migrate.invalid",
    "GIT_COMMITTER_NAME": "ssot-migrate demo",
    "GIT_COMMITTER_EMAIL": "demo@ssot-migrate.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T12:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-01-01T12:00:00+00:00",
}
SAMPLE_GITIGNORE = "__pycache__/\n*.pyc\n.pytest_cache/\n"
# Byproducts of running the sample's suite in place (inside an editable install); never copied.
_SKIP_NAMES = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
_SKIP_SUFFIXES = (".pyc", ".pyo")


def sample_root() -> Traversable:
    """The bundled sample repository's files (package data ``ssot_migrate/sample``)."""
    return resources.files("ssot_migrate").joinpath("sample")


def _sample_files(root: Traversable, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], bytes]]:
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name in _SKIP_NAMES or entry.name.endswith(_SKIP_SUFFIXES):
            continue
        if entry.is_dir():
            yield from _sample_files(entry, (*prefix, entry.name))
        else:
            yield (*prefix, entry.name), entry.read_bytes()


def _git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(DEMO_IDENTITY)
    # The demo repository must not inherit a GIT_DIR/GIT_WORK_TREE pointing at another repository.
    env.pop("GIT_DIR", None)
    env.pop("GIT_WORK_TREE", None)
    env.pop("GIT_INDEX_FILE", None)
    return env


def _git(repo: Path, *args: str) -> str:
    try:
        proc = subprocess.run(
            ["git", "-C", str(repo), *args],
            env=_git_env(),
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed or not on PATH; the demo needs it") from exc
    if proc.returncode != 0:
        raise GitError(f"git {' '.join(args)} failed in {repo}: {proc.stderr.strip()}")
    return proc.stdout


def create_sample_repo(dest: Path) -> Path:
    """Copy the bundled sample into ``dest`` (absent or empty) as a git repository with one commit.

    The repository is on branch ``main``, has a repository-local demo identity (so later phase
    commits work without a global git configuration) and a ``.gitignore`` for test byproducts.
    Returns the repository's absolute path; raises ``UsageError`` when ``dest`` is not empty.
    """
    dest = dest.expanduser().resolve()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"demo path {dest} already exists and is not empty; choose another --path")
    dest.mkdir(parents=True, exist_ok=True)
    count = 0
    for parts, data in _sample_files(sample_root()):
        target = dest.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        count += 1
    if count == 0:
        raise UsageError("the bundled sample repository is missing from this installation")
    (dest / ".gitignore").write_text(SAMPLE_GITIGNORE, encoding="utf-8")
    _git(dest, "init", "-q")
    # ``init -b`` needs git 2.28; pointing HEAD works on every version.
    _git(dest, "symbolic-ref", "HEAD", "refs/heads/main")
    _git(dest, "config", "user.name", DEMO_IDENTITY["GIT_AUTHOR_NAME"])
    _git(dest, "config", "user.email", DEMO_IDENTITY["GIT_AUTHOR_EMAIL"])
    _git(dest, "config", "commit.gpgsign", "false")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "Sample chat backend with a fragmented WebSocket manager")
    return dest


def new_demo_path() -> Path:
    """A fresh, empty directory for the demo repository under the system's temporary directory."""
    return Path(tempfile.mkdtemp(prefix="ssot-demo-")) / "netra-sample"


def remove_demo_repo(path: Path) -> None:
    """Delete a demo repository (worktrees the phases made are registered inside it)."""
    shutil.rmtree(path, ignore_errors=True)

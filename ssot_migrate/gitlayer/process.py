"""One ``git`` process, run the way every git call of the tool runs: the home of ``subprocess``.

Plain ``subprocess`` rather than GitPython: importing GitPython costs about 40 ms of CPU and runs
``git version`` twice before the first real command, a fifth of a dry run's overhead over a bare
parse, and every call here only needs argv in, status and bytes out. Git speaks plain English
(``LC_ALL=C``, as GitPython set it), so its messages can be matched and its regexes match bytes.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ssot_migrate.errors import GitError


@dataclass(frozen=True)
class GitResult:
    """What a finished git command left: its exit status and its two streams, as bytes."""

    argv: tuple[str, ...]
    status: int
    stdout: bytes
    stderr: bytes

    @property
    def text(self) -> str:
        """stdout decoded, one trailing newline cut (a ref or a sha, as git prints it)."""
        return _decode(self.stdout.removesuffix(b"\n"))

    @property
    def message(self) -> str:
        """git's own complaint (stderr, stripped), or the status when it said nothing."""
        said = _decode(self.stderr.removesuffix(b"\n"))
        # Quotes at the ends were GitPython's framing of stderr: cut them as they always were.
        said = f"'{said}'".strip("'").strip() if said else ""
        if said:
            return said
        out = _decode(self.stdout.removesuffix(b"\n"))
        shown = f"\n  stdout: '{out}'" if out else ""
        return (
            f"Cmd('git') failed due to: exit code({self.status})\n"
            f"  cmdline: {' '.join(self.argv)}{shown}"
        )


def git_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment with git's messages in plain English, plus ``extra``."""
    env = os.environ.copy()
    env["LANGUAGE"] = "C"
    env["LC_ALL"] = "C"
    env.update(extra or {})
    return env


def run(
    cwd: Path,
    args: Sequence[str],
    *,
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
) -> GitResult:
    """Run ``git <args>`` in ``cwd`` and wait; a failing status is the caller's to judge."""
    argv = ("git", *args)
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            input=stdin,
            stdin=subprocess.DEVNULL if stdin is None else None,
            capture_output=True,
            env=git_environment(env),
            check=False,
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed (no `git` on PATH)") from exc
    return GitResult(argv, done.returncode, done.stdout, done.stderr)


class Running:
    """A ``git`` started and not waited for: the caller works meanwhile, then ``finish``es it.

    For a command that takes long and reads nothing (a worktree's checkout): both its streams
    are captured, as ``run`` captures them.
    """

    def __init__(self, cwd: Path, args: Sequence[str], env: Mapping[str, str] | None) -> None:
        self.argv = ("git", *args)
        self._process = _popen(
            cwd, self.argv, subprocess.DEVNULL, subprocess.PIPE, git_environment(env)
        )

    def finish(self) -> GitResult:
        """Wait for the command to end (once more after an interrupt: no git is left behind)."""
        try:
            stdout, stderr = self._process.communicate()
        except BaseException:
            self.stop()
            raise
        return GitResult(self.argv, self._process.returncode, stdout, stderr)

    def stop(self) -> None:
        """End the command now (it is abandoned) and reap it."""
        if self._process.poll() is None:
            self._process.terminate()
        self._process.communicate()


def start(cwd: Path, args: Sequence[str]) -> subprocess.Popen[bytes]:
    """Start ``git <args>`` in ``cwd`` with pipes on stdin and stdout (a ``--batch`` reader)."""
    return _popen(cwd, ("git", *args), subprocess.PIPE, subprocess.DEVNULL, git_environment())


def _popen(
    cwd: Path, argv: Sequence[str], stdin: int, stderr: int, env: Mapping[str, str]
) -> subprocess.Popen[bytes]:
    """``git`` started with stdout piped; a clear error when there is no git to start."""
    try:
        return subprocess.Popen(
            argv, cwd=cwd, stdin=stdin, stdout=subprocess.PIPE, stderr=stderr, env=env
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed (no `git` on PATH)") from exc


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")

"""Read a commit's files straight from git objects: the user's working tree is never read.

Listing (``ls-tree``) and the text pre-filter (``git grep`` on the commit) run inside git;
blobs are read through one persistent ``git cat-file --batch`` process per repository.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ssot_migrate.errors import GitError
from ssot_migrate.gitlayer import process

REGULAR_MODES = ("100644", "100755")


@dataclass(frozen=True)
class TreeEntry:
    """One path of a commit's tree."""

    path: str
    mode: str
    sha: str

    @property
    def kind(self) -> str:
        """``file``, ``symlink`` or ``submodule``."""
        if self.mode == "120000":
            return "symlink"
        if self.mode == "160000":
            return "submodule"
        return "file"


class Repository:
    """A repository named by its directory: every command runs as ``git -C <path>``.

    GitPython ran a command whose directory is gone in the process's current directory: the
    directory is named on every command instead (these only read objects and refs). Not
    ``--git-dir``: an explicit git dir skips git's check of who owns the repository.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(os.path.normpath(path.absolute()))
        self._batch: subprocess.Popen[bytes] | None = None

    def git(self, *args: str, stdin: bytes | None = None) -> process.GitResult:
        """``git -C <path> <args>``, whatever its status."""
        return process.run(self.path, ["-C", str(self.path), *args], stdin=stdin)

    def read_blob(self, sha: str) -> bytes:
        """The exact bytes of object ``sha``, from the persistent ``cat-file --batch``."""
        if self._batch is None:
            self._batch = process.start(self.path, ["-C", str(self.path), "cat-file", "--batch"])
        batch = self._batch
        assert batch.stdin is not None and batch.stdout is not None
        try:
            batch.stdin.write(sha.encode("ascii") + b"\n")
            batch.stdin.flush()
            header = batch.stdout.readline()
        except (OSError, ValueError) as exc:
            self.close()
            raise OSError(f"git cat-file stopped while reading {sha}") from exc
        fields = header.split()
        if len(fields) != 3:
            if not header:
                self.close()
                raise OSError(f"git cat-file stopped while reading {sha}")
            raise ValueError(f"SHA {sha} could not be resolved, git returned: {header!r}")
        size = int(fields[2])
        data = batch.stdout.read(size + 1)  # the object and the newline after it
        if len(data) != size + 1:
            self.close()
            raise OSError(f"git cat-file stopped while reading {sha}")
        return data[:size]

    def close(self) -> None:
        """Stop the blob reader, if one was started."""
        batch, self._batch = self._batch, None
        if batch is None:
            return
        for stream in (batch.stdin, batch.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            batch.wait(timeout=5)
        except subprocess.TimeoutExpired:
            batch.kill()
            batch.wait()


def open_repo(path: Path) -> Repository:
    """Open the repository at ``path`` (not its parents) with a clear error when there is none.

    A work tree's root (``.git`` directory or file) or a bare repository, as GitPython
    recognised them; anything git then refuses is reported by the command that meets it.
    """
    if not path.exists():
        raise GitError(f"repository path does not exist: {path}")
    if not (path / ".git").exists() and not _is_git_dir(path):
        raise GitError(f"not a git repository: {path} (run 'git init' and commit first)")
    return Repository(path)


def _is_git_dir(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir()


def resolve_commit(repo: Repository, ref: str) -> str:
    """The full sha of ``ref``'s commit, or a ``GitError`` that says why there is none."""
    if ref.startswith("-"):
        raise GitError(f"invalid revision {ref!r}: a revision may not start with '-'")
    head = repo.git("rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if head.status != 0:
        said = head.message
        if "dubious ownership" in said or "safe.directory" in said:
            raise GitError(
                f"git refuses to work in {repo.path}: it is owned by "
                'another user ("dubious ownership"). If you trust it: git config --global '
                f"--add safe.directory {repo.path}"
            )
        if ref == "HEAD":
            raise GitError(
                f"{repo.path}: the repository has no commits yet; commit your code first"
            )
    elif ref == "HEAD":
        return head.text
    found = repo.git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found.status != 0:
        raise GitError(f"unknown revision {ref!r}: not a commit of this repository")
    return found.text


def list_entries(repo: Repository, commit: str) -> list[TreeEntry]:
    """Every path of ``commit``'s tree, with its mode and blob sha, sorted by path."""
    listed = repo.git("ls-tree", "-r", "-z", "--full-tree", commit)
    if listed.status != 0:
        raise GitError(f"git ls-tree failed: {listed.message}")
    raw = listed.stdout
    entries = []
    for record in raw.split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        mode, _kind, sha = meta.decode("ascii").split(" ")
        entries.append(TreeEntry(path.decode("utf-8", "surrogateescape"), mode, sha))
    entries.sort(key=lambda e: e.path)
    return entries


def list_paths(repo_path: Path, ref: str = "HEAD") -> list[str]:
    """Repo-relative POSIX paths of the regular files and symlinks at ``ref``."""
    repo = open_repo(repo_path)
    try:
        return [
            e.path for e in list_entries(repo, resolve_commit(repo, ref)) if e.kind != "submodule"
        ]
    finally:
        repo.close()


def read_blob(repo: Repository, sha: str) -> bytes:
    """The exact bytes of a blob."""
    return repo.read_blob(sha)


# Needles per ``git grep`` run. Git matches fixed strings one pattern at a time (1,000 of them
# cost ~0.5 s on Django), but an extended regex runs as one automaton (0.1 s). Written as a
# trie (``Canon(0001|0002)``, not ``Canon0001|Canon0002``) the automaton stays small: 3,000
# names with no common prefix take ~45 MiB and 0.5 s on Django (as a flat alternation, 180 MiB),
# 3,000 sharing prefixes 0.12 s; larger sets are split.
GREP_CHUNK = 3000

# What POSIX extended regular expressions give a meaning; escaped, a needle matches literally.
_ERE_SPECIAL = re.compile(rb"([\\.\[\](){}*+?|^$])")


def grep_paths(repo: Repository, commit: str, needles: Iterable[str]) -> tuple[set[str], set[str]]:
    """Paths of ``*.py`` files at ``commit`` containing any needle, and paths git could not read.

    One ``git grep`` per ``GREP_CHUNK`` needles, whatever their number. The needles (one line
    each; they are names, never several lines) go to git on stdin as one alternation, never on
    the command line, which has a length limit. ``git grep`` reports an unreadable blob (a
    corrupt or partial object store) on stderr and still exits 0; those paths come back
    separately so they are listed, never silently dropped.
    """
    # Needles go on stdin (-f -): 150,000 aliases on the command line exceed ARG_MAX. An empty
    # or multi-line needle would match everything or be split: none is a dotted name anyway.
    wanted = sorted({n for n in needles if n and "\n" not in n})
    hits: set[str] = set()
    unreadable: set[str] = set()
    for start in range(0, len(wanted), GREP_CHUNK):
        found, failed = _grep_chunk(repo, commit, wanted[start : start + GREP_CHUNK])
        hits |= found
        unreadable |= failed
    return hits, unreadable


def _trie_pattern(needles: list[bytes]) -> bytes:
    """One extended regex matching exactly the (non-empty) ``needles``, as a trie of bytes.

    ``ab``, ``abc``, ``ad`` -> ``a(b(c)?|d)``: each shared prefix is written, and matched, once.
    """
    escaped = sorted({_ERE_SPECIAL.sub(rb"\\\1", n) for n in needles if n})
    # Escaping maps one byte to one or two, always the same way, so shared escaped prefixes
    # are shared needle prefixes; a prefix cut inside an escape is a byte too short to branch on
    # (``\`` is never the first byte of two different continuations), hence the step back.
    parts: list[bytes] = []

    def emit(group: list[bytes], depth: int) -> None:
        # Sorted: the prefix every member shares is the one its first and last share.
        first, last = group[0], group[-1]
        common = depth
        while common < min(len(first), len(last)) and first[common] == last[common]:
            common += 1
        if (
            common > depth
            and first[common - 1 : common] == b"\\"
            and _odd_backslashes(first, common)
        ):
            common -= 1
        parts.append(first[depth:common])
        ends = len(first) == common
        rest = group[1:] if ends else group
        if not rest:
            return
        branches = [
            list(g)
            for _, g in itertools.groupby(
                rest,
                key=lambda n: (
                    n[common : common + 2]
                    if n[common : common + 1] == b"\\"
                    else n[common : common + 1]
                ),
            )
        ]
        if len(branches) == 1 and not ends:
            emit(branches[0], common)
            return
        parts.append(b"(")
        for index, branch in enumerate(branches):
            if index:
                parts.append(b"|")
            emit(branch, common)
        parts.append(b")?" if ends else b")")

    if escaped:
        emit(escaped, 0)
    return b"".join(parts)


def literal_pattern(needles: Iterable[bytes]) -> re.Pattern[bytes]:
    """A regex that finds any of ``needles`` in bytes, as ``git grep`` of them does: the same
    trie (its escapes mean the same to Python's ``re``), one pass over the bytes however many
    needles there are. No needle: a pattern that matches nothing."""
    pattern = _trie_pattern(sorted({n for n in needles if n}))
    return re.compile(pattern or rb"(?!)")


def _odd_backslashes(data: bytes, end: int) -> bool:
    """Whether ``data[:end]`` ends inside an escape (an odd run of backslashes)."""
    count = 0
    while count < end and data[end - 1 - count] == 0x5C:
        count += 1
    return count % 2 == 1


# Up to this many needles, fixed strings (one pattern each) cost less than one regex: git's
# regex engine scans slowly for an alternation without a common prefix (``import \*|name``:
# 0.18 s of CPU on SymPy's loose objects, 0.10 s as two fixed strings).
GREP_FIXED_MAX = 16


def _grep_chunk(repo: Repository, commit: str, needles: list[str]) -> tuple[set[str], set[str]]:
    # Git runs with LC_ALL=C (``process``): the regex matches bytes, exactly as -F does.
    encoded = [n.encode("utf-8", "surrogateescape") for n in needles]
    fixed = len(encoded) <= GREP_FIXED_MAX
    pattern = b"\n".join(encoded) if fixed else _trie_pattern(encoded)
    found = repo.git(
        "grep",
        "-l",
        "-z",
        "-F" if fixed else "-E",
        "--no-color",
        "--no-textconv",
        "-a",
        "-f",
        "-",
        commit,
        "--",
        "*.py",
        stdin=pattern + b"\n",
    )
    status, raw = found.status, found.stdout
    error_text = found.stderr.removesuffix(b"\n").decode("utf-8", "surrogateescape")
    unreadable = set(re.findall(rf"'{re.escape(commit)}:(.*?)': unable to read", error_text))
    if status not in (0, 1) or (status == 1 and error_text.strip() and not unreadable):
        raise GitError(f"git grep failed: {error_text.strip()}")
    prefix = f"{commit}:".encode()
    hits = {
        item[len(prefix) :].decode("utf-8", "surrogateescape")
        for item in raw.split(b"\0")
        if item.startswith(prefix)
    }
    return hits, unreadable

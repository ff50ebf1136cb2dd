"""Bytecode shared between hermetic test runs, so a run compiles only what no run compiled before.

Every test run points ``PYTHONPYCACHEPREFIX`` at a fresh directory of its own (see
``verify.hermetic_env``). Python then looks for *all* bytecode there, the standard library's and
site-packages' included, and a fresh prefix means compiling every module the suite imports:
seconds of CPU per run on a large suite, paid by the base and the phase runs alike.

The bytecode of the libraries is the same for every run, so it is kept between runs in the
repository's git dir: a run's prefix is seeded with it before the run (hard links, copies across
file systems) and what the run compiled for the libraries is kept after it. Only files under a
``site-packages``/``dist-packages`` directory or a ``lib/pythonX.Y`` standard library are kept;
the bytecode of the trees under test, of the run's temporary directory and of anything else
stays in the run's prefix and goes with it. Python checks each file against its source's size
and modification time before using it, exactly as it does in a library's own ``__pycache__``, so
an upgraded library is compiled again.

The trees' own bytecode is kept too, but by content, never by path: after a run, each module of
the tree it compiled is stored under the hash of its source, converted to a *checked hash-based*
pyc (PEP 552), and the next run on a tree holding the same source (the phase tree beside the
base, a triage re-run, a bisect step, the next phase) starts with it. Python validates such a
file by hashing the source it sits beside, not by its time, so a file whose source differs is
never used, whatever path or time it has; the code it loads is re-labelled with the new path
(``co_filename``) by the import system itself. A module is kept only when its timestamp header
still matches the source (the code is that source's), and only for the Python that runs
ssot-migrate's own bytecode format, since the hash is keyed by it.

pytest's assertion-rewritten test modules (its own pycs, under a ``-pytest-X.Y`` tag, which
rewriting and compiling large test files makes seconds of CPU per run) are kept by content
the same way, in the format pytest reads; when one is seeded, its code is given the path it is
seeded beside, and a timestamp header (older pytest versions) the time and size of that file.

Before any run kept a module, the user's own runs may have: a module of the tree whose source is
byte for byte the one at the same path in the user's checkout starts with the checkout's
``__pycache__`` file, when Python itself would load that file there (its time and size match the
checkout's source). The checkout is only read.
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import re
import shutil
import types
from pathlib import Path

_STDLIB_DIR = re.compile(r"python3\.\d+")
_SITE_DIRS = frozenset(["site-packages", "dist-packages"])
LIBRARIES, TREES = "libraries", "trees"
_CHECKED_HASH = (0b11).to_bytes(4, "little")  # PEP 552 flags: hash-based, check the source
_PYTEST_TAG = "-pytest-"


def is_library(relative: Path) -> bool:
    """Whether a path below the prefix mirrors a library's source (site-packages or stdlib)."""
    parts = relative.parts
    if _SITE_DIRS.intersection(parts):
        return True
    return any(
        _STDLIB_DIR.fullmatch(part) and index > 0 and parts[index - 1] in ("lib", "lib64")
        for index, part in enumerate(parts)
    )


def _place(source: Path, destination: Path) -> None:
    """``destination`` becomes ``source``'s content atomically: a hard link, else a copy."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f".{destination.name}.{os.getpid()}.partial")
    try:
        os.link(source, partial)
    except OSError:
        shutil.copy2(source, partial)
    os.replace(partial, destination)


def seed(cache: Path, prefix: Path) -> None:
    """Fill a run's empty ``prefix`` with the kept library bytecode (best effort)."""
    if not cache.is_dir():
        return
    for root, _dirs, files in os.walk(cache):
        for name in files:
            if name.endswith(".partial"):
                continue  # another run is placing it
            source = Path(root, name)
            try:
                _place(source, prefix / source.relative_to(cache))
            except OSError:
                continue  # a file less only costs a compilation


def keep(prefix: Path, cache: Path, private: tuple[Path, ...]) -> None:
    """Keep what the run compiled for the libraries; never the bytecode under ``private``."""
    skip = {prefix / p.relative_to(p.anchor) for p in private}
    for root, dirs, files in os.walk(prefix):
        here = Path(root)
        dirs[:] = [d for d in dirs if here / d not in skip]
        if not is_library(here.relative_to(prefix)):
            continue
        for name in files:
            if not name.endswith(".pyc"):
                continue  # Python's own half-written temporary files, if the run was killed
            made = here / name
            kept = cache / made.relative_to(prefix)
            try:
                now, before = made.stat(), kept.stat() if kept.exists() else None
                # Seeded files are links to the kept ones (or copies with their times).
                if before is not None and (
                    os.path.samestat(now, before)
                    or (now.st_size, now.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
                ):
                    continue
                _place(made, kept)
            except OSError:
                continue  # the cache only saves time: a full disk must not fail the run


def _content_key(source: bytes) -> str:
    return hashlib.sha256(source).hexdigest()


def _tree_sources(worktree: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(worktree):
        dirs[:] = [d for d in dirs if d not in ("__pycache__", ".git")]
        found.extend(Path(root, name) for name in files if name.endswith(".py"))
    return found


def _split_name(name: str) -> tuple[str, str] | None:
    """``(stem, tag)`` of a bytecode file's name (``m.cpython-311.pyc``, pytest's
    ``test_m.cpython-311-pytest-8.3.2.pyc``); ``None`` for an optimised (``opt-1``) file or a
    temporary one being written."""
    stem, _, rest = name.partition(".")
    if not rest.endswith(".pyc") or ".opt-" in rest:
        return None
    tag = rest[: -len(".pyc")]
    return (stem, tag) if tag else None


def _by_pytest(tag: str) -> bool:
    # pytest writes its assertion-rewritten test modules under a tag of its own
    return _PYTEST_TAG in tag


def seed_tree(cache: Path, prefix: Path, worktree: Path, checkout: Path | None = None) -> None:
    """Give a run's ``prefix`` the kept bytecode of every module of ``worktree`` whose source
    was compiled before (best effort: a file less only costs a compilation).

    A module no run kept yet is taken from ``checkout`` (the user's own files, only read) when
    the same path there holds the same source and a ``__pycache__`` file Python itself would
    load for it: what the user's own test runs compiled is not compiled again.
    """
    tags = {d.name for d in cache.iterdir() if d.is_dir()} if cache.is_dir() else set()
    listings: dict[Path, list[str]] = {}
    for source in _tree_sources(worktree):
        try:
            text = source.read_bytes()
        except OSError:
            continue
        key = _content_key(text)
        found = {tag for tag in tags if (cache / tag / f"{key}.pyc").exists()}
        if checkout is not None and not found:
            relative = source.relative_to(worktree)
            found = _harvest(cache, checkout / relative, text, key, listings)
            tags |= found
        mirror = prefix / source.parent.relative_to(source.anchor)
        for tag in found:
            kept, placed = cache / tag / f"{key}.pyc", mirror / f"{source.stem}.{tag}.pyc"
            try:
                if _by_pytest(tag):
                    code = _for_pytest(kept.read_bytes(), source, source.stat())
                    if code is not None:
                        _store(placed, code)
                else:
                    _place(kept, placed)
            except OSError:
                continue


def _for_pytest(code: bytes, source: Path, stat: os.stat_result) -> bytes | None:
    """A kept assertion-rewritten module, as pytest checks it beside ``source`` (whose content
    is the kept one's: the file is kept by it). A timestamp pyc (older pytest versions) gets the time
    and size of ``source``; a hash-based one is valid as it is. The code gets the path of
    ``source``, which older pytest versions, unlike Python's own import, do not put there
    themselves: tests would report the place the module was compiled at."""
    try:
        module = marshal.loads(code[16:])
    except (EOFError, ValueError, TypeError):
        return None
    if not isinstance(module, types.CodeType):
        return None
    header = code[:16] if code[4:8] == _CHECKED_HASH else code[:8] + _timestamp(stat)
    return header + marshal.dumps(_relabel(module, str(source)))


def _relabel(code: types.CodeType, filename: str) -> types.CodeType:
    consts = tuple(
        _relabel(const, filename) if isinstance(const, types.CodeType) else const
        for const in code.co_consts
    )
    return code.replace(co_filename=filename, co_consts=consts)


def _timestamp(stat: os.stat_result) -> bytes:
    return (int(stat.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little") + (
        stat.st_size & 0xFFFFFFFF
    ).to_bytes(4, "little")


def _harvest(
    cache: Path, source: Path, text: bytes, key: str, listings: dict[Path, list[str]]
) -> set[str]:
    """Keep the checkout's own bytecode of ``source`` when it is that of ``text``; its tags."""
    pycache = source.parent / "__pycache__"
    if pycache not in listings:
        try:
            listings[pycache] = os.listdir(pycache)
        except OSError:
            listings[pycache] = []
    compiled: list[tuple[str, str]] = []
    for name in listings[pycache]:
        split = _split_name(name)
        if split is not None and split[0] == source.stem:
            compiled.append((split[1], name))
    kept: set[str] = set()
    try:
        if not compiled or source.read_bytes() != text:
            return kept  # nothing compiled there, or the checkout holds another version
        stat = source.stat()
    except OSError:
        return kept
    for tag, name in compiled:
        try:
            checked = _checked(Path(pycache, name).read_bytes(), text, stat, tag)
        except OSError:
            continue
        if checked is not None and _store(cache / tag / f"{key}.pyc", checked):
            kept.add(tag)
    return kept


def _checked(code: bytes, text: bytes, stat: os.stat_result, tag: str) -> bytes | None:
    """``code`` in the form kept for ``tag``, if it is the bytecode of ``text`` (whose file's
    status is ``stat``); ``None`` otherwise, or for another Python's format, whose hash key and
    marshal format are not ours.

    A timestamp pyc is the source's only when its time and size match, as Python and pytest
    check it. Python's own modules are kept as checked hash-based pycs; pytest's rewritten ones
    keep their format (older pytest versions read only timestamp pycs: those are re-dated when seeded,
    see ``_for_pytest``).
    """
    magic = importlib.util.MAGIC_NUMBER
    if code[:4] != magic or len(code) < 16:
        return None
    if code[4:8] == _CHECKED_HASH:
        return code if code[8:16] == importlib.util.source_hash(text) else None
    if int.from_bytes(code[4:8], "little") != 0 or code[8:16] != _timestamp(stat):
        return None
    if _by_pytest(tag):
        return code
    return magic + _CHECKED_HASH + importlib.util.source_hash(text) + code[16:]


def _store(kept: Path, code: bytes) -> bool:
    """Write ``kept`` atomically (best effort); whether it is there now."""
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        partial = kept.with_name(f".{kept.name}.{os.getpid()}.partial")
        partial.write_bytes(code)
        os.replace(partial, kept)
    except OSError:
        return False
    return True


def keep_tree(prefix: Path, cache: Path, worktree: Path) -> None:
    """Keep, by content, the bytecode a run compiled for ``worktree``'s own modules."""
    mirror = prefix / worktree.relative_to(worktree.anchor)
    for root, _dirs, files in os.walk(mirror):
        for name in files:
            split = _split_name(name)
            if split is None:
                continue
            stem, tag = split
            source = worktree / Path(root).relative_to(mirror) / f"{stem}.py"
            try:
                code = Path(root, name).read_bytes()
                text = source.read_bytes()
                stat = source.stat()
            except OSError:
                continue
            kept = cache / tag / f"{_content_key(text)}.pyc"
            if kept.exists():
                continue
            checked = _checked(code, text, stat, tag)
            if checked is not None:
                _store(kept, checked)

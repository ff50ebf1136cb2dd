"""Library bytecode shared between hermetic test runs, so each run compiles only its own tree.

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
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

_STDLIB_DIR = re.compile(r"python3\.\d+")
_SITE_DIRS = frozenset(["site-packages", "dist-packages"])


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

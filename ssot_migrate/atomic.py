"""Replace a user's file atomically, the way an editor saving it would: through symlinks, mode kept.

A temporary file beside the target, then ``os.replace``: an interrupted write leaves the old file.
A symlinked ``pyproject.toml`` or baseline stays a symlink and its target (perhaps shared) is
what changes; the target keeps its permission bits; anything but a regular file (a device such
as ``/dev/full``, a FIFO) is refused rather than replaced.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from ssot_migrate.errors import UsageError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: bytes, *, new_mode: int | None = None) -> None:
    """Make ``path`` (or the file its symlinks lead to) hold exactly ``data``.

    An existing file keeps its permission bits; a new one gets ``new_mode``, else what the umask
    allows (``0o666``), as an editor would create it.

    ``UsageError`` when it exists and is not a regular file; ``OSError`` from the system
    (a full disk, no permission) is left to the caller, which knows what the file is for.
    """
    target = Path(os.path.realpath(path))
    try:
        st: os.stat_result | None = target.stat()
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise UsageError(
            f"{path}: not a regular file (a device, FIFO or socket); refusing to replace it"
        )
    if st is not None:
        mode = stat.S_IMODE(st.st_mode)
    else:
        mode = new_mode if new_mode is not None else 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

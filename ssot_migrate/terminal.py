"""Text shown to people: names that come from a repository are shown, never interpreted.

A file name may hold any byte but ``/`` and NUL, ANSI escape sequences included; printed raw it
would recolour, retitle or rewrite the user's terminal (and, in a commit message, the terminal
of whoever runs ``git log``).
"""

from __future__ import annotations

import os
import re

# How often a plain progress line is printed on long runs when stderr is not a terminal.
PROGRESS_SECONDS_ENV = "SSOT_MIGRATE_PROGRESS_SECONDS"

# C0 controls but tab and newline, DEL, and C1 controls (0x9b is a one-byte CSI).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with every control character written as a ``\\xNN`` escape."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def progress_seconds(default: float = 30.0) -> float:
    """Seconds between plain progress lines (``SSOT_MIGRATE_PROGRESS_SECONDS``, default 30)."""
    try:
        value = float(os.environ.get(PROGRESS_SECONDS_ENV, "") or default)
    except ValueError:
        return default
    return value if value >= 0 else default

"""Reliability counts: what each property and fault module exercised, appended to
``$SSOT_RELIABILITY_COUNTS``.
"""

from __future__ import annotations

import os
from collections import Counter


def append_counts(label: str, *counters: Counter[str]) -> None:
    """Append ``label<TAB>key<TAB>value`` lines to ``$SSOT_RELIABILITY_COUNTS``, then reset.

    The normal suite and ``tests/stress`` share the counters: each example is counted once.
    """
    path = os.environ.get("SSOT_RELIABILITY_COUNTS")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        for counts in counters:
            handle.writelines(f"{label}\t{key}\t{value}\n" for key, value in sorted(counts.items()))
            counts.clear()

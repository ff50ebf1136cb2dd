"""The scan ratchet: save per-target violation counts, later fail only when one rose above them.

Format (JSON, stable)::

    {"schema_version": 1, "kind": "ssot-migrate-baseline", "commit": "<sha>",
     "targets": {"websocket-manager": {"legacy-import": 38, "dual-import": 12, ...}}}

Counts are *violations* (``import-paths`` counts the paths beyond the one that should remain), so
a target or category missing from the baseline is held to zero.
"""

from __future__ import annotations

import json
import stat
from dataclasses import dataclass
from pathlib import Path

from ssot_migrate.atomic import write_atomic
from ssot_migrate.errors import UsageError
from ssot_migrate.scan.analysis import CATEGORIES, ScanReport

BASELINE_KIND = "ssot-migrate-baseline"
BASELINE_VERSION = 1
MAX_BASELINE_BYTES = 16 * 2**20  # a baseline holds a few counts per target: bound the read


@dataclass(frozen=True)
class Rise:
    """A count above its baseline."""

    target: str
    category: str
    baseline: int
    current: int


def baseline_dict(report: ScanReport) -> dict[str, object]:
    """The baseline document for ``report``."""
    return {
        "schema_version": BASELINE_VERSION,
        "kind": BASELINE_KIND,
        "commit": report.commit,
        "targets": {
            t.target: {c: t.violations.get(c, 0) for c in CATEGORIES} for t in report.targets
        },
        # Files scan could not parse: whatever they hold is not in the counts above.
        "skipped": [path for path, _, _ in report.skipped],
    }


def write_baseline(report: ScanReport, path: Path) -> None:
    """Save ``report``'s violation counts to ``path`` atomically (temp file, then rename)."""
    text = json.dumps(baseline_dict(report), indent=2, sort_keys=False) + "\n"
    directory = path.parent if str(path.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text.encode("utf-8"))
    except UsageError as exc:
        raise UsageError(f"--write-baseline {exc}") from exc
    except OSError as exc:
        raise UsageError(f"--write-baseline {path}: cannot write: {exc.strerror or exc}") from exc


def read_baseline(path: Path) -> dict[str, dict[str, int]]:
    """Per-target counts from a baseline file; ``UsageError`` naming the file when unusable."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise UsageError(f"--baseline {path}: not a regular file (a device, FIFO or socket)")
        with path.open("rb") as handle:
            raw = handle.read(MAX_BASELINE_BYTES + 1)
        if len(raw) > MAX_BASELINE_BYTES:
            raise UsageError(
                f"--baseline {path}: larger than {MAX_BASELINE_BYTES // 2**20} MiB; a baseline "
                "holds a few counts per target"
            )
        data = json.loads(raw.decode("utf-8"))
    except FileNotFoundError as exc:
        raise UsageError(
            f"--baseline {path}: no such file (create one with --write-baseline {path})"
        ) from exc
    except RecursionError as exc:
        raise UsageError(f"--baseline {path}: not a JSON baseline: nested too deeply") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"--baseline {path}: not a readable JSON baseline: {exc}") from exc
    if not isinstance(data, dict) or data.get("kind") != BASELINE_KIND:
        raise UsageError(f'--baseline {path}: not an ssot-migrate baseline (missing "kind")')
    if data.get("schema_version") != BASELINE_VERSION:
        raise UsageError(
            f"--baseline {path}: schema_version {data.get('schema_version')!r} is not supported "
            f"(expected {BASELINE_VERSION}); rewrite it with --write-baseline"
        )
    targets = data.get("targets")
    if not isinstance(targets, dict):
        raise UsageError(f'--baseline {path}: "targets" must be an object')
    result: dict[str, dict[str, int]] = {}
    for name, counts in targets.items():
        if not isinstance(counts, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in counts.values()
        ):
            raise UsageError(f"--baseline {path}: targets.{name} must map categories to integers")
        result[str(name)] = {str(k): int(v) for k, v in counts.items()}
    return result


def rises(report: ScanReport, baseline: dict[str, dict[str, int]]) -> list[Rise]:
    """Every (target, category) whose violation count is above the baseline's."""
    found: list[Rise] = []
    for target in report.targets:
        saved = baseline.get(target.target, {})
        for category in CATEGORIES:
            current = target.violations.get(category, 0)
            allowed = saved.get(category, 0)
            if current > allowed:
                found.append(Rise(target.target, category, allowed, current))
    return found

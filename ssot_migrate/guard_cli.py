"""``guard --write ruff|import-linter``: the command around ``guard``'s pure planning.

It reads the configuration files from the working tree (where ruff and import-linter read
them) and writes the edited ones atomically; ``guard`` decides what they hold.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.text import Text

from ssot_migrate.atomic import write_atomic
from ssot_migrate.config_schema import GUARDS
from ssot_migrate.errors import UsageError
from ssot_migrate.guard import guard_outcome
from ssot_migrate.guard_plan import Reader, legacy_sites_of


def disk_reader(repo: Path) -> Reader:
    """Read configuration files from the working tree of ``repo``."""

    def read(path: str) -> bytes | None:
        file = repo / path
        try:
            return file.read_bytes() if file.is_file() else None
        except OSError as exc:
            raise UsageError(f"{file}: cannot read: {exc}") from exc

    return read


def _write_atomic(path: Path, text: str) -> None:
    write_atomic(path, text.encode("utf-8"))


def run_guard_command(kind: str, repo: Path, config_path: Path | None, *, console: Console) -> int:
    """Write the guard where ruff and import-linter read their configuration."""
    from ssot_migrate.discovery import discover_aliases
    from ssot_migrate.engine import open_config_and_snapshot

    if kind not in GUARDS:
        raise UsageError(f"--write {kind!r}: expected one of {', '.join(GUARDS)}")
    config, snapshot = open_config_and_snapshot(repo, config_path)
    with snapshot:
        config = discover_aliases(config, snapshot)
        sites = legacy_sites_of(config, snapshot) if kind == "import-linter" else []
        outcome = guard_outcome(kind, config, snapshot, disk_reader(config.repo), sites)
    for line in outcome.lines:
        console.print(Text(f"guard: {line}"))
    changed = {p: after for p, (before, after) in outcome.files.items() if before != after}
    if not changed:
        console.print(Text(f"guard: the {kind} guard is already in place; nothing to do"))
        return 0
    for path, after in sorted(changed.items()):
        _write_atomic(config.repo / path, after.decode("utf-8"))
        console.print(Text(f"guard: wrote {config.repo / path}"))
    return 0

"""The ``init`` command's body: read a commit, find the fragmentation, print or write the proposal.

Files come from the commit (``--base``, default ``HEAD``) like every other command; nothing of the
project is imported or run. Every Python file is parsed once, in a process pool when there is
enough source to pay for one; a file that does not parse is listed, never fatal.
"""

from __future__ import annotations

import os
import sys
import time
import tomllib
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from rich.console import Console

from ssot_migrate.errors import ConfigError, UsageError
from ssot_migrate.init_analysis import analyse, detect_test_command
from ssot_migrate.init_collect import file_facts
from ssot_migrate.init_facts import FileFacts
from ssot_migrate.init_proposal import Proposal
from ssot_migrate.init_render import FORMATS, insert_into_pyproject, render, render_toml
from ssot_migrate.model import Config, SourceFile

# Below this much source a process pool costs more than it saves (the engine's figure).
_POOL_MIN_BYTES = 256 * 1024


def _task(task: tuple[SourceFile, bytes]) -> FileFacts:
    return file_facts(task[1], task[0])


def collect_facts(tasks: Sequence[tuple[SourceFile, bytes]], jobs: int | None) -> list[FileFacts]:
    """``file_facts`` of every task, in a process pool when it pays; a crashed worker costs only
    the files it had (each retried alone, and listed if it crashes again)."""
    workers = min(jobs if jobs and jobs > 0 else (os.cpu_count() or 1), len(tasks))
    if workers <= 1 or sum(len(source) for _, source in tasks) < _POOL_MIN_BYTES:
        return [_task(task) for task in tasks]
    # Biggest first, so one large file does not finish last on an otherwise idle pool.
    order = sorted(range(len(tasks)), key=lambda i: -len(tasks[i][1]))
    found: dict[int, FileFacts] = {}
    try:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            chunk = max(1, len(tasks) // (8 * workers))
            for index, facts in zip(
                order, pool.map(_task, [tasks[i] for i in order], chunksize=chunk)
            ):
                found[index] = facts
    except BrokenProcessPool:
        for index in order:
            if index in found:
                continue
            file = tasks[index][0]
            try:
                with ProcessPoolExecutor(max_workers=1) as alone:
                    found[index] = alone.submit(_task, tasks[index]).result()
            except BrokenProcessPool:
                found[index] = FileFacts(
                    file.path, file.module, file.is_package, error="the parser crashed on this file"
                )
    return [found[i] for i in range(len(tasks))]


def _settings(repo: Path) -> dict[str, Any]:
    """``source-roots``/``include``/``exclude`` of an existing table, so --merge reads the same files."""
    path = repo / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    table = data.get("tool", {}).get("ssot-migrate")
    return table if isinstance(table, dict) else {}


def propose(repo: Path, *, base: str = "HEAD", jobs: int | None = None) -> Proposal:
    """Read ``repo`` at ``base`` and return what ``init`` proposes."""
    from ssot_migrate.config import default_source_roots
    from ssot_migrate.engine import CommitFiles, Snapshot

    started = time.perf_counter()
    files = CommitFiles(repo, base)
    try:
        settings = _settings(repo)
        roots = settings.get("source-roots")
        config = Config(
            repo=files.repo_path,
            source=files.repo_path / "pyproject.toml",
            targets=(),
            source_roots=tuple(r.strip("/") for r in roots)
            if isinstance(roots, list)
            else default_source_roots(files.all_paths),
            include=tuple(settings.get("include", ()) or ()),
            exclude=tuple(settings.get("exclude", ()) or ()),
        )
        snapshot = Snapshot(files, config)
        tasks: list[tuple[SourceFile, bytes]] = []
        skipped: list[tuple[str, str, int]] = []
        for path in snapshot.paths:
            try:
                tasks.append((snapshot.source_file(path), snapshot.read(path)))
            except Exception as exc:  # noqa: BLE001 - a corrupt object store costs one file
                skipped.append((path, f"cannot read the file's git object: {exc}", 0))
        facts = collect_facts(tasks, jobs)
        skipped += [(f.path, f.error, f.error_line) for f in facts if f.error]
        command = detect_test_command(files.all_paths, files.read_or_empty)
        targets = analyse(facts, snapshot)
        return Proposal(
            targets=targets,
            test_command=command,
            skipped=tuple(sorted(skipped)),
            files_listed=len(snapshot.paths),
            files_parsed=len(facts) - sum(1 for f in facts if f.error),
            elapsed=time.perf_counter() - started,
            commit=files.commit,
        )
    finally:
        files.close()


def run_init_command(
    repo: Path,
    *,
    fmt: str = "table",
    write: bool = False,
    merge: bool = False,
    base: str = "HEAD",
    jobs: int | None = None,
    console: Console,
) -> int:
    """Print the proposal on stdout (``--format``), or write it into ``pyproject.toml``."""
    from ssot_migrate.atomic import write_atomic

    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if merge and not write:
        raise UsageError("--merge only applies with --write")
    pyproject = repo / "pyproject.toml"
    text = ""
    if write:
        # Refuse before the work, not after it.
        try:
            raw = pyproject.read_bytes() if pyproject.exists() else b""
            text = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{pyproject}: cannot read as UTF-8 text: {exc}") from exc
        if not merge and _settings_present(text):
            insert_into_pyproject(
                text.replace("\r\n", "\n"), _empty(), merge=False, source=str(pyproject)
            )
    proposal = propose(repo, base=base, jobs=jobs)
    written = proposal.written_targets()
    console.print(
        f"init: {proposal.files_listed} files listed, {proposal.files_parsed} analysed, "
        f"{len(written)} targets proposed ({len(proposal.targets)} with low-confidence ones), "
        f"{len(proposal.skipped)} skipped, {proposal.elapsed:.2f}s",
        markup=False,
    )
    for path, reason, line in proposal.skipped:
        console.print(f"skipped {path}:{line}: {reason}", markup=False)
    if not write:
        out = Console(
            file=sys.stdout,
            highlight=False,
            soft_wrap=True,
            markup=False,
            force_terminal=sys.stdout.isatty(),
        )
        render(proposal, fmt, out)
        sys.stdout.flush()
        return 0
    crlf = "\r\n" in text
    updated, added = insert_into_pyproject(
        text.replace("\r\n", "\n"), proposal, merge=merge, source=str(pyproject)
    )
    if not added:
        console.print(f"init: nothing new to propose; {pyproject} left as it is", markup=False)
        return 0
    if crlf:
        updated = updated.replace("\n", "\r\n")
    try:
        write_atomic(pyproject, updated.encode("utf-8"))
    except OSError as exc:
        raise UsageError(f"{pyproject}: cannot write: {exc}") from exc
    console.print(
        f"init: wrote {len(added)} target(s) to {pyproject}: {', '.join(added)}", markup=False
    )
    _check_written(repo, console)
    console.print(
        "next: review the table, then `ssot-migrate scan` and `ssot-migrate phase1 --dry-run`",
        markup=False,
    )
    return 0


def _settings_present(text: str) -> bool:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return False
    tool = data.get("tool")
    return isinstance(tool, dict) and "ssot-migrate" in tool


def _empty() -> Proposal:
    from ssot_migrate.init_proposal import TestCommand

    return Proposal(targets=(), test_command=TestCommand(None, ""))


def _check_written(repo: Path, console: Console) -> None:
    """Validate what was written as ``scan`` will; say what it refuses (it is a proposal)."""
    from ssot_migrate.engine import open_config_and_snapshot

    try:
        _, snapshot = open_config_and_snapshot(repo, None)
    except ConfigError as exc:
        console.print(
            f"warning: the configuration written does not validate yet: {exc}", markup=False
        )
        return
    snapshot.close()


__all__ = ["collect_facts", "propose", "render_toml", "run_init_command"]

"""``phaseN --dry-run``: the diff the phase's branch would hold on stdout, a summary on stderr."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.text import Text

from ssot_migrate.diffs import unified_diff_bytes
from ssot_migrate.engine import open_config_and_snapshot
from ssot_migrate.model import RunSummary
from ssot_migrate.phases import choose_base, compute_phase, describe_base
from ssot_migrate.terminal import printable


def run_dry_run(
    phase: str,
    repo: Path,
    config_path: Path | None,
    *,
    base: str = "HEAD",
    jobs: int | None = None,
    python: Path | None = None,
    strict: bool = False,
    console: Console,
) -> int:
    """Compute ``phase`` on the base branch mode would use and print its diff; nothing is written.

    The base is chosen exactly as ``workflow.create_phase_branch`` chooses it (the previous phase's branch
    while it exists and is not merged into ``base``), so the diff applies to the branch's base
    and equals the branch's commit; which base was used goes to stderr.
    """
    # Validated against ``base``'s files, exactly as branch mode validates.
    config, snapshot = open_config_and_snapshot(
        repo, config_path, base, python=python, strict=strict
    )
    with snapshot:
        choice = choose_base(repo.resolve(), config, phase, base, base_sha=snapshot.commit)
        console.print(Text(describe_base(phase, choice)))
        # Usually the phase starts where the configuration was validated: that snapshot is the
        # one to read, not a second listing of the commit and a second set of git processes.
        reuse = snapshot if choice.commit == snapshot.commit else None
        summary = compute_phase(
            config, phase, base=choice.commit, jobs=jobs, progress=True, snapshot=reuse
        )
    diff = unified_diff_bytes(summary.outcomes)
    sys.stdout.buffer.write(diff)
    sys.stdout.buffer.flush()
    render_summary(summary, console, config.decisions)
    return 0


def render_summary(summary: RunSummary, console: Console, decisions: Sequence[str] = ()) -> None:
    """The human summary of a phase run: counts, per-target references, skips, warnings, and
    what needs a decision (``decisions``: the configuration's, see ``Config.decisions``)."""
    changed = summary.changed
    lines = [
        f"{summary.phase}: {summary.files_listed} Python files listed, "
        f"{summary.files_parsed} parsed, {len(changed)} changed "
        f"({summary.elapsed:.2f} s)"
    ]
    for target, count in summary.changes_per_target().items():
        lines.append(f"  {target}: {count} reference(s) rewritten")
    for target, alias in summary.discovered:
        lines.append(f"  {target}: discovered re-export path {alias} (handled as an alias)")
    for message in summary.messages:
        lines.append(f"  {message}")
    for warning in summary.warnings:
        lines.append(f"warning: {warning}")
    skipped = summary.skipped
    if skipped:
        lines.append(f"skipped {len(skipped)} file(s), left unchanged:")
        for outcome in skipped:
            where = f"{outcome.path}:{outcome.line}" if outcome.line else outcome.path
            lines.append(f"  {where}: {outcome.reason}")
    for path, reason in summary.excluded:
        lines.append(f"  not processed: {path} ({reason})")
    for decision in decisions:
        lines.append(f"needs a decision: {decision}")
    notes = summary.notes
    if notes:
        lines.append(f"{len(notes)} note(s):")
        for note in notes:
            label = "needs a decision" if note.severity == "needs-decision" else note.severity
            lines.append(f"  {note.path}:{note.line}: {label}: {note.message}")
    if not changed:
        lines.append("nothing to do: the diff is empty")
    for line in lines:
        console.print(Text(printable(line)))

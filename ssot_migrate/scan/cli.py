"""The ``scan`` command's body: parse, call, render (the Typer signature lives in ``cli.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console

from ssot_migrate.errors import UsageError
from ssot_migrate.scan.baseline import read_baseline, rises, write_baseline
from ssot_migrate.scan.report import FORMATS, render


def run_scan_command(
    repo: Path,
    config_path: Path | None,
    *,
    fmt: str = "table",
    check: bool = False,
    baseline: Path | None = None,
    write_baseline: Path | None = None,
    base: str = "HEAD",
    jobs: int | None = None,
    python: Path | None = None,
    strict: bool = False,
    console: Console,
) -> int:
    """Scan, print the report on stdout, and return the exit code (ratchet or ``--check``).

    0: no violation (or none above ``--baseline``); 1: ``--check`` found violations, or a count
    rose above the baseline; configuration and usage errors raise (exit 2 in ``cli.py``).
    """
    from ssot_migrate.engine import open_config_and_snapshot
    from ssot_migrate.scan.analysis import scan_snapshot

    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    # A relative baseline is the repository's file (as the pre-commit hooks name it), wherever
    # the command is run from.
    baseline = repo / baseline if baseline is not None and not baseline.is_absolute() else baseline
    if write_baseline is not None and not write_baseline.is_absolute():
        write_baseline = repo / write_baseline
    saved = read_baseline(baseline) if baseline is not None else None
    config, snapshot = open_config_and_snapshot(
        repo, config_path, base, python=python, strict=strict
    )
    for warning in config.warnings:
        console.print(f"warning: {warning}", markup=False)
    with snapshot:
        report = scan_snapshot(config, snapshot, jobs=jobs, progress=True)
    out = Console(
        file=sys.stdout,
        highlight=False,
        soft_wrap=True,
        markup=False,
        force_terminal=sys.stdout.isatty(),
    )
    render(report, fmt, out)
    sys.stdout.flush()
    violations = sum(report.violations().values())
    console.print(
        f"scan: {report.files_listed} files listed, {report.files_parsed} analysed, "
        f"{len(report.sites)} sites, {violations} violations, {len(report.skipped)} skipped, "
        f"{report.elapsed:.2f}s; verdict: {report.verdict}",
        markup=False,
    )
    for path, reason, line in report.skipped:
        console.print(f"skipped {path}:{line}: {reason}", markup=False)
    if report.skipped:
        console.print(
            f"warning: {len(report.skipped)} file(s) could not be analysed; "
            "the counts and the verdict do not cover them",
            markup=False,
        )
        if check:
            console.print(
                f"scan --check: could not check {len(report.skipped)} file(s) "
                f"({', '.join(path for path, _, _ in report.skipped)}): they do not parse",
                markup=False,
            )
    if write_baseline is not None:
        write_baseline_file(report, write_baseline, console)
    if saved is not None:
        rose = rises(report, saved)
        for rise in rose:
            console.print(
                f"ratchet: {rise.target} {rise.category} rose from {rise.baseline} "
                f"to {rise.current}",
                markup=False,
            )
        if rose:
            return 1
        console.print(f"ratchet: no count above the baseline {baseline}", markup=False)
        return 0
    if check and violations:
        return 1
    return 0


def write_baseline_file(report: object, path: Path, console: Console) -> None:
    """Write the baseline and say so on stderr."""
    from ssot_migrate.scan.analysis import ScanReport

    assert isinstance(report, ScanReport)
    write_baseline(report, path)
    console.print(f"baseline written to {path}", markup=False)

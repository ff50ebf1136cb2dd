"""Render a ``ScanReport``: Rich table, JSON (stable schema), Markdown (PR bodies), SARIF 2.1.0.

Rendering only; analysis is in ``analysis.py``. Code lines never go through Rich markup (a ``[x]`` in
source would vanish): everything user-derived is a ``rich.text.Text``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from itertools import groupby
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ssot_migrate import __version__
from ssot_migrate.scan.analysis import (
    CATEGORIES,
    DESCRIPTIONS,
    SCHEMA_VERSION,
    ScanReport,
    Site,
    TargetReport,
)
from ssot_migrate.terminal import printable

FORMATS = ("table", "json", "markdown", "sarif")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/ssot-migrate/"


def _should_be(category: str) -> str:
    return "1" if category == "import-paths" else "0"


_QUIET_NAMES = 20  # targets named on the one line that stands for those with nothing to report


def _nothing_to_report(target: TargetReport) -> bool:
    """Consolidated, at most one path and one implementation file, nothing discovered."""
    return (
        target.verdict == "consolidated"
        and target.implementation_files <= 1
        and len(target.used_paths) <= 1
        and all(p.origin != "discovered" for p in target.paths)
        and not target.drift
    )


# --------------------------------------------------------------------------- table


def render_table(report: ScanReport, console: Console) -> None:
    """A summary table per target, the verdict, then every site grouped by file."""
    for warning in report.warnings:
        console.print(Text(f"warning: {warning}", style="yellow"))
    quiet = [t for t in report.targets if _nothing_to_report(t)]
    for target in report.targets:
        if _nothing_to_report(target):
            continue
        table = Table(title=Text(f"{target.target}: {target.canonical}"), title_justify="left")
        table.add_column("category")
        table.add_column("count", justify="right")
        table.add_column("should be", justify="right")
        for category in CATEGORIES:
            count = target.counts.get(category, 0)
            bad = target.violations.get(category, 0) > 0
            table.add_row(
                Text(category),
                Text(str(count), style="bold red" if bad else "green"),
                Text(_should_be(category)),
            )
        console.print(table)
        console.print(
            Text(
                f"implementation files: {target.implementation_files} (should be 1); "
                f"paths to the object: {', '.join(target.used_paths)}"
            )
        )
        discovered = [p.dotted for p in target.paths if p.origin == "discovered"]
        if discovered:
            console.print(Text(f"discovered re-export paths: {', '.join(discovered)}"))
        verdict = target.verdict
        console.print(
            Text(
                f"verdict: {verdict}",
                style="bold green" if verdict == "consolidated" else "bold red",
            )
        )
        console.print()
    if quiet:
        # A configuration of hundreds of targets is mostly targets already done: one line for
        # them all, not a table of zeros each (JSON, Markdown and SARIF still list every target).
        names = ", ".join(t.target for t in quiet[:_QUIET_NAMES])
        more = len(quiet) - _QUIET_NAMES
        if more > 0:
            names += f" and {more} more (--format json lists every target)"
        line = Text("verdict: consolidated", style="bold green")
        line.append(f", nothing to report ({len(quiet)} target(s)): {names}")
        console.print(line)
        console.print()
    for path, sites in groupby(report.sites, key=lambda s: s.path):
        console.print(Text(printable(path), style="bold"))
        for site in sites:
            line = Text(f"  {site.line}:{site.column}  ")
            line.append(site.category, style="yellow")
            line.append(f"  [{site.target}] " if len(report.targets) > 1 else "  ")
            line.append(printable(site.message))
            console.print(line)
            if site.code:
                console.print(Text(printable(f"      {site.code}"), style="dim"))
    for path, reason, line_no in report.skipped:
        console.print(Text(printable(f"skipped {path}:{line_no}: {reason}"), style="yellow"))


# --------------------------------------------------------------------------- json


def _site_json(site: Site) -> dict[str, Any]:
    return {
        "category": site.category,
        "target": site.target,
        "path": site.path,
        "line": site.line,
        "column": site.column,
        "message": site.message,
        "code": site.code,
    }


def report_dict(report: ScanReport) -> dict[str, Any]:
    """The JSON document (schema ``ssot_migrate/schemas/scan-report.schema.json``)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "ssot-migrate", "version": __version__},
        "commit": report.commit,
        "verdict": report.verdict,
        "counts": report.counts(),
        "violations": report.violations(),
        "files": {
            "listed": report.files_listed,
            "parsed": report.files_parsed,
            "skipped": len(report.skipped),
        },
        "skipped": [{"path": p, "reason": r, "line": n} for p, r, n in report.skipped],
        "targets": [
            {
                "name": t.target,
                "canonical": t.canonical,
                "verdict": t.verdict,
                "counts": {c: t.counts.get(c, 0) for c in CATEGORIES},
                "violations": {c: t.violations.get(c, 0) for c in CATEGORIES},
                "implementation_files": t.implementation_files,
                "paths": [
                    {"path": p.dotted, "origin": p.origin, "file": p.path, "line": p.line}
                    for p in t.paths
                ],
                "used_paths": list(t.used_paths),
                "drift": [
                    {
                        "class": d.candidate,
                        "overlap": d.overlap,
                        "missing": list(d.missing),
                        "extra": list(d.extra),
                        "mismatches": [m.message for m in d.mismatches],
                    }
                    for d in t.drift
                ],
            }
            for t in report.targets
        ],
        "sites": [_site_json(s) for s in report.sites],
        "warnings": list(report.warnings),
    }


def render_json(report: ScanReport) -> str:
    """Stable JSON: sorted sites, every category present, ``schema_version`` first."""
    return json.dumps(report_dict(report), indent=2) + "\n"


# --------------------------------------------------------------------------- markdown


def _md(text: str) -> str:
    """Escape what Markdown tables and inline text would otherwise interpret."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "'").replace("\n", " ")


def render_markdown_summary(before: Mapping[str, int], after: Mapping[str, int]) -> str:
    """A before → after table of category counts (commit messages, PR bodies)."""
    lines = ["| category | before | after |", "| --- | ---: | ---: |"]
    for category in [*CATEGORIES, *sorted((set(before) | set(after)) - set(CATEGORIES))]:
        if category not in before and category not in after:
            continue
        old, new = before.get(category, 0), after.get(category, 0)
        mark = " ✓" if new < old else (" ✗" if new > old else "")
        lines.append(f"| {category} | {old} | {new}{mark} |")
    return "\n".join(lines) + "\n"


def render_counts_line(before: Mapping[str, int], after: Mapping[str, int]) -> str:
    """One line per changed category, ``legacy-import 38 → 0``, for plain-text commit messages."""
    return "\n".join(
        f"{category} {before.get(category, 0)} → {after.get(category, 0)}"
        for category in CATEGORIES
        if before.get(category, 0) != after.get(category, 0)
    )


def render_markdown(report: ScanReport, *, max_sites: int = 200) -> str:
    """A Markdown report: verdict, a counts table per target, paths, then the sites per file."""
    out = [f"## ssot-migrate scan: {report.verdict}", ""]
    out.append(
        f"Commit `{report.commit[:12]}`; {report.files_listed} files listed, "
        f"{report.files_parsed} analysed, {len(report.skipped)} skipped."
    )
    out.append("")
    for warning in report.warnings:
        out += [f"> **Warning:** {_md(warning)}", ""]
    for path, reason, line_no in report.skipped:
        out.append(f"- skipped `{_md(path)}:{line_no}`: {_md(reason)} (not analysed)")
    if report.skipped:
        out.append("")
    for target in report.targets:
        out.append(f"### {_md(target.target)}: `{_md(target.canonical)}` ({target.verdict})")
        out.append("")
        out.append("| category | count | should be |")
        out.append("| --- | ---: | ---: |")
        for category in CATEGORIES:
            out.append(
                f"| {category} | {target.counts.get(category, 0)} | {_should_be(category)} |"
            )
        out.append("")
        out.append(f"Implementation files: {target.implementation_files} (should be 1).")
        out.append("")
        out.append("Paths to the object:")
        for p in target.paths:
            used = " (used)" if p.dotted in target.used_paths else ""
            out.append(f"- `{_md(p.dotted)}` ({p.origin}){used}")
        out.append("")
    if report.sites:
        shown = report.sites[:max_sites]
        out.append(f"<details><summary>{len(report.sites)} sites</summary>")
        out.append("")
        for path, sites in groupby(shown, key=lambda s: s.path):
            out.append(f"**{_md(path)}**")
            out.append("")
            for site in sites:
                out.append(
                    f"- `{site.line}:{site.column}` **{site.category}**: {_md(site.message)}"
                )
            out.append("")
        if len(report.sites) > max_sites:
            out.append(f"… and {len(report.sites) - max_sites} more (see `scan --format json`).")
            out.append("")
        out.append("</details>")
        out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------- sarif


def render_sarif(report: ScanReport) -> str:
    """SARIF 2.1.0: one rule per category, one result per site, paths relative to the repo."""
    rules = [
        {
            "id": category,
            "name": "".join(part.title() for part in category.split("-")),
            "shortDescription": {"text": DESCRIPTIONS[category]},
            "defaultConfiguration": {"level": "warning"},
            "helpUri": INFORMATION_URI,
        }
        for category in CATEGORIES
    ]
    index = {category: i for i, category in enumerate(CATEGORIES)}
    results = []
    for site in report.sites:
        region: dict[str, Any] = {
            "startLine": max(1, site.line),
            "startColumn": max(1, site.column),
        }
        if site.code:
            region["snippet"] = {"text": site.code}
        results.append(
            {
                "ruleId": site.category,
                "ruleIndex": index[site.category],
                "level": "warning",
                "message": {"text": site.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": site.path, "uriBaseId": "%SRCROOT%"},
                            "region": region,
                        }
                    }
                ],
                "partialFingerprints": {
                    "ssotSite/v1": f"{site.category}:{site.target}:{site.path}:{site.message}"
                },
                "properties": {"target": site.target},
            }
        )
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ssot-migrate",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "repository root"}}},
                "results": results,
                # Files no parser could read: their sites are unknown, which a reader must see.
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [
                            {
                                "level": "warning",
                                "descriptor": {"id": "skipped-file"},
                                "message": {"text": f"not analysed: {reason}"},
                                "locations": [
                                    {
                                        "physicalLocation": {
                                            "artifactLocation": {
                                                "uri": path,
                                                "uriBaseId": "%SRCROOT%",
                                            },
                                            "region": {"startLine": max(1, line)},
                                        }
                                    }
                                ],
                            }
                            for path, reason, line in report.skipped
                        ],
                    }
                ],
                "properties": {
                    "commit": report.commit,
                    "verdict": report.verdict,
                    "counts": report.counts(),
                },
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def render(report: ScanReport, fmt: str, console: Console) -> None:
    """Print ``report`` in ``fmt`` on ``console`` (stdout); unknown formats are the caller's error."""
    if fmt == "table":
        render_table(report, console)
        return
    text = {"json": render_json, "markdown": render_markdown, "sarif": render_sarif}[fmt](report)
    console.file.write(text)

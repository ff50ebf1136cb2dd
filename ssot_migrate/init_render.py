"""Render what ``init`` proposes: a table for people, TOML to paste or write, JSON for tools.

Rendering only (analysis is in ``init_analysis``). The TOML is the ``[tool.ssot-migrate]`` table the
configuration loader reads, each entry followed by its evidence as a comment, so a reviewer sees
why every line is there::

    [[tool.ssot-migrate.targets]]
    name = "manager"
    canonical = "app.core.unified.Manager"   # defined at app/core/unified.py:12
    aliases = [
        "app.compat.Manager",  # reexport, high, 4 sites: app/compat.py:3: compat module: re-exports it
    ]

:func:`insert_into_pyproject` adds it to a ``pyproject.toml`` text, keeping every existing byte.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ssot_migrate import __version__
from ssot_migrate.config_schema import TABLE, TOP_LEVEL, key_for
from ssot_migrate.errors import UsageError
from ssot_migrate.init_proposal import Candidate, Proposal, ProposedTarget

FORMATS = ("table", "toml", "json")
SCHEMA_VERSION = 1
# Every key written is spelt by the schema, from the ``ProposedTarget`` attribute it writes.
_LIST_KEYS = tuple((key_for(a), a) for a in ("aliases", "facades", "test_doubles"))
_TARGETS = f"[[{TABLE}.{key_for('targets', TOP_LEVEL)}]]"
_TEST_COMMAND = key_for("test_command", TOP_LEVEL)


def _comment(text: str) -> str:
    """One line of comment text (nothing a file name could smuggle in ends the comment)."""
    return " ".join(text.replace("\r", " ").replace("\n", " ").split())


def _quote(value: str) -> str:
    # Dotted names and commands: JSON string escapes are valid TOML basic-string escapes.
    return json.dumps(value, ensure_ascii=False)


def _summary(candidate: Candidate) -> str:
    first = candidate.evidence[0] if candidate.evidence else None
    where = f"{first.path}:{first.line}: " if first else ""
    return _comment(
        f"{candidate.kind}, {candidate.confidence}, "
        f"{candidate.sites} site{'s' if candidate.sites != 1 else ''}: "
        f"{where}{candidate.reason}"
    )


# --------------------------------------------------------------------------- toml


def _target_block(target: ProposedTarget, rank: int, *, dropped: Iterable[str] = ()) -> list[str]:
    skip = set(dropped)
    written = [c for c in target.written() if c.dotted not in skip]
    lines = [
        (
            f"# {rank}. {target.name}: {target.sites} consumer site{'s' if target.sites != 1 else ''}, "
            f"confidence {target.confidence}"
        ),
        _TARGETS,
        f"{key_for('name')} = {_quote(target.name)}",
    ]
    where = (
        f"defined at {target.definition.path}:{target.definition.line}"
        if target.definition
        else "outside the repository"
    )
    lines.append(f"{key_for('canonical')} = {_quote(target.canonical)}  # {_comment(where)}")
    if target.external:
        lines.append(
            "# the canonical lives outside the repository: accepted once external "
            "canonical symbols are supported"
        )
    by_dotted = {c.dotted: c for c in written}
    for key, attribute in _LIST_KEYS:
        names = [n for n in getattr(target, attribute) if n not in skip]
        if not names and attribute != "aliases":
            continue
        if not names:
            lines.append(f"{key} = []")
            continue
        lines.append(f"{key} = [")
        for name in names:
            candidate = by_dotted[name]
            note = _summary(candidate)
            if attribute == "aliases" and candidate.role != "aliases":
                note = _comment(f"also a facade the canonical accepts every call of: {note}")
            lines.append(f"    {_quote(name)},  # {note}")
        lines.append("]")
    if target.factory and target.factory not in skip:
        factory = key_for("factory")
        lines.append(
            f"{factory} = {_quote(target.factory)}  # {_summary(by_dotted[target.factory])}"
        )
        legacy = [n for n in target.legacy_factories if n not in skip]
        if legacy:
            lines.append(f"{key_for('legacy_factories')} = [")
            lines += [f"    {_quote(n)},  # {_summary(by_dotted[n])}" for n in legacy]
            lines.append("]")
    unwritten = [c for c in target.candidates if c not in written]
    if unwritten:
        lines.append("# also found, not proposed (low confidence or not configurable):")
        lines += [f"#   {_comment(c.dotted)}: {_summary(c)}" for c in unwritten]
    return lines


def render_toml(
    proposal: Proposal, *, header: bool = True, targets: Sequence[ProposedTarget] | None = None
) -> str:
    """The proposed ``[tool.ssot-migrate]`` table (``header=False``: only the target tables)."""
    chosen = proposal.written_targets() if targets is None else tuple(targets)
    lines: list[str] = []
    if header:
        command = proposal.test_command
        lines.append(
            f"# Proposed by ssot-migrate init{' at ' + proposal.commit[:12] if proposal.commit else ''}: "
            f"{len(chosen)} target{'s' if len(chosen) != 1 else ''}, ranked by the consumer "
            "sites each would fix. Review before running phase 1."
        )
        lines.append(f"[{TABLE}]")
        if command.command is not None:
            lines.append(
                f"{_TEST_COMMAND} = {_quote(command.command)}  # {_comment(command.evidence)}"
            )
        else:
            lines.append(
                f'# {_TEST_COMMAND} = "python -m pytest -q"  # {_comment(command.evidence)}: '
                "set the command that runs your tests"
            )
    for rank, target in enumerate(chosen, start=1):
        lines.append("")
        lines += _target_block(target, rank)
    rest = len(proposal.targets) - len(proposal.written_targets())
    if header and rest:
        lines.append("")
        lines.append(
            f"# {rest} more low-confidence finding{'s' if rest != 1 else ''} not proposed: "
            "see `ssot-migrate init --format table`"
        )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- json


def _candidate_json(candidate: Candidate) -> dict[str, Any]:
    return {
        "kind": candidate.kind,
        "path": candidate.dotted,
        "role": candidate.role or None,
        "confidence": candidate.confidence,
        "sites": candidate.sites,
        "reason": candidate.reason,
        "also_alias": candidate.also_alias,
        "evidence": [{"path": e.path, "line": e.line, "what": e.what} for e in candidate.evidence],
    }


def proposal_json(proposal: Proposal) -> dict[str, Any]:
    """The stable JSON document (``schema_version`` 1)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "ssot-migrate", "version": __version__},
        "commit": proposal.commit,
        "test_command": {
            "command": proposal.test_command.command,
            "evidence": proposal.test_command.evidence,
        },
        "files": {"listed": proposal.files_listed, "parsed": proposal.files_parsed},
        "skipped": [{"path": p, "reason": r, "line": n} for p, r, n in proposal.skipped],
        "elapsed": round(proposal.elapsed, 3),
        "targets": [
            {
                "name": t.name,
                "canonical": t.canonical,
                "external": t.external,
                "confidence": t.confidence,
                "sites": t.sites,
                "proposed": bool(t.written()),
                "definition": (
                    {"path": t.definition.path, "line": t.definition.line} if t.definition else None
                ),
                "config": {
                    "aliases": t.aliases,
                    "facades": t.facades,
                    "test-doubles": t.test_doubles,
                    "factory": t.factory,
                    "legacy-factories": t.legacy_factories,
                },
                "candidates": [_candidate_json(c) for c in t.candidates],
            }
            for t in proposal.targets
        ],
    }


# --------------------------------------------------------------------------- table


def render_table(proposal: Proposal, console: Console) -> None:
    """Ranked targets, then each target's candidates with their first piece of evidence."""
    written = proposal.written_targets()
    table = Table(
        title=Text(f"ssot-migrate init: {len(written)} proposed targets, ranked by consumer sites"),
        title_justify="left",
    )
    for column in ("#", "target", "canonical", "sites", "confidence", "found"):
        table.add_column(column, justify="right" if column in ("#", "sites") else "left")
    for rank, target in enumerate(written, start=1):
        kinds: dict[str, int] = {}
        for candidate in target.written():
            kinds[candidate.kind] = kinds.get(candidate.kind, 0) + 1
        table.add_row(
            Text(str(rank)),
            Text(target.name),
            Text(target.canonical),
            Text(str(target.sites)),
            Text(target.confidence),
            Text(", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))),
        )
    console.print(table)
    for rank, target in enumerate(written, start=1):
        console.print(Text(f"{rank}. {target.name}  {target.canonical}", style="bold"))
        if target.definition:
            console.print(
                Text(f"     defined at {target.definition.path}:{target.definition.line}")
            )
        for candidate in target.candidates:
            line = Text(
                f"   {candidate.confidence:<6} {candidate.kind:<23} {candidate.dotted}  "
                f"({candidate.sites} site{'s' if candidate.sites != 1 else ''})"
            )
            console.print(line)
            for evidence in candidate.evidence:
                console.print(Text(f"            {evidence}", style="dim"))
    rest = [t for t in proposal.targets if not t.written()]
    if rest:
        console.print(Text(f"{len(rest)} low-confidence finding(s) not proposed:", style="bold"))
        for target in rest:
            for candidate in target.candidates:
                console.print(
                    Text(
                        f"   {candidate.kind:<23} {candidate.dotted} -> "
                        f"{target.canonical}: {candidate.reason}",
                        style="dim",
                    )
                )
    command = proposal.test_command
    console.print(Text(f"test command: {command.command or '(not found)'}  ({command.evidence})"))
    for path, reason, line_no in proposal.skipped:
        console.print(Text(f"skipped {path}:{line_no}: {reason}", style="yellow"))


def render(proposal: Proposal, fmt: str, console: Console) -> None:
    """Write ``proposal`` in ``fmt`` to ``console`` (stdout)."""
    if fmt == "json":
        console.file.write(json.dumps(proposal_json(proposal), indent=2) + "\n")
    elif fmt == "toml":
        console.file.write(render_toml(proposal))
    else:
        render_table(proposal, console)


# --------------------------------------------------------------------------- --write


def _existing(text: str, source: str) -> dict[str, Any] | None:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{source}: invalid TOML: {exc}") from exc
    tool = data.get("tool")
    table = tool.get("ssot-migrate") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise UsageError(f"{source}: [{TABLE}] must be a table")
    return table


def insert_into_pyproject(
    text: str, proposal: Proposal, *, merge: bool, source: str = "pyproject.toml"
) -> tuple[str, list[str]]:
    """``text`` with the proposal appended, and the names of the targets added.

    Every existing byte stays as it was: the proposal is appended at the end (TOML tables may come
    in any order), and the result is parsed again to prove it still reads as before plus the new
    table. Refused (``UsageError``, exit 2) when ``[tool.ssot-migrate]`` exists and ``merge`` is
    false; with ``merge``, targets whose canonical is already configured are left out, and so are
    aliases another target already claims.
    """
    import tomlkit

    try:
        tomlkit.parse(text)  # the same parser ``guard`` edits with: refuse what it cannot read
    except Exception as exc:  # tomlkit raises its own ParseError hierarchy
        raise UsageError(f"{source}: invalid TOML: {exc}") from exc
    existing = _existing(text, source)
    if existing is not None and not merge:
        raise UsageError(
            f"{source}: [{TABLE}] already exists; pass --merge to append the new targets "
            "(existing ones are left untouched), or --format toml to only print the proposal"
        )
    chosen = list(proposal.written_targets())
    if not chosen:
        return text, []  # nothing to configure: a table without targets would not validate
    if existing is not None:
        raw_targets = existing.get("targets", [])
        if "targets" in existing and not _is_table_array(text):
            raise UsageError(
                f"{source}: {TABLE}.targets is an inline array; --merge appends "
                "[[tool.ssot-migrate.targets]] tables: convert it, or paste from --format toml"
            )
        old = (
            [t for t in raw_targets if isinstance(t, dict)] if isinstance(raw_targets, list) else []
        )
        canonicals = {t.get("canonical") for t in old}
        names = {t.get("name") for t in old}
        claimed = {a for t in old for a in t.get("aliases", []) if isinstance(a, str)}
        kept: list[ProposedTarget] = []
        for target in chosen:
            if target.canonical in canonicals or target.name in names:
                continue
            if all(c.dotted in claimed for c in target.written()):
                continue  # everything it would configure is another target's already
            kept.append(target)
        chosen = kept
        blocks = []
        for rank, target in enumerate(chosen, start=1 + len(old)):
            blocks += [""] + _target_block(target, rank, dropped=claimed)
        addition = "\n".join(blocks).lstrip("\n") + "\n" if blocks else ""
    else:
        addition = render_toml(proposal, targets=chosen)
    if not addition:
        return text, []
    separator = "" if not text else ("\n" if text.endswith("\n") else "\n\n")
    if text and not text.endswith("\n\n") and text.endswith("\n"):
        separator = "\n"
    updated = text + separator + addition
    try:
        after = tomllib.loads(updated)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(
            f"{source}: the proposal cannot be appended to this file ({exc}); "
            "paste the output of --format toml by hand"
        ) from exc
    table = after.get("tool", {}).get("ssot-migrate", {})
    if len(table.get("targets", [])) != len((existing or {}).get("targets", [])) + len(chosen):
        raise UsageError(
            f"{source}: appending the proposal would not add its targets; "
            "paste the output of --format toml by hand"
        )
    return updated, [t.name for t in chosen]


def _is_table_array(text: str) -> bool:
    return _TARGETS in text.replace(" ", "")

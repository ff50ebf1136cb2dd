"""Guardrails that keep a target consolidated: ruff ``banned-api`` entries, import-linter contracts.

``ssot-migrate guard --write ruff`` bans every alias path (configured and discovered) in the file
ruff reads for the repository (``.ruff.toml``, ``ruff.toml``, then ``pyproject.toml`` with a
``[tool.ruff]`` table, the order ruff itself looks in)::

    [lint]                                    # [tool.ruff.lint] in pyproject.toml
    extend-select = ["TID251"]
    [lint.flake8-tidy-imports.banned-api]
    "app.legacy.manager.WebSocketManager".msg = "use app.core.unified.UnifiedWebSocketManager instead (ssot-migrate)"
    [lint.per-file-ignores]
    "app/core/unified.py" = ["TID251"]        # canonical and facade modules stay allowed

``--write import-linter`` writes one ``forbidden`` contract per target into ``pyproject.toml``.
import-linter works on modules, so it can only forbid a legacy module that is nothing but a way to
the canonical: a whole-module alias, or a *pure shim* (every name it binds is the canonical
object). Its sources are every top-level package as a wildcard (``app``, ``app.**``), so code added
later anywhere in those packages is covered. A legacy module that still defines other names, or
holds the canonical, cannot be forbidden without forbidding those: its symbol-level bans go to the
ruff guard instead, and the command says which ban went where. Imports of a forbidden module that
``scan`` does not count (a star re-export kept on purpose) are listed in ``ignore_imports``.

Existing settings are kept; entries written before by this tool are replaced, so running it twice
changes nothing. Editing goes through ``tomlkit`` so comments and formatting survive.

Pure: files are read through a ``Reader`` and the sources through a snapshot, nothing is
written; phase 1 (``guard`` key) commits the result, ``guard_cli`` writes it to the checkout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ssot_migrate.config_schema import GUARDS
from ssot_migrate.errors import UsageError
from ssot_migrate.guard_import_linter import apply_import_linter, import_linter_home
from ssot_migrate.guard_plan import Reader, parse_toml, plan_guard
from ssot_migrate.guard_ruff import apply_ruff, banned_api_home, find_ruff_config
from ssot_migrate.model import Config

# --- both -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GuardOutcome:
    """The files to write (path -> (before, after) bytes) and what went where, for the user."""

    files: dict[str, tuple[bytes | None, bytes]]
    lines: tuple[str, ...]


def _edit(raw: bytes | None, path: str, edit: Callable[[Any], None]) -> bytes:
    """``edit`` applied to the TOML document of ``raw``, keeping CRLF line endings if any."""
    import tomlkit

    doc = parse_toml(raw or b"", path)
    edit(doc)
    text = tomlkit.dumps(doc)
    text = text if text.endswith("\n") else text + "\n"
    if raw is not None and b"\r\n" in raw:
        text = text.replace("\n", "\r\n")
    return text.encode("utf-8")


def guard_outcome(
    kind: str, config: Config, snapshot: Any, read: Reader, legacy_sites: Iterable[tuple[str, str]]
) -> GuardOutcome:
    """The ``kind`` guard for ``config`` (discovered aliases in it) on ``snapshot``'s files.

    ``read`` reads the configuration files (the working tree, or the phase's base commit).
    Raises ``UsageError`` when ruff or import-linter would not read what could be written.
    """
    if kind not in GUARDS:
        raise UsageError(f"--write {kind!r}: expected one of {', '.join(GUARDS)}")
    plan = plan_guard(config, snapshot, legacy_sites)
    files: dict[str, tuple[bytes | None, bytes]] = {}
    lines: list[str] = []

    def edit(path: str, change: Callable[[Any], None]) -> None:
        before = files[path][1] if path in files else read(path)
        files[path] = (files[path][0] if path in files else before, _edit(before, path, change))

    if kind == "import-linter":
        import_linter_home(read)
        edit("pyproject.toml", lambda doc: apply_import_linter(doc, plan, config))
        forbidden = [b for b in plan.bans if b.linter == "import-linter"]
        if forbidden:
            lines.append(
                f"import-linter (pyproject.toml) forbids {len(forbidden)} legacy path(s), "
                f"whole modules, from {', '.join(plan.packages)} and everything added there:"
            )
            lines += [f"  {b.module} ({b.alias}: {b.reason})" for b in forbidden]
        else:
            lines.append("import-linter: no legacy module can be forbidden whole")
        for package, path in plan.unparsable:
            lines.append(
                f"import-linter cannot build the graph of {package} ({path} does not "
                "parse): left out of its contracts; `guard --write ruff` covers it"
            )
        if plan.top_modules:
            lines.append(
                "import-linter cannot check top-level modules (not packages): "
                + ", ".join(plan.top_modules)
                + "; `guard --write ruff` covers them"
            )
        if plan.ignores:
            lines.append(
                "kept on purpose (ignore_imports; scan does not count them): "
                + ", ".join(f"{i} -> {m}" for i, m in plan.ignores)
            )
    if plan.unbannable:
        lines.append(
            "not banned (each is also a module's name; a ban would forbid every import "
            "from that module): " + ", ".join(plan.unbannable)
        )
    bans = plan.ruff_bans(kind)
    if bans:
        ruff = find_ruff_config(read)
        home = banned_api_home(ruff)
        if home is not None:
            raise UsageError(
                f"ruff reads banned-api from {home} ({ruff.path} extends it and has none), so "
                f"entries written to {ruff.path} would replace it: edit {home}, or copy its "
                f"banned-api table into {ruff.path}, then rerun"
            )
        if ruff.path.startswith("../"):
            raise UsageError(f"ruff's configuration {ruff.path} is outside the repository; edit it")
        edit(
            ruff.path,
            lambda doc: apply_ruff(doc, ruff.prefix, bans, plan.allowed_files, ruff.chain[1:]),
        )
        where = "" if kind == "ruff" else " (import-linter cannot express them)"
        lines.append(f"ruff ({ruff.path}) bans {len(bans)} path(s){where}:")
        lines += [f"  {b.alias}" + ("" if kind == "ruff" else f" ({b.reason})") for b in bans]
    return GuardOutcome(files, tuple(lines))

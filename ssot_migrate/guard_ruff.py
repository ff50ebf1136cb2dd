"""The ruff guard: where ruff reads its configuration, and the ``banned-api`` entries written there."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ssot_migrate.errors import UsageError
from ssot_migrate.guard_plan import MARK, RULE, Ban, Reader, parse_toml, toml_get, toml_table

# --- ruff: where it reads its configuration ---------------------------------------------------


@dataclass(frozen=True)
class RuffConfig:
    """The file ruff reads for the repository root, and the chain of files it ``extend``s."""

    path: str  # repository-relative
    prefix: tuple[str, ...]  # ("tool", "ruff") in pyproject.toml, () in ruff.toml
    chain: tuple[tuple[str, tuple[str, ...], Any], ...] = field(default=())  # (path, prefix, doc)


def find_ruff_config(read: Reader) -> RuffConfig:
    """Ruff's discovery for the repository root: ``.ruff.toml``, ``ruff.toml``, then a
    ``pyproject.toml`` with ``[tool.ruff]`` (the first that exists wins, as in ruff), and the files
    its ``extend`` chain names. Without any, ``pyproject.toml`` (created or extended).
    """
    for name, prefix in (
        (".ruff.toml", ()),
        ("ruff.toml", ()),
        ("pyproject.toml", ("tool", "ruff")),
    ):
        raw = read(name)
        if raw is None:
            continue
        doc = parse_toml(raw, name)
        if prefix and toml_get(doc, prefix) is None:
            continue  # ruff ignores a pyproject.toml without [tool.ruff]
        return RuffConfig(name, prefix, _extend_chain(read, name, prefix, doc))
    return RuffConfig("pyproject.toml", ("tool", "ruff"))


def _extend_chain(read: Reader, path: str, prefix: tuple[str, ...], doc: Any) -> tuple[Any, ...]:
    chain = [(path, prefix, doc)]
    seen = {path}
    while True:
        extend = toml_get(doc, [*prefix, "extend"])
        if extend is None:
            return tuple(chain)
        rel = str(extend)
        if rel.startswith("~") or "$" in rel:
            rel = os.path.expandvars(os.path.expanduser(rel))
        parent = posixpath.normpath(posixpath.join(posixpath.dirname(path), rel))
        if parent in seen:
            raise UsageError(f"{path}: extend = {str(extend)!r} makes a cycle")
        raw = read(parent)
        if raw is None:
            raise UsageError(f"{path}: extend = {str(extend)!r}: {parent} not found")
        seen.add(parent)
        prefix = ("tool", "ruff") if posixpath.basename(parent) == "pyproject.toml" else ()
        doc = parse_toml(raw, parent)
        chain.append((parent, prefix, doc))
        path = parent


def _lint_section(doc: Any, prefix: tuple[str, ...], key: str) -> Any:
    """The table holding lint option ``key``: ``lint`` unless only the legacy top level has it."""
    top = toml_get(doc, prefix)
    if top is not None and key in top and key not in (toml_get(top, ["lint"]) or {}):
        return top
    return toml_table(doc, *prefix, "lint")


def apply_ruff(
    doc: Any,
    prefix: tuple[str, ...],
    bans: Sequence[Ban],
    files: Sequence[str],
    parents: Sequence[tuple[str, tuple[str, ...], Any]] = (),
) -> None:
    """Select TID251, write one banned-api entry per ban, exempt ``files`` (canonical, facades).

    ``parents`` are the files ``doc`` extends: ``per-file-ignores`` written here would replace
    theirs, so ``extend-per-file-ignores`` is used when one of them has some.
    """
    import tomlkit

    key = "per-file-ignores"
    here = toml_get(_lint_section(doc, prefix, key), [key])
    if here is None and any(
        toml_get(pdoc, [*pprefix, "lint", key]) is not None
        or toml_get(pdoc, [*pprefix, key]) is not None
        for _p, pprefix, pdoc in parents
    ):
        key = "extend-per-file-ignores"
    top = toml_get(doc, prefix) if prefix else doc
    if top is not None and _lint_is_dotted(top):
        _apply_ruff_dotted(top, bans, files, key)
        return
    lint = _lint_section(doc, prefix, "extend-select")
    selected = lint.get("extend-select")
    if selected is None:
        lint["extend-select"] = tomlkit.array().multiline(False)
        selected = lint["extend-select"]
        selected.append(RULE)
    elif RULE not in selected:
        selected.append(RULE)
    tidy = _lint_section(doc, prefix, "flake8-tidy-imports")
    banned = toml_table(tidy, "flake8-tidy-imports", "banned-api")
    if not isinstance(banned, dict):
        raise UsageError("flake8-tidy-imports.banned-api must be a table")
    for alias in [k for k, v in banned.items() if MARK in str(toml_get(v, ["msg"]) or "")]:
        del banned[alias]  # ours from an earlier run: a path no longer an alias goes
    for ban in sorted(bans, key=lambda b: b.alias):
        entry = tomlkit.inline_table()
        entry["msg"] = f"use {ban.canonical} instead {MARK}"
        banned[ban.alias] = entry
    ignores = toml_table(_lint_section(doc, prefix, key), key)
    for path in files:
        rules = ignores.get(path)
        if rules is None:
            ignores[path] = tomlkit.array().multiline(False)
            ignores[path].append(RULE)
        elif RULE not in rules:
            rules.append(RULE)


def _lint_is_dotted(top: Any) -> bool:
    """Whether the lint settings are dotted keys (``lint.select = [...]`` under ``[tool.ruff]``).

    Tables cannot be added under a dotted key (tomlkit would write them at the top level, where
    ruff never looks), so such a file gets dotted keys too.
    """
    body = top.body if hasattr(top, "body") else top.value.body
    return any(k is not None and k.is_dotted() and k.key == "lint" for k, _ in body)


def _apply_ruff_dotted(top: Any, bans: Sequence[Ban], files: Sequence[str], key: str) -> None:
    """``apply_ruff`` for lint settings written as dotted keys: add only what is missing."""
    import tomlkit

    lint = top.unwrap().get("lint", {})
    selected = lint.get("extend-select")
    if selected is None:
        top.append(tomlkit.key(["lint", "extend-select"]), [RULE])
    elif RULE not in selected:
        top["lint"]["extend-select"].append(RULE)
    banned = lint.get("flake8-tidy-imports", {}).get("banned-api", {})
    for ban in sorted(bans, key=lambda b: b.alias):
        if ban.alias not in banned:
            top.append(
                tomlkit.key(["lint", "flake8-tidy-imports", "banned-api", ban.alias, "msg"]),
                f"use {ban.canonical} instead {MARK}",
            )
    ignores = lint.get(key)
    for path in files:
        rules = (ignores or {}).get(path)
        if rules is None and ignores is None:
            top.append(tomlkit.key(["lint", key, path]), [RULE])
        elif rules is None:
            top["lint"][key][path] = tomlkit.array().multiline(False)
            top["lint"][key][path].append(RULE)
        elif RULE not in rules:
            top["lint"][key][path].append(RULE)


def banned_api_home(ruff: RuffConfig) -> str | None:
    """The file of the extend chain whose banned-api ruff uses, when it is not the leaf."""
    for path, prefix, doc in ruff.chain:
        for keys in (
            [*prefix, "lint", "flake8-tidy-imports", "banned-api"],
            [*prefix, "flake8-tidy-imports", "banned-api"],
        ):
            if toml_get(doc, keys) is not None:
                return None if path == ruff.path else path
    return None

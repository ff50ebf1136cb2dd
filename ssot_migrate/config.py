"""Read and validate ``[tool.ssot-migrate]``; every problem is collected and named before any work.

The table comes from ``--config FILE`` (a TOML file holding the same ``[tool.ssot-migrate]`` table)
or from the repository's ``pyproject.toml``. Validation is static: configured names are looked up
by ``resolution`` (the repository, the project's environment, the standard library, ssot-migrate's
own environment), never imported; a name found nowhere is a warning (an error with ``strict``).
Each key, its type, default and checks are declared once, in ``config_schema``; this module reads
the table, runs them, and looks the names up.
"""

from __future__ import annotations

import gc
import hashlib
import json
import keyword
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from ssot_migrate.config_schema import (
    GUARDS,
    TABLE,
    TARGET,
    TEST_SELECTIONS,
    TOP_LEVEL,
    Problems,
    is_dotted_name,
    ref_prefix_problem,
    type_name,
    unknown_keys,
)
from ssot_migrate.errors import ConfigError
from ssot_migrate.model import Config, NameKind, SourceFile, Target
from ssot_migrate.resolution import Resolution, Resolver, describe_missing
from ssot_migrate.resolution_places import (
    Environment,
    EnvironmentError_,
    find_environment,
    places_for,
)

# Spelt once in ``config_schema``; named here too because callers and tests read them from here.
__all__ = [
    "GUARDS",
    "TABLE",
    "TEST_SELECTIONS",
    "default_source_roots",
    "is_dotted_name",
    "load_config",
    "module_for_path",
    "ref_prefix_problem",
    "source_file_for",
    "with_discovered",
]


def _read_table(repo: Path, config_path: Path | None) -> tuple[Path, dict[str, Any]]:
    source = config_path if config_path is not None else repo / "pyproject.toml"
    if source.is_dir():
        raise ConfigError(f"{source} is a directory; --config needs a TOML file")
    if source.exists() and not source.is_file():
        raise ConfigError(
            f"{source} is not a regular file (a FIFO, socket or device); --config needs a TOML file"
        )
    if not source.is_file():
        if config_path is not None:
            raise ConfigError(f"config file not found: {source}")
        raise ConfigError(
            f"no configuration: {source} does not exist; add a [{TABLE}] table there "
            "or pass --config FILE"
        )
    try:
        data = _loads_toml(source.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"not UTF-8 text ({exc.reason} at byte {exc.start})", str(source)
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", str(source)) from exc
    except RecursionError as exc:
        raise ConfigError("invalid TOML: nested too deeply to read", str(source)) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", str(source)) from exc
    tool = data.get("tool")
    table = tool.get("ssot-migrate") if isinstance(tool, dict) else None
    if table is None:
        raise ConfigError(f"no [{TABLE}] table", str(source))
    if not isinstance(table, dict):
        raise ConfigError(f"[{TABLE}] must be a table, not {type_name(table)}", str(source))
    return source, table


def _loads_toml(text: str) -> dict[str, Any]:
    """``tomllib.loads`` with the garbage collector paused: hostile nesting drives the parser to
    the recursion limit, and a finaliser run by a collection there fails with its own
    RecursionError, printed by Python itself before our one-line error."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return tomllib.loads(text)
    finally:
        if enabled:
            gc.enable()


def default_source_roots(files: Sequence[str]) -> tuple[str, ...]:
    """The repository root, plus ``src`` when the repository has a ``src/`` folder."""
    has_src = any(f.startswith("src/") for f in files)
    return ("", "src") if has_src else ("",)


def source_file_for(path: str, config: Config) -> SourceFile:
    """Map a repo-relative POSIX path to its dotted module name using ``source-roots``.

    The longest matching root wins; a path whose parts are not identifiers has no module name.
    """
    return module_for_path(path, config.source_roots)


def module_for_path(path: str, roots: Sequence[str]) -> SourceFile:
    """Map ``path`` to its dotted module name under the first (longest) matching root."""
    pure = PurePosixPath(path)
    if pure.suffix != ".py":
        return SourceFile(path=path, module=None)
    for root in sorted(roots, key=len, reverse=True):
        if root and not path.startswith(root.rstrip("/") + "/"):
            continue
        rel = pure.relative_to(root) if root else pure
        parts = list(rel.with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        if parts and all(p.isidentifier() and not keyword.iskeyword(p) for p in parts):
            return SourceFile(path=path, module=".".join(parts), is_package=is_package)
    return SourceFile(path=path, module=None)


def load_config(
    repo: Path,
    config_path: Path | None = None,
    *,
    files: Sequence[str] | None = None,
    read: Callable[[str], bytes] | None = None,
    python: Path | None = None,
    strict: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Read ``[tool.ssot-migrate]`` and validate it against the repository's files.

    ``files`` are the repo-relative POSIX paths names are resolved against (default: the files of
    HEAD); ``read`` returns a file's bytes (default: from the working tree). ``python`` (the
    ``--python`` option) overrides the ``python`` key; ``strict`` (``--strict``) or
    ``strict = true`` makes a name found nowhere an error. Raises ``ConfigError`` listing every
    problem, each naming the key and the reason.
    """
    repo = repo.resolve()
    source, table = _read_table(repo, config_path)
    problems = Problems([])
    unknown_keys(table, TOP_LEVEL, TABLE, problems)
    if files is None:
        files = _head_files(repo)
    file_set = frozenset(files)
    # ``--python`` replaces the key: it is not read at all then.
    keys = [k for k in TOP_LEVEL if not (python is not None and k.name == "python")]
    values = {k.name: k.read(table, TABLE, problems) for k in keys}
    roots = values["source-roots"]
    if roots is None:
        roots = default_source_roots(files)
    complete: list[dict[str, Any]] = values["targets"] or []
    test_command = values["test-command"]
    if python is None and values.get("python") is not None:
        python = Path(os.path.expanduser(values["python"]))
        python = python if python.is_absolute() else repo / python
        how = "the python key"
    elif python is None and "python" in table:
        how = ""  # the key is wrong: named above, and no guess is made
    else:
        how = "--python"
    environment = _environment(repo, python, how, test_command, environ, problems)
    reader = read if read is not None else _worktree_reader(repo)
    resolver = Resolver(places_for(repo, roots, file_set, reader, environment))
    lookup = _look_up(complete, resolver, file_set, reader, problems)
    if strict or values["strict"]:
        for warning in lookup.warnings:
            problems.add(*warning.split(": ", 1))
    if problems.items:
        raise ConfigError(problems.items, str(source))

    targets = tuple(_target(t, lookup, resolver) for t in complete)
    settings = {k.attr: values[k.name] for k in TOP_LEVEL if k.attr not in ("", "targets")}
    return Config(
        repo=repo,
        source=source,
        targets=targets,
        **{**settings, "source_roots": roots},
        digest=_digest(table),
        warnings=tuple(lookup.warnings),
        lookup_notes=tuple(lookup.notes),
        decisions=tuple(lookup.decisions),
    )


@dataclass
class _Lookup:
    """What looking the canonicals up found, beside the problems."""

    kinds: dict[str, NameKind] = field(default_factory=dict)
    assumed: dict[str, str] = field(default_factory=dict)  # target -> why its kind was assumed
    warnings: list[str] = field(default_factory=list)  # names found nowhere
    decisions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _look_up(
    complete: Sequence[Mapping[str, Any]],
    resolver: Resolver,
    file_set: frozenset[str],
    reader: Callable[[str], bytes],
    problems: Problems,
) -> _Lookup:
    """Each target's canonical, looked up statically: its kind, or why it was assumed."""
    lookup = _Lookup()
    kinds, assumed, warnings = lookup.kinds, lookup.assumed, lookup.warnings
    decisions, lookup_notes = lookup.decisions, lookup.notes
    for target in complete:
        found = resolver.resolve(target["canonical"])
        where = f"{target['where']}.canonical"
        if found.attribute_of:
            # Every import rewrite would name a module that does not exist
            # (``from a.mod.Outer import Inner``): refused rather than written wrong.
            owner, _, leaf = found.name.rpartition(".")
            problems.add(
                where,
                f"{found.name!r} is an attribute of {owner!r}: {found.why}; ssot-migrate moves "
                f"imports of modules and of names a module binds, so bind it in a module (for "
                f"example `{leaf} = {owner.rpartition('.')[2]}.{leaf}` in "
                f"{owner.rpartition('.')[0]!r}) and name that",
            )
            continue
        if found.kind is None:
            kind, why, proven = _infer_kind(target, found, resolver, file_set, reader)
            warnings.append(f"{where}: {describe_missing(found)}; assumed a {kind.value}: {why}")
            parent, _, leaf = found.name.rpartition(".")
            if parent and resolver.find_module(parent) is not None:
                decisions.append(
                    f"{where}: module {parent!r} was found but does not define {leaf!r}; every "
                    f"site is rewritten onto {found.name!r} all the same: confirm the name (it "
                    "may be made at run time) or correct the configuration"
                )
            if not proven:
                assumed[target["name"]] = f"assumed a {kind.value}: {why}"
        else:
            kind = found.kind
            if found.note:
                lookup_notes.append(f"{where}: {found.note}")
        kinds[target["name"]] = kind
        if kind is NameKind.MODULE:
            for alias in target["aliases"]:
                if alias.startswith(target["canonical"] + "."):
                    problems.add(
                        f"{target['where']}.aliases",
                        f"{alias!r} lies inside the canonical module {target['canonical']!r}",
                    )
    return lookup


def _target(values: Mapping[str, Any], lookup: _Lookup, resolver: Resolver) -> Target:
    """The model of one valid target: its keys' values, its kind and, for a module, its names."""
    kind = lookup.kinds[values["name"]]
    module = kind is NameKind.MODULE
    return Target(
        **{k.attr: values[k.attr] for k in TARGET},
        canonical_kind=kind,
        kind_assumed=lookup.assumed.get(values["name"], ""),
        canonical_names=resolver.module_names(values["canonical"]) if module else None,
        alias_names=tuple(
            (alias, names)
            for alias in (values["aliases"] if module else ())
            if (names := resolver.module_names(alias)) is not None
        ),
    )


def _environment(
    repo: Path,
    python: Path | None,
    how: str,
    test_command: str | Sequence[str] | None,
    environ: Mapping[str, str] | None,
    problems: Problems,
) -> Environment | None:
    """The project's environment: ``--python``, the ``python`` key, else the usual guesses."""
    if not how:
        return None
    try:
        return find_environment(repo, python, how, test_command, environ)
    except EnvironmentError_ as exc:
        problems.add(f"{TABLE}.python" if how != "--python" else "--python", str(exc))
        return None


def _infer_kind(
    target: Mapping[str, Any],
    found: Resolution,
    resolver: Resolver,
    files: frozenset[str],
    read: Callable[[str], bytes],
) -> tuple[NameKind, str, bool]:
    """Module or symbol, for a canonical found nowhere: from the aliases, then from usage.

    The evidence, strongest first: a top-level name (always a module: the one proof); an alias
    that is found (a module alias maps modules); the canonical's parent being a module (then it
    names something in it); how the repository imports the aliases (``import a.X`` or ``from
    a.X import y`` only work for a module). Without any, a symbol: ``from a import X`` imports a
    submodule as well as a name. The last item says whether the kind is proven; when it is not,
    phase 1 lets each site's own shape decide (``Target.kind_assumed``).
    """
    if "." not in found.name:
        return NameKind.MODULE, "a top-level name is always a module", True
    for alias in target["aliases"]:
        if "." not in alias:
            return NameKind.MODULE, f"the alias {alias!r} is top-level, so a module", True
    for alias in target["aliases"]:
        seen = resolver.resolve(alias)
        if seen.kind is not None:
            return seen.kind, f"the alias {alias!r} is a {seen.kind.value} ({seen.place})", False
    parent = found.name.rpartition(".")[0]
    if parent and resolver.find_module(parent) is not None:
        return NameKind.SYMBOL, f"its parent {parent!r} is a module", False
    names = [found.name, *target["aliases"]]
    as_module = re.compile(
        r"^\s*(?:import\s+|from\s+)(" + "|".join(re.escape(n) for n in names) + r")(?:\s|$|,)",
        re.MULTILINE,
    )
    for path in sorted(files):
        if not path.endswith(".py"):
            continue
        match = as_module.search(read(path).decode("utf-8", "replace"))
        if match is not None:
            return NameKind.MODULE, f"{path} imports {match.group(1)!r} as a module", False
    return (
        NameKind.SYMBOL,
        ("nothing shows it is a module, and `from parent import name` works for either"),
        False,
    )


def _digest(table: Mapping[str, Any]) -> str:
    canonical_json = json.dumps(table, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical_json.encode("utf-8")).hexdigest()[:16]


def _head_files(repo: Path) -> list[str]:
    from ssot_migrate.gitlayer.tree import list_paths

    return list_paths(repo, "HEAD")


def _worktree_reader(repo: Path) -> Callable[[str], bytes]:
    def read(path: str) -> bytes:
        try:
            return (repo / path).read_bytes()
        except OSError:
            return b""

    return read


def with_discovered(config: Config, discovered: Mapping[str, Sequence[str]]) -> Config:
    """A copy of ``config`` whose targets carry the discovered re-export paths."""
    targets = tuple(
        replace(t, discovered_aliases=tuple(discovered.get(t.name, ()))) for t in config.targets
    )
    return replace(config, targets=targets)

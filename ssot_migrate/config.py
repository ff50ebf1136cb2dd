"""Read and validate ``[tool.ssot-migrate]``; every problem is collected and named before any work.

The table comes from ``--config FILE`` (a TOML file holding the same ``[tool.ssot-migrate]`` table)
or from the repository's ``pyproject.toml``. Validation is static: configured names are looked up
by ``resolution`` (the repository, the project's environment, the standard library, ssot-migrate's
own environment), never imported; a name found nowhere is a warning (an error with ``strict``).
"""

from __future__ import annotations

import difflib
import gc
import hashlib
import json
import keyword
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from ssot_migrate.errors import ConfigError
from ssot_migrate.model import Config, NameKind, SourceFile, Target
from ssot_migrate.resolution import (
    Environment,
    EnvironmentError_,
    Resolution,
    Resolver,
    describe_missing,
    find_environment,
    places_for,
)

TABLE = "tool.ssot-migrate"

TOP_LEVEL_KEYS = (
    "test-command",
    "test-timeout",
    "test-env",
    "test-jobs",
    "rerun",
    "tests",
    "branch-prefix",
    "expected-fixes",
    "targets",
    "source-roots",
    "include",
    "exclude",
    "guard",
    "python",
    "strict",
)
TARGET_KEYS = (
    "name",
    "canonical",
    "aliases",
    "facades",
    "test-doubles",
    "factory",
    "legacy-factories",
    "discover-aliases",
    "keep-names",
    "factory-exempt",
    "factory-args",
    "allow-shared",
    "deprecate",
    "duplicate-overlap",
    "replace-facade-logic",
)
GUARDS = ("ruff", "import-linter")
TEST_SELECTIONS = ("all", "affected")


def is_dotted_name(value: str) -> bool:
    """True for ``pkg.mod.Name``: identifiers separated by single dots, no keywords, no spaces."""
    parts = value.split(".")
    return bool(value) and all(p.isidentifier() and not keyword.iskeyword(p) for p in parts)


def ref_prefix_problem(prefix: str) -> str | None:
    """Why ``prefix`` cannot start a git branch name (``git check-ref-format`` rules), or None."""
    if not prefix:
        return None
    if prefix.startswith(("-", "/", ".")):
        return "must not start with '-', '/' or '.'"
    bad_chars = set(" ~^:?*[\\\x7f")
    if any(ch in bad_chars or ord(ch) < 32 for ch in prefix):
        return "must not contain spaces, control characters or any of ~ ^ : ? * [ \\"
    if ".." in prefix or "@{" in prefix or "//" in prefix:
        return "must not contain '..', '@{' or '//'"
    if any(part.startswith(".") or part.endswith(".lock") for part in prefix.split("/") if part):
        return "no path component may start with '.' or end with '.lock'"
    if prefix == "@":
        return "must not be '@'"
    return None


@dataclass
class _Problems:
    """Collects every configuration problem so the user sees them all at once."""

    items: list[str]

    def add(self, key: str, reason: str) -> None:
        self.items.append(f"{key}: {reason}")


def _suggest(key: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


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
        raise ConfigError(f"[{TABLE}] must be a table, not {_type_name(table)}", str(source))
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


def _type_name(value: object) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _str_list(value: object, key: str, problems: _Problems) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.add(key, f"must be an array of strings, not {_type_name(value)}")
        return ()
    return tuple(value)


def _dotted_list(value: object, key: str, problems: _Problems) -> tuple[str, ...]:
    names = _str_list(value, key, problems)
    for name in names:
        if not is_dotted_name(name):
            problems.add(key, f"{name!r} is not a valid dotted name (identifiers separated by '.')")
    return tuple(n for n in names if is_dotted_name(n))


def _bool(value: object, key: str, problems: _Problems) -> bool:
    if not isinstance(value, bool):
        problems.add(key, f"must be true or false, not {_type_name(value)}")
        return False
    return value


def _parse_target(raw: object, index: int, problems: _Problems) -> dict[str, Any] | None:
    where = f"[[{TABLE}.targets]] #{index + 1}"
    if not isinstance(raw, dict):
        problems.add(f"{TABLE}.targets[{index}]", f"must be a table, not {_type_name(raw)}")
        return None
    name = raw.get("name")
    if isinstance(name, str) and name:
        where = f"{TABLE}.targets[{index}] ({name!r})"
    for key in raw:
        if key not in TARGET_KEYS:
            problems.add(f"{where}.{key}", "unknown key" + _suggest(key, TARGET_KEYS))
    out: dict[str, Any] = {"where": where}
    if not isinstance(name, str) or not name.strip():
        problems.add(f"{where}.name", "required: a non-empty string naming the target")
    else:
        out["name"] = name
    canonical = raw.get("canonical")
    if canonical is None:
        problems.add(
            f"{where}.canonical", "required: the dotted path of the single source of truth"
        )
    elif not isinstance(canonical, str) or not is_dotted_name(canonical):
        problems.add(f"{where}.canonical", f"{canonical!r} is not a valid dotted name")
    else:
        out["canonical"] = canonical
    if "aliases" not in raw:
        problems.add(f"{where}.aliases", "required: an array of the legacy dotted paths")
        out["aliases"] = ()
    else:
        out["aliases"] = _dotted_list(raw["aliases"], f"{where}.aliases", problems)
    out["facades"] = _dotted_list(raw.get("facades", []), f"{where}.facades", problems)
    out["test_doubles"] = _dotted_list(
        raw.get("test-doubles", []), f"{where}.test-doubles", problems
    )
    for name in sorted(set(out["test_doubles"]) & set(out["facades"])):
        problems.add(
            f"{where}.test-doubles",
            f"{name!r} is also listed in facades: a class is either collapsed onto the canonical "
            "(facades) or kept as a test double conforming to it (test-doubles)",
        )
    out["replace_facade_logic"] = _dotted_list(
        raw.get("replace-facade-logic", []), f"{where}.replace-facade-logic", problems
    )
    for name in out["replace_facade_logic"]:
        if name not in out["facades"]:
            problems.add(
                f"{where}.replace-facade-logic",
                f"{name!r} is not listed in facades: only a facade's own logic can be replaced",
            )
    if out.get("canonical") in out["test_doubles"]:
        problems.add(f"{where}.test-doubles", "lists the canonical itself")
    out["legacy_factories"] = _dotted_list(
        raw.get("legacy-factories", []), f"{where}.legacy-factories", problems
    )
    factory = raw.get("factory")
    if factory is not None and (not isinstance(factory, str) or not is_dotted_name(factory)):
        problems.add(f"{where}.factory", f"{factory!r} is not a valid dotted name")
        factory = None
    out["factory"] = factory
    for key in ("discover-aliases", "keep-names", "allow-shared", "deprecate"):
        default = key == "discover-aliases"
        out[key.replace("-", "_")] = _bool(raw.get(key, default), f"{where}.{key}", problems)
    out["factory_exempt"] = _str_list(
        raw.get("factory-exempt", []), f"{where}.factory-exempt", problems
    )
    args = raw.get("factory-args", {})
    pairs: list[tuple[str, str]] = []
    if not isinstance(args, dict):
        problems.add(
            f"{where}.factory-args", f'must be a table of old = "new", not {_type_name(args)}'
        )
    else:
        for old, new in args.items():
            if not isinstance(new, str) or not new.isidentifier() or not old.isidentifier():
                problems.add(
                    f"{where}.factory-args.{old}",
                    f"keyword renames must map identifiers to identifiers, got {old!r} = {new!r}",
                )
            else:
                pairs.append((old, new))
    out["factory_args"] = tuple(sorted(pairs))
    overlap = raw.get("duplicate-overlap")
    if overlap is not None and (
        isinstance(overlap, bool) or not isinstance(overlap, int | float) or not 0 < overlap <= 100
    ):
        problems.add(
            f"{where}.duplicate-overlap",
            f"must be a percentage above 0 and at most 100, got {overlap!r}",
        )
        overlap = None
    out["duplicate_overlap"] = None if overlap is None else float(overlap)
    if "canonical" in out:
        for alias in out["aliases"]:
            if alias == out["canonical"]:
                problems.add(f"{where}.aliases", f"{alias!r} is the canonical itself")
    if not out["aliases"] and not out["discover_aliases"] and "aliases" in raw:
        problems.add(
            f"{where}.aliases",
            "is empty and discover-aliases is false: the target could never change anything",
        )
    return out


def _flatten_chains(targets: list[dict[str, Any]], problems: _Problems) -> None:
    """Point every alias at the end of its canonical chain; refuse cycles."""
    alias_owner: dict[str, str] = {}
    for target in targets:
        for alias in target["aliases"]:
            alias_owner[alias] = target["canonical"]
    for target in targets:
        seen = [target["canonical"]]
        current = target["canonical"]
        while current in alias_owner:
            current = alias_owner[current]
            if current in seen:
                chain = " -> ".join([*seen, current])
                problems.add(f"{target['where']}.canonical", f"alias cycle: {chain}")
                break
            seen.append(current)
        else:
            if current != target["canonical"]:
                target["chain"] = tuple(seen)
                target["canonical"] = current


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
    problems = _Problems([])
    for key in table:
        if key not in TOP_LEVEL_KEYS:
            problems.add(f"{TABLE}.{key}", "unknown key" + _suggest(key, TOP_LEVEL_KEYS))

    test_command: str | tuple[str, ...] | None = None
    raw_command = table.get("test-command")
    if raw_command is not None:
        if isinstance(raw_command, str) and raw_command.strip():
            test_command = raw_command
        elif (
            isinstance(raw_command, list)
            and raw_command
            and all(isinstance(a, str) for a in raw_command)
        ):
            test_command = tuple(raw_command)
        else:
            problems.add(
                f"{TABLE}.test-command",
                "must be a non-empty string or a non-empty array of strings (argv)",
            )
    timeout = table.get("test-timeout", 1800)
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        problems.add(
            f"{TABLE}.test-timeout", f"must be a positive number of seconds, got {timeout!r}"
        )
        timeout = 1800
    test_env = _test_env(table.get("test-env", {}), problems)
    rerun = _count(table.get("rerun", 1), f"{TABLE}.rerun", 0, problems, default=1)
    raw_jobs = table.get("test-jobs")
    test_jobs = (
        None if raw_jobs is None else _count(raw_jobs, f"{TABLE}.test-jobs", 1, problems, default=1)
    )
    tests = table.get("tests", "all")
    if tests not in TEST_SELECTIONS:
        problems.add(
            f"{TABLE}.tests",
            f"must be one of {', '.join(map(repr, TEST_SELECTIONS))}, got {tests!r}",
        )
        tests = "all"
    prefix = table.get("branch-prefix", "ssot/")
    if not isinstance(prefix, str):
        problems.add(f"{TABLE}.branch-prefix", f"must be a string, not {_type_name(prefix)}")
        prefix = "ssot/"
    elif (why := ref_prefix_problem(prefix)) is not None:
        problems.add(f"{TABLE}.branch-prefix", f"{prefix!r} cannot start a git branch name: {why}")
    expected = _str_list(table.get("expected-fixes", []), f"{TABLE}.expected-fixes", problems)
    includes = _str_list(table.get("include", []), f"{TABLE}.include", problems)
    excludes = _str_list(table.get("exclude", []), f"{TABLE}.exclude", problems)
    guard = table.get("guard")
    if guard is not None and guard not in GUARDS:
        problems.add(f"{TABLE}.guard", f"must be one of {', '.join(GUARDS)}, got {guard!r}")
        guard = None

    if files is None:
        files = _head_files(repo)
    file_set = frozenset(files)
    if "source-roots" in table:
        raw_roots = _str_list(table["source-roots"], f"{TABLE}.source-roots", problems)
        roots = tuple(root.strip("/") for root in raw_roots)
        for root in raw_roots:
            if root.startswith("/") or ".." in PurePosixPath(root).parts or ":" in root[:3]:
                problems.add(
                    f"{TABLE}.source-roots",
                    f"{root!r} must be a relative path inside the repository",
                )
    else:
        roots = default_source_roots(files)

    raw_targets = table.get("targets")
    parsed: list[dict[str, Any]] = []
    if raw_targets is None:
        problems.add(
            f"{TABLE}.targets", "required: at least one [[tool.ssot-migrate.targets]] table"
        )
    elif not isinstance(raw_targets, list):
        problems.add(
            f"{TABLE}.targets", f"must be an array of tables, not {_type_name(raw_targets)}"
        )
    elif not raw_targets:
        problems.add(f"{TABLE}.targets", "is empty: configure at least one target")
    else:
        for index, raw in enumerate(raw_targets):
            target = _parse_target(raw, index, problems)
            if target is not None:
                parsed.append(target)
    _check_uniqueness(parsed, problems)
    complete = [t for t in parsed if "name" in t and "canonical" in t]
    _flatten_chains(complete, problems)

    strict_key = table.get("strict", False)
    if not isinstance(strict_key, bool):
        problems.add(f"{TABLE}.strict", f"must be true or false, not {_type_name(strict_key)}")
        strict_key = False
    environment = _environment(repo, table, python, test_command, environ, problems)
    reader = read if read is not None else _worktree_reader(repo)
    resolver = Resolver(places_for(repo, roots, file_set, reader, environment))
    kinds: dict[str, NameKind] = {}
    assumed: dict[str, str] = {}
    warnings: list[str] = []
    decisions: list[str] = []
    lookup_notes: list[str] = []
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
    if strict or strict_key:
        for warning in warnings:
            problems.add(*warning.split(": ", 1))
    if problems.items:
        raise ConfigError(problems.items, str(source))

    targets = tuple(
        Target(
            name=t["name"],
            canonical=t["canonical"],
            aliases=t["aliases"],
            canonical_kind=kinds[t["name"]],
            kind_assumed=assumed.get(t["name"], ""),
            facades=t["facades"],
            test_doubles=t["test_doubles"],
            factory=t["factory"],
            legacy_factories=t["legacy_factories"],
            discover_aliases=t["discover_aliases"],
            keep_names=t["keep_names"],
            factory_exempt=t["factory_exempt"],
            factory_args=t["factory_args"],
            allow_shared=t["allow_shared"],
            deprecate=t["deprecate"],
            replace_facade_logic=t["replace_facade_logic"],
            duplicate_overlap=t["duplicate_overlap"],
            canonical_names=(
                resolver.module_names(t["canonical"])
                if kinds[t["name"]] is NameKind.MODULE
                else None
            ),
            alias_names=tuple(
                (alias, names)
                for alias in (t["aliases"] if kinds[t["name"]] is NameKind.MODULE else ())
                if (names := resolver.module_names(alias)) is not None
            ),
        )
        for t in complete
    )
    return Config(
        repo=repo,
        source=source,
        targets=targets,
        test_command=test_command,
        test_timeout=float(timeout),
        test_env=test_env,
        test_jobs=test_jobs,
        rerun=rerun,
        tests=tests,
        branch_prefix=prefix,
        expected_fixes=expected,
        source_roots=roots,
        include=includes,
        exclude=excludes,
        guard=guard,
        digest=_digest(table),
        warnings=tuple(warnings),
        lookup_notes=tuple(lookup_notes),
        decisions=tuple(decisions),
    )


def _environment(
    repo: Path,
    table: Mapping[str, Any],
    python: Path | None,
    test_command: str | Sequence[str] | None,
    environ: Mapping[str, str] | None,
    problems: _Problems,
) -> Environment | None:
    """The project's environment: ``--python``, the ``python`` key, else the usual guesses."""
    key = f"{TABLE}.python"
    how = "--python"
    if python is None and "python" in table:
        raw = table["python"]
        if not isinstance(raw, str) or not raw.strip():
            problems.add(key, f"must be a path to an interpreter or a venv, not {_type_name(raw)}")
            return None
        python = Path(os.path.expanduser(raw))
        python = python if python.is_absolute() else repo / python
        how = "the python key"
    try:
        return find_environment(repo, python, how, test_command, environ)
    except EnvironmentError_ as exc:
        problems.add(key if how != "--python" else "--python", str(exc))
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


def _test_env(value: object, problems: _Problems) -> tuple[tuple[str, str], ...]:
    key = f"{TABLE}.test-env"
    if not isinstance(value, dict):
        problems.add(key, f'must be a table of NAME = "value" strings, not {_type_name(value)}')
        return ()
    pairs: list[tuple[str, str]] = []
    for name, item in value.items():
        # os.environ cannot hold a name with '=' or NUL; an empty name is no variable at all.
        if not name or "=" in name or "\0" in name:
            problems.add(key, f"{name!r} is not an environment variable name")
        elif not isinstance(item, str) or "\0" in item:
            problems.add(f"{key}.{name}", f"must be a string, not {_type_name(item)}")
        else:
            pairs.append((name, item))
    return tuple(sorted(pairs))


def _count(value: object, key: str, least: int, problems: _Problems, *, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        problems.add(key, f"must be an integer >= {least}, got {value!r}")
        return default
    return value


def _check_uniqueness(targets: list[dict[str, Any]], problems: _Problems) -> None:
    names: dict[str, str] = {}
    owners: dict[str, str] = {}
    for target in targets:
        name = target.get("name")
        if name is not None:
            if name in names:
                problems.add(
                    f"{target['where']}.name", f"{name!r} is already the name of another target"
                )
            names[name] = target["where"]
        for alias in target["aliases"]:
            if alias in owners and owners[alias] != target["where"]:
                problems.add(
                    f"{target['where']}.aliases",
                    f"{alias!r} is also an alias in {owners[alias]}: an alias belongs to one target",
                )
            elif alias in target["aliases"][: target["aliases"].index(alias)]:
                problems.add(f"{target['where']}.aliases", f"{alias!r} is listed twice")
            owners.setdefault(alias, target["where"])


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

"""The ``[tool.ssot-migrate]`` keys, each declared once: its type, default, allowed values, help.

``config.load_config`` validates a table by reading every :class:`Key` of :data:`TOP_LEVEL` (and of
:data:`TARGET` for each target) in the order declared here, so problems are listed in that order;
``init_render`` spells the keys it writes through :func:`key_for`; the README's key tables are
:func:`markdown_table` of each (``tests/unit/test_config_schema.py`` checks they match). A key's ``check``
turns the TOML value into the model's (``model.Config``/``model.Target`` field ``attr``), adding
each problem under the key's full name; the returned value only matters when nothing was wrong.
"""

from __future__ import annotations

import difflib
import keyword
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, get_args

from ssot_migrate.model import GuardKind, TestSelection

TABLE = "tool.ssot-migrate"
# ``duplicate-overlap`` when a target leaves it out: scan's share (%) of the canonical's methods.
DUPLICATE_OVERLAP = 50.0


@dataclass
class Problems:
    """Collects every configuration problem so the user sees them all at once."""

    items: list[str]

    def add(self, key: str, reason: str) -> None:
        self.items.append(f"{key}: {reason}")


Check = Callable[[Any, str, Problems], Any]


@dataclass(frozen=True)
class Key:
    """One configuration key: ``name`` in TOML, ``attr`` in the model ("": not carried there)."""

    name: str
    attr: str
    type: str  # as the README says it ("": the allowed values, from ``choices``)
    default: Any  # the TOML value used when the key is absent (None: no value)
    help: str
    check: Check
    required: str = ""  # the problem when the key is absent ("": optional)
    choices: tuple[str, ...] = ()
    default_doc: str = ""  # the README's default when it is worked out at run time

    def read(self, table: Mapping[str, Any], where: str, problems: Problems) -> Any:
        """The key's validated value in ``table`` (its default when absent)."""
        path = f"{where}.{self.name}"
        if self.name not in table:
            if self.required:
                problems.add(path, self.required)
            return None if self.default is None else self.check(self.default, path, problems)
        return self.check(table[self.name], path, problems)

    @property
    def documented_type(self) -> str:
        """The type as the README's table shows it."""
        return self.type or " or ".join(f"`{_toml(c)}`" for c in self.choices)

    @property
    def documented_default(self) -> str:
        """The default as the README's table shows it."""
        if self.default_doc:
            return self.default_doc
        if self.required:
            return "required"
        return "none" if self.default is None else f"`{_toml(self.default)}`"


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:g}"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    assert isinstance(value, dict) and not value
    return "{}"


# --------------------------------------------------------------------------- value checks


def type_name(value: object) -> str:
    """How a problem names a TOML value's type ("a string", "an array"...)."""
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


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


def unknown_keys(
    table: Mapping[str, Any], keys: Sequence[Key], where: str, problems: Problems
) -> None:
    """A problem per key of ``table`` the schema lacks, with the nearest known one."""
    known = [k.name for k in keys]
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.add(f"{where}.{key}", "unknown key" + hint)


def _str_list(value: object, key: str, problems: Problems) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.add(key, f"must be an array of strings, not {type_name(value)}")
        return ()
    return tuple(value)


def _dotted_list(value: object, key: str, problems: Problems) -> tuple[str, ...]:
    names = _str_list(value, key, problems)
    for name in names:
        if not is_dotted_name(name):
            problems.add(key, f"{name!r} is not a valid dotted name (identifiers separated by '.')")
    return tuple(n for n in names if is_dotted_name(n))


def _bool(value: object, key: str, problems: Problems) -> bool:
    if not isinstance(value, bool):
        problems.add(key, f"must be true or false, not {type_name(value)}")
        return False
    return value


def _count(least: int) -> Check:
    def check(value: object, key: str, problems: Problems) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            problems.add(key, f"must be an integer >= {least}, got {value!r}")
            return 1
        return value

    return check


def _one_of(choices: tuple[str, ...], *, quoted: bool = False) -> Check:
    listed = ", ".join(map(repr, choices) if quoted else choices)

    def check(value: object, key: str, problems: Problems) -> str | None:
        if value not in choices:
            problems.add(key, f"must be one of {listed}, got {value!r}")
            return None
        return str(value)

    return check


def _test_command(value: object, key: str, problems: Problems) -> str | tuple[str, ...] | None:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, list) and value and all(isinstance(a, str) for a in value):
        return tuple(value)
    problems.add(key, "must be a non-empty string or a non-empty array of strings (argv)")
    return None


def _seconds(value: object, key: str, problems: Problems) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        problems.add(key, f"must be a positive number of seconds, got {value!r}")
        return 1800.0
    return float(value)


def _environment_table(value: object, key: str, problems: Problems) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        problems.add(key, f'must be a table of NAME = "value" strings, not {type_name(value)}')
        return ()
    pairs: list[tuple[str, str]] = []
    for name, item in value.items():
        # os.environ cannot hold a name with '=' or NUL; an empty name is no variable at all.
        if not name or "=" in name or "\0" in name:
            problems.add(key, f"{name!r} is not an environment variable name")
        elif not isinstance(item, str) or "\0" in item:
            problems.add(f"{key}.{name}", f"must be a string, not {type_name(item)}")
        else:
            pairs.append((name, item))
    return tuple(sorted(pairs))


def _branch_prefix(value: object, key: str, problems: Problems) -> str:
    if not isinstance(value, str):
        problems.add(key, f"must be a string, not {type_name(value)}")
        return "ssot/"
    if (why := ref_prefix_problem(value)) is not None:
        problems.add(key, f"{value!r} cannot start a git branch name: {why}")
    return value


def _source_roots(value: object, key: str, problems: Problems) -> tuple[str, ...]:
    raw_roots = _str_list(value, key, problems)
    for root in raw_roots:
        if root.startswith("/") or ".." in PurePosixPath(root).parts or ":" in root[:3]:
            problems.add(key, f"{root!r} must be a relative path inside the repository")
    return tuple(root.strip("/") for root in raw_roots)


def _interpreter(value: object, key: str, problems: Problems) -> str | None:
    if not isinstance(value, str) or not value.strip():
        problems.add(key, f"must be a path to an interpreter or a venv, not {type_name(value)}")
        return None
    return value


def _target_name(value: object, key: str, problems: Problems) -> str | None:
    if not isinstance(value, str) or not value.strip():
        problems.add(key, "required: a non-empty string naming the target")
        return None
    return value


def _dotted(value: object, key: str, problems: Problems) -> str | None:
    if not isinstance(value, str) or not is_dotted_name(value):
        problems.add(key, f"{value!r} is not a valid dotted name")
        return None
    return value


def _renames(value: object, key: str, problems: Problems) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        problems.add(key, f'must be a table of old = "new", not {type_name(value)}')
        return ()
    pairs: list[tuple[str, str]] = []
    for old, new in value.items():
        if not isinstance(new, str) or not new.isidentifier() or not old.isidentifier():
            problems.add(
                f"{key}.{old}",
                f"keyword renames must map identifiers to identifiers, got {old!r} = {new!r}",
            )
        else:
            pairs.append((old, new))
    return tuple(sorted(pairs))


def _percentage(value: object, key: str, problems: Problems) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 100:
        problems.add(key, f"must be a percentage above 0 and at most 100, got {value!r}")
        return None
    return float(value)


def _targets(value: object, key: str, problems: Problems) -> list[dict[str, Any]]:
    """Each ``[[tool.ssot-migrate.targets]]`` table read against :data:`TARGET`; the complete
    ones (a name and a canonical), checked for uniqueness, aliases followed to the end of chains."""
    if not isinstance(value, list):
        problems.add(key, f"must be an array of tables, not {type_name(value)}")
        return []
    if not value:
        problems.add(key, "is empty: configure at least one target")
        return []
    parsed = [t for i, raw in enumerate(value) if (t := _target(raw, i, problems)) is not None]
    _check_uniqueness(parsed, problems)
    complete = [t for t in parsed if t["name"] is not None and t["canonical"] is not None]
    _flatten_chains(complete, problems)
    return complete


def _target(raw: object, index: int, problems: Problems) -> dict[str, Any] | None:
    """One target's values by model attribute, plus ``where`` (how problems name it)."""
    if not isinstance(raw, dict):
        problems.add(f"{TABLE}.targets[{index}]", f"must be a table, not {type_name(raw)}")
        return None
    name = raw.get("name")
    where = f"[[{TABLE}.targets]] #{index + 1}"
    if isinstance(name, str) and name:
        where = f"{TABLE}.targets[{index}] ({name!r})"
    unknown_keys(raw, TARGET, where, problems)
    out: dict[str, Any] = {key.attr: key.read(raw, where, problems) for key in TARGET}
    out["where"] = where
    _target_relations(out, "aliases" in raw, where, problems)
    return out


def _target_relations(
    out: dict[str, Any], has_aliases: bool, where: str, problems: Problems
) -> None:
    """What one target's keys must be to each other (each key was read on its own)."""
    doubles, facades = out["test_doubles"], out["facades"]
    for name in sorted(set(doubles) & set(facades)):
        problems.add(
            f"{where}.test-doubles",
            f"{name!r} is also listed in facades: a class is either collapsed onto the canonical "
            "(facades) or kept as a test double conforming to it (test-doubles)",
        )
    for name in out["replace_facade_logic"]:
        if name not in facades:
            problems.add(
                f"{where}.replace-facade-logic",
                f"{name!r} is not listed in facades: only a facade's own logic can be replaced",
            )
    if out["canonical"] is not None and out["canonical"] in doubles:
        problems.add(f"{where}.test-doubles", "lists the canonical itself")
    for alias in out["aliases"]:
        if alias == out["canonical"]:
            problems.add(f"{where}.aliases", f"{alias!r} is the canonical itself")
    if not out["aliases"] and not out["discover_aliases"] and has_aliases:
        problems.add(
            f"{where}.aliases",
            "is empty and discover-aliases is false: the target could never change anything",
        )


def _check_uniqueness(targets: list[dict[str, Any]], problems: Problems) -> None:
    names: dict[str, str] = {}
    owners: dict[str, str] = {}
    for target in targets:
        name = target["name"]
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


def _flatten_chains(targets: list[dict[str, Any]], problems: Problems) -> None:
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
            target["canonical"] = current


# --------------------------------------------------------------------------- the keys

TEST_SELECTIONS: tuple[str, ...] = get_args(TestSelection)
GUARDS: tuple[str, ...] = get_args(GuardKind)
_VERIFICATION = "[Verification](#verification-isolation-triage-concurrency-selection)"

# In the order problems are listed (and the README shows them). Read as a table, not formatted.
# fmt: off
TOP_LEVEL: tuple[Key, ...] = (
    Key(
        "test-command", "test_command", "string or array", None,
        "the project's tests; a string is split like a POSIX shell (no shell runs it)",
        _test_command,
    ),
    Key(
        "test-timeout", "test_timeout", "number > 0", 1800,
        "seconds before a hung suite is killed",
        _seconds,
    ),
    Key(
        "test-env", "test_env", 'table `NAME = "value"`', {},
        "extra environment variables for every test run; `{tmpdir}` is the run's private "
        f"temporary directory (see {_VERIFICATION})",
        _environment_table,
    ),
    Key(
        "rerun", "rerun", "integer >= 0", 1,
        "times a pass -> fail test is re-run on the phase tree before it counts; `0` turns the "
        "triage off",
        _count(0),
    ),
    Key(
        "test-jobs", "test_jobs", "integer >= 1", None,
        "how many suites run at once: the base and phase trees side by side; `1` runs them one "
        "after the other",
        _count(1),
        default_doc="2 on 2+ cores, else 1",
    ),
    Key(
        "tests", "tests", "", "all",
        '`"affected"`: run only the test files that can reach the changed files, on both trees '
        "(see [selection](#verification-isolation-triage-concurrency-selection)); `--tests` "
        "overrides it",
        _one_of(TEST_SELECTIONS, quoted=True),
        choices=TEST_SELECTIONS,
    ),
    Key(
        "branch-prefix", "branch_prefix", "string", "ssot/",
        "must be able to start a git branch name (no `-` start, `..`, `@{`, spaces)",
        _branch_prefix,
    ),
    Key(
        "expected-fixes", "expected_fixes", "array of test ids", [],
        "fail-first tests expected to flip from failing to passing",
        _str_list,
    ),
    Key(
        "include", "include", "array of globs", [],
        "the `.py` files considered (default: all; `*` also matches `/`)",
        _str_list,
    ),
    Key(
        "exclude", "exclude", "array of globs", [],
        "`.py` files left out (`*` also matches `/`)",
        _str_list,
    ),
    Key(
        "guard", "guard", "", None,
        "phase 1's commit also writes the guard configuration",
        _one_of(GUARDS),
        choices=GUARDS,
    ),
    Key(
        "source-roots", "source_roots", "array of paths", None,
        "folders that module names are relative to",
        _source_roots,
        default_doc='`[""]`, and `"src"` when there is a `src/` folder',
    ),
    Key(
        "targets", "targets", "array of tables", None,
        "one per duplicated component",
        _targets,
        required="required: at least one [[tool.ssot-migrate.targets]] table",
    ),
    Key(
        "strict", "", "bool", False,
        "a configured name found nowhere is an error (exit 2) instead of a warning; same as "
        "`--strict`",
        _bool,
    ),
    Key(
        "python", "", "path", None,
        "the project's interpreter or venv folder, where names outside the repository are "
        "looked up (relative to the repository; `--python PATH` overrides it)",
        _interpreter,
    ),
)

TARGET: tuple[Key, ...] = (
    Key(
        "name", "name", "string", None,
        "unique name used in reports and commit messages",
        _target_name,
        required="required: a non-empty string naming the target",
    ),
    Key(
        "canonical", "canonical", "dotted name", None,
        "the single source of truth: a module (`pkg.mod`) or a symbol (`pkg.mod.Name`)",
        _dotted,
        required="required: the dotted path of the single source of truth",
    ),
    Key(
        "aliases", "aliases", "array of dotted names", [],
        "legacy paths to rewrite to the canonical (modules, or symbols)",
        _dotted_list,
        required="required: an array of the legacy dotted paths",
    ),
    Key(
        "facades", "facades", "array of dotted names", [],
        "classes that wrap or duplicate the canonical (phase 2)",
        _dotted_list,
    ),
    Key(
        "test-doubles", "test_doubles", "array of dotted names", [],
        "hand-written test doubles phase 2 makes accept every call the canonical accepts; not "
        "also in `facades`",
        _dotted_list,
    ),
    Key(
        "replace-facade-logic", "replace_facade_logic", "array of dotted names", [],
        "facades (each also in `facades`) whose own logic phase 2 replaces by the canonical's, "
        "listing each method it replaces; without it, only pure forwards collapse",
        _dotted_list,
    ),
    Key(
        "legacy-factories", "legacy_factories", "array of dotted names", [],
        "factories whose calls become calls of `factory`",
        _dotted_list,
    ),
    Key(
        "factory", "factory", "dotted name", None,
        "the canonical factory (phase 3)",
        _dotted,
    ),
    Key(
        "discover-aliases", "discover_aliases", "bool", True,
        "also rewrite re-export paths `scan` finds",
        _bool,
    ),
    Key(
        "keep-names", "keep_names", "bool", False,
        "keep local names: `from new import Canonical as OldName`",
        _bool,
    ),
    Key(
        "allow-shared", "allow_shared", "bool", False,
        "allow rewriting to a factory that returns a shared instance",
        _bool,
    ),
    Key(
        "deprecate", "deprecate", "bool", False,
        "phase 2 keeps the facade name through a module `__getattr__` that warns",
        _bool,
    ),
    Key(
        "factory-exempt", "factory_exempt", "array of globs", [],
        "files where direct instantiation stays",
        _str_list,
    ),
    Key(
        "factory-args", "factory_args", 'table `old = "new"`', {},
        "keyword renames when a constructor call becomes a factory call",
        _renames,
    ),
    Key(
        "duplicate-overlap", "duplicate_overlap", "number (0-100]", None,
        "share of the methods the canonical implements itself that a class named after it must "
        "implement too to be a duplicate for `scan` (see "
        "[How duplicates are found](#how-duplicates-are-found))",
        _percentage,
        default_doc=f"{DUPLICATE_OVERLAP:g}",
    ),
)
# fmt: on


def key_for(attr: str, keys: Iterable[Key] = TARGET) -> str:
    """The TOML spelling of the key that fills model attribute ``attr``."""
    return next(k.name for k in keys if k.attr == attr)


def markdown_table(keys: Sequence[Key]) -> str:
    """The README's table of ``keys``: key, type, default, meaning."""
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    rows += [
        f"| `{k.name}` | {k.documented_type} | {k.documented_default} | {k.help} |" for k in keys
    ]
    return "\n".join(rows) + "\n"

"""The configuration schema is the one spelling of every key: the README and the model agree with it."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from ssot_migrate.config_schema import TABLE, TARGET, TOP_LEVEL, Key, Problems, markdown_table
from ssot_migrate.model import Config, Target

README = Path(__file__).resolve().parents[2] / "README.md"
_ROW = re.compile(r"^\| `([a-z-]+)` \| (.*?) \| (.*?) \| (.*) \|$")


def _readme_tables() -> list[dict[str, tuple[str, str, str]]]:
    """Each key table of the README: key -> (type, default, meaning)."""
    tables: list[dict[str, tuple[str, str, str]]] = []
    current: dict[str, tuple[str, str, str]] | None = None
    for line in README.read_text(encoding="utf-8").splitlines():
        if line == "| key | type | default | meaning |":
            current = {}
            tables.append(current)
        elif current is not None and (match := _ROW.match(line)):
            current[match.group(1)] = (match.group(2), match.group(3), match.group(4))
        elif not line.startswith("|"):
            current = None
    return tables


@pytest.mark.parametrize(("keys", "index"), [(TOP_LEVEL, 0), (TARGET, 1)], ids=["top", "target"])
def test_readme_key_tables_are_the_schema(keys: tuple[Key, ...], index: int) -> None:
    tables = _readme_tables()
    assert len(tables) == 2, "the README has one key table for the top level, one per target"
    documented = tables[index]
    declared = {k.name: (k.documented_type, k.documented_default, k.help) for k in keys}
    assert sorted(documented.keys() - declared.keys()) == [], "README documents unknown keys"
    assert sorted(declared.keys() - documented.keys()) == [], "keys missing from the README"
    for name, row in declared.items():
        assert documented[name] == row, f"README row of {name!r} differs from the schema"
    assert markdown_table(keys) in README.read_text(encoding="utf-8"), (
        "the README's table is not the schema's, in its order; paste this:\n" + markdown_table(keys)
    )


@pytest.mark.parametrize(("keys", "model"), [(TOP_LEVEL, Config), (TARGET, Target)])
def test_model_defaults_are_the_schema_defaults(keys: tuple[Key, ...], model: type) -> None:
    fields = {f.name: f for f in dataclasses.fields(model)}
    checked = 0
    for key in keys:
        if not key.attr or key.required or key.default_doc and key.default is None:
            continue  # not in the model, required, or worked out at run time
        problems = Problems([])
        value = key.read({}, TABLE, problems)
        assert problems.items == [], key.name
        assert fields[key.attr].default == value, f"{key.name}: model and schema defaults differ"
        checked += 1
    assert checked >= 8


def test_every_key_fills_a_model_field_or_says_it_does_not() -> None:
    config_fields = {f.name for f in dataclasses.fields(Config)}
    target_fields = {f.name for f in dataclasses.fields(Target)}
    assert {k.attr for k in TOP_LEVEL} - {""} <= config_fields
    assert {k.attr for k in TARGET} <= target_fields
    assert len({k.name for k in (*TOP_LEVEL, *TARGET)}) == len(TOP_LEVEL) + len(TARGET)


def test_a_wrong_value_is_named_with_its_key_and_an_absent_one_gets_the_default() -> None:
    problems = Problems([])
    values = {k.name: k.read({"rerun": -1, "tests": "some"}, TABLE, problems) for k in TOP_LEVEL}
    assert problems.items == [
        "tool.ssot-migrate.rerun: must be an integer >= 0, got -1",
        "tool.ssot-migrate.tests: must be one of 'all', 'affected', got 'some'",
        "tool.ssot-migrate.targets: required: at least one [[tool.ssot-migrate.targets]] table",
    ]
    assert (values["test-timeout"], values["branch-prefix"], values["strict"]) == (
        1800.0,
        "ssot/",
        False,
    )

"""The phase registry is the one place a phase is defined: CLI, branches and codemods read it."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from ssot_migrate import phases
from ssot_migrate.cli import app
from ssot_migrate.codemods.facades import FacadesCodemod
from ssot_migrate.codemods.factories import FactoriesCodemod
from ssot_migrate.codemods.imports import ImportsCodemod
from ssot_migrate.errors import UsageError
from ssot_migrate.model import Config


def test_the_cli_has_one_command_per_phase_with_its_help() -> None:
    group = typer.main.get_command(app)
    commands = group.commands  # type: ignore[attr-defined]
    for phase in phases.REGISTRY:
        assert commands[phase.id].help == phase.help
    assert [name for name in commands if name.startswith("phase")] == list(phases.IDS)


def test_order_and_branch_names_come_from_the_registry() -> None:
    config = Config(repo=Path("."), source=Path("pyproject.toml"), targets=(), branch_prefix="x/")
    assert phases.IDS == ("phase1", "phase2", "phase3")
    assert [phases.branch_name(config, p) for p in phases.IDS] == [
        "x/phase1-imports",
        "x/phase2-facades",
        "x/phase3-factories",
    ]
    assert phases.branch_name(config, "rollback-phase2") == "x/rollback-phase2"
    assert [p.id for p in phases.earlier("phase3")] == ["phase1", "phase2"]
    assert [p.id for p in phases.later("phase1")] == ["phase2", "phase3"]
    assert phases.earlier("phase1") == () and phases.later("phase3") == ()


def test_each_codemod_reports_the_phase_that_builds_it() -> None:
    assert ImportsCodemod(()).phase == phases.REGISTRY[0].id
    assert FacadesCodemod(()).phase == phases.REGISTRY[1].id
    assert FactoriesCodemod(()).phase == phases.REGISTRY[2].id


def test_an_unknown_phase_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(
        UsageError, match=r"unknown phase 'phase4'; expected one of phase1, phase2, phase3"
    ):
        phases.get("phase4")

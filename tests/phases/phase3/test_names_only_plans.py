"""A target no file can hold a site of keeps a plan of its names only; outputs stay the same.

``build_codemod`` reads a target's factory, class and facades only when a file the engine will
transform spells one of its names (``FactoriesCodemod.plans_spelt_in``). These tests pin which
targets are read, and that the phase's outcomes equal those of reading every target.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ssot_migrate.codemods.factories import FactoriesCodemod
from ssot_migrate.codemods.factories import codemod as factories_codemod
from ssot_migrate.codemods.factories.plan import _names_only_plan
from ssot_migrate.config import load_config
from ssot_migrate.engine import Snapshot, run_codemod
from ssot_migrate.model import RunSummary, SourceFile, Target
from ssot_migrate.phases import build_codemod
from tests.helpers.repos import run_cli


def _target(name: str, canonical: str, factory: str, extra: str = "") -> str:
    return (
        f'[[tool.ssot-migrate.targets]]\nname = "{name}"\ncanonical = "{canonical}"\n'
        f'aliases = ["gone.{name}.Old"]\nfactory = "{factory}"\n{extra}'
    )


CONFIG = "[tool.ssot-migrate]\n" + "".join(
    [
        # Constructed in app/use.py: read.
        _target("used", "pkg.core.Engine", "pkg.factory.make_engine"),
        # Spelt only in its own factory module, where construction is expected: names only.
        _target("fill", "fill.Canon", "fill.make_canon"),
        # Its factory is elsewhere, so its class's own module holds a site (listed): read.
        _target("split", "split_core.Part", "split_factory.make_part"),
        # Spelt only in a ``factory-exempt`` file: names only.
        _target("exempt", "ex.Gadget", "ex.make_gadget", 'factory-exempt = ["legacy/*"]\n'),
        # Its factory does not exist: nothing to read either way.
        _target("nofactory", "fill.Other", "fill.make_nothing"),
        # Spelt as part of a longer name only (``EngineRoom``): names only.
        _target("partial", "room.Engin", "room.make_engin"),
    ]
)

FILES: dict[str, str | bytes] = {
    "pkg/__init__.py": "",
    "pkg/core.py": "class Engine:\n    def __init__(self, size=1):\n        self.size = size\n",
    "pkg/factory.py": "from pkg.core import Engine\n\n\ndef make_engine(size=1):\n"
    "    return Engine(size)\n",
    "app/__init__.py": "",
    "app/use.py": "from pkg.core import Engine\n\nENGINE = Engine(2)\nEngineRoom = 1\n",
    "fill.py": "class Canon:\n    pass\n\n\nclass Other:\n    pass\n\n\n"
    "def make_canon():\n    return Canon()\n",
    "split_core.py": "class Part:\n    pass\n\n\nDEFAULT = Part()\n",
    "split_factory.py": "from split_core import Part\n\n\ndef make_part():\n    return Part()\n",
    "ex.py": "class Gadget:\n    pass\n\n\ndef make_gadget():\n    return Gadget()\n",
    "legacy/__init__.py": "",
    "legacy/old.py": "from ex import Gadget\n\nG = Gadget()\n",
    "room.py": "class Engin:\n    pass\n\n\ndef make_engin():\n    return Engin()\n",
    "pyproject.toml": CONFIG,
}


def _outcomes(summary: RunSummary) -> list[tuple[object, ...]]:
    return [(o.path, o.status, o.after, o.changes, o.notes, o.reason) for o in summary.outcomes]


@pytest.fixture
def repo(repo_factory: Callable[..., Path]) -> Path:
    return repo_factory(FILES)


def test_only_targets_a_file_can_construct_are_read(repo: Path) -> None:
    config = load_config(repo)
    with Snapshot.open(repo, config) as snapshot:
        codemod = build_codemod("phase3", config, snapshot)
    assert isinstance(codemod, FactoriesCodemod)
    read = {plan.target for plan in codemod.plans if plan.factory.signature is not None}
    assert read == {"used", "split"}
    # A target read is read in full, as before: its class's constructor and class methods.
    used = next(plan for plan in codemod.plans if plan.target == "used")
    assert used.constructor is not None and used.class_methods
    names_only = next(plan for plan in codemod.plans if plan.target == "fill")
    assert names_only.constructor is None and names_only.class_methods == ()


def test_outcomes_equal_those_of_reading_every_target(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(repo)
    with Snapshot.open(repo, config) as snapshot:
        codemod = build_codemod("phase3", config, snapshot)
        summary = run_codemod(snapshot, codemod, jobs=1)
    monkeypatch.setattr(
        factories_codemod,
        "_plans_with_possible_sites",
        lambda codemod, snapshot: set(range(len(codemod.plans))),
    )
    with Snapshot.open(repo, config) as snapshot:
        every = build_codemod("phase3", config, snapshot)
        every_summary = run_codemod(snapshot, every, jobs=1)
    assert isinstance(every, FactoriesCodemod)
    assert all(
        plan.factory.signature is not None for plan in every.plans if plan.target != "nofactory"
    )
    assert codemod.needles() == every.needles()
    assert _outcomes(summary) == _outcomes(every_summary)
    assert any(o.changes for o in summary.outcomes)  # the used target's site is rewritten


@pytest.mark.parametrize(
    ("source", "spelt"),
    [
        pytest.param(b"x = Canon()\n", {"fill"}, id="whole-word"),
        pytest.param(b"x = CanonX()\n", set(), id="longer-word"),
        pytest.param(b"x = 1  # \xc3\xa9\n", {"fill", "other"}, id="not-ascii"),
        pytest.param(b"# coding: latin-1\nx = 1\n", {"fill", "other"}, id="encoding-line-1"),
        pytest.param(
            b"#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\n",
            {"fill", "other"},
            id="encoding-line-2",
        ),
        pytest.param(b"x = 1\ny = 2\n# coding: latin-1\n", set(), id="encoding-line-3-ignored"),
    ],
)
def test_plans_spelt_in_a_file(source: bytes, spelt: set[str]) -> None:
    plans = tuple(
        _names_only_plan(
            Target(name=name, canonical=f"{module}.{cls}", aliases=(), factory=f"{module}.make")
        )
        for name, module, cls in (("fill", "fill", "Canon"), ("other", "other", "Thing"))
    )
    codemod = FactoriesCodemod(plans)
    found = codemod.plans_spelt_in(source, SourceFile("app/x.py", "app.x"))
    assert {codemod.plans[i].target for i in found} == spelt
    # The factory's own module is left out whatever it spells.
    assert codemod.plans_spelt_in(b"x = Canon()\n", SourceFile("fill.py", "fill")) == set()


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("# café\n".encode(), id="not-ascii"),
        pytest.param(b"# coding: latin-1\n", id="coding"),
    ],
)
def test_a_target_constructed_only_in_an_odd_file_is_read_and_rewritten(
    repo_factory: Callable[..., Path], header: bytes
) -> None:
    files: dict[str, str | bytes] = {
        "acc.py": "class Widget:\n    pass\n\n\ndef make_widget():\n    return Widget()\n",
        "app/__init__.py": "",
        "app/odd.py": header + b"from acc import Widget\n\nW = Widget()\n",
        "pyproject.toml": "[tool.ssot-migrate]\n" + _target("odd", "acc.Widget", "acc.make_widget"),
    }
    repo = repo_factory(files)
    config = load_config(repo)
    with Snapshot.open(repo, config) as snapshot:
        codemod = build_codemod("phase3", config, snapshot)
        summary = run_codemod(snapshot, codemod, jobs=1)
    assert isinstance(codemod, FactoriesCodemod)
    assert codemod.plans[0].factory.signature is not None
    (changed,) = [o for o in summary.outcomes if o.changes]
    assert changed.path == "app/odd.py" and b"W = make_widget()" in (changed.after or b"")


def test_a_missing_canonical_still_fails_the_configuration(
    repo_factory: Callable[..., Path],
) -> None:
    files = dict(FILES)
    files["pyproject.toml"] = CONFIG.replace(
        "[tool.ssot-migrate]\n", "[tool.ssot-migrate]\nstrict = true\n", 1
    ).replace('canonical = "fill.Canon"', 'canonical = "nowhere.mod.Canon"')
    repo = repo_factory(files)
    proc = run_cli("phase3", "--dry-run", "--repo", str(repo))
    assert proc.returncode == 2, proc.stderr
    assert "('fill').canonical: 'nowhere.mod.Canon' was found nowhere" in proc.stderr

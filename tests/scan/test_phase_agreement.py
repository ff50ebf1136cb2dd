"""``scan`` counts exactly what the phases change (issue 13, item 3).

Both read one definition of a patch call, a test file and a construction site
(``ssot_migrate/conventions.py``). Over the fixture repositories and generated ones:

- scan's ``legacy-import`` sites are phase 1's rewritten-or-listed sites: imports, attribute
  chains, strings naming an alias path, ``patch.object(legacy_module, "Name")``. Phase 1 also renames the later
  uses of a moved local name (``reference``/``string``/``all`` records without a dotted path);
  scan counts the import that binds it, not every use.
- scan's ``direct-instantiation`` sites are phase 3's rewritten-or-listed call sites. Phase 3
  also lists references that are not calls (the class passed as a value, assigned, wrapped in
  ``functools.partial``, ``super().__init__``, ``Cls.from_config``): not construction sites.

``SSOT_AGREEMENT_EXAMPLES=200`` runs the generated property longer.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssot_migrate.engine import open_config_and_snapshot
from ssot_migrate.phases import compute_phase
from ssot_migrate.scan.analysis import scan_repository
from tests.helpers import paths
from tests.helpers.fixture_harness import read_tree
from tests.helpers.paths import FIXTURES
from tests.helpers.repos import make_repo
from tests.helpers.scan import BASE, agreement


def fixture_repos() -> list[tuple[str, Path, Path | None]]:
    found: list[tuple[str, Path, Path | None]] = []
    for phase in ("phase1", "phase3"):
        for case in sorted((FIXTURES / phase).iterdir()):
            if (case / "before").is_dir():
                found.append((f"{phase}/{case.name}", case / "before", case / "config.toml"))
    found.append(("scan/violating", FIXTURES / "scan" / "violating", None))
    found.append(("sample", paths.ROOT / "ssot_migrate" / "sample", None))
    return found


@pytest.mark.parametrize(
    ("name", "tree", "config"), fixture_repos(), ids=[r[0] for r in fixture_repos()]
)
def test_scan_counts_what_the_phases_change_on_fixtures(
    name: str, tree: Path, config: Path | None, tmp_path: Path
) -> None:
    files = read_tree(tree)
    if config is not None:
        files["pyproject.toml"] = config.read_bytes()
    changed, legacy, built, direct = agreement(make_repo(tmp_path / "repo", files))
    assert legacy == changed, name
    assert direct == built, name


# --------------------------------------------------------------------------- generated repositories


# An import and the names it binds; then statements, each with the names it needs.
IMPORTS = {
    "from app.legacy import X": "X",
    "from app.legacy import X as Y": "Y",
    "import app.legacy": "app",
    "import app.legacy as lm": "lm",
    "from app import legacy": "legacy",
    "from app.core import New": "New",
    "import unittest.mock as um": "um",
    "from unittest import mock": "mock",
    "from unittest.mock import patch": "patch",
    "from mock import patch as backport": "backport",
}
USES = [
    ("X()", {"X"}),
    ("Y(1)", {"Y"}),
    ("app.legacy.X()", {"app"}),
    ("lm.X(2)", {"lm"}),
    ("legacy.X()", {"legacy"}),
    ("New()", {"New"}),
    ("lm.HELPER", {"lm"}),
    ('um.patch("app.legacy.X")', {"um"}),
    ('mock.patch("app.legacy.X")', {"mock"}),
    ('patch("app.legacy.X")', {"patch"}),
    ('backport(target="app.legacy.X")', {"backport"}),
    ('patch.object(lm, "X")', {"patch", "lm"}),
    ('um.patch.object(legacy, "X")', {"um", "legacy"}),
    ('mock.patch.object(app.legacy, "X")', {"mock", "app"}),
    ('monkeypatch.setattr("app.legacy.X", None)', set()),
    ('monkeypatch.setattr(lm, "X", None)', {"lm"}),
    ('patch.object(lm, "HELPER")', {"patch", "lm"}),
]


@st.composite
def consumer(draw: st.DrawFn) -> str:
    imports = draw(st.lists(st.sampled_from(sorted(IMPORTS)), min_size=1, max_size=5, unique=True))
    bound = {IMPORTS[i] for i in imports}
    usable = [code for code, needs in USES if needs <= bound]
    uses = draw(st.lists(st.sampled_from(usable), max_size=5)) if usable else []
    body = "".join(f"    _ = {code}\n" for code in uses) or "    pass\n"
    return "\n".join(imports) + "\n\n\ndef f(monkeypatch):\n" + body


EXAMPLES = int(os.environ.get("SSOT_AGREEMENT_EXAMPLES", "8"))


@settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
@given(files=st.lists(consumer(), min_size=1, max_size=3), in_tests=st.booleans())
def test_scan_counts_what_the_phases_change_on_generated_repositories(
    files: list[str], in_tests: bool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = "tests/test_c" if in_tests else "app/c"
    tree = {**BASE, **{f"{folder}{i}.py": text for i, text in enumerate(files)}}
    root = tmp_path_factory.mktemp("generated")
    changed, legacy, built, direct = agreement(make_repo(root / "repo", tree))
    assert legacy == changed, tree
    assert direct == built, tree
    shutil.rmtree(root)


def test_patch_object_of_a_legacy_module_is_a_seam_until_phase1_rewrites_it(tmp_path: Path) -> None:
    tree = {
        **{k: v for k, v in BASE.items() if k != "app/factory.py"},
        "pyproject.toml": BASE["pyproject.toml"].replace('factory = "app.factory.make"\n', ""),
        "app/use.py": "from app.core import New\n\n\ndef make():\n    return New()\n",
        "tests/test_use.py": (
            "from unittest import mock\n\nfrom app import legacy\n\n\n"
            'def test_make():\n    with mock.patch.object(legacy, "X"):\n        pass\n'
        ),
    }
    repo = make_repo(tmp_path / "repo", tree)
    config, snapshot = open_config_and_snapshot(repo, None)
    report = scan_repository(config, jobs=1)
    found = {(s.category, s.path, s.line) for s in report.sites}
    assert ("legacy-import", "tests/test_use.py", 7) in found
    seam = next(s for s in report.sites if s.category == "patch-seam")
    assert (seam.path, seam.line) == ("tests/test_use.py", 7)
    assert "intercepts nothing" in seam.message
    with snapshot:
        phase1 = compute_phase(config, "phase1", snapshot=snapshot, jobs=1)
    (outcome,) = phase1.changed
    assert outcome.after == (
        b"from unittest import mock\n\nfrom app import core\n\n\n"
        b'def test_make():\n    with mock.patch.object(core, "New"):\n        pass\n'
    )

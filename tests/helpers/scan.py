"""Repositories and checks the scan tests share with the phase and guard tests."""

from __future__ import annotations

from pathlib import Path

from ssot_migrate.engine import open_config_and_snapshot
from ssot_migrate.model import Change
from ssot_migrate.phases import compute_phase
from ssot_migrate.scan.analysis import scan_repository
from tests.helpers import paths

NOT_CALL_SITES = frozenset(
    {
        "super-init",
        "dynamic-construction",
        "constructor-reference",
        "partial",
        "alternative-constructor",
    }
)


def rewritten_path(change: Change) -> bool:
    """A phase-1 change at a reference to an alias path (not a later use of a local name)."""
    return change.kind in ("import", "patch-object") or (
        change.kind in ("reference", "string") and "." in change.old
    )


def agreement(
    repo: Path,
) -> tuple[set[tuple[str, int]], set[tuple[str, int]], set[tuple[str, int]], set[tuple[str, int]]]:
    """(phase-1 sites, scan legacy-import, phase-3 sites, scan direct-instantiation) of ``repo``."""
    config, snapshot = open_config_and_snapshot(repo, None)
    with snapshot:
        phase1 = compute_phase(config, "phase1", snapshot=snapshot, jobs=1)
        phase3 = compute_phase(config, "phase3", snapshot=snapshot, jobs=1)
    report = scan_repository(config, jobs=1)
    changed = {(c.path, c.line) for o in phase1.outcomes for c in o.changes if rewritten_path(c)}
    # what phase 1 leaves alone it lists (a builtin canonical shadowed here, a star import of a
    # module defining a symbol alias...)
    changed |= {(n.path, n.line) for n in phase1.notes}
    legacy = {(s.path, s.line) for s in report.sites if s.category == "legacy-import"}
    built = {(c.path, c.line) for o in phase3.outcomes for c in o.changes}
    built |= {(n.path, n.line) for n in phase3.notes if n.kind not in NOT_CALL_SITES}
    direct = {(s.path, s.line) for s in report.sites if s.category == "direct-instantiation"}
    return changed, legacy, built, direct


BASE = {
    "pyproject.toml": """\
[tool.ssot-migrate]

[[tool.ssot-migrate.targets]]
name = "t"
canonical = "app.core.New"
aliases = ["app.legacy.X"]
factory = "app.factory.make"
""",
    "app/__init__.py": "",
    "app/core.py": "class New:\n    def __init__(self, x=None):\n        self.x = x\n",
    "app/legacy.py": "class X:\n    def __init__(self, x=None):\n        self.x = x\n\n\nHELPER = 1\n",
    "app/factory.py": "from app.core import New\n\n\ndef make(x=None):\n    return New(x)\n",
    "tests/__init__.py": "",
}


CONFIG = """[tool.ssot-migrate]
[[tool.ssot-migrate.targets]]
name = "engine"
canonical = "pkg.core.Engine"
aliases = ["pkg.old.Engine"]

[[tool.ssot-migrate.targets]]
name = "other"
canonical = "pkg.core.Other"
aliases = ["pkg.legacy_other.Other"]
discover-aliases = false
"""


FILES: dict[str, str | bytes] = {
    "pyproject.toml": CONFIG,
    "pkg/__init__.py": "from .core import Engine\n",  # package re-export: a path
    "pkg/core.py": "class Engine:\n    pass\n\n\nclass Other:\n    pass\n",
    "pkg/old.py": "from pkg.core import Engine\n",  # configured alias
    "pkg/compat.py": "from pkg.core import *\n",  # star re-export: pkg.compat.Engine
    # chain through a star re-export, renamed and listed in __all__
    "pkg/shim.py": 'from pkg.compat import Engine as OldEngine\n\n__all__ = ["OldEngine"]\n',
    # alias assignment of a name bound by importing the package re-export
    "pkg/alias.py": "from pkg import Engine\n\nLegacyEngine = Engine\n_Private = Engine\n",
    # a consumer: imports the class to use it; not a path...
    "pkg/user.py": "from pkg.core import Engine\n\n\ndef make():\n    return Engine()\n",
    # ...unless another module imports the name from it, as this one does
    "pkg/user2.py": "from pkg.user import Engine\n\n\ndef build():\n    return Engine()\n",
    # a package that imports the class to use it, with no __all__: not a re-export
    "pkg/uses/__init__.py": "from pkg.core import Engine\n\n\nclass Sub(Engine):\n    pass\n",
    # __all__ decides: Engine is imported but not exported, and a star import of it gets nothing
    "pkg/listed.py": 'from pkg.core import Engine\n\n__all__ = ["helper"]\n',
    "pkg/star_listed.py": "from pkg.listed import *\n",
    # a consumer nobody imports from: never a path, so `mock.patch("pkg.quiet.Engine")` stays
    "pkg/quiet.py": "from pkg.core import Engine as E\n\nINSTANCE = E()\n",
    "pkg/other_reexport/__init__.py": "from pkg.core import Other\n",
    "pkg/legacy_other.py": "from pkg.core import Other\n",
    # imported for type checkers only, or used only in a string annotation: not re-exports
    "pkg/typed.py": "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
    "    from pkg.core import Engine\n",
    "pkg/annotated.py": 'from pkg.core import Engine\n\n\ndef run(e: "Engine") -> None:\n    pass\n',
    "pkg/broken.py": "from pkg.core import Engine\ndef (:\n",  # does not parse: skipped quietly
}


SCAN_FIXTURES = paths.FIXTURES / "scan"


def fixture_files(name: str) -> dict[str, str | bytes]:
    root = SCAN_FIXTURES / name
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }

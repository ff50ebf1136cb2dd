"""Discovery of every dotted path to a canonical object (re-exports, assignments, stars, chains)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ssot_migrate.config import load_config
from ssot_migrate.discovery import discover_aliases, find_paths
from ssot_migrate.engine import Snapshot
from ssot_migrate.phases import compute_phase

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


def test_every_reexport_shape_is_followed(repo_factory: Callable[..., Path]) -> None:
    repo = repo_factory(FILES)
    config = load_config(repo)
    with Snapshot.open(repo, config) as snapshot:
        paths = find_paths(config.targets[0], snapshot)
    assert [(p.dotted, p.origin) for p in paths] == [
        ("pkg.core.Engine", "canonical"),
        ("pkg.old.Engine", "configured"),
        ("pkg.Engine", "discovered"),
        ("pkg.alias.LegacyEngine", "discovered"),
        ("pkg.compat.Engine", "discovered"),
        ("pkg.shim.OldEngine", "discovered"),
        ("pkg.user.Engine", "discovered"),
    ]
    where = {p.dotted: (p.path, p.line, p.how) for p in paths}
    assert where["pkg.compat.Engine"] == ("pkg/compat.py", 1, "star")
    assert where["pkg.alias.LegacyEngine"] == ("pkg/alias.py", 3, "assign")


def test_discover_aliases_fills_only_enabled_targets(repo_factory: Callable[..., Path]) -> None:
    repo = repo_factory(FILES)
    config = load_config(repo)
    with Snapshot.open(repo, config) as snapshot:
        found = discover_aliases(config, snapshot)
    engine, other = found.targets
    assert engine.discovered_aliases == (
        "pkg.Engine",
        "pkg.alias.LegacyEngine",
        "pkg.compat.Engine",
        "pkg.shim.OldEngine",
        "pkg.user.Engine",
    )
    assert engine.all_aliases[0] == "pkg.old.Engine"
    assert other.discovered_aliases == ()  # discover-aliases = false: not even looked for


def test_module_canonical_reexports(repo_factory: Callable[..., Path]) -> None:
    repo = repo_factory(
        {
            "pyproject.toml": '[tool.ssot-migrate]\n[[tool.ssot-migrate.targets]]\nname = "m"\n'
            'canonical = "lib.helpers"\naliases = []\n',
            "lib/__init__.py": "",
            "lib/helpers.py": "def f():\n    return 1\n",
            "compat/__init__.py": "from lib import helpers\nimport lib.helpers as tools\n",
            "app.py": "from lib import helpers\n\nprint(helpers.f())\n",
        }
    )
    config = load_config(repo)
    with Snapshot.open(repo, config) as snapshot:
        paths = find_paths(config.targets[0], snapshot)
    assert [p.dotted for p in paths] == ["lib.helpers", "compat.helpers", "compat.tools"]


def test_phase1_learns_the_discovered_paths(repo_factory: Callable[..., Path]) -> None:
    repo = repo_factory(FILES)
    summary = compute_phase(load_config(repo), "phase1", jobs=1)
    assert ("engine", "pkg.shim.OldEngine") in summary.discovered
    assert not any(target == "other" for target, _ in summary.discovered)


def test_large_repositories_are_parsed_in_a_pool(repo_factory: Callable[..., Path]) -> None:
    padding = "".join(f"# filler line {i} mentioning Engine\n" for i in range(5000))  # ~170 kB
    files = dict(FILES)
    files["pkg/big_reexport.py"] = padding + "from pkg.core import Engine\n"
    files["pkg/big_consumer.py"] = padding + "from pkg.core import Engine\n\nEngine()\n"
    repo = repo_factory(files)
    config = load_config(repo)
    with Snapshot.open(repo, config) as snapshot:
        serial = find_paths(config.targets[0], snapshot, jobs=1)
        pooled = find_paths(config.targets[0], snapshot, jobs=2)
    assert serial == pooled
    assert "pkg.big_reexport.Engine" in [p.dotted for p in pooled]
    assert "pkg.big_consumer.Engine" not in [p.dotted for p in pooled]

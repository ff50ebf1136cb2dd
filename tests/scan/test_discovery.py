"""Discovery of every dotted path to a canonical object (re-exports, assignments, stars, chains)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ssot_migrate.config import load_config
from ssot_migrate.discovery import discover_aliases, find_paths
from ssot_migrate.engine import Snapshot
from ssot_migrate.phases import compute_phase
from tests.helpers.scan import FILES


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

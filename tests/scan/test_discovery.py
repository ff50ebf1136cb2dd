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


STAR_CHAIN = {
    "pyproject.toml": '[tool.ssot-migrate]\n[[tool.ssot-migrate.targets]]\nname = "engine"\n'
    'canonical = "lib.core.Engine"\naliases = ["lib.old.Engine"]\n',
    "lib/__init__.py": "",
    "lib/core.py": "class Engine:\n    pass\n",
    # The chain: each link star-imports the previous one and never spells the name.
    "lib/api.py": "from .core import *\n",
    "lib/facade.py": "import os\nfrom \\\n    .api import *\n",
    "top.py": "from lib.facade import *\n",
    "lib/sub/__init__.py": "",
    "lib/sub/deep.py": "from ..facade import *\n",
    # The text pass cannot read this spelling (nor the comment's ``import *``): parsed anyway.
    "spaced.py": "from lib . api import *\n",
    "commented.py": "# avoid import * in new code\nfrom top import *\n",
    # The configured alias's module star-imports something unrelated; its __all__ still decides
    # what a star import of it re-exports (here: not Engine).
    "lib/old.py": 'from lib.elsewhere import *\n__all__ = ["Other"]\n',
    "lib/elsewhere.py": "Other = 1\n",
    "old_user.py": "from lib.old import *\n",
    # Star imports of modules that bind nothing of the target: never parsed.
    "unrelated.py": "from os.path import *\n",
    "lib/sub/sibling.py": "from ..import *\nfrom .deep_unrelated import *\n",
}


def test_star_chains_are_followed_and_unrelated_star_imports_not_parsed(
    repo_factory: Callable[..., Path],
) -> None:
    repo = repo_factory(STAR_CHAIN)
    config = load_config(repo)
    cache: dict[str, object] = {}
    with Snapshot.open(repo, config) as snapshot:
        paths = find_paths(config.targets[0], snapshot, cache=cache)  # type: ignore[arg-type]
    assert [(p.dotted, p.origin) for p in paths] == [
        ("lib.core.Engine", "canonical"),
        ("lib.old.Engine", "configured"),
        ("commented.Engine", "discovered"),
        ("lib.api.Engine", "discovered"),
        ("lib.facade.Engine", "discovered"),
        ("lib.sub.deep.Engine", "discovered"),
        ("spaced.Engine", "discovered"),
        ("top.Engine", "discovered"),
    ]
    where = {p.dotted: (p.path, p.line, p.column, p.how) for p in paths}
    assert where["lib.facade.Engine"] == ("lib/facade.py", 2, 1, "star")
    assert where["commented.Engine"] == ("commented.py", 2, 1, "star")
    assert {"lib/old.py", "lib/api.py", "top.py", "lib/sub/deep.py"} <= set(cache)
    assert "unrelated.py" not in cache
    assert "lib/sub/sibling.py" not in cache

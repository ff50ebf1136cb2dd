"""Many targets cost one pass: one search for all names, files parsed once, same outputs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ssot_migrate.config import load_config
from ssot_migrate.discovery import find_all_paths, find_paths
from ssot_migrate.engine import Snapshot
from ssot_migrate.gitlayer import tree
from tests.conftest import run_cli
from tests.test_scan_discovery import FILES

# More fillers than one ``git grep`` takes, so the alternation is split in chunks.
FILLERS = tree.GREP_CHUNK + 100


def _fillers(count: int, factory: bool = False) -> str:
    """Targets that match nothing: a canonical in ``fill.py``, an alias no file spells."""
    text = ""
    for i in range(count):
        text += (
            f'[[tool.ssot-migrate.targets]]\nname = "fill{i}"\n'
            f'canonical = "fill.Canon{i:04d}"\naliases = ["gone{i % 7}.Old{i:04d}"]\n'
        )
        if factory:
            text += f'factory = "fill.make{i:04d}"\n'
    return text


FILL_MODULE = "".join(  # every filler of the tests below, and more
    f"class Canon{i:04d}:\n    pass\n\n\ndef make{i:04d}():\n    return Canon{i:04d}()\n\n\n"
    for i in range(FILLERS)
)


def test_grep_matches_needles_literally_in_every_chunk(repo_factory: Callable[..., Path]) -> None:
    repo = repo_factory({
        "brackets.py": "x = data[0]\n",
        "pipe.py": "s = 'a.b|c'\n",
        "dot.py": "aXb = 1\n",  # `a.b` as a regex would match this
        "late.py": f"Old{FILLERS - 1:04d} = 1\n",  # in the last chunk
        "star.py": "from m import *\n",
        "nothing.py": "pass\n",
        "notes.txt": "data[0]\n",  # not Python
    })
    needles = ["data[0]", "a.b|c", "a.b", "import *", *(f"Old{i:04d}" for i in range(FILLERS))]
    git_repo = tree.open_repo(repo)
    try:
        commit = tree.resolve_commit(git_repo, "HEAD")
        hits, unreadable = tree.grep_paths(git_repo, commit, needles)
    finally:
        git_repo.close()
    assert hits == {"brackets.py", "pipe.py", "late.py", "star.py"}
    assert unreadable == set()


def test_discovery_of_many_targets_at_once_equals_each_alone(
    repo_factory: Callable[..., Path],
) -> None:
    config_text = str(FILES["pyproject.toml"]) + _fillers(40)
    repo = repo_factory({**FILES, "pyproject.toml": config_text, "fill.py": FILL_MODULE})
    config = load_config(repo)
    with Snapshot.open(repo, config) as snapshot:
        together = find_all_paths(config.targets, snapshot)
        alone = [find_paths(target, snapshot) for target in config.targets]
    assert together == alone
    assert [p.dotted for p in together[0] if p.origin == "discovered"] == [
        "pkg.Engine", "pkg.alias.LegacyEngine", "pkg.compat.Engine", "pkg.shim.OldEngine",
        "pkg.user.Engine",
    ]


def _cli_outputs(repo: Path, config: Path) -> tuple[str, str, str]:
    phase1 = run_cli("phase1", "--dry-run", "--repo", str(repo), "--config", str(config))
    phase3 = run_cli("phase3", "--dry-run", "--repo", str(repo), "--config", str(config))
    scan = run_cli("scan", "--format", "json", "--repo", str(repo), "--config", str(config))
    assert (phase1.returncode, phase3.returncode) == (0, 0), phase1.stderr + phase3.stderr
    return phase1.stdout, phase3.stdout, scan.stdout


def test_targets_that_match_nothing_change_no_output(
    repo_factory: Callable[..., Path], tmp_path: Path
) -> None:
    import json

    real = (
        "[tool.ssot-migrate]\n[[tool.ssot-migrate.targets]]\n"
        'name = "engine"\ncanonical = "pkg.core.Engine"\naliases = ["pkg.old.Engine"]\n'
        'factory = "pkg.factory.make_engine"\n'
    )
    files = {
        **{k: v for k, v in FILES.items() if k != "pyproject.toml"},
        "pkg/factory.py": "from pkg.core import Engine\n\n\ndef make_engine():\n"
                          "    return Engine()\n",
        "app/use.py": "from pkg.old import Engine\n\nENGINE = Engine()\n",
        "fill.py": FILL_MODULE,
    }
    repo = repo_factory(files)
    one = tmp_path / "one.toml"
    one.write_text(real)
    many = tmp_path / "many.toml"
    many.write_text(real + _fillers(200, factory=True))
    phase1, phase3, scan = _cli_outputs(repo, one)
    assert "+from pkg.core import Engine" in phase1 and "make_engine()" in phase3
    many_phase1, many_phase3, many_scan = _cli_outputs(repo, many)
    assert many_phase1 == phase1
    assert many_phase3 == phase3
    report, many_report = json.loads(scan), json.loads(many_scan)
    assert many_report["targets"][0] == report["targets"][0]
    assert [s for s in many_report["sites"] if s["target"] == "engine"] == report["sites"]

"""Many targets cost one pass: one search for all names, files parsed once, same outputs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from ssot_migrate import engine
from ssot_migrate.config import load_config
from ssot_migrate.discovery import find_all_paths, find_paths
from ssot_migrate.engine import CommitFiles, Snapshot
from ssot_migrate.gitlayer import tree
from ssot_migrate.scan.analysis import scan_repository
from ssot_migrate.scan.filefacts import FileFacts
from tests.helpers.repos import run_cli
from tests.helpers.scan import FILES, fixture_files

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


FILL_MODULE = "".join(  # every filler of the tests below
    f"class Canon{i:04d}:\n    pass\n\n\ndef make{i:04d}():\n    return Canon{i:04d}()\n\n\n"
    for i in range(200)
)


def test_grep_matches_needles_literally_in_every_chunk(repo_factory: Callable[..., Path]) -> None:
    repo = repo_factory(
        {
            "brackets.py": "x = data[0]\n",
            "pipe.py": "s = 'a.b|c'\n",
            "dot.py": "aXb = 1\n",  # `a.b` as a regex would match this
            "late.py": f"Old{FILLERS - 1:04d} = 1\n",  # in the last chunk
            "star.py": "from m import *\n",
            "nothing.py": "pass\n",
            "notes.txt": "data[0]\n",  # not Python
        }
    )
    needles = ["data[0]", "a.b|c", "a.b", "import *", *(f"Old{i:04d}" for i in range(FILLERS))]
    git_repo = tree.open_repo(repo)
    try:
        commit = tree.resolve_commit(git_repo, "HEAD")
        hits, unreadable = tree.grep_paths(git_repo, commit, needles)
        # Few needles go to git as fixed strings rather than one regex: just as literal.
        few = tree.grep_paths(git_repo, commit, needles[:4])
    finally:
        git_repo.close()
    assert hits == {"brackets.py", "pipe.py", "late.py", "star.py"}
    assert unreadable == set()
    assert few == ({"brackets.py", "pipe.py", "star.py"}, set())


def test_a_grep_answered_from_earlier_ones_equals_git_grep(
    repo_factory: Callable[..., Path],
) -> None:
    repo = repo_factory(
        {
            "star.py": "from m import *\n",
            "engine.py": "class Engine: ...\n",
            "longer.py": "EngineRoom = 1\n",  # a substring hit, as git grep counts it
            "both.py": "from m import *\nfrom n import Gear\n",
            "gear.py": "Gear = 2\n",
            "notes.txt": "Engine\n",  # not Python
        }
    )
    files = CommitFiles(repo)
    try:
        files.grep({"import *", "Engine"})
        files.grep({"Gear"})
        # Covered by the two greps above: answered by substring tests of their hits, exactly
        # as git would answer.
        for needles in [{"Engine"}, {"Engine", "Gear"}, {"import *"}, {"Gear", "import *"}]:
            known = files._grep_known(frozenset(needles))
            assert known == tree.grep_paths(files._repo, files.commit, needles), needles
        assert files._grep_known(frozenset({"Engine", "Missing"})) is None  # never searched
        assert files.grep({"Engine", "Missing"}) == ({"engine.py", "longer.py"}, set())
    finally:
        files.close()


def test_many_needles_answered_from_earlier_greps_by_one_pass_equal_git_grep(
    repo_factory: Callable[..., Path],
) -> None:
    # More needles than substring tests pay for: one regex pass of git's own trie answers,
    # literally (regex metacharacters, needles sharing prefixes, a substring hit).
    many = [f"Old{i:04d}" for i in range(engine._GREP_KNOWN_NEEDLES + 10)]
    repo = repo_factory(
        {
            "brackets.py": "x = data[0]\n",
            "pipe.py": "s = 'a.b|c'\n",
            "dot.py": "aXb = 1\n",  # ``a.b`` as a regex would match this
            "late.py": f"{many[-1]}0 = 1\n",  # a substring of a longer name
            "first.py": f"{many[0]} = 1\n",
            "prefix.py": "Old00 = 1\n",  # a prefix shared by needles, no needle itself
            "star.py": "from m import *\n",
            "nothing.py": "pass\n",
        }
    )
    files = CommitFiles(repo)
    try:
        special = ["data[0]", "a.b|c", "a.b", "import *"]
        files.grep([*special, *many])
        for needles in [{*special, *many}, set(many), {*many[1:], "a.b"}]:
            assert len(needles) > engine._GREP_KNOWN_NEEDLES
            known = files._grep_known(frozenset(needles))
            assert known == tree.grep_paths(files._repo, files.commit, needles), needles
        assert known == ({"late.py", "pipe.py"}, set())  # the last set: no many[0]
    finally:
        files.close()


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
        "pkg.Engine",
        "pkg.alias.LegacyEngine",
        "pkg.compat.Engine",
        "pkg.shim.OldEngine",
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


def test_trie_pattern_matches_exactly_the_needles() -> None:
    """The grep alternation, written as a trie, matches each needle and nothing else
    (checked with Python's ``re``, which reads these constructs as POSIX ERE does)."""
    import random
    import re

    rng = random.Random(17)
    alphabet = "ab.|[\\(*"
    for _ in range(300):
        needles = list(
            {
                "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5))).encode()
                for _ in range(rng.randint(1, 8))
            }
        )
        pattern = re.compile("(?:" + tree._trie_pattern(needles).decode() + ")")
        for _ in range(40):
            word = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5)))
            assert bool(pattern.fullmatch(word)) == (word.encode() in needles), (needles, word)
    assert tree._trie_pattern([b"ab", b"abc", b"ad"]) == b"a(b(c)?|d)"


def test_scan_facts_of_a_target_do_not_depend_on_the_others() -> None:
    """Scan looks at a file for a target only when the file can concern it (spells one of its
    names, is its factory's module, holds a class named after it or listed as its double, or
    the target is a module); every other target's facts are those of the target alone."""
    from ssot_migrate.discovery import ImportPath
    from ssot_migrate.model import NameKind, SourceFile, Target
    from ssot_migrate.scan.facts import ScanAnalyser
    from ssot_migrate.scan.spec import build_spec

    def target(name: str, canonical: str, **extra: object) -> Target:
        return Target(name=name, canonical=canonical, aliases=(), **extra)  # type: ignore[arg-type]

    real = [
        target(
            "engine",
            "pkg.core.UnifiedEngine",
            factory="pkg.factory.make_engine",
            test_doubles=("tests.doubles.StubThing",),
        ),
        target("mod", "pkg.sub", canonical_kind=NameKind.MODULE),
        target("star", "pkg.newer.Thing"),
        target("assumed", "lib.shim", kind_assumed="no source found"),
    ]
    aliases = {"star": ["old.compat.Thing"], "assumed": ["lib.old"]}
    fillers = [
        target(f"fill{i}", f"fill.Canon{i:04d}", factory=f"fill.make{i:04d}") for i in range(300)
    ]
    files = {
        # a factory module's own helper held and forwarded to: reaches the factory unnamed
        ("pkg/factory/helpers.py", "pkg.factory.helpers"): (
            "# EngineRoom\nfrom . import build\n\nclass Wrapper:\n    def __init__(self):\n"
            "        self._impl = build()\n\n    def send(self):\n        return self._impl.send()\n"
        ),
        ("pkg/sub/inner.py", "pkg.sub.inner"): "# subtle\nfrom . import thing\n\nthing.run()\n",
        ("tests/doubles.py", "tests.doubles"): (
            "class StubThing:\n    def send(self):\n        pass\n\n\n"
            "class FakeEngine:\n    def send(self):\n        pass\n"
        ),
        # a star import from an alias's module binds it unnamed
        ("app/star.py", "app.star"): "# Things\nfrom old.compat import *\n",
        # inside an assumed-kind alias's package, a relative import reaches it unnamed
        ("lib/old/inner.py", "lib.old.inner"): "# olden\nfrom . import helper\n",
        ("app/use.py", "app.use"): (
            "from pkg.core import UnifiedEngine\nfrom fill import Canon0007\n\n"
            "ENGINE = UnifiedEngine()\nOTHER = Canon0007()\n"
        ),
    }

    def notes(targets: list[Target]) -> list[object]:
        analyser = ScanAnalyser(
            [
                build_spec(
                    t, [ImportPath(t.name, a, "configured") for a in aliases.get(t.name, [])]
                )
                for t in targets
            ]
        )
        found = []
        for (path, module), text in files.items():
            result = analyser.transform(text.encode(), SourceFile(path, module))
            found += [n for n in result.notes if not n.target.startswith("fill")]
        return found

    alone = notes(real)
    assert {(n.path, n.target, n.kind) for n in alone} >= {  # type: ignore[attr-defined]
        ("pkg/factory/helpers.py", "engine", "class"),
        ("pkg/sub/inner.py", "mod", "path-use"),
        ("tests/doubles.py", "engine", "class"),
        ("app/use.py", "engine", "path-use"),
        ("app/star.py", "star", "path-use"),
        ("lib/old/inner.py", "assumed", "path-use"),
    }
    assert notes([*fillers[:150], real[0], *fillers[150:], *real[1:]]) == alone


def test_table_collapses_targets_with_nothing_to_report() -> None:
    """Hundreds of consolidated targets are one line of the table, not a table each; a target
    with a violation, a discovered path or a second implementation file keeps its table."""
    import io

    from rich.console import Console

    from ssot_migrate.discovery import ImportPath
    from ssot_migrate.scan.analysis import CATEGORIES, ScanReport, TargetReport
    from ssot_migrate.scan.report import render_table

    def report(
        name: str, *, legacy: int = 0, discovered: bool = False, files: int = 1
    ) -> TargetReport:
        counts = {c: 0 for c in CATEGORIES}
        counts["import-paths"], counts["legacy-import"] = 1, legacy
        origin = "discovered" if discovered else "configured"
        return TargetReport(
            target=name,
            canonical=f"pkg.{name}",
            counts=counts,
            paths=(ImportPath(name, f"pkg.{name}", "canonical"), ImportPath(name, "x", origin)),
            used_paths=(f"pkg.{name}",),
            implementation_files=files,
        )

    targets = (
        report("real", legacy=2),
        *(report(f"fill{i:03d}") for i in range(30)),
        report("found", discovered=True),
        report("copied", files=2),
    )
    out = io.StringIO()
    render_table(
        ScanReport(commit="0" * 40, targets=targets, sites=()), Console(file=out, width=400)
    )
    text = out.getvalue()
    assert [t for t in ("real", "found", "copied", "fill000") if f"{t}: pkg.{t}" in text] == [
        "real",
        "found",
        "copied",
    ]
    assert text.count("category") == 3  # three tables
    names = ", ".join(f"fill{i:03d}" for i in range(20))
    assert (
        f"verdict: consolidated, nothing to report (30 target(s)): {names} and 10 more "
        "(--format json lists every target)\n" in text
    )


def _report_json(repo: Path, config_path: Path | None = None) -> str:
    from ssot_migrate.scan.report import render_json

    config = load_config(repo, config_path) if config_path else load_config(repo)
    return render_json(scan_repository(config, jobs=1))


@pytest.mark.parametrize("fixture", ["violating", "consolidated"])
def test_scan_looks_up_per_target_what_walking_every_node_and_class_finds(
    repo_factory: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, fixture: str
) -> None:
    # Scan's analysis of a target visits only the calls and classes that can concern it
    # (``FileFacts.nodes_for``, ``classes_for``): the report equals that of visiting them all.
    repo = repo_factory(fixture_files(fixture))
    looked_up = _report_json(repo)
    monkeypatch.setattr(
        FileFacts, "nodes_for", lambda self, tree, called: self.referencing_nodes(tree)
    )
    monkeypatch.setattr(FileFacts, "classes_for", lambda self, quals, run: self.classes())
    assert looked_up == _report_json(repo)


def test_scan_of_many_targets_runs_no_more_git_greps_than_of_one(
    repo_factory: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Discovery's first search and the analyser's (which adds the factories) are answered from
    # one ``git grep`` of both, however many targets: only new names discovery finds cost more.
    calls: list[int] = []
    grep_paths = tree.grep_paths

    def counted(repo_: object, commit: str, needles: Iterable[str]) -> tuple[set[str], set[str]]:
        calls.append(1)
        return grep_paths(repo_, commit, needles)  # type: ignore[arg-type]

    monkeypatch.setattr(tree, "grep_paths", counted)
    counts = []
    for fillers in (0, 200):
        config_text = str(FILES["pyproject.toml"]) + _fillers(fillers, factory=True)
        files = {**FILES, "pyproject.toml": config_text, "fill.py": FILL_MODULE}
        repo = repo_factory(files, name=f"repo{fillers}")
        calls.clear()
        report = scan_repository(load_config(repo), jobs=1)
        counts.append(len(calls))
        assert report.targets[0].counts["legacy-import"] > 0
    assert counts[1] == counts[0]

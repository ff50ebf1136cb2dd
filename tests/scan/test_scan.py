"""``scan``: hand-counted categories on a fixture repository, the paths found, every format, exit codes.

The expected figures below were written down from reading ``tests/fixtures/scan/violating``, file by
file (the comments say which lines make each count), not from the tool's output.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from ssot_migrate.config import load_config
from ssot_migrate.scan.analysis import CATEGORIES, ScanReport, scan_repository
from ssot_migrate.scan.report import render_counts_line, render_markdown_summary
from tests.helpers import paths
from tests.helpers.repos import git, make_repo, run_cli
from tests.helpers.scan import SCAN_FIXTURES, fixture_files

SCHEMA_DIR = paths.SCHEMAS
CANONICAL = "app.core.unified.UnifiedWebSocketManager"

# Hand counts for fixtures/scan/violating (see the module docstring).
EXPECTED = {
    # compat.py:1, services/chat.py:2, services/notify.py:5 (attribute chain through `import`),
    # services/rooms.py:1 and :2 (discovered re-export paths), tests/test_chat.py:15 and :30 (patch
    # strings naming configured aliases). Local uses of an imported name are not path references.
    "legacy-import": 7,
    # services/chat.py imports the canonical path and the legacy one.
    "dual-import": 1,
    # canonical + app.legacy.manager.WebSocketManager (compat, chat, notify) + app.core.<Name>
    # and app.compat.Manager (rooms). app.legacy.old.Manager is only patched, never imported.
    "import-paths": 4,
    # WebSocketManagerFacade (listed facade), IsolatedWebSocketManager (named after the stem and
    # implementing all 4 canonical methods). Not: ConnectionPool (3 of the 4 methods, but named
    # after something else: shared method names alone are no evidence), Registry, the Protocol,
    # the test mock.
    "duplicate-implementation": 2,
    # WebSocketManagerFacade keeps self._manager and forwards add_connection/broadcast.
    "facade": 1,
    # legacy/factory.py:5, legacy/facade.py:6, services/chat.py:6 (alias constructor),
    # handlers.py:6 and :10 (legacy factory call). core/factory.py is the factory; tests/ is exempt.
    "direct-instantiation": 5,
    # facade (missing 2, arity), Isolated (sync send_message, 3 positionals),
    # MockWebSocketManager in tests (missing 2, arity). ConnectionPool is not a duplicate.
    "interface-drift": 3,
    # test_chat.py:15 patches a live alias path; :25 patches app.services.missing (no such name).
    "stale-patch-target": 2,
    # test_chat.py:20 patches app.handlers.WebSocketManager, but handlers now binds the canonical;
    # :30 patches app.legacy.old.Manager, which no code reads.
    "patch-seam": 2,
}


@pytest.fixture(scope="module")
def violating(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("scan") / "violating", fixture_files("violating"))


@pytest.fixture(scope="module")
def consolidated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(
        tmp_path_factory.mktemp("scan") / "consolidated", fixture_files("consolidated")
    )


@pytest.fixture(scope="module")
def report(violating: Path) -> ScanReport:
    return scan_repository(load_config(violating), jobs=1)


def sites(report: ScanReport, category: str) -> list[str]:
    return [f"{s.path}:{s.line}" for s in report.sites if s.category == category]


def test_counts_equal_hand_counts(report: ScanReport) -> None:
    assert report.counts() == EXPECTED
    assert report.verdict == "violations"
    (target,) = report.targets
    assert target.implementation_files == 3  # unified.py, facade.py, isolated.py
    assert report.violations()["import-paths"] == 3


def test_every_path_to_the_object(report: ScanReport) -> None:
    (target,) = report.targets
    assert [(p.dotted, p.origin) for p in target.paths] == [
        (CANONICAL, "canonical"),
        ("app.legacy.manager.WebSocketManager", "configured"),
        ("app.legacy.old.Manager", "configured"),
        ("app.compat.Manager", "discovered"),  # re-exports an alias, listed in __all__
        ("app.core.UnifiedWebSocketManager", "discovered"),  # package __init__ re-export
    ]
    # Consumers that merely import the class (handlers.py, chat.py, ...) are not paths.
    assert not any(p.dotted.startswith(("app.handlers.", "app.services.")) for p in target.paths)


def test_site_locations(report: ScanReport) -> None:
    assert sites(report, "legacy-import") == [
        "app/compat.py:1",
        "app/services/chat.py:2",
        "app/services/notify.py:5",
        "app/services/rooms.py:1",
        "app/services/rooms.py:2",
        "tests/test_chat.py:15",
        "tests/test_chat.py:30",
    ]
    assert sites(report, "stale-patch-target") == ["tests/test_chat.py:15", "tests/test_chat.py:25"]
    assert sites(report, "patch-seam") == ["tests/test_chat.py:20", "tests/test_chat.py:30"]
    seam = next(s for s in report.sites if s.category == "patch-seam" and s.line == 20)
    assert "app.handlers.UnifiedWebSocketManager" in seam.message
    assert sites(report, "direct-instantiation") == [
        "app/handlers.py:6",
        "app/handlers.py:10",
        "app/legacy/facade.py:6",
        "app/legacy/factory.py:5",
        "app/services/chat.py:6",
    ]
    assert sites(report, "dual-import") == ["app/services/chat.py:2"]
    code = next(s.code for s in report.sites if s.path == "app/services/notify.py")
    assert code == "return app.legacy.manager.WebSocketManager.broadcast"


def test_interface_drift_is_spelled_out(report: ScanReport) -> None:
    (target,) = report.targets
    drift = {d.candidate: d for d in target.drift}
    assert set(drift) == {
        "app.legacy.facade.WebSocketManagerFacade",
        "app.isolated.IsolatedWebSocketManager",
        "tests.test_chat.MockWebSocketManager",
    }
    facade = drift["app.legacy.facade.WebSocketManagerFacade"]
    assert facade.overlap == 50.0
    assert facade.missing == ("remove_connection", "send_message")
    messages = [m.message for m in facade.mismatches]
    assert "add_connection(): takes 1 positional argument but canonical takes 2" in messages
    isolated = [m.message for m in drift["app.isolated.IsolatedWebSocketManager"].mismatches]
    assert "send_message(): is sync but canonical's is async" in isolated
    message = next(
        s.message
        for s in report.sites
        if s.category == "interface-drift" and s.message.startswith("app.legacy.facade.")
    )
    assert message.startswith(
        "app.legacy.facade.WebSocketManagerFacade: shares 2 of the 4 public methods of "
        "app.core.unified.UnifiedWebSocketManager (add_connection, broadcast)"
    )


def test_duplicates_say_why(report: ScanReport) -> None:
    duplicates = {
        s.message.split()[0]: s.message
        for s in report.sites
        if s.category == "duplicate-implementation"
    }
    assert duplicates == {
        "app.isolated.IsolatedWebSocketManager": "app.isolated.IsolatedWebSocketManager competes with "
        + CANONICAL
        + " (named after "
        "WebSocketManager, implements 4 of its 4 methods: add_connection, broadcast, "
        "remove_connection, send_message)",
        "app.legacy.facade.WebSocketManagerFacade": "app.legacy.facade.WebSocketManagerFacade competes with "
        + CANONICAL
        + " (listed facade)",
    }


def test_already_consolidated_repository(consolidated: Path) -> None:
    result = run_cli("scan", "--check", "--repo", str(consolidated))
    assert result.returncode == 0, result.stderr
    assert "verdict: consolidated" in result.stdout
    data = json.loads(run_cli("scan", "--format", "json", "--repo", str(consolidated)).stdout)
    assert data["verdict"] == "consolidated"
    assert data["violations"] == {c: 0 for c in CATEGORIES}
    assert data["counts"]["import-paths"] == 1
    # And the phases have nothing to do on it.
    for phase in ("phase1", "phase2", "phase3"):
        dry = run_cli(phase, "--dry-run", "--repo", str(consolidated))
        assert dry.returncode == 0 and dry.stdout == "", (phase, dry.stderr)


def test_json_format_matches_schema_and_counts(violating: Path) -> None:
    result = run_cli("scan", "--format", "json", "--repo", str(violating))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    schema = json.loads((SCHEMA_DIR / "scan-report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(data)
    assert data["schema_version"] == 1
    assert data["counts"] == EXPECTED
    assert data["commit"] == git(violating, "rev-parse", "HEAD").strip()
    assert len(data["sites"]) == sum(EXPECTED.values()) - EXPECTED["import-paths"] + 3
    assert list(data) == [
        "schema_version",
        "tool",
        "commit",
        "verdict",
        "counts",
        "violations",
        "files",
        "skipped",
        "targets",
        "sites",
        "warnings",
    ]


def test_sarif_is_valid_sarif_2_1_0(violating: Path) -> None:
    result = run_cli("scan", "--format", "sarif", "--repo", str(violating))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    schema = json.loads((SCAN_FIXTURES / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(document)
    run = document["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == list(CATEGORIES)
    assert len(run["results"]) == len(
        json.loads(run_cli("scan", "--format", "json", "--repo", str(violating)).stdout)["sites"]
    )
    first = run["results"][0]["locations"][0]["physicalLocation"]
    assert first["artifactLocation"]["uri"] == "app/compat.py"
    assert first["region"]["startLine"] == 1
    # A broken document must fail the same validation: the check is not vacuous.
    del run["results"][0]["message"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(document)


def test_markdown_and_table_formats(violating: Path) -> None:
    markdown = run_cli("scan", "--format", "markdown", "--repo", str(violating)).stdout
    assert markdown.startswith("## ssot-migrate scan: violations")
    assert "| legacy-import | 7 | 0 |" in markdown
    assert "| import-paths | 4 | 1 |" in markdown
    assert "`app.compat.Manager` (discovered) (used)" in markdown
    table = run_cli("scan", "--repo", str(violating))
    assert table.returncode == 0
    assert "verdict: violations" in table.stdout
    assert "tests/test_chat.py" in table.stdout
    assert 'with mock.patch("app.handlers.WebSocketManager"):' in table.stdout
    assert "scan:" in table.stderr and "scan:" not in table.stdout


def test_code_is_never_read_as_rich_markup(repo_factory: Callable[..., Path]) -> None:
    repo = repo_factory(
        {
            "pyproject.toml": '[tool.ssot-migrate]\n[[tool.ssot-migrate.targets]]\nname = "t"\n'
            'canonical = "pkg.new.Thing"\naliases = ["pkg.old.Thing"]\n',
            "pkg/__init__.py": "",
            "pkg/new.py": "class Thing:\n    pass\n",
            "pkg/old.py": "from pkg.new import Thing\n",
            "pkg/use.py": 'import pkg.old\n\nTABLE = {"[bold]x[/bold]": pkg.old.Thing}\n',
            "pkg/broken.py": "import pkg.old\n\ndef broken(:\n    pkg.old.Thing\n",
        }
    )
    result = run_cli("scan", "--repo", str(repo))
    assert 'TABLE = {"[bold]x[/bold]": pkg.old.Thing}' in result.stdout
    # A file that does not parse is listed as skipped (with its line); the rest is scanned.
    assert "skipped pkg/broken.py:" in result.stderr and "syntax error" in result.stderr
    assert "1 file(s) could not be analysed" in result.stderr
    data = json.loads(run_cli("scan", "--format", "json", "--repo", str(repo)).stdout)
    assert [s["path"] for s in data["skipped"]] == ["pkg/broken.py"]
    assert data["counts"]["legacy-import"] == 1


def test_exit_codes(violating: Path, consolidated: Path, tmp_path: Path) -> None:
    assert run_cli("scan", "--repo", str(violating)).returncode == 0
    assert run_cli("scan", "--check", "--repo", str(violating)).returncode == 1
    assert run_cli("scan", "--check", "--repo", str(consolidated)).returncode == 0
    bad_format = run_cli("scan", "--format", "xml", "--repo", str(violating))
    assert bad_format.returncode == 2 and "--format 'xml'" in bad_format.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[tool.ssot-migrate]\n[[tool.ssot-migrate.targets]]\nname = "t"\n'
        'canonical = "app.core.unified.UnifiedWebSocketManager"\naliasses = []\n'
    )
    result = run_cli("scan", "--check", "--repo", str(violating), "--config", str(bad))
    assert result.returncode == 2
    assert "aliasses" in result.stderr and result.stdout == ""


def test_ratchet(repo_factory: Callable[..., Path], tmp_path: Path) -> None:
    files = fixture_files("violating")
    repo = repo_factory(files)
    baseline = tmp_path / "baseline.json"
    wrote = run_cli(
        "scan", "--repo", str(repo), "--write-baseline", str(baseline), "--format", "json"
    )
    assert wrote.returncode == 0, wrote.stderr
    saved = json.loads(baseline.read_text())
    assert saved["kind"] == "ssot-migrate-baseline"
    assert saved["targets"]["ws"]["legacy-import"] == 7
    assert saved["targets"]["ws"]["import-paths"] == 3  # paths beyond the one that should remain
    same = run_cli("scan", "--check", "--repo", str(repo), "--baseline", str(baseline))
    assert same.returncode == 0, same.stderr  # violations remain, but none rose
    # One more legacy import: the ratchet catches it and names the count.
    (repo / "app" / "extra.py").write_text("from app.legacy.manager import WebSocketManager\n")
    git(repo, "add", "app/extra.py")
    git(repo, "commit", "-q", "-m", "regress")
    rose = run_cli("scan", "--repo", str(repo), "--baseline", str(baseline))
    assert rose.returncode == 1
    assert "ratchet: ws legacy-import rose from 7 to 8" in rose.stderr
    # --base scans another commit: the one before the regression is still within the baseline.
    before = run_cli("scan", "--repo", str(repo), "--base", "HEAD~1", "--baseline", str(baseline))
    assert before.returncode == 0, before.stderr
    # Fewer violations than the baseline pass.
    git(repo, "rm", "-q", "app/extra.py", "tests/test_chat.py")
    git(repo, "commit", "-q", "-m", "improve")
    assert run_cli("scan", "--repo", str(repo), "--baseline", str(baseline)).returncode == 0
    missing = run_cli("scan", "--repo", str(repo), "--baseline", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "--write-baseline" in missing.stderr


def test_a_relative_baseline_is_the_repositorys_file(
    repo_factory: Callable[..., Path], tmp_path: Path
) -> None:
    repo = repo_factory(fixture_files("violating"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    wrote = run_cli(
        "scan", "--repo", str(repo), "--write-baseline", ".ssot-baseline.json", cwd=elsewhere
    )
    assert wrote.returncode == 0, wrote.stderr
    assert (repo / ".ssot-baseline.json").is_file() and list(elsewhere.iterdir()) == []
    # Run from anywhere, --baseline names the repository's file (as the pre-commit hook does).
    held = run_cli("scan", "--repo", str(repo), "--baseline", ".ssot-baseline.json", cwd=elsewhere)
    assert held.returncode == 0, held.stderr
    assert f"no count above the baseline {repo / '.ssot-baseline.json'}" in held.stderr


def test_only_files_with_a_needle_are_parsed(report: ScanReport) -> None:
    # registry.py (one canonical method) and the package __init__ files name nothing relevant.
    assert report.files_listed == 22
    assert report.files_parsed < report.files_listed


def test_before_after_summary_helpers(report: ScanReport) -> None:
    before = report.counts()
    after = {**before, "legacy-import": 0, "import-paths": 1, "facade": 2}
    table = render_markdown_summary(before, after)
    assert table.splitlines()[:2] == ["| category | before | after |", "| --- | ---: | ---: |"]
    assert "| legacy-import | 7 | 0 ✓ |" in table
    assert "| import-paths | 4 | 1 ✓ |" in table
    assert "| facade | 1 | 2 ✗ |" in table
    assert "| dual-import | 1 | 1 |" in table
    assert render_counts_line(before, after).splitlines() == [
        "legacy-import 7 → 0",
        "import-paths 4 → 1",
        "facade 1 → 2",
    ]


SHAPES: dict[str, str | bytes] = {
    "pyproject.toml": '[tool.ssot-migrate]\n[[tool.ssot-migrate.targets]]\nname = "util"\n'
    'canonical = "newpkg.util"\naliases = ["oldpkg.util"]\n',
    "newpkg/__init__.py": "",
    "newpkg/util.py": "def f():\n    return 1\n\n\ndef g():\n    return 2\n",
    "oldpkg/__init__.py": "",
    "oldpkg/util.py": "from newpkg.util import *  # noqa: F403\n",
    "oldpkg/user.py": "from .util import f\n\nprint(f())\n",  # relative: 1
    "a.py": "from oldpkg.util import f, g\n\nprint(f(), g())\n",  # one statement: 1
    "b.py": "import oldpkg.util\n\nx = oldpkg.util.f()\n",  # import + chain: 2
    "c.py": "from oldpkg import util\n\ny = util.g()\n",  # the import only: 1
    "e.py": "import oldpkg.util as u\n\nu.f()\n",  # the import only: 1
    # a fully qualified string annotation: 1 (plus its import: 1)
    "g.py": 'import oldpkg.util\n\n\ndef h(x: "oldpkg.util.Thing") -> None:\n    pass\n',
    "f.py": "import newpkg.util\nimport oldpkg.util\n\nprint(newpkg.util.f())\n",  # 1, dual
    "tests/test_e.py": 'from unittest import mock\n\n\n@mock.patch("oldpkg.util.f")\n'
    "def test_x(m):\n    assert m\n",  # patch string: 1, stale
}


def test_import_shapes_of_a_module_alias(repo_factory: Callable[..., Path]) -> None:
    repo = repo_factory(SHAPES)
    result = scan_repository(load_config(repo), jobs=1)
    counts = result.counts()
    assert counts["legacy-import"] == 10
    assert counts["dual-import"] == 1
    assert counts["import-paths"] == 2
    assert counts["stale-patch-target"] == 1
    assert sum(counts.values()) == 10 + 1 + 2 + 1
    assert sites(result, "legacy-import") == [
        "a.py:1",
        "b.py:1",
        "b.py:3",
        "c.py:1",
        "e.py:1",
        "f.py:2",
        "g.py:1",
        "g.py:4",
        "oldpkg/user.py:1",
        "tests/test_e.py:4",
    ]
    # Scan counts exactly the files phase 1 rewrites.
    diff = run_cli("phase1", "--dry-run", "--repo", str(repo)).stdout
    changed = sorted(
        line[len("+++ b/") :] for line in diff.splitlines() if line.startswith("+++ b/")
    )
    assert changed == sorted({s.path for s in result.sites if s.category == "legacy-import"})


def test_pathological_nesting_costs_one_file(repo_factory: Callable[..., Path]) -> None:
    deep = b"import pkg.old\n\nx = " + b"[" * 2500 + b"pkg.old.Thing" + b"]" * 2500 + b"\n"
    repo = repo_factory(
        {
            "pyproject.toml": '[tool.ssot-migrate]\n[[tool.ssot-migrate.targets]]\nname = "t"\n'
            'canonical = "pkg.new.Thing"\naliases = ["pkg.old.Thing"]\n',
            "pkg/__init__.py": "",
            "pkg/new.py": "class Thing:\n    pass\n",
            "pkg/old.py": "from pkg.new import Thing\n",
            "pkg/use.py": "import pkg.old\n\nprint(pkg.old.Thing)\n",
            "pkg/deep.py": deep,
        }
    )
    result = run_cli("scan", "--format", "json", "--repo", str(repo))
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    data = json.loads(result.stdout)
    assert [s["path"] for s in data["skipped"]] == ["pkg/deep.py"]
    assert data["counts"]["legacy-import"] == 1


def test_direct_instantiation_sites_are_what_phase3_rewrites(
    violating: Path, report: ScanReport
) -> None:
    diff = run_cli("phase3", "--dry-run", "--repo", str(violating)).stdout
    changed = sorted(
        line[len("+++ b/") :] for line in diff.splitlines() if line.startswith("+++ b/")
    )
    assert changed == sorted({s.path for s in report.sites if s.category == "direct-instantiation"})
    removed = [line for line in diff.splitlines() if line.startswith("-") and "(user_id)" in line]
    assert len(removed) == EXPECTED["direct-instantiation"]


def test_legacy_sites_are_what_phase1_rewrites_and_vanish_after_it(
    repo_factory: Callable[..., Path], report: ScanReport
) -> None:
    repo = repo_factory(fixture_files("violating"))
    diff = run_cli("phase1", "--dry-run", "--repo", str(repo)).stdout
    changed = sorted(
        line[len("+++ b/") :] for line in diff.splitlines() if line.startswith("+++ b/")
    )
    assert changed == sorted({s.path for s in report.sites if s.category == "legacy-import"})
    (repo.parent / "phase1.diff").write_text(diff)
    git(repo, "apply", str(repo.parent / "phase1.diff"))
    git(repo, "commit", "-q", "-am", "phase 1")
    after = scan_repository(load_config(repo), jobs=1).counts()
    assert after["legacy-import"] == 0
    assert after["dual-import"] == 0
    assert after["import-paths"] == 1
    # Left for later phases or for people: the missing-module patch and the renamed-name seam.
    assert after["stale-patch-target"] == 1 and after["patch-seam"] == 1
    assert after["direct-instantiation"] == EXPECTED["direct-instantiation"]


def test_markdown_summary_lists_each_category_once() -> None:
    from ssot_migrate.scan.report import render_markdown_summary

    table = render_markdown_summary({"legacy-import": 3, "custom": 1}, {"legacy-import": 0})
    assert table.count("legacy-import") == 1
    assert table.count("custom") == 1

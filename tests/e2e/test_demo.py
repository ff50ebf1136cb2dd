"""``ssot-migrate demo`` through the real CLI: figures, branches, flips, and what it leaves behind."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from ssot_migrate.demo import create_sample_repo
from tests.helpers.repos import git, run_cli

BRANCHES = ("ssot/phase1-imports", "ssot/phase2-facades", "ssot/phase3-factories")
FLIP_AT = {
    "ssot/phase1-imports": ("tests/ssot/test_single_manager.py::test_only_one_import_path",),
    "ssot/phase2-facades": (
        "tests/ssot/test_single_manager.py::test_only_one_implementation",
        "tests/ssot/test_single_manager.py::test_test_doubles_accept_production_calls",
        "tests/unit/test_mock_manager.py::test_supervisor_against_the_mock",
    ),
    "ssot/phase3-factories": ("tests/ssot/test_single_manager.py::test_factory_used_everywhere",),
}
# Every category scan reports; each must be at zero on the last branch.
CATEGORIES = (
    "legacy-import",
    "dual-import",
    "import-paths",
    "duplicate-implementation",
    "facade",
    "direct-instantiation",
    "interface-drift",
    "stale-patch-target",
    "patch-seam",
)


def violation_table(report: str) -> dict[str, list[int]]:
    """``category -> [before, phase1, phase2, phase3]`` from the demo's table."""
    rows: dict[str, list[int]] = {}
    for line in report.splitlines():
        match = re.fullmatch(r"\s+([a-z-]+|total)((?:\s+\d+){4})\s*", line)
        if match:
            rows[match.group(1)] = [int(n) for n in match.group(2).split()]
    return rows


def test_demo_runs_every_phase_on_the_sample(tmp_path: Path) -> None:
    repo = tmp_path / "demo"
    started = time.monotonic()
    proc = run_cli("demo", "--path", str(repo), timeout=240)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert elapsed < 90  # the issue asks for under a minute on 2 cores; leave CI some slack
    out = proc.stdout  # the report; progress went to stderr
    assert "sample repository: " in proc.stderr and "sample repository: " not in out
    assert "running tests on the base" in proc.stderr and "running tests" not in out
    table = violation_table(out)
    assert set(table) == {*CATEGORIES, "total"}, out
    for category in CATEGORIES:
        before, *_, after = table[category]
        assert after == 0, f"{category}: {table[category]}"
    for category in (
        "legacy-import",
        "dual-import",
        "duplicate-implementation",
        "facade",
        "direct-instantiation",
        "interface-drift",
    ):
        assert table[category][0] > 0, category
    assert table["direct-instantiation"][0] == 18  # hand count, see test_sample.py
    for category, figures in table.items():
        assert figures[-1] <= figures[0], category
    # Each phase removes what it is for, on its own branch.
    assert table["dual-import"][1] == 0 and table["legacy-import"][1] == 0
    assert table["duplicate-implementation"][2] == 0 and table["interface-drift"][2] == 0
    assert table["direct-instantiation"][3] == 0
    total = table["total"]
    assert total[-1] == 0
    assert f"{total[0]} violations before, 0 after the three phases." in out
    assert "a human decides" not in out
    # Three stacked, verified branches; each fail-first test flips on its own phase.
    assert git(
        repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/ssot/"
    ).split() == sorted(BRANCHES)
    base = git(repo, "rev-parse", "main").strip()
    for branch in BRANCHES:
        message = git(repo, "log", "-1", "--format=%B", branch)
        assert "SSOT-Verified: yes" in message, message
        assert f"SSOT-Base: {base}" in message
        base = git(repo, "rev-parse", branch).strip()
        flips = FLIP_AT[branch]
        listed = message.split(f"expected fail-first flips (fail -> pass): {len(flips)}", 1)[1]
        assert all(test in listed for test in flips), message
        assert "regressions" not in message
    block = out.split("Branches (tests run", 1)[1].split("Status", 1)[0]
    sections = re.split(r"\n  (?=ssot/)", block)
    for branch in BRANCHES:
        (section,) = [s for s in sections if s.startswith(branch)]
        for test in FLIP_AT[branch]:
            assert f"fail-first test now passing (expected): {test}" in section
        assert "verified: yes" in section
    assert "59 passed" in git(
        repo, "log", "-1", "--format=%(trailers:key=SSOT-Tests-After)", BRANCHES[-1]
    )
    # Status table, where to look, how to roll back.
    assert re.search(r"phase3\s+ssot/phase3-factories\s+ssot/phase2-facades\s+\+1/-0\s+yes", out)
    assert f"git -C {repo} log --stat ssot/phase1-imports" in out
    assert f"ssot-migrate rollback phase2 --repo {repo}" in out
    # The user's side of the demo repository is untouched: main, one commit, clean.
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git(repo, "rev-list", "--count", "main").strip() == "1"
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "worktree", "list").count("\n") == 1


def test_demo_without_keep_says_how_to_keep_it(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = run_cli("demo", env={"TMPDIR": str(scratch)}, timeout=240)
    assert proc.returncode == 0, proc.stderr
    assert list(scratch.iterdir()) == []  # removed
    (where,) = re.findall(r"sample repository: (\S+)", proc.stderr)
    # The report: figures and branches, but no command on the directory that is gone.
    assert "violations before, 0 after the three phases." in proc.stdout
    assert where not in proc.stdout
    assert "git -C " + where not in proc.stdout + proc.stderr
    assert "the sample repository was removed; to look at its branches, keep it:" in proc.stdout
    assert (
        "ssot-migrate demo --keep" in proc.stdout and "ssot-migrate demo --path DIR" in proc.stdout
    )
    assert "--keep or --path DIR keeps it" in proc.stderr


def test_demo_dry_run_prints_an_applicable_diff_and_cleans_up(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = run_cli("demo", "--dry-run", env={"TMPDIR": str(scratch)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("diff --git a/")
    assert (
        "+from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager"
        in proc.stdout
    )
    assert "sample repository: " + str(scratch) in proc.stderr
    assert list(scratch.iterdir()) == []  # not kept: the temporary repository is gone
    fresh = create_sample_repo(tmp_path / "fresh")
    check = subprocess.run(
        ["git", "-C", str(fresh), "apply", "--check", "-"],
        input=proc.stdout,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr


def test_demo_keep_leaves_the_repository(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = run_cli("demo", "--dry-run", "--keep", env={"TMPDIR": str(scratch)})
    assert proc.returncode == 0, proc.stderr
    (kept,) = scratch.iterdir()
    repo = kept / "netra-sample"
    assert git(repo, "status", "--porcelain") == ""
    assert str(repo) in proc.stderr


def test_demo_refuses_a_non_empty_path(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("precious\n", encoding="utf-8")
    proc = run_cli("demo", "--path", str(tmp_path))
    assert proc.returncode == 2
    assert "already exists and is not empty" in proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]

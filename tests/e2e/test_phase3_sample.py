"""Phases 1→2→3 on the bundled sample: scan's figures fall to zero and the sample's suite passes.

Each phase runs through the engine on the commit the previous one produced (stacked, as the
workflow does); its outcomes are written and committed. Afterwards ``scan`` must report no
``direct-instantiation`` and no ``duplicate-implementation`` for the configured target, no
``facade`` finding for a configured facade, and the sample's own tests (including its fail-first
SSOT tests) must pass.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ssot_migrate.demo import create_sample_repo
from ssot_migrate.engine import open_config_and_snapshot
from ssot_migrate.phases import compute_phase
from ssot_migrate.scan.analysis import scan_repository
from tests.helpers.repos import git, git_env


def run_and_commit(repo: Path, phase: str) -> int:
    config, snapshot = open_config_and_snapshot(repo, None)
    with snapshot:
        summary = compute_phase(config, phase, snapshot=snapshot, jobs=1)
    assert not summary.skipped, summary.skipped
    for outcome in summary.changed:
        (repo / outcome.path).write_bytes(outcome.after)
    git(repo, "commit", "-qam", phase)
    return len(summary.changed)


def test_sample_consolidates_through_phase3(tmp_path: Path) -> None:
    repo = create_sample_repo(tmp_path / "sample")
    config, snapshot = open_config_and_snapshot(repo, None)
    snapshot.close()
    before = scan_repository(config)
    assert before.counts()["direct-instantiation"] > 0

    assert run_and_commit(repo, "phase1") > 0
    # Both configured facades become aliases (and the two importers of one of them move to the
    # canonical); the configured test double is conformed.
    assert run_and_commit(repo, "phase2") == 5
    assert run_and_commit(repo, "phase3") > 0

    config, snapshot = open_config_and_snapshot(repo, None)
    snapshot.close()
    after = scan_repository(config)
    counts = after.counts()
    assert counts["direct-instantiation"] == 0
    assert counts["duplicate-implementation"] == 0
    target = config.targets[0]
    facade_sites = [s for s in after.sites if s.category == "facade"]
    assert not [s for s in facade_sites if any(s.message.startswith(f) for f in target.facades)]

    suite = subprocess.run(
        [sys.executable, "-m", "pytest", "-q"],
        cwd=repo,
        env=git_env({"PYTHONDONTWRITEBYTECODE": "1"}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert suite.returncode == 0, suite.stdout + suite.stderr

    # Stacked re-runs are empty: every phase is idempotent on the final tree.
    for phase in ("phase2", "phase3"):
        config, snapshot = open_config_and_snapshot(repo, None)
        with snapshot:
            assert compute_phase(config, phase, snapshot=snapshot, jobs=1).changed == ()

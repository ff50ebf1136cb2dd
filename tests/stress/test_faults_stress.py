"""The fault tests of ``tests/e2e/test_faults.py`` at many more kill points, plus a 100 MB flood."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.faults import (
    FAULTS,
    Run,
    assert_clean_rerun,
    assert_intact_or_complete,
    prepare,
    sigkill_from_start,
)
from tests.helpers.repos import git_env

pytestmark = pytest.mark.stress


@pytest.mark.parametrize("delay", [0.0, 0.02, 0.05, 0.1, 0.2, 0.4])
def test_sigkill_sweep_after_tests(
    tmp_path: Path, fault_env: tuple[Path, dict[str, str]], delay: float
) -> None:
    ctl, env = fault_env
    repo, before, tree = prepare(tmp_path)
    run = Run(repo, ctl, env)
    try:
        run.wait_for_runs(2)
        time.sleep(delay)
        run.kill()
    finally:
        run.kill_suites()
    FAULTS["injected"] += 1
    had = assert_intact_or_complete(repo, before, tree)
    assert_clean_rerun(repo, tree, env, had)


@pytest.mark.parametrize("delay", [0.3, 0.6, 1.0])
def test_sigkill_sweep_from_start(
    tmp_path: Path, fault_env: tuple[Path, dict[str, str]], delay: float
) -> None:
    sigkill_from_start(tmp_path, fault_env, delay)


def test_sigkill_during_base_test_run(
    tmp_path: Path, fault_env: tuple[Path, dict[str, str]]
) -> None:
    ctl, env = fault_env
    repo, before, tree = prepare(tmp_path)
    run = Run(repo, ctl, {**env, "SSOT_FAULT_HANG_RUN": "0"})
    try:
        run.wait_for_runs(1)
        time.sleep(0.2)
        run.kill()
    finally:
        run.kill_suites()
    FAULTS["injected"] += 1
    assert not assert_intact_or_complete(repo, before, tree)
    for marker in ctl.glob("run-*"):
        marker.unlink()
    assert_clean_rerun(repo, tree, env, False)


def test_sigkill_twice_in_a_row(tmp_path: Path, fault_env: tuple[Path, dict[str, str]]) -> None:
    """Two killed runs leave two stale worktrees at most; the third run cleans both."""
    ctl, env = fault_env
    repo, before, tree = prepare(tmp_path)
    for _ in range(2):
        run = Run(repo, ctl, {**env, "SSOT_FAULT_HANG_RUN": str(len(run_markers(ctl)))})
        try:
            run.wait_for_runs(len(run_markers(ctl)) + 1)
            time.sleep(0.2)
            run.kill()
        finally:
            run.kill_suites()
        FAULTS["injected"] += 1
        assert not assert_intact_or_complete(repo, before, tree)
    assert_clean_rerun(repo, tree, env, False)


def run_markers(ctl: Path) -> list[Path]:
    return sorted(ctl.glob("run-*"))


def test_output_flood_100_mb(tmp_path: Path, fault_env: tuple[Path, dict[str, str]]) -> None:
    """100 MB of test output per run: the phase completes and memory stays bounded."""
    _, env = fault_env
    repo, before, tree = prepare(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ssot_migrate", "phase1", "--repo", str(repo)],
        env=git_env({**env, "SSOT_FAULT_MODE": "flood", "SSOT_FAULT_FLOOD_MB": "100"}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = proc.communicate(timeout=300)
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    FAULTS["injected"] += 1
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    assert len(out) + len(err) < 1_000_000, "test output leaked to the user's terminal"
    assert peak_mib < 400, f"peak RSS {peak_mib:.0f} MiB while the suite flooded 100 MB"
    assert assert_intact_or_complete(repo, before, tree)

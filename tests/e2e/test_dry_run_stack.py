"""End to end: ``phaseN --dry-run`` is the branch's diff, for every phase of a three-phase stack.

Issue 13: while phase 1's branch was unmerged, ``phase2 --dry-run`` diffed against ``HEAD``, so
its diff did not apply to phase 1's branch (``patch does not apply``) while branch mode stacked
correctly. The dry-run now picks its base as branch mode does and says which on stderr.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from ssot_migrate.demo import create_sample_repo
from tests.helpers.repos import git, git_env, run_cli

STACK = (
    ("phase1", "ssot/phase1-imports"),
    ("phase2", "ssot/phase2-facades"),
    ("phase3", "ssot/phase3-factories"),
)


def tree_with_patch(repo: Path, base: str, patch: str, index: Path) -> str:
    """The tree ``base`` + ``patch`` gives, computed in a scratch index (``git apply`` must accept it)."""
    env = git_env({"GIT_INDEX_FILE": str(index)})

    def run(*args: str, stdin: str | None = None) -> str:
        return subprocess.run(
            ["git", "-C", str(repo), *args],
            env=env,
            input=stdin,
            text=True,
            capture_output=True,
            check=True,
        ).stdout

    run("read-tree", base)
    run("apply", "--cached", "-", stdin=patch)
    return run("write-tree").strip()


def test_each_stacked_dry_run_applied_to_its_base_equals_the_branch(tmp_path: Path) -> None:
    repo = create_sample_repo(tmp_path / "sample")
    main = git(repo, "rev-parse", "main").strip()
    previous: str | None = None
    for phase, branch in STACK:
        dry = run_cli(phase, "--repo", str(repo), "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert dry.stdout.startswith("diff --git"), dry.stderr
        expected_base = git(repo, "rev-parse", previous).strip() if previous else main
        said = f"{phase}: base {expected_base[:12]}"
        assert said in dry.stderr, dry.stderr
        assert (f"stacked on {previous}" in dry.stderr) == (previous is not None), dry.stderr

        made = run_cli(phase, "--repo", str(repo), "--no-verify")
        assert made.returncode == 0, made.stderr
        assert said in made.stderr  # the same base line as branch mode
        assert git(repo, "rev-parse", f"{branch}^").strip() == expected_base
        applied = tree_with_patch(repo, expected_base, dry.stdout, tmp_path / f"{phase}-index")
        assert applied == git(repo, "rev-parse", f"{branch}^{{tree}}").strip(), phase
        previous = branch
    # nothing was merged: the user's branch is where it was
    assert git(repo, "rev-parse", "main").strip() == main


def test_dry_run_uses_the_mainline_once_the_previous_phase_is_merged(tmp_path: Path) -> None:
    repo = create_sample_repo(tmp_path / "sample")
    assert run_cli("phase1", "--repo", str(repo), "--no-verify").returncode == 0
    git(repo, "merge", "-q", "--ff-only", "ssot/phase1-imports")
    head = git(repo, "rev-parse", "HEAD").strip()
    dry = run_cli("phase2", "--repo", str(repo), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"phase2: base {head[:12]} (main)" in dry.stderr
    assert "stacked on" not in dry.stderr
    tree_with_patch(repo, head, dry.stdout, tmp_path / "index")  # applies to the mainline

"""``ssot-migrate pr``: push to a real bare remote, the pull request body, ``gh`` argv, refusals.

Phase branches are made by the real workflow (worktree, tests before/after, trailers) with a
small text codemod of this module, so these tests exercise ``pr`` whatever state the phase
codemods are in; everything ``pr`` does then runs through the real CLI.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ssot_migrate.config import load_config
from ssot_migrate.model import Change, CodemodResult, SourceFile
from ssot_migrate.scan.analysis import scan_repository
from ssot_migrate.workflow import create_phase_branch
from tests.helpers.repos import git, git_env, make_repo, run_cli

PYPROJECT = f"""\
[tool.pytest.ini_options]
pythonpath = ["."]
addopts = "-p no:cacheprovider"

[tool.ssot-migrate]
test-command = {json.dumps([sys.executable, "-m", "pytest", "-q"])}
expected-fixes = ["tests/test_app.py::test_consumer_uses_canonical"]

[[tool.ssot-migrate.targets]]
name = "engine"
canonical = "pkg.core.Engine"
aliases = ["pkg.legacy.OldEngine"]
factory = "pkg.factory.make_engine"
"""

FILES = {
    "pyproject.toml": PYPROJECT,
    ".gitignore": "__pycache__/\n",
    "pkg/__init__.py": "",
    "pkg/core.py": "class Engine:\n    def __init__(self, name: str) -> None:\n        self.name = name\n",
    "pkg/legacy.py": "from pkg.core import Engine as OldEngine\n\n__all__ = ['OldEngine']\n",
    "pkg/factory.py": "from pkg.core import Engine\n\n\ndef make_engine(name: str) -> Engine:\n"
    "    return Engine(name)\n",
    "app/__init__.py": "",
    "app/consumer.py": "from pkg.legacy import OldEngine\n\n\ndef build() -> object:\n"
    "    return OldEngine('x')\n",
    "tests/test_app.py": (
        "from pathlib import Path\n\nfrom app.consumer import build\n\n\n"
        "def test_build() -> None:\n    assert build().name == 'x'\n\n\n"
        "def test_consumer_uses_canonical() -> None:\n"
        "    source = (Path(__file__).parents[1] / 'app' / 'consumer.py').read_text()\n"
        "    assert 'pkg.legacy' not in source\n"
    ),
}

PHASE1_REWRITE = (b"from pkg.legacy import OldEngine", b"from pkg.core import Engine as OldEngine")
PHASE3_REWRITE = (b"return OldEngine('x')", b"return make_engine('x')")


class TextCodemod:
    """A real (if tiny) codemod: one literal replacement in ``app/consumer.py``."""

    def __init__(self, phase: str, old: bytes, new: bytes, extra_import: bytes = b"") -> None:
        self.phase = phase
        self.old = old
        self.new = new
        self.extra_import = extra_import

    def needles(self) -> frozenset[str]:
        return frozenset({self.old.decode()})

    def transform(self, source: bytes, file: SourceFile) -> CodemodResult:
        if file.path != "app/consumer.py" or self.old not in source:
            return CodemodResult(source)
        after = self.extra_import + source.replace(self.old, self.new)
        change = Change(file.path, 1, 0, "engine", self.phase, self.old.decode(), self.new.decode())
        return CodemodResult(after, (change,))


def quiet(_line: str) -> None:
    """Workflow progress is not what these tests look at."""


def make_project(root: Path) -> Path:
    repo = make_repo(root, FILES)
    git(repo, "config", "user.name", "PR Tester")
    git(repo, "config", "user.email", "pr@example.invalid")
    return repo


def make_phase(
    repo: Path, phase: str, codemod: TextCodemod, *, refresh: bool = False, verify: bool = True
) -> str:
    result = create_phase_branch(
        repo, load_config(repo), phase, codemod=codemod, echo=quiet, refresh=refresh, verify=verify
    )
    assert result.commit is not None
    return result.commit


def add_origin(repo: Path, tmp_path: Path) -> Path:
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    return bare


def remote_refs(bare: Path) -> dict[str, str]:
    out = git(bare, "for-each-ref", "--format=%(refname) %(objectname)")
    return dict(tuple(line.split(" ", 1)) for line in out.splitlines())  # type: ignore[misc]


def table_row(body: str, category: str) -> tuple[int, int]:
    match = re.search(rf"^\| {re.escape(category)} \| (\d+) \| (\d+) \|", body, re.MULTILINE)
    assert match, f"no row for {category} in:\n{body}"
    return int(match.group(1)), int(match.group(2))


@pytest.fixture(scope="module")
def phase1_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One project with a verified phase 1 branch, built once (the test suite runs twice)."""
    repo = make_project(tmp_path_factory.mktemp("template") / "repo")
    return repo, make_phase(repo, "phase1", TextCodemod("phase1", *PHASE1_REWRITE))


@pytest.fixture
def project(phase1_template: tuple[Path, str], tmp_path: Path) -> tuple[Path, Path, str]:
    """A private copy of the template with an empty bare ``origin``."""
    template, tip = phase1_template
    repo = tmp_path / "repo"
    shutil.copytree(template, repo, symlinks=True)
    bare = add_origin(repo, tmp_path)
    return repo, bare, tip


def test_pr_pushes_the_branch_and_prints_the_body(project: tuple[Path, Path, str]) -> None:
    repo, bare, tip = project
    main = git(repo, "rev-parse", "main").strip()
    proc = run_cli("pr", "phase1", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    assert remote_refs(bare) == {"refs/heads/ssot/phase1-imports": tip}
    body = proc.stdout
    assert f"**Base:** `main` at `{main[:12]}`." in body
    assert "**Verified:** `yes`" in body
    # Scan figures: the same numbers scan reports at the base and at the tip.
    config = load_config(repo)
    before = scan_repository(config, base=main).violations()
    after = scan_repository(config, base=tip).violations()
    assert table_row(body, "legacy-import") == (before["legacy-import"], after["legacy-import"])
    assert before["legacy-import"] >= 1 and after["legacy-import"] == 0
    # Diff statistics per file, from the branch's own diff.
    assert "1 file(s) changed, +1 -1" in body
    assert "| `app/consumer.py` | 1 | 1 |" in body
    # Test comparison carried from the commit, with the expected fail-first flip.
    assert "expected fail-first flips (fail -> pass): 1" in body
    assert "tests/test_app.py::test_consumer_uses_canonical" in body
    assert "### Needs a decision" in body and "### Rolling back" in body
    assert "ssot-migrate rollback phase1" in body
    # Without --open: the body is saved in the git dir and the gh command is printed.
    body_file = repo / ".git" / "ssot-pr" / "phase1.md"
    assert body_file.read_text(encoding="utf-8") == body
    assert "gh pr create --base main --head ssot/phase1-imports --title" in proc.stderr
    assert f"--body-file {body_file}" in proc.stderr
    assert git(repo, "status", "--porcelain") == ""


def test_stacked_phase_targets_the_previous_branch(project: tuple[Path, Path, str]) -> None:
    repo, bare, phase1_tip = project
    codemod = TextCodemod(
        "phase3", *PHASE3_REWRITE, extra_import=b"from pkg.factory import make_engine\n"
    )
    phase3_tip = make_phase(repo, "phase3", codemod)
    proc = run_cli("pr", "phase3", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    # The base branch was not on the remote yet: pushed too, so the stacked PR can target it.
    assert remote_refs(bare) == {
        "refs/heads/ssot/phase1-imports": phase1_tip,
        "refs/heads/ssot/phase3-factories": phase3_tip,
    }
    assert "pushed ssot/phase1-imports to origin too" in proc.stderr
    assert f"**Stacked on `ssot/phase1-imports`** (`{phase1_tip[:12]}`)" in proc.stdout
    assert "gh pr create --base ssot/phase1-imports --head ssot/phase3-factories" in proc.stderr
    assert table_row(proc.stdout, "direct-instantiation")[1] == 0


def fake_gh(bin_dir: Path, record: Path) -> None:
    """A ``gh`` that records its argv and the body file it was given, and prints a PR URL."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "gh"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        "args = sys.argv[1:]\n"
        "body = open(args[args.index('--body-file') + 1], encoding='utf-8').read()\n"
        f"open({str(record)!r}, 'w', encoding='utf-8').write(json.dumps({{'argv': args, 'body': body}}))\n"
        "print('https://github.example/acme/repo/pull/7')\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC | stat.S_IXGRP | stat.S_IXOTH)


def test_open_runs_gh_pr_create_with_the_right_arguments(
    project: tuple[Path, Path, str], tmp_path: Path
) -> None:
    repo, bare, tip = project
    record = tmp_path / "gh-call.json"
    fake_gh(tmp_path / "bin", record)
    env = {"PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    proc = run_cli("pr", "phase1", "--repo", str(repo), "--open", env=env)
    assert proc.returncode == 0, proc.stderr
    call = json.loads(record.read_text(encoding="utf-8"))
    subject = git(repo, "log", "-1", "--format=%s", "ssot/phase1-imports").strip()
    body_file = repo / ".git" / "ssot-pr" / "phase1.md"
    assert call["argv"] == [
        "pr",
        "create",
        "--base",
        "main",
        "--head",
        "ssot/phase1-imports",
        "--title",
        subject,
        "--body-file",
        str(body_file),
    ]
    assert call["body"] == body_file.read_text(encoding="utf-8")
    assert "### Scan: violations before -> after" in call["body"]
    assert proc.stdout.strip() == "https://github.example/acme/repo/pull/7"
    assert remote_refs(bare) == {"refs/heads/ssot/phase1-imports": tip}


def test_open_without_gh_says_so_and_still_pushes(
    project: tuple[Path, Path, str], tmp_path: Path
) -> None:
    repo, bare, tip = project
    only_git = tmp_path / "only-git"
    only_git.mkdir()
    real_git = shutil.which("git")
    assert real_git is not None
    (only_git / "git").symlink_to(real_git)
    proc = run_cli("pr", "phase1", "--repo", str(repo), "--open", env={"PATH": str(only_git)})
    assert proc.returncode == 2
    assert "`gh` is not installed or not on PATH" in proc.stderr
    assert "gh pr create --base main --head ssot/phase1-imports" in proc.stderr
    assert remote_refs(bare) == {"refs/heads/ssot/phase1-imports": tip}


def test_a_failed_phase_is_refused_unless_forced(project: tuple[Path, Path, str]) -> None:
    repo, bare, _good = project
    broken = TextCodemod("phase1", b"return OldEngine('x')", b"return MissingEngine('x')")
    tip = make_phase(repo, "phase1", broken, refresh=True)
    assert "SSOT-Verified: failed" in git(repo, "log", "-1", "--format=%B", "ssot/phase1-imports")
    proc = run_cli("pr", "phase1", "--repo", str(repo))
    assert proc.returncode == 2
    assert "SSOT-Verified: failed" in proc.stderr and "--force" in proc.stderr
    assert remote_refs(bare) == {}
    forced = run_cli("pr", "phase1", "--repo", str(repo), "--force")
    assert forced.returncode == 0, forced.stderr
    assert remote_refs(bare) == {"refs/heads/ssot/phase1-imports": tip}
    assert "**Warning: verification failed.**" in forced.stdout
    assert "regressions (pass -> fail/error): 1" in forced.stdout
    assert "tests/test_app.py::test_build" in forced.stdout


def test_a_regenerated_branch_replaces_the_pushed_one(project: tuple[Path, Path, str]) -> None:
    repo, bare, tip = project
    assert run_cli("pr", "phase1", "--repo", str(repo)).returncode == 0
    (repo / "README.md").write_text("moved on\n", encoding="utf-8")
    git(repo, "add", "README.md")
    git(repo, "commit", "-q", "-m", "main moves on")
    # Verification is beside the point here (a phase branch that was regenerated, then pushed).
    new_tip = make_phase(
        repo, "phase1", TextCodemod("phase1", *PHASE1_REWRITE), refresh=True, verify=False
    )
    assert new_tip != tip
    proc = run_cli("pr", "phase1", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    assert remote_refs(bare) == {"refs/heads/ssot/phase1-imports": new_tip}
    assert "**Verified:** `skipped`" in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("phase9",), "unknown phase 'phase9'"),
        (("phase2",), "no phase2 branch"),
        (("phase1", "--remote", "upstream"), "no remote 'upstream'"),
    ],
    ids=["unknown-phase", "no-branch", "no-remote"],
)
def test_usage_errors(project: tuple[Path, Path, str], args: tuple[str, ...], message: str) -> None:
    repo, bare, _tip = project
    proc = run_cli("pr", *args, "--repo", str(repo))
    assert proc.returncode == 2
    assert message in proc.stderr
    assert proc.stderr.startswith("error: ")
    assert remote_refs(bare) == {}


def test_message_sections_split_a_phase_commit_message() -> None:
    from ssot_migrate.record import message_sections

    message = (
        "ssot-migrate phase2 (facades): title\n\nBase: main (abc)\n\nFiles changed (1):\n  a.py (+1 -1)\n"
        "Tests (python -m pytest):\n  before: 1 passed\n  after:  1 passed\n"
        "Needs a decision (1):\n  a.py:3: [t] keep_alive(): not defined on canonical\n\n"
        "SSOT-Phase: phase2\nSSOT-Verified: yes\n"
    )
    sections = message_sections(message)
    assert sections["Tests"] == [
        "Tests (python -m pytest):",
        "  before: 1 passed",
        "  after:  1 passed",
    ]
    assert (
        sections["Needs a decision"][1].strip()
        == "a.py:3: [t] keep_alive(): not defined on canonical"
    )
    assert "SSOT-Phase" not in sections and "ssot-migrate phase2" not in str(sections)


def test_a_merged_phase_has_nothing_to_review(project: tuple[Path, Path, str]) -> None:
    repo, bare, _tip = project
    git(repo, "merge", "-q", "--ff-only", "ssot/phase1-imports")
    proc = run_cli("pr", "phase1", "--repo", str(repo))
    assert proc.returncode == 2
    assert "already merged into main" in proc.stderr
    assert remote_refs(bare) == {}


def test_someone_elses_push_is_not_overwritten_without_force(
    project: tuple[Path, Path, str], tmp_path: Path
) -> None:
    repo, bare, tip = project
    assert run_cli("pr", "phase1", "--repo", str(repo)).returncode == 0
    # A reviewer pushes a fix-up onto the phase branch from another clone.
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", "--branch", "ssot/phase1-imports", str(bare), str(other))
    (other / "NOTES.md").write_text("reviewed\n", encoding="utf-8")
    git(other, "add", "NOTES.md")
    git(other, "commit", "-q", "-m", "review notes")
    git(other, "push", "-q", "origin", "ssot/phase1-imports")
    theirs = git(other, "rev-parse", "HEAD").strip()
    proc = run_cli("pr", "phase1", "--repo", str(repo))
    assert proc.returncode == 2
    assert "someone pushed to it?" in proc.stderr and "--force" in proc.stderr
    assert remote_refs(bare) == {"refs/heads/ssot/phase1-imports": theirs}
    forced = run_cli("pr", "phase1", "--repo", str(repo), "--force")
    assert forced.returncode == 0, forced.stderr
    assert remote_refs(bare) == {"refs/heads/ssot/phase1-imports": tip}


# --- rollbacks: a merged phase's revert, and what an unmerged rollback leaves on the remote ----


def recording_gh(
    bin_dir: Path, record: Path, open_pulls: dict[str, list[dict[str, object]]]
) -> None:
    """A ``gh`` that appends each argv to ``record`` (JSON lines), answers ``pr list --head B``
    from ``open_pulls``, saves the body of ``pr create`` and prints a PR URL."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "gh"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        "args = sys.argv[1:]\n"
        "entry = {'argv': args}\n"
        "if args[:2] == ['pr', 'create']:\n"
        "    entry['body'] = open(args[args.index('--body-file') + 1], encoding='utf-8').read()\n"
        f"open({str(record)!r}, 'a', encoding='utf-8').write(json.dumps(entry) + '\\n')\n"
        f"pulls = {json.dumps(open_pulls)!r}\n"
        "if args[:2] == ['pr', 'list']:\n"
        "    print(json.dumps(json.loads(pulls).get(args[args.index('--head') + 1], [])))\n"
        "elif args[:2] == ['pr', 'create']:\n"
        "    print('https://github.example/acme/repo/pull/9')\n"
        "elif args[:2] == ['pr', 'close']:\n"
        "    print('Closed pull request #' + args[2])\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC | stat.S_IXGRP | stat.S_IXOTH)


def gh_calls(record: Path) -> list[list[str]]:
    if not record.exists():
        return []
    return [json.loads(line)["argv"] for line in record.read_text(encoding="utf-8").splitlines()]


def test_a_merged_phase_rolls_back_verified_and_its_revert_opens_a_pull_request(
    project: tuple[Path, Path, str], tmp_path: Path
) -> None:
    repo, bare, tip = project
    git(repo, "merge", "-q", "--ff-only", "ssot/phase1-imports")
    proc = run_cli("rollback", "phase1", "--repo", str(repo))
    # The fail-first test fails again: expected, listed as such, not a regression.
    assert proc.returncode == 0, proc.stderr
    assert "expected reversions (fail-first tests failing again" in proc.stderr
    assert "regressions" not in proc.stderr
    message = git(repo, "log", "-1", "--format=%B", "ssot/rollback-phase1")
    assert "SSOT-Verified: yes" in message and "SSOT-Phase: rollback-phase1" in message
    assert "  - tests/test_app.py::test_consumer_uses_canonical" in message
    record = tmp_path / "gh.jsonl"
    recording_gh(tmp_path / "bin", record, {})
    env = {"PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    opened = run_cli("pr", "rollback-phase1", "--repo", str(repo), "--open", env=env)
    assert opened.returncode == 0, opened.stderr
    revert = git(repo, "rev-parse", "ssot/rollback-phase1").strip()
    assert remote_refs(bare) == {"refs/heads/ssot/rollback-phase1": revert}
    (call,) = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]
    argv = call["argv"]
    # Targets main (not the merged phase branch that main's tip also is).
    assert argv[:6] == ["pr", "create", "--base", "main", "--head", "ssot/rollback-phase1"]
    assert argv[7] == git(repo, "log", "-1", "--format=%s", "ssot/rollback-phase1").strip()
    body = call["body"]
    assert "Rollback of phase **phase1** (imports)" in body and f"reverting `{tip[:12]}`" in body
    assert "**Verified:** `yes`" in body and "expected reversions" in body
    before, after = table_row(body, "legacy-import")
    assert before == 0 and after >= 1  # the legacy import is back, as a revert means


def test_unmerged_rollback_lists_what_the_remote_keeps_and_remote_closes_it(
    project: tuple[Path, Path, str], tmp_path: Path
) -> None:
    repo, bare, tip = project
    assert run_cli("pr", "phase1", "--repo", str(repo)).returncode == 0
    record = tmp_path / "gh.jsonl"
    url = "https://github.example/acme/repo/pull/7"
    recording_gh(tmp_path / "bin", record, {"ssot/phase1-imports": [{"number": 7, "url": url}]})
    env = {"PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    listed = run_cli("rollback", "phase1", "--repo", str(repo), "--yes", env=env)
    assert listed.returncode == 0, listed.stderr
    assert git(repo, "branch", "--list", "ssot/*") == ""
    # Deleted here, not there: said, with the commands that close it.
    assert remote_refs(bare) == {"refs/heads/ssot/phase1-imports": tip}
    assert f"origin/ssot/phase1-imports ({tip[:12]})" in listed.stderr
    assert f"open pull request #7 {url}" in listed.stderr
    assert "  gh pr close 7\n" in listed.stderr
    assert "  git push origin --delete ssot/phase1-imports\n" in listed.stderr
    assert gh_calls(record) == [
        ["pr", "list", "--head", "ssot/phase1-imports", "--state", "open", "--json", "number,url"]
    ]
    # Restore the branch as printed, then roll back with --remote: rollback closes it itself.
    restore = next(
        line.strip() for line in listed.stderr.splitlines() if line.strip().startswith("git -C ")
    )
    subprocess.run(shlex.split(restore), env=git_env(), check=True)
    done = run_cli(
        "rollback", "phase1", "--repo", str(repo), "--yes", "--remote", "origin", env=env
    )
    assert done.returncode == 0, done.stderr
    assert remote_refs(bare) == {}
    assert gh_calls(record)[-1] == ["pr", "close", "7"]
    assert (
        "closed pull request #7" in done.stderr
        and "deleted ssot/phase1-imports on origin" in done.stderr
    )


def test_unmerged_rollback_with_remote_leaves_someone_elses_push(
    project: tuple[Path, Path, str], tmp_path: Path
) -> None:
    repo, bare, _tip = project
    assert run_cli("pr", "phase1", "--repo", str(repo)).returncode == 0
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", "--branch", "ssot/phase1-imports", str(bare), str(other))
    (other / "NOTES.md").write_text("reviewed\n", encoding="utf-8")
    git(other, "add", "NOTES.md")
    git(other, "commit", "-q", "-m", "review notes")
    git(other, "push", "-q", "origin", "ssot/phase1-imports")
    theirs = git(other, "rev-parse", "HEAD").strip()
    no_gh = tmp_path / "only-git"
    no_gh.mkdir()
    real_git = shutil.which("git")
    assert real_git is not None
    (no_gh / "git").symlink_to(real_git)
    proc = run_cli(
        "rollback",
        "phase1",
        "--repo",
        str(repo),
        "--yes",
        "--remote",
        "origin",
        env={"PATH": str(no_gh)},
    )
    assert proc.returncode == 0, proc.stderr
    assert remote_refs(bare) == {"refs/heads/ssot/phase1-imports": theirs}
    assert "someone pushed commits this rollback did not delete" in proc.stderr
    assert "open pull requests not listed: the GitHub CLI (gh) is not installed" in proc.stderr
    assert "gh pr close ssot/phase1-imports" in proc.stderr

"""The user's checkout as the reliability tests see it: a project, its byte-for-byte snapshot, the
check that nothing moved (shared by the fault and hostile-state tests).
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.helpers.repos import git

# Exit 1 on the phase's tree (so --bisect has a regression to split), 0 on the base tree; at
# run SSOT_VANISH_RUN the worktree goes, the way SSOT_VANISH_HOW says.
SUITE = """\
import os, pathlib, shutil, subprocess, sys
ctl = pathlib.Path(os.environ["SSOT_FAULT_DIR"])
n = len(list(ctl.glob("run-*")))
(ctl / f"run-{n}-{os.getpid()}").write_text(os.getcwd())
code = 1 if "pkg.new" in pathlib.Path("pkg/use003.py").read_text() else 0
if str(n) == os.environ.get("SSOT_VANISH_RUN"):
    here = pathlib.Path.cwd()
    user = os.environ["SSOT_USER_REPO"]
    how = os.environ["SSOT_VANISH_HOW"]
    os.chdir(user)
    if how == "git-remove":
        subprocess.run(["git", "worktree", "remove", "--force", "--force", str(here)], check=True)
    else:
        shutil.rmtree(here)
        if how == "symlink":
            here.symlink_to(user)
        elif how == "empty":
            here.mkdir()
sys.exit(code)
"""


CONFIG = (
    "[tool.ssot-migrate]\n"
    'test-command = [{python}, "suite.py"]\n\n'
    "[[tool.ssot-migrate.targets]]\n"
    'name = "thing"\ncanonical = "pkg.new.Real"\naliases = ["pkg.old.Old"]\n'
)


def project_files(users: int = 4) -> dict[str, str | bytes]:
    python = '"' + sys.executable.replace("\\", "\\\\").replace('"', '\\"') + '"'
    tree: dict[str, str | bytes] = {
        "pyproject.toml": CONFIG.format(python=python),
        "suite.py": SUITE,
        "pkg/__init__.py": "",
        "pkg/new.py": "class Real:\n    pass\n",
        "pkg/old.py": "from pkg.new import Real as Old\n",
    }
    for i in range(users):
        tree[f"pkg/use{i:03d}.py"] = f"from pkg.old import Old\n\nx{i} = Old()\n"
    return tree


def snapshot(repo: Path) -> dict[str, bytes]:
    """Every byte a phase must never change: files, index, HEAD, refs, stash, config."""
    out: dict[str, bytes] = {}
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo)
        if rel.parts[0] == ".git" or path.is_dir():
            continue
        out[f"checkout/{rel}"] = path.read_bytes()
    dot = repo / ".git"
    for name in ("index", "HEAD", "config", "packed-refs", "logs/HEAD", "logs/refs/stash"):
        if (dot / name).exists():
            out[f".git/{name}"] = (dot / name).read_bytes()
    for path in sorted((dot / "refs").rglob("*")):
        if path.is_file():
            out[f".git/{path.relative_to(dot)}"] = path.read_bytes()
    out["for-each-ref"] = git(repo, "for-each-ref", "--format=%(refname) %(objectname)").encode()
    out["stash"] = git(repo, "stash", "list").encode()
    return out


def assert_untouched(repo: Path, before: dict[str, bytes]) -> None:
    after = snapshot(repo)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, f"user state changed: {changed}"

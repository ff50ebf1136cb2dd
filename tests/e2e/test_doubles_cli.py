"""End to end: a drifted test double conformed by phase 2, through the real CLI and real git.

The project's own pytest runs before and after. The double rejects the keywords production
passes, so a test fails on main; phase 2 renames the drifted parameters and adds the missing
optional one, the test flips as declared, and what cannot be fixed (a sync method where the
canonical's is async) reaches the commit message and the pull request as needing a decision.
"""

from __future__ import annotations

import json
import shlex
import sys
import textwrap
from pathlib import Path

from tests.helpers.repos import git, make_repo, run_cli

PYPROJECT = textwrap.dedent(f"""\
    [tool.ssot-migrate]
    test-command = "env PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {shlex.quote(sys.executable)} -m pytest -q tests"
    test-timeout = 120
    expected-fixes = ["tests/test_notify.py::test_notify_against_the_fake"]

    [[tool.ssot-migrate.targets]]
    name = "manager"
    canonical = "app.core.unified.UnifiedManager"
    aliases = []
    test-doubles = ["tests.fakes.FakeManager"]
    """)

FILES = {
    "pyproject.toml": PYPROJECT,
    ".gitignore": "__pycache__/\n",
    "app/__init__.py": "",
    "app/core/__init__.py": "",
    "app/core/unified.py": (
        "class UnifiedManager:\n"
        "    async def send(self, event_type: str, payload: dict) -> int:\n        return 1\n\n"
        "    def stats(self, verbose: bool = False) -> dict:\n        return {}\n\n"
        "    async def close(self) -> None:\n        pass\n"
    ),
    "app/notify.py": (
        "async def notify(manager) -> int:\n"
        "    return await manager.send(event_type='started', payload={'n': 1})\n"
    ),
    "tests/__init__.py": "",
    "tests/fakes.py": (
        "class FakeManager:\n"
        "    def __init__(self) -> None:\n        self.sent = []\n\n"
        "    async def send(self, event: str, data: dict) -> int:\n"
        "        self.sent.append((event, data))\n        return len(self.sent)\n\n"
        "    def stats(self) -> dict:\n        return {'sent': len(self.sent)}\n\n"
        "    def close(self) -> None:\n        self.sent.clear()\n"
    ),
    "tests/test_notify.py": (
        "import asyncio\n\nfrom app.notify import notify\nfrom tests.fakes import FakeManager\n\n\n"
        "def test_notify_against_the_fake():\n"
        "    fake = FakeManager()\n"
        "    assert asyncio.run(notify(fake)) == 1\n"
        "    assert fake.sent == [('started', {'n': 1})]\n\n\n"
        "def test_fake_stats():\n    assert FakeManager().stats() == {'sent': 0}\n"
    ),
}


def scan_drift(repo: Path, base: str) -> str:
    """The one interface-drift message scan reports at ``base``."""
    proc = run_cli("scan", "--format", "json", "--base", base, "--repo", str(repo))
    data = json.loads(proc.stdout)
    (site,) = [s for s in data["sites"] if s["category"] == "interface-drift"]
    assert site["path"] == "tests/fakes.py"
    return str(site["message"])


def test_phase2_conforms_a_drifted_double_and_lists_what_it_cannot(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", FILES)
    before = scan_drift(repo, "main")
    assert "send(): the canonical's positional parameter 1 is 'event_type'" in before

    proc = run_cli("phase2", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    branch = "ssot/phase2-facades"
    fakes = git(repo, "show", f"{branch}:tests/fakes.py")
    assert "    async def send(self, event_type: str, payload: dict) -> int:\n" in fakes
    assert "        self.sent.append((event_type, payload))\n" in fakes
    assert "    def stats(self, verbose: bool = False) -> dict:\n" in fakes
    assert "    def close(self) -> None:\n" in fakes  # sync where the canonical is async: kept
    assert git(repo, "diff", "--name-only", "main", branch).split() == ["tests/fakes.py"]

    message = git(repo, "log", "-1", "--format=%B", branch)
    assert "SSOT-Verified: yes" in message
    assert "SSOT-Tests-Before: 1 passed, 1 failed" in message
    assert "SSOT-Tests-After: 2 passed" in message
    flips = message.split("expected fail-first flips (fail -> pass): 1", 1)[1]
    assert "tests/test_notify.py::test_notify_against_the_fake" in flips
    decisions = message.split("Needs a decision (1):", 1)[1]
    assert "FakeManager.close(): the canonical is async but the double's is sync" in decisions

    # Measured again on the branch: only the sync close() is left.
    after = scan_drift(repo, branch)
    assert "close(): the canonical is async but the double's is sync" in after
    assert "send()" not in after and "stats()" not in after

    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    pr = run_cli("pr", "phase2", "--repo", str(repo))
    assert pr.returncode == 0, pr.stderr
    assert "FakeManager.close(): the canonical is async but the double's is sync" in pr.stdout
    assert git(remote, "rev-parse", branch).strip() == git(repo, "rev-parse", branch).strip()

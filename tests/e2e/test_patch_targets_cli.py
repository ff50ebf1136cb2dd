"""End to end: a test that patches a consumer's name keeps working through phases 1 and 3.

The real CLI builds both branches in a real repository, with the project's real pytest run
before and after: phase 1 keeps the patched local name, phase 3 leaves the construction the
patch intercepts alone and lists it; neither branch may regress the patching test.
"""

from __future__ import annotations

import shlex
import sys
import textwrap
from pathlib import Path

from tests.helpers.repos import git, make_repo, run_cli

PYPROJECT = textwrap.dedent(f"""\
    [tool.ssot-migrate]
    test-command = "env PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {shlex.quote(sys.executable)} -m pytest -q tests"
    test-timeout = 120

    [[tool.ssot-migrate.targets]]
    name = "manager"
    canonical = "app.core.unified.UnifiedManager"
    aliases = ["app.core.legacy.Manager"]
    factory = "app.core.factory.create_manager"
    """)

FILES = {
    "pyproject.toml": PYPROJECT,
    "app/__init__.py": "",
    "app/core/__init__.py": "",
    "app/core/unified.py": (
        "class UnifiedManager:\n    def __init__(self, user):\n        self.user = user\n\n"
        "    def ping(self):\n        return 'pong'\n"
    ),
    "app/core/legacy.py": "from app.core.unified import UnifiedManager as Manager\n",
    "app/core/factory.py": (
        "from app.core.unified import UnifiedManager\n\n\n"
        "def create_manager(user):\n    return UnifiedManager(user)\n"
    ),
    "app/chat.py": "from app.core.legacy import Manager\n\n\ndef reply(user):\n    return Manager(user).ping()\n",
    "app/other.py": "from app.core.legacy import Manager\n\n\ndef build(user):\n    return Manager(user)\n",
    "tests/__init__.py": "",
    "tests/test_chat.py": (
        "from unittest import mock\n\nfrom app import chat, other\n\n\n"
        "def test_reply_is_intercepted():\n"
        "    with mock.patch('app.chat.Manager') as fake:\n"
        "        fake.return_value.ping.return_value = 'fake'\n"
        "        assert chat.reply('u1') == 'fake'\n\n\n"
        "def test_other_builds_a_manager():\n    assert other.build('u2').user == 'u2'\n"
    ),
}


def test_patched_consumer_survives_phases_1_and_3(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", FILES)

    phase1 = run_cli("phase1", "--repo", str(repo))
    assert phase1.returncode == 0, phase1.stderr
    branch1 = "ssot/phase1-imports"
    chat = git(repo, "show", f"{branch1}:app/chat.py")
    assert chat.startswith("from app.core.unified import UnifiedManager as Manager\n")
    assert "from app.core.unified import UnifiedManager\n" in git(
        repo, "show", f"{branch1}:app/other.py"
    )
    message1 = git(repo, "log", "-1", "--format=%B", branch1)
    assert "SSOT-Verified: yes" in message1 and "SSOT-Tests-After: 2 passed" in message1
    assert "Notes (1):\n  app/chat.py:1: [manager] kept the local name Manager" in message1

    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    pr = run_cli("pr", "phase1", "--repo", str(repo))  # pushed; without --open the body is printed
    assert pr.returncode == 0, pr.stderr
    assert "- app/chat.py:1: [manager] kept the local name Manager" in pr.stdout

    phase3 = run_cli("phase3", "--repo", str(repo))
    assert phase3.returncode == 0, phase3.stderr
    branch3 = "ssot/phase3-factories"
    assert git(repo, "show", f"{branch3}:app/chat.py") == chat  # the intercepted call is left alone
    assert "create_manager(user)" in git(repo, "show", f"{branch3}:app/other.py")
    message3 = git(repo, "log", "-1", "--format=%B", branch3)
    assert "'app.chat.Manager' is named in a string" in message3  # listed as needing a decision
    assert "SSOT-Verified: yes" in message3 and "SSOT-Tests-After: 2 passed" in message3

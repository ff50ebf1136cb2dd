"""Phase 2 proven by running code: the repository's own tests, before and after, for real.

The test repository holds an alias-compatible facade, a delegating facade with duplicated state,
a subclass of each, and a pytest suite exercising every existing call site. Phase 2 runs through
the real CLI (``--dry-run``, then ``git apply`` of exactly that diff); the suite then runs with
``sys.executable -m pytest``: ``isinstance(Facade(...), Canonical)`` must now hold for the alias
(it fails before: a fail-first test), and every call site of the delegation must still run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from tests.helpers.repos import git, git_env, run_cli

CONFIG = """
[tool.ssot-migrate]

[[tool.ssot-migrate.targets]]
name = "manager"
canonical = "app.core.unified.UnifiedManager"
aliases = []
facades = ["app.legacy.LegacyManager", "app.ws.WebSocketManager"]
# Both facades keep copies of the state: the decision to replace that logic by the canonical's
# is the user's (without it they are listed, see e2e/test_phase2_logic_cli.py).
replace-facade-logic = ["app.legacy.LegacyManager", "app.ws.WebSocketManager"]
factory = "app.core.factory.create_manager"
"""

FILES = {
    "app/__init__.py": "",
    "app/core/__init__.py": "",
    "app/core/unified.py": """
        class UnifiedManager:
            def __init__(self, user_id, config=None):
                self.user_id = user_id
                self.config = config
                self.connections = {}

            def add_connection(self, conn_id, websocket):
                self.connections[conn_id] = websocket
                return len(self.connections)

            def remove_connection(self, conn_id):
                return self.connections.pop(conn_id, None)

            async def send(self, conn_id, message, *, timeout=5.0):
                return (self.user_id, conn_id, message, timeout)

            def count(self):
                return len(self.connections)
    """,
    "app/core/factory.py": """
        from app.core.unified import UnifiedManager


        def create_manager(user_id, config=None):
            return UnifiedManager(user_id, config=config)
    """,
    "app/legacy.py": '''
        """Old import path, kept alive."""

        __all__ = ["LegacyManager"]


        class LegacyManager:
            def __init__(self, user_id):
                self.user_id = user_id
                self._conns = {}

            def add_connection(self, conn_id, websocket):
                self._conns[conn_id] = websocket
                return len(self._conns)

            def count(self):
                return len(self._conns)
    ''',
    "app/ws.py": """
        from app.core.unified import UnifiedManager


        class WebSocketManager:
            def __init__(self, user_id, config=None):
                self._manager = UnifiedManager(user_id, config)
                self._connections = {}
                self._sent = 0

            def add_connection(self, conn_id, websocket):
                self._connections[conn_id] = websocket
                return self._manager.add_connection(conn_id, websocket)

            async def send(self, conn_id, message, *, timeout=5.0):
                self._sent += 1
                return await self._manager.send(conn_id, message, timeout=timeout)

            def count(self):
                return len(self._connections)

            def snapshot(self):
                return sorted(self._connections)
    """,
    "tests/test_call_sites.py": """
        import asyncio

        from app.core.unified import UnifiedManager
        from app.legacy import LegacyManager
        from app.ws import WebSocketManager


        class AuditedLegacy(LegacyManager):
            pass


        class AuditedWs(WebSocketManager):
            def audited_count(self):
                return self.count()


        def test_legacy_call_sites():
            manager = AuditedLegacy("u1")
            assert manager.add_connection("c1", object()) == 1
            assert manager.count() == 1
            assert isinstance(manager, LegacyManager)


        def test_delegation_call_sites():
            manager = AuditedWs("u2", config={"x": 1})
            assert manager.add_connection("c1", object()) == 1
            assert manager.add_connection("c2", object()) == 2
            assert manager.count() == 2
            assert manager.audited_count() == 2
            assert manager.snapshot() == ["c1", "c2"]
            assert asyncio.run(manager.send("c1", "hi", timeout=1.0)) == ("u2", "c1", "hi", 1.0)
            assert isinstance(manager, WebSocketManager)


        def test_alias_is_the_canonical():
            assert isinstance(LegacyManager("u3"), UnifiedManager)
    """,
}


def run_suite(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=repo,
        env=git_env({"PYTHONPATH": str(repo), "PYTHONDONTWRITEBYTECODE": "1"}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_phase2_keeps_call_sites_running_and_aliases_are_the_canonical(
    repo_factory: Callable[..., Path],
) -> None:
    files = {path: textwrap.dedent(text).lstrip("\n") for path, text in FILES.items()}
    files["pyproject.toml"] = CONFIG
    repo = repo_factory(files)

    before = run_suite(repo)
    assert before.returncode == 1, before.stdout + before.stderr
    assert "1 failed, 2 passed" in before.stdout
    assert "test_alias_is_the_canonical" in before.stdout

    dry = run_cli("phase2", "--dry-run", "--repo", str(repo))
    assert dry.returncode == 0, dry.stderr
    assert "class LegacyManager" in dry.stdout and "+LegacyManager = UnifiedManager" in dry.stdout
    # ``send`` becomes a one-line forward and its private counter goes; ``add_connection`` and
    # ``count`` share ``self._connections`` with the kept ``snapshot`` and stay, with the reason.
    assert "-        self._sent += 1" in dry.stdout and "-        self._sent = 0" in dry.stdout
    assert "-        self._connections = {}" not in dry.stdout
    assert "WebSocketManager.snapshot(): no counterpart on the canonical class" in dry.stderr
    assert "add_connection(): shares changing state (self._connections)" in dry.stderr
    (repo / "phase2.diff").write_text(dry.stdout)
    git(repo, "apply", "phase2.diff")
    (repo / "phase2.diff").unlink()

    after = run_suite(repo)
    assert after.returncode == 0, after.stdout + after.stderr
    assert "3 passed" in after.stdout

    # The dry-run of a second pass over the applied result is empty.
    git(repo, "commit", "-qam", "phase 2 applied")
    again = run_cli("phase2", "--dry-run", "--repo", str(repo))
    assert again.returncode == 0 and again.stdout == "", again.stdout

"""End to end: phase 2 collapses only pure forwards, through the real CLI, real git and pytest.

The repository is the one the issue was found on: a facade whose ``get``/``put`` lower-case keys,
reject empty keys and count writes; a facade whose ``close()`` logs; ``NeedsStore``, which wraps
a store it is given; and ``Plain``, a pure forward. Before the fix phase 2 made bare forwards of
the first two (no note), gave ``NeedsStore`` a fresh canonical it never had, and said nothing.
Now only ``Plain`` changes (it becomes an alias, its importer moves), the project's own tests of
the logic still pass on the branch, and every facade has exactly one outcome line in the dry-run
summary, the commit message and the pull request, with each kept method listed.
"""

from __future__ import annotations

import shlex
import sys
import textwrap
from pathlib import Path

from tests.helpers.repos import git, make_repo, run_cli

FACADES = (
    "kv.legacy.CaseInsensitiveStore",
    "kv.legacy.LoggedStore",
    "kv.legacy.NeedsStore",
    "kv.legacy.Plain",
)

PYPROJECT = textwrap.dedent(f"""\
    [tool.ssot-migrate]
    test-command = "env PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {shlex.quote(sys.executable)} -m pytest -q tests"
    test-timeout = 120

    [[tool.ssot-migrate.targets]]
    name = "kv"
    canonical = "kv.store.Store"
    aliases = []
    facades = [{", ".join(f'"{f}"' for f in FACADES)}]
    """)

FILES = {
    "pyproject.toml": PYPROJECT,
    ".gitignore": "__pycache__/\n",
    "kv/__init__.py": "",
    "kv/store.py": textwrap.dedent("""\
        class Store:
            def __init__(self, path=":memory:"):
                self.path = path
                self._data = {}

            def get(self, key, default=None):
                return self._data.get(key, default)

            def put(self, key, value):
                self._data[key] = value
                return value

            def close(self):
                self._data.clear()
        """),
    "kv/legacy.py": textwrap.dedent("""\
        import logging

        from kv.store import Store

        log = logging.getLogger("kv.legacy")


        class CaseInsensitiveStore:
            def __init__(self, path=":memory:"):
                self._store = Store(path)
                self.writes = 0

            def get(self, key, default=None):
                return self._store.get(key.lower(), default)

            def put(self, key, value):
                if not key:
                    raise ValueError("empty key")
                self.writes += 1
                return self._store.put(key.lower(), value)


        class LoggedStore:
            def __init__(self, path=":memory:"):
                self._store = Store(path)

            def get(self, key, default=None):
                return self._store.get(key, default)

            def close(self):
                log.info("closing")
                self._store.close()


        class NeedsStore:
            def __init__(self, store):
                self._backend = store

            def get(self, key, default=None):
                return self._backend.get(key, default)


        class Plain:
            def __init__(self, path=":memory:"):
                self._store = Store(path)

            def get(self, key, default=None):
                return self._store.get(key, default)

            def put(self, key, value):
                return self._store.put(key, value)
        """),
    "kv/app.py": "from kv.legacy import Plain\n\nDEFAULT = Plain()\n",
    "tests/__init__.py": "",
    "tests/test_logic.py": textwrap.dedent("""\
        import logging

        import pytest

        from kv.app import DEFAULT
        from kv.legacy import CaseInsensitiveStore, LoggedStore, NeedsStore
        from kv.store import Store


        def test_keys_are_case_insensitive_and_writes_counted():
            store = CaseInsensitiveStore()
            store.put("Key", 1)
            assert store.get("KEY") == 1 and store.writes == 1
            with pytest.raises(ValueError):
                store.put("", 2)


        def test_close_logs(caplog):
            with caplog.at_level(logging.INFO, logger="kv.legacy"):
                LoggedStore().close()
            assert "closing" in caplog.text


        def test_needs_store_uses_the_given_store():
            given = Store()
            given.put("a", 1)
            assert NeedsStore(given).get("a") == 1


        def test_plain():
            DEFAULT.put("a", 1)
            assert DEFAULT.get("a") == 1
        """),
}

OUTCOMES = {
    "kv.legacy.CaseInsensitiveStore": "kv.legacy.CaseInsensitiveStore left as it is: none of its "
    "methods is a pure forward to kv.store.Store",
    "kv.legacy.LoggedStore": "kv.legacy.LoggedStore delegated to kv.store.Store: 1 method "
    "forwarded (get; already pure forwards, left as they are), 1 kept (close: logs)",
    "kv.legacy.NeedsStore": "kv.legacy.NeedsStore left as it is: none of its methods is a pure "
    "forward to kv.store.Store (1 kept: get: calls get() on self._backend, not on a canonical "
    "instance it builds)",
    "kv.legacy.Plain": "kv.legacy.Plain aliased to kv.store.Store (2 methods, each a pure forward)",
}
LOGIC = (
    "CaseInsensitiveStore.get() has logic of its own: transforms an argument (key.lower())",
    (
        "CaseInsensitiveStore.put() has logic of its own: raises ValueError, updates state "
        "(self.writes), transforms an argument (key.lower())"
    ),
    "LoggedStore.close() has logic of its own: logs",
)


def outcome_lines(text: str, facade: str) -> list[str]:
    """Lines of ``text`` that are ``facade``'s outcome (its name then a verdict)."""
    verdicts = (" aliased to ", " delegated to ", " left as it is: ")
    return [
        line
        for line in text.splitlines()
        if any(f"{facade}{verdict}" in line for verdict in verdicts)
    ]


def check_outcomes(where: str, text: str) -> None:
    for facade, expected in OUTCOMES.items():
        lines = outcome_lines(text, facade)
        assert len(lines) == 1, f"{where}: {facade}: {lines}\n{text}"
        assert expected in lines[0], f"{where}: {lines[0]}"
    for logic in LOGIC:
        assert logic in text, f"{where}: {logic!r} missing\n{text}"


def test_phase2_keeps_facade_logic_and_says_what_became_of_every_facade(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", FILES)

    dry = run_cli("phase2", "--dry-run", "--repo", str(repo))
    assert dry.returncode == 0, dry.stderr
    check_outcomes("dry-run", dry.stderr)
    changed = [
        line
        for line in dry.stdout.splitlines()
        if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))
    ]
    assert "+Plain = Store" in changed and "+from kv.store import Store" in changed
    # Nothing of the logic-bearing facades is touched: no forward made, no instance added.
    assert not [line for line in changed if "lower" in line or "_impl" in line or "log." in line]
    assert "self._backend = store" not in "\n".join(changed)

    proc = run_cli("phase2", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    branch = "ssot/phase2-facades"
    legacy = git(repo, "show", f"{branch}:kv/legacy.py")
    assert FILES["kv/legacy.py"].split("class Plain:")[0] in legacy  # every kept class verbatim
    assert "Plain = Store" in legacy
    assert (
        git(repo, "show", f"{branch}:kv/app.py")
        == "from kv.store import Store\n\nDEFAULT = Store()\n"
    )
    message = git(repo, "log", "-1", "--format=%B", branch)
    assert "SSOT-Verified: yes" in message
    assert "SSOT-Tests-Before: 4 passed" in message and "SSOT-Tests-After: 4 passed" in message
    check_outcomes("commit", message)
    decisions = message.split("Needs a decision (", 1)[1].split("\n\n", 1)[0]
    assert len(outcome_lines(decisions, "kv.legacy.NeedsStore")) == 1

    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    pr = run_cli("pr", "phase2", "--repo", str(repo))
    assert pr.returncode == 0, pr.stderr
    check_outcomes("pull request", pr.stdout)

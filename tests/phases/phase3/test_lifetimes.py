"""Phase 3 lifetimes and facades: shared-instance detection shapes, facade constructions, CLI."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import libcst as cst
import pytest

from ssot_migrate.codemods.factories import shared_instance_reason
from tests.helpers.repos import run_cli


def reason(source: str, name: str = "create") -> str | None:
    module = cst.parse_module(textwrap.dedent(source))
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
            return shared_instance_reason(statement, module)
    raise AssertionError(f"no function {name}")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            """
            import functools
            @functools.lru_cache(maxsize=None)
            def create(user): return Manager(user)
            """,
            "it is decorated with @functools.lru_cache",
        ),
        (
            """
            from functools import cache
            @cache
            def create(user): return Manager(user)
            """,
            "it is decorated with @cache",
        ),
        (
            """
            _managers = {}
            def create(user):
                if user not in _managers:
                    _managers[user] = Manager(user)
                return _managers[user]
            """,
            "it stores instances in the module-level cache '_managers'",
        ),
        (
            """
            _registry = {}
            def create(user):
                return _registry.setdefault(user, Manager(user))
            """,
            "it stores instances in the module-level cache '_registry'",
        ),
        (
            """
            _instance = None
            def create(user):
                global _instance
                if _instance is None:
                    _instance = Manager(user)
                return _instance
            """,
            "it keeps the instance in the module global '_instance'",
        ),
        (
            """
            class Holder:
                instance = None
            def create(user):
                if Holder.instance is None:
                    Holder.instance = Manager(user)
                return Holder.instance
            """,
            "it keeps a class-level singleton in 'Holder.instance'",
        ),
        (
            """
            _default = Manager("system")
            def create(user):
                return _default
            """,
            "it returns the module-level instance '_default'",
        ),
        (
            """
            _cache = {}
            def _get(user):
                _cache[user] = Manager(user)
                return _cache[user]
            def create(user):
                return _get(user)
            """,
            "it calls _get(), and it stores instances in the module-level cache '_cache'",
        ),
    ],
)
def test_shared_instance_shapes_are_found(source: str, expected: str) -> None:
    assert reason(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        "def create(user, config=None):\n    return Manager(user, config=config)\n",
        "_cache = {}\ndef create(user):\n    _cache = {}\n    _cache[user] = Manager(user)\n"
        "    return _cache[user]\n",
        "DEFAULTS = {}\ndef create(user):\n    manager = Manager(user, **DEFAULTS)\n"
        "    manager.ready = True\n    return manager\n",
    ],
    ids=["plain", "local-shadow", "reads-module-config"],
)
def test_fresh_instance_factories_are_not_flagged(source: str) -> None:
    assert reason(source) is None


FACADE_REPO = {
    "app/__init__.py": "",
    "app/core.py": (
        "class Unified:\n    def __init__(self, user):\n        self.user = user\n\n"
        "    def send(self, m):\n        return m\n\n\n"
        "def create(user):\n    return Unified(user)\n"
    ),
    "app/facade.py": (
        "from app.core import Unified\n\n\nclass Old:\n    def __init__(self, user):\n"
        "        self._impl = Unified(user)\n\n    def send(self, m):\n"
        "        return self._impl.send(m)\n\n    def legacy(self):\n        return 1\n"
    ),
    "app/use.py": "from app.facade import Old\n\n\ndef f(u):\n    return Old(u).legacy()\n",
    "pyproject.toml": (
        '[tool.ssot-migrate]\n\n[[tool.ssot-migrate.targets]]\nname = "m"\n'
        'canonical = "app.core.Unified"\naliases = []\nfacades = ["app.facade.Old"]\n'
        'factory = "app.core.create"\n'
    ),
}


def test_delegating_facade_constructions_are_listed_not_rewritten(
    repo_factory: Callable[..., Path],
) -> None:
    repo = repo_factory(FACADE_REPO)
    proc = run_cli("phase3", "--dry-run", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    # The factory module itself constructs the canonical: never rewritten. The facade still has
    # a member the canonical lacks, so ``Old(u)`` would lose ``legacy()``: listed instead.
    assert "app/use.py" not in proc.stdout
    assert "app/use.py:5" in proc.stderr and "legacy" in proc.stderr
    assert "app/core.py" not in proc.stdout


def test_targets_without_facades_or_factory_say_nothing_to_do(
    repo_factory: Callable[..., Path],
) -> None:
    files = dict(FACADE_REPO)
    files["pyproject.toml"] = (
        '[tool.ssot-migrate]\n\n[[tool.ssot-migrate.targets]]\nname = "m"\n'
        'canonical = "app.core.Unified"\naliases = []\n'
    )
    repo = repo_factory(files)
    for phase, what in (("phase2", "facades or test doubles"), ("phase3", "factory")):
        proc = run_cli(phase, "--dry-run", "--repo", str(repo))
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == ""
        assert f"nothing to do for target m: no {what} configured" in proc.stderr

"""The small project the verification-trust tests (and affected-test selection) run phases on."""

from __future__ import annotations

import shlex
import sys
import textwrap
from pathlib import Path

from tests.helpers.repos import git, make_repo

PYTEST = f"env PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {shlex.quote(sys.executable)} -m pytest -q tests"


BRANCH = "ssot/phase1-imports"


def pyproject(command: str = PYTEST, extra: str = "") -> str:
    return textwrap.dedent(f"""\
        [tool.ssot-migrate]
        test-command = {command!r}
        test-timeout = 120
        {extra}

        [[tool.ssot-migrate.targets]]
        name = "manager"
        canonical = "app.core.unified.Manager"
        aliases = ["app.core.legacy.Manager"]
        """)


def project(
    tmp_path: Path, tests: dict[str, str], *, extra: str = "", command: str = PYTEST
) -> Path:
    """``app/use.py`` imports the legacy Manager; phase 1 moves it to the canonical one."""
    files = {
        "pyproject.toml": pyproject(command, extra),
        "app/__init__.py": "",
        "app/core/__init__.py": "",
        "app/core/unified.py": "class Manager:\n    def ping(self):\n        return 'pong'\n",
        "app/core/legacy.py": "class Manager:\n    def ping(self):\n        return 'legacy'\n",
        "app/use.py": "from app.core.legacy import Manager\n\n\ndef make():\n    return Manager()\n",
        "tests/__init__.py": "",
        "tests/test_ok.py": "def test_ok():\n    assert True\n",
        **tests,
    }
    return make_repo(tmp_path / "repo", files)


def message(repo: Path) -> str:
    return git(repo, "log", "-1", "--format=%B", BRANCH)

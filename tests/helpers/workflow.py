"""The in-process workflow's test fixtures: a marker codemod, a project with a real pytest suite,
its configuration and trailers.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from ssot_migrate.model import Change, CodemodResult, Config, SourceFile, Target
from ssot_migrate.workflow import PhaseResult, create_phase_branch
from tests.helpers.repos import GIT_IDENTITY, git, make_repo


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs use the same identity and config isolation as the CLI tests."""
    for key, value in GIT_IDENTITY.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)


@dataclass(frozen=True)
class MarkerCodemod:
    """Test-only codemod: replaces a marker string (picklable, pure)."""

    phase: str = "phase1"
    old: str = "OLD_MARKER"
    new: str = "NEW_MARKER"

    def needles(self) -> frozenset[str]:
        return frozenset({self.old})

    def transform(self, source: bytes, file: SourceFile) -> CodemodResult:
        count = source.count(self.old.encode())
        changes = tuple(
            Change(file.path, 1, 0, "marker", "marker", self.old, self.new) for _ in range(count)
        )
        return CodemodResult(source.replace(self.old.encode(), self.new.encode()), changes)


# Plugin autoload (hypothesis and friends in this venv) triples each inner pytest start-up.
FAST_PYTEST = ("env", "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1", sys.executable, "-m", "pytest")


def pytest_command(*extra: str) -> tuple[str, ...]:
    return (*FAST_PYTEST, "-q", "tests", *extra)


def make_config(repo: Path, command: str | tuple[str, ...] | None = None, **kw: object) -> Config:
    return Config(
        repo=repo,
        source=repo / "pyproject.toml",
        targets=(Target("marker", "pkg.new.Thing", ("pkg.old.Thing",)),),
        test_command=command,
        test_timeout=float(kw.pop("timeout", 60.0)),  # type: ignore[arg-type]
        digest="testdigest",
        **kw,  # type: ignore[arg-type]
    )


def project(
    tmp_path: Path, counter: Path | None = None, extra: Mapping[str, str] | None = None
) -> Path:
    """A small project whose test suite passes before and after the marker rewrite."""
    count_line = f"open({str(counter)!r}, 'a').write('run\\n')\n" if counter is not None else ""
    files = {
        "pkg/__init__.py": "",
        "pkg/mod_a.py": "VALUE = 'OLD_MARKER'  # keep\n",
        "pkg/mod_b.py": "OTHER = 1\n",
        "tests/__init__.py": "",
        "tests/conftest.py": count_line,
        "tests/test_mod.py": (
            "from pkg import mod_a\n\n"
            "def test_value():\n    assert mod_a.VALUE.endswith('_MARKER')\n\n"
            "def test_other():\n    assert True\n"
        ),
    }
    files.update(extra or {})
    return make_repo(tmp_path / "repo", files)


def phase(repo: Path, config: Config, **kw: object) -> PhaseResult:
    kw.setdefault("codemod", MarkerCodemod(kw.pop("phase_name", "phase1")))  # type: ignore[arg-type]
    kw.setdefault("echo", lambda line: None)
    return create_phase_branch(repo, config, str(kw.pop("phase", "phase1")), **kw)  # type: ignore[arg-type]


def trailers(repo: Path, ref: str) -> dict[str, str]:
    out = git(repo, "show", "-s", "--format=%(trailers:only,unfold)", ref)
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)

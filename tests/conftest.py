"""What pytest shares with every test: the fixture trees stay uncollected, ``repo_factory``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from tests.helpers.repos import make_repo

# Fixture trees hold sample projects (with their own test files): inputs, never our tests.
collect_ignore = ["fixtures"]


@pytest.fixture
def repo_factory(tmp_path: Path) -> Callable[..., Path]:
    """Build real git repositories: ``repo_factory({"pkg/a.py": "..."}, name="repo")``."""

    def build(files: Mapping[str, str | bytes], name: str = "repo") -> Path:
        return make_repo(tmp_path / name, files)

    return build

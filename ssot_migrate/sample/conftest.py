"""Root conftest of the sample repository.

This tree also ships as package data inside ``ssot_migrate``; when a test run rooted anywhere else
walks into it, nothing here is collected (the sample is only ever tested from its own root).
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if config.rootpath.resolve() != ROOT:
        return True
    return None

"""The configured ``test-command``: its argv, whether its program exists, whether it is pytest,
and its pytest arguments narrowed to chosen test ids (triage, bisection)."""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Sequence
from pathlib import Path

from ssot_migrate.errors import ConfigError
from ssot_migrate.model import Config

# pytest options whose value is a separate argv item (so a path there is not a test selection).
_PYTEST_VALUE_OPTIONS = frozenset(
    [
        "-c",
        "-k",
        "-m",
        "-p",
        "-o",
        "-W",
        "-r",
        "--rootdir",
        "--confcutdir",
        "--basetemp",
        "--junitxml",
        "--junit-xml",
        "--ignore",
        "--ignore-glob",
        "--deselect",
        "--log-file",
        "--log-level",
        "--tb",
        "--maxfail",
        "--durations",
        "-n",
        "--dist",
        "--import-mode",
        "--cov",
        "--cov-report",
        "--cov-config",
        "--override-ini",
        "--config-file",
        "--capture",
        "--log-cli-level",
        "--junit-prefix",
        "--timeout",
        "--pyargs",
        "--runxfail",
        "--color",
    ]
)


def command_argv(config: Config) -> tuple[str, ...] | None:
    """The configured test command as argv (``None`` when no ``test-command`` is configured)."""
    command = config.test_command
    if command is None:
        return None
    if isinstance(command, str):
        try:
            argv = tuple(shlex.split(command))
        except ValueError as exc:
            raise ConfigError(
                f"test-command: cannot split {command!r}: {exc}", str(config.source)
            ) from exc
    else:
        argv = tuple(command)
    if not argv:
        raise ConfigError("test-command: empty command", str(config.source))
    return argv


def check_command(config: Config) -> None:
    """Refuse, before any work, a test command whose program cannot be found on PATH."""
    argv = command_argv(config)
    if argv and "/" not in argv[0] and shutil.which(argv[0]) is None:
        raise ConfigError(
            f"test-command: program {argv[0]!r} not found on PATH", str(config.source)
        )


def pytest_position(argv: Sequence[str]) -> int | None:
    """Index just after ``pytest`` (or ``-m pytest``) in ``argv``, or ``None`` if not pytest."""
    for i, item in enumerate(argv):
        name = os.path.basename(item)
        if name in ("pytest", "py.test") and (i == 0 or argv[i - 1] != "-k"):
            return i + 1
        if item == "-m" and i + 1 < len(argv) and argv[i + 1] == "pytest":
            return i + 2
    return None


def select_only(args: Sequence[str], cwd: Path, only: Sequence[str]) -> list[str]:
    """pytest args with the user's path selections replaced by the test ids in ``only``."""
    kept: list[str] = []
    skip_value = False
    for item in args:
        if skip_value:
            kept.append(item)
            skip_value = False
        elif item.startswith("-"):
            kept.append(item)
            skip_value = item in _PYTEST_VALUE_OPTIONS
        elif "::" in item or (cwd / item).exists():
            continue
        else:
            kept.append(item)
    return kept + list(only)

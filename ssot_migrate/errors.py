"""One error hierarchy, caught only in ``cli.py``; each error carries its exit code."""

from __future__ import annotations


class SsotError(Exception):
    """Base of every error the CLI turns into ``error: <message>`` and an exit code."""

    exit_code: int = 2


class ConfigError(SsotError):
    """Invalid or missing configuration; the message names the file, the key and the reason."""

    exit_code = 2

    def __init__(self, problems: list[str] | str, path: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.path = path
        where = f"{path}: " if path else ""
        if len(self.problems) == 1:
            message = where + self.problems[0]
        else:
            message = f"{where}{len(self.problems)} configuration errors:\n" + "\n".join(
                f"  - {problem}" for problem in self.problems
            )
        super().__init__(message)


class UsageError(SsotError):
    """The command cannot run as asked (bad argument, repository state that forbids it)."""

    exit_code = 2


class GitError(SsotError):
    """A git operation failed or the repository cannot support the operation."""

    exit_code = 2

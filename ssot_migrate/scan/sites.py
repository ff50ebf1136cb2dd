"""Where scan's findings are collected: one :class:`Site` per finding, with its line of code.

Each category's checks (``analysis``, ``classes``, ``patches``) add to one :class:`SiteRecorder`,
which reads each file's lines once to quote the code at a finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Site:
    """One finding: where, for which target and category, the code line and what is wrong."""

    category: str
    target: str
    path: str
    line: int
    column: int
    message: str
    code: str = ""
    details: tuple[tuple[str, str], ...] = ()


class SiteRecorder:
    """The findings of one scan, in the order they were added."""

    def __init__(self, snapshot: Any) -> None:
        self.snapshot = snapshot
        self.sites: list[Site] = []
        self._lines: dict[str, list[str]] = {}

    def code(self, path: str, line: int) -> str:
        """Line ``line`` of ``path``, stripped (empty when there is none)."""
        if path not in self._lines:
            try:
                data = self.snapshot.read(path)
            except (KeyError, OSError):
                data = b""
            self._lines[path] = data.decode("utf-8", "replace").splitlines()
        lines = self._lines[path]
        return lines[line - 1].strip() if 0 < line <= len(lines) else ""

    def add(
        self,
        category: str,
        target: str,
        path: str,
        line: int,
        column: int,
        message: str,
        details: tuple[tuple[str, str], ...] = (),
    ) -> None:
        """Record one finding, quoting its line of code."""
        self.sites.append(
            Site(
                category,
                target,
                path,
                line,
                column,
                message,
                self.code(path, line) if path else "",
                details,
            )
        )

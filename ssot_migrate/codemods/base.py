"""The contract every phase's codemod honours, so the engine can run any of them the same way.

A codemod is a picklable object built once from the validated targets. ``needles`` is the sound
text pre-filter: a file containing none of them cannot need a change and is never parsed.
``transform`` is pure: it may raise ``libcst.ParserSyntaxError`` (the engine turns that into a
skipped file); any other exception is a bug in the codemod, and the engine reports it per file.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ssot_migrate.model import CodemodResult, SourceFile


@runtime_checkable
class Codemod(Protocol):
    """One phase's rewrite of one file."""

    @property
    def phase(self) -> str:
        """``phase1``, ``phase2`` or ``phase3`` (tests use their own names)."""
        ...

    def needles(self) -> frozenset[str]:
        """Substrings at least one of which any file needing a change must contain."""
        ...

    def transform(self, source: bytes, file: SourceFile) -> CodemodResult:
        """Rewrite ``source`` (the file's exact bytes); return the new bytes and what changed."""
        ...

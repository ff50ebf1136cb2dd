"""The contract every phase's codemod honours, so the engine can run any of them the same way.

A codemod is a picklable object built once from the validated targets. ``needles`` is the sound
text pre-filter: a file containing none of them cannot need a change and is never parsed.
``transform`` is pure: it may raise ``libcst.ParserSyntaxError`` (the engine turns that into a
skipped file); any other exception is a bug in the codemod, and the engine reports it per file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ssot_migrate.model import Change, CodemodResult, Note, SourceFile


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


@dataclass(frozen=True)
class ChainedCodemod:
    """Codemods run one after another on each file, as one phase (picklable, pure).

    Each sees the previous one's output and runs only if that output contains one of its
    needles; changes and notes are concatenated in order.
    """

    phase: str
    codemods: tuple[Codemod, ...]
    nothing_to_do: tuple[str, ...] = ()

    def needles(self) -> frozenset[str]:
        return frozenset().union(*(codemod.needles() for codemod in self.codemods))

    def transform(self, source: bytes, file: SourceFile) -> CodemodResult:
        current = source
        changes: list[Change] = []
        notes: list[Note] = []
        for codemod in self.codemods:
            if not any(needle.encode() in current for needle in codemod.needles()):
                continue
            result = codemod.transform(current, file)
            current = result.source
            changes.extend(result.changes)
            notes.extend(result.notes)
        if current == source and not notes:
            return CodemodResult(source)
        return CodemodResult(current, tuple(changes), tuple(notes))

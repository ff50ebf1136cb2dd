"""What is read from a parsed module, kept for the last few modules asked about."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import libcst as cst

T = TypeVar("T")


class PerModule(Generic[T]):
    """``build(module)``, built once per module and kept for the last ``kept`` modules.

    Planning or scanning many targets reads the same few modules again and again (a compat
    module holding dozens of canonicals, a module of factories). Entries are keyed by the
    module's id and hold the module itself, so an id is never reused for another module's
    entry; least recently used first out, since each keeps its module alive.
    """

    def __init__(self, build: Callable[[cst.Module], T], kept: int) -> None:
        self._build = build
        self._kept = kept
        self._entries: dict[int, tuple[cst.Module, T]] = {}

    def __call__(self, module: cst.Module) -> T:
        entry = self._entries.pop(id(module), None)
        if entry is None or entry[0] is not module:
            entry = (module, self._build(module))
        self._entries[id(module)] = entry  # most recently used last
        while len(self._entries) > self._kept:
            del self._entries[next(iter(self._entries))]
        return entry[1]

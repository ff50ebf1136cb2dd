"""The phase-1 entry point: ``ImportsCodemod.transform`` runs the steps on one file."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import libcst as cst

from ssot_migrate.codemods._common import AliasTable
from ssot_migrate.codemods.imports.rewrite import FileRewrite
from ssot_migrate.model import CodemodResult, PhaseId, SourceFile, Target


class ImportsCodemod:
    """The phase-1 codemod: legacy import paths and their references become canonical ones."""

    phase = PhaseId.IMPORTS.value

    def __init__(self, targets: Sequence[Target], named_elsewhere: Iterable[str] = ()) -> None:
        self.targets = tuple(targets)
        self._table = AliasTable(self.targets)
        # ``module.Name`` paths spelled in strings anywhere in the repository (``mock.patch``,
        # ``monkeypatch.setattr``, settings): such a module keeps its local name for the import,
        # or the string would name an attribute that no longer exists.
        self.named_elsewhere = frozenset(named_elsewhere)
        # A needle inside a quoted string (annotation, mock target, ``__all__`` entry) is the
        # only reason to walk expressions in the survey; most files have none.
        self._needle_bytes = tuple(n.encode() for n in sorted(self._table.needles()))
        self._canonical_modules = frozenset(self._table.canonical_modules())

    def needles(self) -> frozenset[str]:
        """The last segment of every alias: any reference to an alias spells it."""
        return self._table.needles()

    def transform(self, source: bytes, file: SourceFile) -> CodemodResult:
        """Rewrite one file's bytes; the input object itself comes back when nothing changes."""
        if file.module is not None and file.module in self._canonical_modules:
            # The canonical's own module is the source of truth: never rewritten.
            return CodemodResult(source)
        module = cst.parse_module(source)
        # ``patch.multiple(module, Name=...)`` spells the alias as a keyword, outside quotes.
        strings = _quoted_needle(source, self._needle_bytes) or _MULTIPLE.search(source) is not None
        return FileRewrite(module, source, file, self._table, strings, self.named_elsewhere).run()


_MULTIPLE = re.compile(rb"\.multiple\s*\(")
# From a quote to the next quote or the end of its line: where a quoted needle can sit.
_AFTER_QUOTE = re.compile(b"['\"]([^'\"\n]*)")


def _quoted_needle(source: bytes, needles: Sequence[bytes]) -> bool:
    """Whether a needle follows a quote on its line with no quote between (in a string).

    The text after each quote is cut out once and each needle looked for in it: one regex of
    every needle as alternatives costs the number of needles at every position after a quote.
    """
    if not needles:
        return False
    segments = b"\n".join(match.group(1) for match in _AFTER_QUOTE.finditer(source))
    return any(needle in segments for needle in needles)

"""Value types shared by every layer: frozen, hashable, picklable (they cross process pools).

Positions (``Change``, ``Note``, scan's sites, discovery's bindings) are 1-based, lines and
columns alike, in every phase and in scan: the first character of a file is line 1, column 1, as
editors, SARIF and ``path:line:column`` tools count. A note about a whole file is at 1:1. The
phases measure columns with libcst (characters), scan with ``ast`` (UTF-8 bytes): they differ
only after a non-ASCII character on the same line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Literal

# What a phase did at a site (``Change.kind``), by phase: 1, 2 (facades, test doubles), 3.
ChangeKind = Literal[
    "import",
    "reference",
    "string",
    "all",
    "patch-object",
    "facade-alias",
    "facade-forward",
    "facade-dead-method",
    "facade-state-removed",
    "facade-canonical-instance",
    "facade-factory-instance",
    "test-double-signature",
    "factory-call",
    "legacy-factory-call",
]
# ``needs-decision``: left as it is, a human must choose; ``warning``: done, with a caveat;
# ``note``: done, and how is worth knowing.
Severity = Literal["warning", "needs-decision", "note"]
# What a note is about (``Note.kind``), by phase: 1, 2 (facades, test doubles), 3, every phase,
# and scan's per-file facts (assembled into categories by ``scan/analysis.py``, never printed).
NoteKind = Literal[
    "builtin-kept",
    "kind-unproven",
    "missing-in-canonical",
    "name-kept",
    "patch-object",
    "star-import",
    "facade-aliased",
    "facade-delegated",
    "facade-left-alone",
    "facade-logic-replaced",
    "test-double-drift",
    "test-double-left-alone",
    "alternative-constructor",
    "constructor-reference",
    "dynamic-construction",
    "facade-construction",
    "factory-arguments",
    "factory-cycle",
    "partial",
    "patched-construction",
    "shared-instance",
    "super-init",
    "not-reproducible",
    "path-use",
    "patch-target",
    "class",
    "direct-instantiation",
]
# ``tests``: which tests a phase runs on both trees; ``guard``: the lint configuration phase 1 writes.
TestSelection = Literal["all", "affected"]
GuardKind = Literal["ruff", "import-linter"]
# ``filtered``: the pre-filter said no, never parsed; ``skipped``: could not be read or parsed.
FileStatus = Literal["changed", "unchanged", "filtered", "skipped"]


class PhaseId(str, Enum):
    """The phases' stable ids: CLI commands, branch names, ``SSOT-Phase`` trailers.

    Spelt here, below the codemods, because each codemod reports the phase it implements;
    ``phases.REGISTRY`` says what each phase is and why they run in this order.
    """

    IMPORTS = "phase1"
    FACADES = "phase2"
    FACTORIES = "phase3"


class NameKind(str, Enum):
    """What a configured dotted name denotes, decided statically from the repository's files."""

    MODULE = "module"
    SYMBOL = "symbol"


@dataclass(frozen=True)
class Target:
    """One duplicated component and the single source of truth it must converge on.

    ``canonical_kind`` says whether ``canonical`` (and so every alias) names a module or a
    symbol inside a module. Aliases are already flattened: an alias whose canonical was another
    target's alias points at the end of that chain.
    """

    name: str
    canonical: str
    aliases: tuple[str, ...]
    canonical_kind: NameKind = NameKind.SYMBOL
    # Why ``canonical_kind`` was assumed, when the canonical could not be looked up ("" when it
    # was): phase 1 then rewrites each site by what its own shape proves, or the same way for
    # either kind, and lists a site whose rewrite would depend on the guess.
    kind_assumed: str = ""
    facades: tuple[str, ...] = ()
    test_doubles: tuple[str, ...] = ()
    factory: str | None = None
    legacy_factories: tuple[str, ...] = ()
    discover_aliases: bool = True
    keep_names: bool = False
    factory_exempt: tuple[str, ...] = ()
    factory_args: tuple[tuple[str, str], ...] = ()
    allow_shared: bool = False
    deprecate: bool = False
    # Facades whose own logic phase 2 may replace by the canonical's (listed, never silent).
    replace_facade_logic: tuple[str, ...] = ()
    duplicate_overlap: float | None = None
    discovered_aliases: tuple[str, ...] = ()
    # For a module canonical: every name it binds (submodules included), read statically;
    # ``None`` when unknown. Names consumers import from a whole-module alias that the
    # canonical lacks stay imported from the alias.
    canonical_names: frozenset[str] | None = None
    # The same, for each configured whole-module alias whose names can be read: a name neither
    # module defines has nothing to keep, so it is rewritten like any other.
    alias_names: tuple[tuple[str, frozenset[str]], ...] = ()

    @property
    def all_aliases(self) -> tuple[str, ...]:
        """Configured aliases followed by discovered re-export paths (when discovery is on)."""
        if not self.discover_aliases:
            return self.aliases
        extra = tuple(a for a in self.discovered_aliases if a not in self.aliases)
        return self.aliases + extra


@dataclass(frozen=True)
class Config:
    """The validated ``[tool.ssot-migrate]`` table plus where it came from."""

    repo: Path
    source: Path
    targets: tuple[Target, ...]
    test_command: str | tuple[str, ...] | None = None
    test_timeout: float = 1800.0
    test_env: tuple[tuple[str, str], ...] = ()
    test_jobs: int | None = None  # None: 2 when the machine has 2 or more cores, else 1
    rerun: int = 1
    tests: TestSelection = "all"  # "affected": only the test files that can reach the changed files
    branch_prefix: str = "ssot/"
    expected_fixes: tuple[str, ...] = ()
    source_roots: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    guard: GuardKind | None = None
    digest: str = ""
    # Names found nowhere (each a full sentence: target, places looked in, did-you-mean) and
    # what was accepted without proof; printed once and carried into every report.
    warnings: tuple[str, ...] = ()
    lookup_notes: tuple[str, ...] = ()
    # The warnings of canonicals whose module was found but does not define them: every rewrite
    # onto one imports a name that module lacks, so each is also listed as needing a decision.
    decisions: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceFile:
    """A Python file as a codemod sees it: repo-relative POSIX path and its dotted module name."""

    path: str
    module: str | None
    is_package: bool = False

    @property
    def package(self) -> str | None:
        """The package relative imports resolve against (``None`` when the module is unknown)."""
        if self.module is None:
            return None
        if self.is_package:
            return self.module
        head, _, _ = self.module.rpartition(".")
        return head


@dataclass(frozen=True)
class Change:
    """One rewritten reference: where (1-based line and column), for which target, and the text
    before and after."""

    path: str
    line: int
    column: int
    target: str
    kind: ChangeKind
    old: str
    new: str


@dataclass(frozen=True)
class Note:
    """Something a user must hear about a file: a warning or a site that needs a decision, at a
    1-based line and column."""

    path: str
    line: int
    column: int
    target: str
    kind: NoteKind
    message: str
    severity: Severity = "warning"


@dataclass(frozen=True)
class CodemodResult:
    """What a pure codemod returns for one file."""

    source: bytes
    changes: tuple[Change, ...] = ()
    notes: tuple[Note, ...] = ()


@dataclass(frozen=True)
class FileOutcome:
    """The engine's per-file result; never an exception, so it crosses the process pool.

    ``status`` is ``changed``, ``unchanged``, ``filtered`` (pre-filter said no, never parsed) or
    ``skipped`` (could not be read or parsed; ``reason`` says why, ``line`` where).
    """

    path: str
    status: FileStatus
    before: bytes = b""
    after: bytes = b""
    changes: tuple[Change, ...] = ()
    notes: tuple[Note, ...] = ()
    reason: str = ""
    line: int = 0


@dataclass(frozen=True)
class RunSummary:
    """Everything a phase computed over a repository, sorted by path."""

    phase: str
    outcomes: tuple[FileOutcome, ...]
    files_listed: int
    files_parsed: int
    elapsed: float
    discovered: tuple[tuple[str, str], ...] = ()
    excluded: tuple[tuple[str, str], ...] = field(default=())
    messages: tuple[str, ...] = ()
    base: str = ""
    warnings: tuple[str, ...] = ()  # the configuration's: names found nowhere

    @property
    def changed(self) -> tuple[FileOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "changed")

    @property
    def skipped(self) -> tuple[FileOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "skipped")

    @property
    def changes(self) -> tuple[Change, ...]:
        return tuple(c for o in self.outcomes for c in o.changes)

    @property
    def notes(self) -> tuple[Note, ...]:
        return tuple(n for o in self.outcomes for n in o.notes)

    def changes_per_target(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for change in self.changes:
            counts[change.target] = counts.get(change.target, 0) + 1
        return dict(sorted(counts.items()))

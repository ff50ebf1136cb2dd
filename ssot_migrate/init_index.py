"""What every part of ``init``'s analysis reads: cross-file lookups over the files' facts.

:class:`Index` resolves dotted names through re-exports and lists who imports what;
:class:`Analysis` is the state every kind of candidate shares (``init_analysis``: re-exports and
test doubles; ``init_classes``: facades and duplicates; ``init_factories``: factories).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from ssot_migrate.init_facts import ClassFacts, FileFacts, FunctionFacts
from ssot_migrate.init_proposal import Candidate, Evidence
from ssot_migrate.interfaces import SnapshotLike

_MAX_EXAMPLES = 3


@dataclass
class Site:
    path: str
    line: int


@dataclass
class Index:
    """Cross-file lookups over every file's facts."""

    files: Sequence[FileFacts]
    by_module: dict[str, FileFacts] = field(default_factory=dict)
    classes: dict[str, tuple[FileFacts, ClassFacts]] = field(default_factory=dict)
    functions: dict[str, tuple[FileFacts, FunctionFacts]] = field(default_factory=dict)
    defined: dict[str, FileFacts] = field(default_factory=dict)
    uses: dict[str, list[Site]] = field(default_factory=lambda: defaultdict(list))
    tops: set[str] = field(default_factory=set)
    _resolved: dict[str, str | None] = field(default_factory=dict)
    _imported: dict[str, set[str]] | None = None

    def __post_init__(self) -> None:
        for facts in self.files:
            if facts.error or facts.module is None:
                continue
            self.by_module.setdefault(facts.module, facts)
            self.tops.add(facts.module.split(".")[0])
            for name in facts.defined:
                self.defined[f"{facts.module}.{name}"] = facts
            for cls in facts.classes:
                self.classes[f"{facts.module}.{cls.name}"] = (facts, cls)
            for function in facts.functions:
                self.functions[f"{facts.module}.{function.name}"] = (facts, function)
        for facts in self.files:
            for use in facts.imports:
                self.uses[use.dotted].append(Site(facts.path, use.line))

    def resolve(self, dotted: str, depth: int = 0) -> str | None:
        """Where ``dotted`` is defined: a repository definition, a repository module, or (outside
        the repository) the dotted name itself. ``None``: in the repository but not found."""
        if dotted in self._resolved:
            return self._resolved[dotted]
        self._resolved[dotted] = None  # a cycle resolves to nothing
        found = self._resolve(dotted, depth)
        self._resolved[dotted] = found
        return found

    def _resolve(self, dotted: str, depth: int) -> str | None:
        if depth > 12:
            return None
        if dotted in self.defined or dotted in self.by_module:
            return dotted
        if dotted.split(".")[0] not in self.tops:
            return dotted  # outside the repository
        module, _, name = dotted.rpartition(".")
        facts = self.by_module.get(module)
        if facts is None:
            parent = self.resolve(module, depth + 1) if module else None
            if parent is not None and parent != module:
                return self.resolve(f"{parent}.{name}", depth + 1)
            return None
        for binding in facts.bindings:
            if binding.name == name and binding.how != "typing":
                return self.resolve(binding.value, depth + 1)
        for star, _ in facts.stars:
            found = self.resolve(f"{star}.{name}", depth + 1)
            if found is not None and (found in self.defined or not self.in_repo(found)):
                return found
        return None

    def in_repo(self, dotted: str) -> bool:
        return dotted.split(".")[0] in self.tops

    def imported_names(self, module: str) -> set[str]:
        """Names other files import from ``module`` (``from module import X``)."""
        if self._imported is None:
            self._imported = defaultdict(set)
            for dotted in self.uses:
                head, _, leaf = dotted.rpartition(".")
                self._imported[head].add(leaf)
        return self._imported.get(module, set())

    def consumers(self, dotted: str, exclude_path: str = "") -> list[Site]:
        return [s for s in self.uses.get(dotted, ()) if s.path != exclude_path]


def examples(sites: Sequence[Site], what: str) -> tuple[Evidence, ...]:
    ordered = sorted(sites, key=lambda s: (s.path, s.line))
    return tuple(Evidence(s.path, s.line, what) for s in ordered[:_MAX_EXAMPLES])


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


class Analysis:
    """The candidates found so far, over one :class:`Index` (a snapshot for the few reads)."""

    def __init__(self, files: Sequence[FileFacts], snapshot: SnapshotLike | None) -> None:
        self.index = Index(files)
        self.snapshot = snapshot
        self.candidates: list[Candidate] = []
        self._constructions: dict[str, list[Site]] | None = None
        self._lines: dict[str, list[bytes]] = {}

    # -- construction sites --------------------------------------------------------------------

    def constructions(self) -> dict[str, list[Site]]:
        """Every ``Name(...)`` call, resolved to the class it builds (through aliases and shims)."""
        if self._constructions is None:
            found: dict[str, list[Site]] = defaultdict(list)
            classes = self.index.classes
            for facts in self.index.files:
                if facts.error:
                    continue
                for text, line in facts.constructions:
                    local = facts.resolve(text)
                    if local is None:
                        continue
                    target = local if local in classes else self.index.resolve(local)
                    if target is not None and target in classes:
                        found[target].append(Site(facts.path, line))
            self._constructions = found
        return self._constructions

    def class_sites(self, dotted: str, path: str) -> list[Site]:
        """Importers and constructions of a class outside its own file."""
        imports = self.index.consumers(dotted, path)
        built = [s for s in self.constructions().get(dotted, ()) if s.path != path]
        return imports + built

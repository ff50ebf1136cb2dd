"""What ``init`` proposes, as values: candidates with their evidence, grouped into targets.

``init_analysis`` finds them (see it for the kinds), ``init_render`` renders them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Confidence = Literal["high", "medium", "low"]
CONFIDENCE_ORDER: dict[str, int] = {"high": 0, "medium": 1, "low": 2}

# Where each kind of candidate goes in a target's configuration.
ROLE_OF_KIND: dict[str, str] = {
    "reexport": "aliases",
    "alias": "aliases",
    "facade": "facades",
    "subclass-facade": "facades",
    "duplicate": "facades",
    "factory": "factory",
    "legacy-factory": "legacy-factories",
    "other-factory": "",  # listed for the reader, never written
    "alternative-constructor": "",
    "test-double": "test-doubles",
}


@dataclass(frozen=True)
class Evidence:
    """Where a finding is seen: a file, a line, and what is there."""

    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


@dataclass(frozen=True)
class Candidate:
    """One finding: a legacy path, facade, duplicate, factory or test double of a canonical."""

    kind: str
    dotted: str
    canonical: str
    confidence: Confidence
    sites: int
    reason: str
    evidence: tuple[Evidence, ...] = ()
    also_alias: bool = (
        False  # a facade whose interface the canonical accepts: rewrite it in phase 1 too
    )

    @property
    def role(self) -> str:
        """The configuration key this candidate fills (``""``: listed, never written)."""
        return ROLE_OF_KIND[self.kind]


@dataclass(frozen=True)
class ProposedTarget:
    """Candidates sharing one canonical, ranked by the consumer sites they would fix."""

    name: str
    canonical: str
    external: bool
    definition: Evidence | None
    candidates: tuple[Candidate, ...]

    def written(self) -> tuple[Candidate, ...]:
        """Candidates confident enough to go into the configuration (not ``low``)."""
        return tuple(c for c in self.candidates if c.confidence != "low" and c.role)

    @property
    def sites(self) -> int:
        """Consumer sites the written candidates would fix (all candidates when none is)."""
        chosen = self.written() or self.candidates
        return sum(c.sites for c in chosen)

    @property
    def confidence(self) -> Confidence:
        best = min((CONFIDENCE_ORDER[c.confidence] for c in self.candidates), default=2)
        levels: tuple[Confidence, ...] = ("high", "medium", "low")
        return levels[best]

    def _names(self, role: str) -> list[str]:
        return [c.dotted for c in self.written() if c.role == role]

    @property
    def aliases(self) -> list[str]:
        names = self._names("aliases")
        names += [c.dotted for c in self.written() if c.also_alias and c.dotted not in names]
        return names

    @property
    def facades(self) -> list[str]:
        return self._names("facades")

    @property
    def test_doubles(self) -> list[str]:
        return self._names("test-doubles")

    @property
    def factory(self) -> str | None:
        found = self._names("factory")
        return found[0] if found else None

    @property
    def legacy_factories(self) -> list[str]:
        return self._names("legacy-factories") if self.factory else []


@dataclass(frozen=True)
class TestCommand:
    """The project's test command as found in the repository (``None``: not found)."""

    command: str | None
    evidence: str


@dataclass(frozen=True)
class Proposal:
    """Everything ``init`` found: ranked targets, the test command, files it could not read."""

    targets: tuple[ProposedTarget, ...]
    test_command: TestCommand
    skipped: tuple[tuple[str, str, int], ...] = ()
    files_listed: int = 0
    files_parsed: int = 0
    elapsed: float = 0.0
    commit: str = ""

    def written_targets(self) -> tuple[ProposedTarget, ...]:
        """Targets with a candidate confident enough to configure that fixes a consumer site
        (or is highly confident: a copy or double nobody imports still needs phase 2)."""
        return tuple(
            t
            for t in self.targets
            if t.written() and (t.sites or any(c.confidence == "high" for c in t.written()))
        )

"""``init``'s class candidates: facades (wrappers, thin subclasses) and duplicate classes.

A facade forwards same-named calls to one held class, or only hands its ``__init__`` arguments to
``super()``; a duplicate shares most public methods *and* method bodies with a class it is not
related to by inheritance (``init_analysis`` says why the rules are this strict).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

from ssot_migrate.config_schema import DUPLICATE_OVERLAP
from ssot_migrate.init_facts import ClassFacts, FileFacts, test_support
from ssot_migrate.init_index import Analysis, examples
from ssot_migrate.init_proposal import Candidate, Confidence, Evidence
from ssot_migrate.interfaces import compare, load_class
from ssot_migrate.scan.spec import stem_of

# Bases every class may share without being related: sharing them says nothing.
_NEUTRAL_BASES = frozenset({"", "object", "abc.ABC", "ABC", "typing.Generic", "Generic"})
# Method names shared by so many classes that they cannot point at a copy (``get``, ``save``).
_COMMON_METHOD_LIMIT = 25
_MAX_BODY_COMPARISONS = 400
# Share of the shorter class's body lines (in the shared methods) found in the other: a copy.
_MIN_BODY_OVERLAP = 0.5
_TRIVIAL_LINES = frozenset(
    {
        "pass",
        "return",
        "...",
        '"""',
        "'''",
        ")",
        "]",
        "}",
        "else:",
        "try:",
        "finally:",
        "return None",
        "return self",
        "return True",
        "return False",
        "raise NotImplementedError",
        "raise NotImplementedError()",
    }
)


def _words(name: str) -> list[str]:
    return re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", stem_of(name))


def _similar_names(first: str, second: str) -> bool:
    """Same name, or names of one kind of thing sharing most words (``WebSocketConnectionManager``
    and ``UnifiedWebSocketManager``): ``Index`` and ``UniqueConstraint`` share an API, not a past."""
    if first == second:
        return True
    a, b = _words(first), _words(second)
    if not a or not b or a[-1] != b[-1]:
        return False
    return len(set(a) & set(b)) / len(set(a) | set(b)) >= 0.6


def _shared_by_design(name: str) -> bool:
    """Mixins, bases and tests share methods on purpose; none of them is a copy."""
    return name.endswith(("Mixin", "Base", "Test", "Tests")) or name.startswith(
        ("Base", "Abstract", "Test")
    )


class ClassCandidates(Analysis):
    """Facades and duplicates, found over the shared :class:`Analysis` state."""

    # -- facades -------------------------------------------------------------------------------

    def facades(self) -> None:
        index = self.index
        for dotted, (facts, cls) in index.classes.items():
            if test_support(facts.path) or cls.protocol:
                continue
            found = self._wrapper(dotted, facts, cls) or self._subclass(dotted, facts, cls)
            if found is not None:
                self.candidates.append(found)

    def _class_target(self, dotted: str | None) -> str | None:
        """The class a held value or base means: a repository class, or a factory's product."""
        if dotted is None:
            return None
        resolved = self.index.resolve(dotted)
        if resolved in self.index.classes:
            return resolved
        if resolved in self.index.functions:
            products = {self.index.resolve(p) for p in self.index.functions[resolved][1].products}
            if len(products) == 1:
                product = products.pop()
                if product in self.index.classes:
                    return product
        return None

    def _wrapper(self, dotted: str, facts: FileFacts, cls: ClassFacts) -> Candidate | None:
        if not cls.forwards:
            return None
        held = dict(cls.held)
        per_attribute: dict[str, list[str]] = defaultdict(list)
        for method, attribute in cls.forwards:
            per_attribute[attribute].append(method)
        attribute, methods = max(per_attribute.items(), key=lambda item: len(item[1]))
        target = self._class_target(held.get(attribute))
        if target is None or target == dotted or target in self._bases(dotted):
            return None  # a composite of its own base class, not a wrapper
        public = cls.public_methods
        forwarded = [m for m in methods if not m.startswith("_")]
        getattr_all = "__getattr__" in methods
        share = len(forwarded) / len(public) if public else 0.0
        if not getattr_all and (len(forwarded) < 2 and not (forwarded and share == 1.0)):
            return None
        if not getattr_all and share < 0.5:
            return None
        confidence: Confidence = (
            "high" if getattr_all or (share >= 0.75 and len(forwarded) >= 2) else "medium"
        )
        sites = self.class_sites(dotted, facts.path)
        why = (
            f"wraps {target.rpartition('.')[2]} in self.{attribute} and forwards "
            f"{'every attribute' if getattr_all else ', '.join(sorted(forwarded))}"
        )
        return Candidate(
            "facade",
            dotted,
            target,
            confidence,
            len(sites),
            why,
            (Evidence(facts.path, cls.line, why), *examples(sites, f"uses {dotted}")),
            also_alias=self._alias_compatible(dotted, target),
        )

    def _subclass(self, dotted: str, facts: FileFacts, cls: ClassFacts) -> Candidate | None:
        if len(cls.bases) != 1 or cls.decorated or cls.attributes:
            return None
        thin = cls.thin_init or (not cls.methods and cls.deprecated)
        if not thin:
            return None
        target = self._class_target(cls.bases[0])
        if target is None or target == dotted:
            return None
        sites = self.class_sites(dotted, facts.path)
        what = (
            "only an __init__ passing its arguments to super()" if cls.thin_init else "no members"
        )
        why = f"subclass of {target.rpartition('.')[2]} with {what}"
        if cls.deprecated:
            why += ", deprecated"
        confidence: Confidence = "high" if cls.deprecated else "medium"
        return Candidate(
            "subclass-facade",
            dotted,
            target,
            confidence,
            len(sites),
            why,
            (Evidence(facts.path, cls.line, why), *examples(sites, f"uses {dotted}")),
            also_alias=True,
        )

    def _alias_compatible(self, dotted: str, canonical: str) -> bool:
        """Whether the canonical accepts every call the facade accepts (phase 2 would alias it)."""
        if self.snapshot is None:
            return False
        facade = load_class(self.snapshot, dotted)
        target = load_class(self.snapshot, canonical)
        if facade is None or target is None:
            return False
        return compare(facade, target).is_compatible

    # -- duplicates ----------------------------------------------------------------------------

    def duplicates(self) -> None:
        index = self.index
        eligible = {
            dotted: (facts, cls)
            for dotted, (facts, cls) in index.classes.items()
            if not test_support(facts.path)
            and not cls.protocol
            and len(cls.public_methods) >= 3
            and not _shared_by_design(cls.name)
        }
        by_method: dict[str, list[str]] = defaultdict(list)
        for dotted, (_, cls) in eligible.items():
            for method in cls.public_methods:
                by_method[method].append(dotted)
        pairs: dict[tuple[str, str], int] = defaultdict(int)
        for holders in by_method.values():
            if len(holders) > _COMMON_METHOD_LIMIT:
                continue
            for i, first in enumerate(holders):
                for second in holders[i + 1 :]:
                    pairs[(first, second) if first < second else (second, first)] += 1
        scored: list[tuple[float, str, str]] = []
        for first, second in pairs:
            a, b = eligible[first][1], eligible[second][1]
            union = len(a.public_methods | b.public_methods)
            common = len(a.public_methods & b.public_methods)
            jaccard = 100.0 * common / union if union else 0.0
            if common < 3 or jaccard < DUPLICATE_OVERLAP:
                continue
            if self._related(first, second) or not _similar_names(a.name, b.name):
                continue
            scored.append((jaccard + (20 if a.name == b.name else 0), first, second))
        scored.sort(key=lambda item: (-item[0], item[1], item[2]))
        groups: dict[str, set[str]] = {}
        reasons: dict[str, tuple[str, str, float, float]] = {}
        for _, first, second in scored[:_MAX_BODY_COMPARISONS]:
            a_facts, a = eligible[first]
            b_facts, b = eligible[second]
            shared = sorted(a.public_methods & b.public_methods)
            bodies = self._body_overlap(a_facts, a, b_facts, b, shared)
            if bodies < _MIN_BODY_OVERLAP:
                continue
            jaccard = 100.0 * len(shared) / len(a.public_methods | b.public_methods)
            merged = groups.get(first, {first}) | groups.get(second, {second})
            for member in merged:
                groups[member] = merged
            reasons[first] = reasons.get(first) or (second, ", ".join(shared), jaccard, bodies)
            reasons[second] = reasons.get(second) or (first, ", ".join(shared), jaccard, bodies)
        seen: set[int] = set()
        for members in groups.values():
            if id(members) in seen:
                continue
            seen.add(id(members))
            canonical = max(sorted(members), key=self._canonical_score)
            for member in sorted(members - {canonical}):
                if self._related(member, canonical):
                    continue  # joined through a third class, but a subclass or sibling of this one
                facts, cls = index.classes[member]
                other, names, jaccard, bodies = reasons[member]
                sites = self.class_sites(member, facts.path)
                same_name = cls.name == canonical.rpartition(".")[2]
                confidence: Confidence = "high" if bodies >= 0.5 and jaccard >= 75 else "medium"
                why = (
                    f"{'same name and ' if same_name else ''}{jaccard:.0f}% of public methods "
                    f"shared with {other.rpartition('.')[2]} ({names}); "
                    f"{bodies:.0%} of their body lines the same"
                )
                self.candidates.append(
                    Candidate(
                        "duplicate",
                        member,
                        canonical,
                        confidence,
                        len(sites),
                        why,
                        (
                            Evidence(facts.path, cls.line, why),
                            Evidence(
                                index.classes[canonical][0].path,
                                index.classes[canonical][1].line,
                                "the copy proposed as canonical",
                            ),
                            *examples(sites, f"uses {member}"),
                        ),
                    )
                )

    def _bases(self, dotted: str, depth: int = 0) -> set[str]:
        """Every base class (resolved) of a repository class, transitively, itself excluded."""
        found: set[str] = set()
        entry = self.index.classes.get(dotted)
        if entry is None or depth > 8:
            return found
        for base in entry[1].bases:
            resolved = self.index.resolve(base) or base
            if resolved in _NEUTRAL_BASES or base in _NEUTRAL_BASES:
                continue
            found.add(resolved)
            found |= self._bases(resolved, depth + 1)
        return found

    def _related(self, first: str, second: str) -> bool:
        """Subclass of the other, or siblings sharing a base: not copies of each other."""
        a, b = self._bases(first), self._bases(second)
        return first in b or second in a or bool(a & b)

    def _body_lines(self, facts: FileFacts, cls: ClassFacts, methods: Iterable[str]) -> set[bytes]:
        if facts.path not in self._lines:
            try:
                data = self.snapshot.read(facts.path) if self.snapshot is not None else b""
            except (KeyError, OSError):
                data = b""
            self._lines[facts.path] = data.split(b"\n")
        lines = self._lines[facts.path]
        wanted = set(methods)
        found: set[bytes] = set()
        for span in cls.methods:
            if span.name not in wanted:
                continue
            for raw in lines[span.line : span.end_line]:  # the def line itself excluded
                text = raw.strip()
                if (
                    len(text) < 6
                    or text.startswith((b"#", b"@"))
                    or text.decode("utf-8", "replace") in _TRIVIAL_LINES
                ):
                    continue
                found.add(text)
        return found

    def _body_overlap(
        self,
        a_facts: FileFacts,
        a: ClassFacts,
        b_facts: FileFacts,
        b: ClassFacts,
        methods: Sequence[str],
    ) -> float:
        first = self._body_lines(a_facts, a, methods)
        second = self._body_lines(b_facts, b, methods)
        if not first or not second:
            return 0.0
        return len(first & second) / min(len(first), len(second))

    def _canonical_score(self, dotted: str) -> tuple[int, int, int, str]:
        facts, cls = self.index.classes[dotted]
        qualified = int(stem_of(dotted) != cls.name)  # Unified*, Canonical*, Core*...
        references = len(self.class_sites(dotted, facts.path))
        return (qualified - 5 * int(cls.deprecated), references, len(cls.public_methods), dotted)

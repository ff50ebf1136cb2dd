"""What ``init`` proposes: the fragmentation of a codebase, as ``[tool.ssot-migrate]`` targets.

Pure analysis over the per-file facts of ``init_facts`` (nothing imported, run, or written; files
are read only through a snapshot view, for the few class bodies and interfaces compared). Each
finding is a :class:`Candidate` with its evidence (``path:line``), a confidence and the number of
consumer sites it would fix; candidates sharing a canonical form one :class:`ProposedTarget`::

    app/compat.py:   from app.core.unified import Manager as WebSocketManager   (shim, 4 importers)
    app/legacy.py:   class LegacyManager: self._impl = Manager(); def send(...): self._impl.send(...)
    app/factory.py:  def create_manager(ctx): return Manager(ctx)    (Manager(...) built 6 times elsewhere)
    tests/fakes.py:  class FakeManager: add_connection, send ...    (mirrors Manager's methods)

    -> target "manager": canonical app.core.unified.Manager, aliases [app.compat.WebSocketManager],
       facades [app.legacy.LegacyManager], factory app.factory.create_manager,
       test-doubles [tests.fakes.FakeManager]; 4 + 1 + 6 + 1 sites

Which kinds exist, and why their rules are as strict as they are:

- ``reexport``: a shim module (only imports, ``__all__``, fallbacks, deprecation warnings) re-exports
  an object other modules import through it. A package ``__init__`` re-exporting its own
  submodules is the package's public API, not a shim, and is never proposed.
- ``alias``: ``Old = New`` or ``from x import New as Old`` that other modules import.
- ``facade``: a class forwarding same-named calls to one held class, or a subclass whose only
  member is an ``__init__`` handing its parameters to ``super()`` (or a deprecation).
- ``duplicate``: classes with the same public methods (Jaccard >= 50%, as ``scan``) *and*
  overlapping method bodies, outside test code, not related by inheritance and not siblings that
  merely share a base (the overlap is then the base's interface, not a copy).
- ``factory`` / ``legacy-factory``: a module-level function whose every return builds one class;
  the direct constructions of the class elsewhere are the sites phase 3 would route through it. A
  deprecated factory, or one that calls the canonical factory, is a legacy factory.
- ``test-double``: a ``Mock*``/``Fake*``/``Stub*``/``Dummy*`` class in test code whose public methods
  mirror the canonical's.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ssot_migrate.config_schema import DUPLICATE_OVERLAP
from ssot_migrate.conventions import DOUBLE_PREFIXES
from ssot_migrate.init_facts import ClassFacts, FileFacts, FunctionFacts, test_support
from ssot_migrate.interfaces import SnapshotLike, compare, load_class
from ssot_migrate.scan.spec import stem_of

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
FACTORY_PREFIXES = ("create_", "make_", "build_", "new_", "get_")
# Bases every class may share without being related: sharing them says nothing.
_NEUTRAL_BASES = frozenset({"", "object", "abc.ABC", "ABC", "typing.Generic", "Generic"})
_MAX_EXAMPLES = 3
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


# --- the analysis --------------------------------------------------------------------------------


@dataclass
class _Site:
    path: str
    line: int


@dataclass
class _Index:
    """Cross-file lookups over every file's facts."""

    files: Sequence[FileFacts]
    by_module: dict[str, FileFacts] = field(default_factory=dict)
    classes: dict[str, tuple[FileFacts, ClassFacts]] = field(default_factory=dict)
    functions: dict[str, tuple[FileFacts, FunctionFacts]] = field(default_factory=dict)
    defined: dict[str, FileFacts] = field(default_factory=dict)
    uses: dict[str, list[_Site]] = field(default_factory=lambda: defaultdict(list))
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
                self.uses[use.dotted].append(_Site(facts.path, use.line))

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

    def consumers(self, dotted: str, exclude_path: str = "") -> list[_Site]:
        return [s for s in self.uses.get(dotted, ()) if s.path != exclude_path]


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


def _examples(sites: Sequence[_Site], what: str) -> tuple[Evidence, ...]:
    ordered = sorted(sites, key=lambda s: (s.path, s.line))
    return tuple(Evidence(s.path, s.line, what) for s in ordered[:_MAX_EXAMPLES])


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def snake(name: str) -> str:
    """``WebSocketManager`` -> ``web_socket_manager`` (acronyms kept together)."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return text.lower()


class _Analysis:
    def __init__(self, files: Sequence[FileFacts], snapshot: SnapshotLike | None) -> None:
        self.index = _Index(files)
        self.snapshot = snapshot
        self.candidates: list[Candidate] = []
        self._constructions: dict[str, list[_Site]] | None = None
        self._lines: dict[str, list[bytes]] = {}

    # -- construction sites --------------------------------------------------------------------

    def constructions(self) -> dict[str, list[_Site]]:
        """Every ``Name(...)`` call, resolved to the class it builds (through aliases and shims)."""
        if self._constructions is None:
            found: dict[str, list[_Site]] = defaultdict(list)
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
                        found[target].append(_Site(facts.path, line))
            self._constructions = found
        return self._constructions

    # -- re-exports and aliases ----------------------------------------------------------------

    def reexports(self) -> None:
        index = self.index
        for facts in index.files:
            if facts.error or facts.module is None or test_support(facts.path):
                continue
            seen: dict[str, int] = defaultdict(int)
            for binding in facts.bindings:
                seen[binding.name] += 1
            done: set[str] = set()
            for binding in facts.bindings:
                name = binding.name
                if name in done or binding.how == "typing" or name.startswith("_"):
                    continue
                done.add(name)
                found = self._reexport(
                    facts,
                    binding.name,
                    binding.value,
                    binding.how,
                    binding.line,
                    fallback=seen[name] > 1,
                )
                if found is not None:
                    self.candidates.append(found)
            if facts.shim and facts.stars:
                # ``from new.place import *``: the names consumers import through the shim.
                for name in sorted(self.index.imported_names(facts.module) - done):
                    if name.startswith("_") or name in facts.defined:
                        continue
                    star = next(
                        (
                            (f"{s}.{name}", line)
                            for s, line in facts.stars
                            if index.resolve(f"{s}.{name}") is not None
                        ),
                        None,
                    )
                    if star is None:
                        continue
                    found = self._reexport(facts, name, star[0], "import", star[1], fallback=False)
                    if found is not None:
                        self.candidates.append(found)

    def _reexport(
        self, facts: FileFacts, name: str, value: str, how: str, line: int, *, fallback: bool
    ) -> Candidate | None:
        """A re-export or alias binding worth consolidating, or None (see the module docstring)."""
        index = self.index
        module = facts.module or ""
        path = f"{module}.{name}"
        if name in facts.module_aliases:
            return None  # ``import x as y``: a module, not a symbol
        canonical = index.resolve(value)
        if canonical is None or canonical == path or canonical in index.by_module:
            return None  # unknown, itself, or a module (not a symbol to consolidate)
        leaf = canonical.rpartition(".")[2]
        external = not index.in_repo(canonical)
        if leaf.startswith("_"):
            return None  # the alias is the public name of a private implementation
        if not external:
            owner = index.defined.get(canonical)
            if owner is None or leaf not in owner.callables:
                return None  # a constant or an instance: a value, not a component
        if how == "import" and canonical.startswith(f"{module}."):
            return None
        consumers = index.consumers(path, facts.path)
        direct = index.consumers(canonical, facts.path)
        listed = facts.dunder_all is not None and name in facts.dunder_all
        written = value.rpartition(".")[2]
        own_package = facts.is_package and value.startswith(f"{module}.")
        confidence: Confidence
        if facts.shim and how in ("import", "assign"):
            if own_package or not consumers:
                return None  # a package's own API / nobody goes through it
            kind, why = "reexport", "compat module: only re-exports, defines nothing"
            if facts.is_package:
                # A package __init__ re-exporting from elsewhere is usually convenience API.
                confidence = "medium" if facts.deprecated else "low"
                why = "package re-exports it from outside the package"
            else:
                confidence = "medium" if fallback else "high"
            if facts.deprecated:
                why += " (deprecated)"
        elif how == "assign" and written != name and not fallback:
            if not consumers and not listed:
                return None
            kind, why = "alias", f"alias assignment {name} = {written}"
            confidence = "medium" if consumers else "low"
        elif how == "import" and written != name and not fallback and not own_package:
            if not consumers:
                return None
            kind, why = "alias", f"re-exported under another name ({written} as {name})"
            confidence = "medium"
        else:
            return None
        if kind == "alias" and (len(consumers) > len(direct) or len(name) <= 2):
            # ``Eq = Equality``: the short name is the spelling the project prefers.
            confidence = "low"
            why += f"; more importers use it than the canonical name ({len(direct)})"
        if external:
            why += "; canonical outside the repository"
            if not leaf[:1].isupper() and kind != "reexport":
                confidence = "low"  # ``dbapi2 as Database``: a module or a backend switch
        evidence = (Evidence(facts.path, line, why), *_examples(consumers, f"imports {path}"))
        return Candidate(
            kind,
            path,
            canonical,
            confidence,
            len(consumers),
            f"{why}; {_plural(len(consumers), 'importer')}",
            evidence,
        )

    # -- facades -------------------------------------------------------------------------------

    def class_sites(self, dotted: str, path: str) -> list[_Site]:
        """Importers and constructions of a class outside its own file."""
        imports = self.index.consumers(dotted, path)
        built = [s for s in self.constructions().get(dotted, ()) if s.path != path]
        return imports + built

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
            (Evidence(facts.path, cls.line, why), *_examples(sites, f"uses {dotted}")),
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
            (Evidence(facts.path, cls.line, why), *_examples(sites, f"uses {dotted}")),
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
                            *_examples(sites, f"uses {member}"),
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

    # -- factories -----------------------------------------------------------------------------

    def factories(self, redirect: Mapping[str, str]) -> None:
        index = self.index
        by_class: dict[str, list[tuple[str, FileFacts, FunctionFacts]]] = defaultdict(list)
        calls_factory: list[tuple[str, FileFacts, FunctionFacts, str]] = []
        for dotted, (facts, function) in index.functions.items():
            if test_support(facts.path) or function.name.startswith("_"):
                continue
            products = {index.resolve(p) for p in function.products}
            if len(products) != 1:
                continue
            product = products.pop()
            if product in index.classes:
                by_class[redirect.get(product, product)].append((dotted, facts, function))
            elif product in index.functions:
                calls_factory.append((dotted, facts, function, product))
        legacy_of: dict[str, list[tuple[str, FileFacts, FunctionFacts, str]]] = defaultdict(list)
        for dotted, facts, function, product in calls_factory:
            legacy_of[product].append(
                (dotted, facts, function, f"calls {product.rpartition('.')[2]}")
            )
        for cls_name, factories in sorted(by_class.items()):
            live = [f for f in factories if not f[2].deprecated]
            if not live:
                continue
            dotted, facts, function = max(live, key=lambda f: self._factory_score(f, cls_name))
            legacy = list(legacy_of.get(dotted, ()))
            others: list[tuple[str, FileFacts, FunctionFacts]] = []
            for entry in factories:
                other, other_facts, other_function = entry
                if other == dotted:
                    continue
                if other_function.deprecated:
                    legacy.append((other, other_facts, other_function, "deprecated factory"))
                elif dotted in other_function.calls:
                    legacy.append((other, other_facts, other_function, f"calls {function.name}"))
                else:
                    others.append(entry)
            built = [s for s in self.constructions().get(cls_name, ()) if s.path != facts.path]
            importers = index.consumers(dotted, facts.path)
            confidence = self._factory_confidence(
                function.name, cls_name, importers, built, bool(legacy)
            )
            why = (
                f"every return builds {cls_name.rpartition('.')[2]}; "
                f"{_plural(len(built), 'direct construction')} elsewhere, "
                f"{_plural(len(importers), 'importer')} of the factory"
            )
            shape = index.classes[cls_name][1].init_shape
            if shape is not None and shape != function.shape:
                # Phase 3 could not hand the constructions' arguments to it unchanged.
                confidence = "low"
                why += f"; takes ({function.shape}), the constructor takes ({shape})"
            self.candidates.append(
                Candidate(
                    "factory",
                    dotted,
                    cls_name,
                    confidence,
                    len(built),
                    why,
                    (
                        Evidence(facts.path, function.line, why),
                        *_examples(built, f"builds {cls_name.rpartition('.')[2]} directly"),
                    ),
                )
            )
            for other, other_facts, other_function, why in legacy:
                users = index.consumers(other, other_facts.path)
                self.candidates.append(
                    Candidate(
                        "legacy-factory",
                        other,
                        cls_name,
                        "high" if confidence != "low" else "low",
                        len(users),
                        f"{why}; {_plural(len(users), 'importer')}",
                        (
                            Evidence(other_facts.path, other_function.line, why),
                            *_examples(users, f"imports {other}"),
                        ),
                    )
                )
            for other, other_facts, other_function in others:
                users = index.consumers(other, other_facts.path)
                why = f"another factory of {cls_name.rpartition('.')[2]}"
                self.candidates.append(
                    Candidate(
                        "other-factory",
                        other,
                        cls_name,
                        "low",
                        len(users),
                        f"{why}; {_plural(len(users), 'importer')}",
                        (Evidence(other_facts.path, other_function.line, why),),
                    )
                )
        for dotted, (facts, cls) in index.classes.items():
            if test_support(facts.path):
                continue
            for method, product in cls.factories:
                if index.resolve(product) != dotted:
                    continue
                why = (
                    f"class method building {cls.name}: phase 3 needs a module-level "
                    "function as the factory"
                )
                self.candidates.append(
                    Candidate(
                        "alternative-constructor",
                        f"{dotted}.{method}",
                        redirect.get(dotted, dotted),
                        "low",
                        0,
                        why,
                        (Evidence(facts.path, cls.line, why),),
                    )
                )

    @staticmethod
    def _names_class(function: str, cls_name: str) -> bool:
        """``create_websocket_manager`` names ``UnifiedWebSocketManager`` (prefix + its stem)."""
        prefix = next((p for p in FACTORY_PREFIXES if function.startswith(p)), None)
        if prefix is None:
            return False
        rest = function[len(prefix) :].replace("_", "")
        leaf = cls_name.rpartition(".")[2]
        return rest in (leaf.lower(), stem_of(leaf).lower())

    def _factory_confidence(
        self,
        function: str,
        cls_name: str,
        importers: Sequence[_Site],
        built: Sequence[_Site],
        legacy: bool,
    ) -> Confidence:
        """High: named for the class and a legacy factory leads to it. Medium: named for it and
        used, not dwarfed by direct construction (``Context(...)`` 288 times next to two
        ``make_context`` importers means the class is meant to be built directly)."""
        if not built or not self._names_class(function, cls_name):
            return "low"
        if legacy:
            return "high"
        if importers and len(built) <= 5 * len(importers):
            return "medium"
        return "low"

    @classmethod
    def _factory_score(
        cls, factory: tuple[str, FileFacts, FunctionFacts], cls_name: str
    ) -> tuple[int, int, str]:
        dotted, _, function = factory
        name = function.name
        score = 4 * int(cls._names_class(name, cls_name)) + 2 * int(name.startswith("create_"))
        score += int(name.startswith(FACTORY_PREFIXES))
        return (score, -len(function.calls), dotted)

    # -- test doubles --------------------------------------------------------------------------

    def doubles(self, canonicals: set[str], redirect: Mapping[str, str]) -> None:
        index = self.index
        by_name: dict[str, list[str]] = defaultdict(list)
        for dotted, (facts, cls) in index.classes.items():
            if not test_support(facts.path):
                by_name[cls.name].append(dotted)
                stem = stem_of(dotted)
                if stem != cls.name:
                    by_name[stem].append(dotted)
        for dotted, (facts, cls) in index.classes.items():
            if not test_support(facts.path) or not cls.name.startswith(DOUBLE_PREFIXES):
                continue
            mirrored = next(cls.name[len(p) :] for p in DOUBLE_PREFIXES if cls.name.startswith(p))
            best: tuple[int, int, str] | None = None
            for option in by_name.get(mirrored, ()):
                target = redirect.get(option, option)
                theirs = index.classes[target][1].public_methods
                common = len(cls.public_methods & theirs)
                if common < 2 or common < 0.5 * len(theirs):
                    continue
                key = (common, int(target in canonicals), target)
                if best is None or key > best:
                    best = key
            if best is None:
                continue
            common, _, target = best
            theirs = index.classes[target][1].public_methods
            users = index.consumers(dotted, facts.path)
            why = (
                f"test double mirroring {common} of {len(theirs)} public methods of "
                f"{target.rpartition('.')[2]}"
            )
            self.candidates.append(
                Candidate(
                    "test-double",
                    dotted,
                    target,
                    "high" if common == len(theirs) else "medium",
                    len(users),
                    why,
                    (Evidence(facts.path, cls.line, why), *_examples(users, f"imports {dotted}")),
                )
            )


def analyse(
    files: Sequence[FileFacts],
    snapshot: SnapshotLike | None = None,
    *,
    test_command: TestCommand | None = None,
) -> tuple[ProposedTarget, ...]:
    """Find every candidate in ``files`` and group them into ranked targets.

    ``snapshot`` is read only to compare the bodies of suspected duplicates and the interfaces of
    facades (whether the canonical accepts every call, so the facade can be an alias too).
    """
    analysis = _Analysis(files, snapshot)
    analysis.reexports()
    analysis.facades()
    analysis.duplicates()
    # A factory or test double of a facade or copy belongs to the canonical that facade leads to.
    redirect = {
        c.dotted: c.canonical
        for c in analysis.candidates
        if c.kind in ("facade", "subclass-facade", "duplicate")
    }
    for key in list(redirect):
        seen = {key}
        while redirect[key] in redirect and redirect[key] not in seen:
            seen.add(redirect[key])
            redirect[key] = redirect[redirect[key]]
    analysis.candidates = [_redirected(c, redirect) for c in analysis.candidates]
    analysis.factories(redirect)
    canonicals = {c.canonical for c in analysis.candidates}
    analysis.doubles(canonicals, redirect)
    return _group(analysis)


def _redirected(candidate: Candidate, redirect: Mapping[str, str]) -> Candidate:
    target = redirect.get(candidate.canonical)
    if target is None or target == candidate.dotted:
        return candidate
    return Candidate(
        candidate.kind,
        candidate.dotted,
        target,
        candidate.confidence,
        candidate.sites,
        candidate.reason,
        candidate.evidence,
        candidate.also_alias,
    )


def _group(analysis: _Analysis) -> tuple[ProposedTarget, ...]:
    index = analysis.index
    grouped: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in analysis.candidates:
        grouped[candidate.canonical].append(candidate)
    targets: list[ProposedTarget] = []
    names: set[str] = set()
    claimed: set[str] = set()
    for canonical, members in sorted(grouped.items(), key=lambda item: _rank(item[1])):
        members = [m for m in members if m.dotted != canonical]
        unique: list[Candidate] = []
        for member in sorted(
            members, key=lambda c: (CONFIDENCE_ORDER[c.confidence], -c.sites, c.dotted)
        ):
            # One path, one role, one target: config validation refuses an alias claimed twice.
            key = f"{member.role}:{member.dotted}"
            if key in claimed:
                continue
            claimed.add(key)
            unique.append(member)
        if not unique:
            continue
        definition = None
        if canonical in index.defined:
            facts = index.defined[canonical]
            leaf = canonical.rpartition(".")[2]
            line = next((c.line for c in facts.classes if c.name == leaf), 0) or next(
                (f.line for f in facts.functions if f.name == leaf), 0
            )
            definition = Evidence(facts.path, line, f"defines {leaf}")
        name = _target_name(canonical, names)
        names.add(name)
        targets.append(
            ProposedTarget(name, canonical, not index.in_repo(canonical), definition, tuple(unique))
        )
    targets.sort(key=lambda t: (-t.sites, CONFIDENCE_ORDER[t.confidence], t.name))
    return tuple(targets)


def _rank(members: Sequence[Candidate]) -> tuple[int, int]:
    best = min(CONFIDENCE_ORDER[c.confidence] for c in members)
    return (best, -sum(c.sites for c in members))


def _target_name(canonical: str, taken: set[str]) -> str:
    parts = canonical.split(".")
    name = snake(parts[-1]).replace("_", "-").strip("-") or "target"
    index = len(parts) - 2
    while name in taken and index >= 0:
        name = f"{parts[index].replace('_', '-')}-{name}"
        index -= 1
    base, counter = name, 2
    while name in taken:
        name, counter = f"{base}-{counter}", counter + 1
    return name


# --- the test command ----------------------------------------------------------------------------

PYTEST = "python -m pytest -q"


def detect_test_command(paths: Iterable[str], read: Callable[[str], bytes]) -> TestCommand:
    """The project's own test command, from its configuration files (read, never run).

    In order: a ``tests/runtests.py`` runner (Django's convention), pytest configuration
    (``[tool.pytest.ini_options]`` in ``pyproject.toml``, ``pytest.ini``, ``[tool:pytest]`` in
    ``setup.cfg``, ``[pytest]`` in ``tox.ini``), a tox or nox session running pytest, a ``Makefile``
    ``test`` target, then test files pytest would collect. ``None`` when nothing says.
    """
    present = set(paths)

    def text(path: str) -> str:
        if path not in present:
            return ""
        try:
            return read(path).decode("utf-8", "replace")
        except (KeyError, OSError):
            return ""

    if "tests/runtests.py" in present:
        return TestCommand(
            "python tests/runtests.py", "tests/runtests.py: the project's own runner"
        )
    if re.search(r"^\[tool\.pytest\.ini_options\]", text("pyproject.toml"), re.MULTILINE):
        return TestCommand(PYTEST, "pyproject.toml has [tool.pytest.ini_options]")
    if "pytest.ini" in present:
        return TestCommand(PYTEST, "pytest.ini")
    if re.search(r"^\[tool:pytest\]", text("setup.cfg"), re.MULTILINE):
        return TestCommand(PYTEST, "setup.cfg has [tool:pytest]")
    tox = text("tox.ini")
    if re.search(r"^\[pytest\]", tox, re.MULTILINE):
        return TestCommand(PYTEST, "tox.ini has [pytest]")
    if re.search(r"^commands\s*=.*\bpytest\b", tox, re.MULTILINE):
        return TestCommand(PYTEST, "tox.ini's test environment runs pytest")
    nox = text("noxfile.py")
    if "pytest" in nox:
        return TestCommand(PYTEST, "noxfile.py runs pytest")
    makefile = text("Makefile")
    if re.search(r"^test\s*:", makefile, re.MULTILINE):
        return TestCommand("make test", "Makefile has a test target")
    tests = [
        p
        for p in present
        if p.endswith(".py")
        and (p.rpartition("/")[2].startswith("test_") or p.endswith("_test.py"))
    ]
    if tests or "conftest.py" in present:
        return TestCommand(
            PYTEST,
            f"{_plural(len(tests), 'test file')} pytest would collect "
            "(no runner configured: check it)",
        )
    return TestCommand(None, "no test configuration found")

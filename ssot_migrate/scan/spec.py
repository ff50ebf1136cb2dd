"""What scan knows of each target, and how it matches names against it.

A :class:`TargetSpec` is the small picklable slice of a ``Target`` that crosses into the engine's
worker processes; the helpers here say whether a dotted name reaches one of its paths and whether
a class name names the component (its stem).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ssot_migrate.config_schema import DUPLICATE_OVERLAP
from ssot_migrate.conventions import DOUBLE_PREFIXES
from ssot_migrate.discovery import ImportPath
from ssot_migrate.model import NameKind, Target

# A class under test paths named ``Mock<stem>``, ``FakeRedisWebSocketManager``... stands in for the
# canonical; other test classes named after it (``CharFieldModel``) are the tests' own.
DOUBLE_WORDS = frozenset(prefix.lower() for prefix in DOUBLE_PREFIXES)
# Words that qualify rather than name a component: "UnifiedWebSocketManager" -> "WebSocketManager".
STEM_QUALIFIERS = (
    "Unified",
    "Canonical",
    "Core",
    "Base",
    "Default",
    "Main",
    "Real",
    "Concrete",
    "Single",
    "Shared",
    "Central",
    "Consolidated",
    "Standard",
    "Primary",
    "Abstract",
)


@dataclass(frozen=True)
class TargetSpec:
    """What the per-file analysis needs to know about one target (picklable)."""

    name: str
    canonical: str
    module_kind: bool
    paths: tuple[str, ...]  # canonical + every alias (configured, discovered)
    legacy: tuple[str, ...]  # aliases only
    facades: tuple[str, ...]
    doubles: tuple[str, ...]  # configured test doubles (a double is also found by its name)
    constructors: tuple[str, ...]  # canonical, aliases, facades (when a factory is configured)
    legacy_factories: tuple[str, ...]
    factory_module: str | None
    factory_exempt: tuple[str, ...]
    stem: str
    names: frozenset[str]  # last segments of everything above: the relevance test for patches
    # Share (%) of the canonical's implemented methods a class named after it must implement too.
    overlap: float = DUPLICATE_OVERLAP
    # The canonical's kind was only assumed (``Target.kind_assumed``): phase 1 then rewrites a
    # path under an alias wherever a site proves a module, so such paths count whatever the kind.
    kind_assumed: bool = False

    @property
    def prefix(self) -> bool:
        """Whether a name under a path (``old.mod.sub``) is a use of that path."""
        return self.module_kind or self.kind_assumed


def stem_of(canonical: str) -> str:
    """The component's core name: the canonical class name without qualifying leading words."""
    name = canonical.rpartition(".")[2]
    changed = True
    while changed:
        changed = False
        for word in STEM_QUALIFIERS:
            rest = name[len(word) :]
            if name.startswith(word) and rest[:1].isupper() and len(rest) > 3:
                name, changed = rest, True
    return name


_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+")


def name_words(name: str) -> list[str]:
    """A class name's words, lower-cased: ``IsolatedWebSocketManager`` -> isolated/web/socket/manager."""
    return [w.lower() for w in _WORD.findall(name)]


def shares_stem(name: str, stem: str) -> bool:
    """Whether class ``name`` names the component: the stem's words appear in it, in order.

    Whole words, not substrings: ``asinh`` and ``LaTeXParsingError`` do not name ``sin``;
    ``MockWebSocketManager`` and ``websocket_manager_v2`` name ``WebSocketManager``.
    """
    wanted = "".join(name_words(stem))
    # Joined at word edges, so ``Websocket`` (one word) still names ``WebSocket`` (two).
    return bool(wanted) and wanted in word_runs(name)


def word_runs(name: str) -> frozenset[str]:
    """Every run of consecutive words of ``name``, joined: ``AB`` -> ``a``, ``b``, ``ab``."""
    words = name_words(name)
    return frozenset(
        "".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)
    )


def matches(dotted_name: str, paths: Iterable[str], prefix: bool) -> str | None:
    """The path ``dotted_name`` reaches: equal to one, or (``prefix``) an attribute/submodule of one."""
    best: str | None = None
    for path in paths:
        hit = dotted_name == path or (prefix and dotted_name.startswith(path + "."))
        if hit and (best is None or len(path) > len(best)):
            best = path
    return best


def build_spec(
    target: Target, paths: Sequence[ImportPath], overlap: float = DUPLICATE_OVERLAP
) -> TargetSpec:
    """The picklable per-target input of :class:`ScanAnalyser`."""
    legacy = tuple(p.dotted for p in paths if p.origin != "canonical")
    all_paths = (target.canonical, *legacy)
    factory_module = target.factory.rpartition(".")[0] if target.factory else None
    constructors = (*all_paths, *target.facades) if target.factory else ()
    names = {n.rpartition(".")[2] for n in (*all_paths, *target.facades, *target.legacy_factories)}
    if target.factory:
        names.add(target.factory.rpartition(".")[2])
    return TargetSpec(
        name=target.name,
        canonical=target.canonical,
        module_kind=target.canonical_kind == NameKind.MODULE,
        kind_assumed=bool(target.kind_assumed),
        paths=all_paths,
        legacy=legacy,
        facades=target.facades,
        doubles=target.test_doubles,
        constructors=constructors,
        legacy_factories=target.legacy_factories,
        factory_module=factory_module,
        factory_exempt=target.factory_exempt,
        stem=stem_of(target.canonical) if target.canonical_kind == NameKind.SYMBOL else "",
        names=frozenset(names),
        overlap=overlap,
    )

"""Where a configured dotted name lives, found statically: nothing is imported, nothing is run.

A name is looked up in these places, in this order, and the first place that has its top-level
package decides (a later place cannot shadow it, as on ``sys.path``)::

    1. the repository's sources (``source-roots``)
    2. the project's environment: ``python`` / ``--python`` (an interpreter or a venv), else
       ``.venv/``, ``venv/``, ``env/`` in the repository, else ``$VIRTUAL_ENV``, else an
       interpreter path at the start of ``test-command``; its ``site-packages`` and the folders
       its ``.pth`` files list (lines that are code are never run; an editable install's finder
       module is read for its ``MAPPING``)
    3. the standard library of that environment's Python (else of the running one)
    4. ssot-migrate's own environment

``collections.OrderedDict``: ``collections`` is not in the repository, not in the project's
``site-packages``; the standard library has ``collections/__init__.py``, which binds
``OrderedDict`` (``from _collections import OrderedDict``): a symbol. A module without source
(an extension, a builtin) accepts any name, with a note; so does a module with a star import or a
module ``__getattr__``. A name found nowhere comes back with the places looked in and the
nearest names that do exist ("did you mean").

The places are built by ``resolution_places`` (environments found from their files); what a
module binds and where a module is, by ``resolution_modules``; this module resolves names.
"""

from __future__ import annotations

import builtins
import difflib
import keyword
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ssot_migrate.model import NameKind
from ssot_migrate.resolution_modules import (
    FoundModule,
    ModuleNames,
    RepoTree,
    find_module,
    module_names,
)
from ssot_migrate.resolution_places import Place

_MAX_FOLLOW = 8  # re-export hops followed when a parent "module" is a name bound in its parent


# --------------------------------------------------------------------------- resolving a name


@dataclass(frozen=True)
class Resolution:
    """Where a dotted name was found, and what kind of object it is.

    ``kind`` is ``None`` when the name was found nowhere; ``looked_in`` then lists the places and
    ``suggestions`` the nearest existing names. ``note`` says what could not be checked.
    """

    name: str
    kind: NameKind | None
    place: str = ""
    note: str = ""
    why: str = ""
    looked_in: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()
    # ``a.mod.Outer`` when ``name`` is ``a.mod.Outer.Inner`` and ``Outer`` is a name module
    # ``a.mod`` itself defines: the name is an attribute of an object, not of a module.
    attribute_of: str = ""


@dataclass
class Resolver:
    """Looks names up in :func:`places_for`'s places (cached per module)."""

    places: Sequence[Place]
    _names: dict[tuple[int, str], ModuleNames] = field(default_factory=dict)
    # ``find_module`` per dotted name: a thousand targets' canonicals share a few modules, each
    # looked up again for every name in it.
    _found: dict[str, tuple[Place, FoundModule] | None] = field(default_factory=dict)

    def _module(self, place: Place, dotted: str) -> FoundModule | None:
        top = dotted.split(".")[0]
        if place.top_filter is not None and top not in place.top_filter:
            return None
        found = find_module(place.tree, dotted)
        if found is None and top in place.builtins and "." not in dotted:
            return FoundModule(dotted, None, compiled=True)
        return found

    def _names_of(self, place: Place, module: FoundModule) -> ModuleNames | None:
        if module.source is None:
            return None
        key = (id(place), module.source)
        if key not in self._names:
            self._names[key] = module_names(place.tree.read(module.source), module.package)
        return self._names[key]

    def _owner(self, dotted: str) -> tuple[Place, FoundModule] | None:
        """The first place whose top-level package of ``dotted`` is not a namespace package
        spread further, and the module ``dotted`` there (the module may be missing)."""
        top = dotted.split(".")[0]
        for place in self.places:
            head = self._module(place, top)
            if head is None:
                continue
            found = self._module(place, dotted)
            if found is not None or not head.namespace:
                return (place, found) if found is not None else (place, head)
        return None

    def find_module(self, dotted: str) -> tuple[Place, FoundModule] | None:
        """Where module ``dotted`` lives, following ``pkg.name`` bound by an import in ``pkg``
        (``os.path``, which ``os`` binds with ``import posixpath as path``)."""
        if dotted not in self._found:
            self._found[dotted] = self._find_module(dotted)
        return self._found[dotted]

    def _find_module(self, dotted: str) -> tuple[Place, FoundModule] | None:
        seen: set[str] = set()
        current = dotted
        for _ in range(_MAX_FOLLOW):
            owner = self._owner(current)
            if owner is not None and owner[1].name == current:
                return owner
            parent, _, leaf = current.rpartition(".")
            if not parent or current in seen:
                return None
            seen.add(current)
            holder = self.find_module(parent)
            if holder is None:
                return None
            names = self._names_of(*holder)
            target = names.imports.get(leaf) if names is not None else None
            if target is None:
                return None
            current = target
        return None

    def module_names(self, dotted: str, _depth: int = 0) -> frozenset[str] | None:
        """Every name ``from dotted import <name>`` can bind: what the module binds, its
        ``__all__``, its submodules, what its star imports bring; ``None`` when that cannot be
        known statically (compiled, a star import of such a module, an opaque ``__getattr__``)."""
        found = self.find_module(dotted)
        if found is None or _depth > _MAX_FOLLOW:
            return None
        place, module = found
        names = self._names_of(place, module)
        if names is None or (names.has_getattr and names.getattr_names is None):
            return None
        bound = (
            names.names
            | names.dunder_all
            | (names.getattr_names or frozenset())
            | frozenset(self._siblings(place, module, "", full=False))
        )
        for star in names.star_from:
            brought = self.module_names(star, _depth + 1) if star else None
            if brought is None:
                return None
            # ``__all__`` of the star's module is not tracked here: its public names.
            bound |= {n for n in brought if not n.startswith("_")}
        return bound

    def resolve(self, name: str) -> Resolution:
        """Look ``name`` up: a module, a symbol of a module, or found nowhere."""
        labels = tuple(p.label for p in self.places)
        module = self.find_module(name)
        if module is not None:
            place, found = module
            note = ""
            if found.compiled:
                note = f"{name!r} is a compiled or builtin module: found, its contents not read"
            return Resolution(name, NameKind.MODULE, place.label, note)
        parent, _, leaf = name.rpartition(".")
        holder = self.find_module(parent) if parent else None
        if holder is None:
            owner = self._defining_module(parent) if parent else None
            if owner is not None:
                defined_in, where, source = owner
                return Resolution(
                    name,
                    None,
                    looked_in=labels,
                    attribute_of=parent,
                    why=f"{parent!r} is not a module but a name module {defined_in!r} "
                    f"({_shown(source, where)}) defines",
                )
            return Resolution(
                name,
                None,
                looked_in=labels,
                suggestions=tuple(s for s in self._suggest_module(name) if s != name),
                why=f"no module {name!r}" + (f" or {parent!r}" if parent else ""),
            )
        place, found = holder
        names = self._names_of(place, found)
        if names is None and found.name == "builtins":
            # The interpreter's own namespace, not project code: read it, so `builtins.lsit`
            # gets a did-you-mean like any other name.
            names = ModuleNames(frozenset(dir(builtins)), frozenset(), (), False, {})
        if names is None:
            what = "a namespace package" if found.namespace else "a compiled or builtin module"
            if found.namespace:
                return Resolution(
                    name,
                    None,
                    looked_in=labels,
                    suggestions=tuple(self._siblings(place, found, leaf)),
                    why=f"{parent!r} is {what} ({place.label}) with no module {leaf!r}",
                )
            return Resolution(
                name,
                NameKind.SYMBOL,
                place.label,
                note=f"{parent!r} is {what}: {leaf!r} accepted without checking",
            )
        if not names.parsed:
            return Resolution(
                name,
                NameKind.SYMBOL,
                place.label,
                note=f"{parent!r} ({found.source}) could not be parsed: {leaf!r} accepted unchecked",
            )
        if leaf in names.names or leaf in names.dunder_all:
            return Resolution(name, NameKind.SYMBOL, place.label)
        for star in names.star_from:
            sub = self.resolve(f"{star}.{leaf}") if star and star != parent else None
            if sub is not None and sub.kind is not None:
                return Resolution(
                    name,
                    NameKind.SYMBOL,
                    place.label,
                    note=f"{leaf!r} reaches {parent!r} through `from {star} import *`",
                )
        if names.has_getattr and names.getattr_names is not None and not names.star_from:
            if leaf in names.getattr_names:
                return Resolution(
                    name,
                    NameKind.SYMBOL,
                    place.label,
                    note=f"{parent!r} answers {leaf!r} from its module __getattr__",
                )
        elif names.star_from or names.has_getattr:
            how = "a star import" if names.star_from else "a module __getattr__"
            return Resolution(
                name,
                NameKind.SYMBOL,
                place.label,
                note=f"{parent!r} may bind {leaf!r} through {how}: accepted without proof",
            )
        candidates = sorted(names.names | names.dunder_all | (names.getattr_names or frozenset()))
        candidates += self._siblings(place, found, leaf, full=False)
        close = _close(leaf, candidates)
        return Resolution(
            name,
            None,
            looked_in=labels,
            suggestions=tuple(f"{parent}.{c}" for c in close),
            why=f"module {parent!r} ({_shown(found, place)}) does not define {leaf!r}",
        )

    def _defining_module(self, dotted: str) -> tuple[str, Place, FoundModule] | None:
        """The nearest module above ``dotted`` when the segment after it is a name that module
        binds to an object (a class, function or assignment, or an import of a symbol), not to
        a module: ``dotted`` then lives inside an object."""
        parts = dotted.split(".")
        for index in range(len(parts) - 1, 0, -1):
            holder = self.find_module(".".join(parts[:index]))
            if holder is None:
                continue
            names = self._names_of(*holder)
            segment = parts[index]
            if names is None or segment not in names.names:
                return None
            imported = names.imports.get(segment)
            if imported is not None and self.resolve(imported).kind is not NameKind.SYMBOL:
                return None  # a module it imports, or a name that cannot be looked up
            return ".".join(parts[:index]), *holder
        return None

    def _siblings(
        self, place: Place, module: FoundModule, leaf: str, full: bool = True
    ) -> list[str]:
        entries = {
            e.removesuffix(".py")
            for d in module.dirs
            for e in place.tree.list(d)
            if e.removesuffix(".py").isidentifier() and not keyword.iskeyword(e.removesuffix(".py"))
        }
        if not full:
            return sorted(entries)
        return [f"{module.name}.{c}" for c in _close(leaf, entries)]

    def _suggest_module(self, name: str) -> tuple[str, ...]:
        """Nearest existing names for the first segment that is missing."""
        parts = name.split(".")
        for index in range(len(parts) - 1, 0, -1):
            holder = self.find_module(".".join(parts[:index]))
            if holder is None:
                continue
            place, found = holder
            names = self._names_of(place, found)
            candidates = sorted(names.names if names else frozenset()) + self._siblings(
                place, found, parts[index], full=False
            )
            close = _close(parts[index], candidates)
            rest = parts[index + 1 :]
            return tuple(".".join([*parts[:index], c, *rest]) for c in close)
        tops: set[str] = set()
        for place in self.places:
            if place.top_filter is not None:
                tops |= place.top_filter
                continue
            for root in place.tree.roots():
                tops.update(
                    e.removesuffix(".py")
                    for e in place.tree.list(root)
                    if e.removesuffix(".py").isidentifier()
                )
        close = _close(parts[0], tops)
        return tuple(".".join([c, *parts[1:]]) for c in close)


def _close(word: str, candidates: Iterable[str]) -> list[str]:
    """Up to three near names; private ones only for a private word."""
    pool = sorted({c for c in candidates if word.startswith("_") or not c.startswith("_")})
    return difflib.get_close_matches(word, pool, n=3, cutoff=0.6)


def _shown(module: FoundModule, place: Place) -> str:
    if isinstance(place.tree, RepoTree):
        return module.source or module.name
    return module.source or place.label


def describe_missing(resolution: Resolution) -> str:
    """One sentence: what is missing, where it was looked for, what exists nearby."""
    text = f"{resolution.name!r} was found nowhere: {resolution.why}; looked in " + "; ".join(
        resolution.looked_in
    )
    if resolution.suggestions:
        text += " (did you mean " + " or ".join(repr(s) for s in resolution.suggestions) + "?)"
    return text

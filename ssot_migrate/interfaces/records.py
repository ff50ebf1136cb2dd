"""The values of interface analysis: a method's signature, a class's interface, a comparison."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

# Construction and representation hooks are not part of what a caller "uses" on an instance; the
# constructor is compared separately (``constructor``) because an alias must also accept every
# construction the facade accepted.
_NOT_INTERFACE_DUNDERS = frozenset(
    {
        "__init__",
        "__new__",
        "__post_init__",
        "__init_subclass__",
        "__class_getitem__",
        "__set_name__",
        "__del__",
        "__repr__",
        "__str__",
        "__format__",
        "__sizeof__",
        "__reduce__",
        "__reduce_ex__",
        "__getstate__",
        "__setstate__",
        "__subclasshook__",
    }
)

# Bases that add nothing a caller could rely on; a class deriving only from these is fully known.
_TRANSPARENT_BASES = frozenset(
    {
        "object",
        "abc.ABC",
        "ABC",
        "typing.Generic",
        "Generic",
        "typing.Protocol",
        "Protocol",
        "typing_extensions.Protocol",
    }
)

_MAX_DEPTH = 4


class SnapshotLike(Protocol):
    """The part of ``engine.Snapshot`` this module reads (a commit's files, never the worktree)."""

    def path_for_module(self, dotted: str) -> str | None: ...

    def read(self, path: str) -> bytes: ...


@dataclass(frozen=True)
class MethodSignature:
    """How a method can be called on an instance (``self``/``cls`` already dropped).

    ``positional`` lists the parameters that can be passed by position, in order; the first
    ``posonly`` of them cannot be passed by keyword; ``required_positional`` of them have no
    default. ``kind`` is ``method``, ``staticmethod``, ``classmethod`` or ``property``.
    """

    name: str
    positional: tuple[str, ...] = ()
    required_positional: int = 0
    posonly: int = 0
    keyword_only: tuple[str, ...] = ()
    required_keyword_only: tuple[str, ...] = ()
    varargs: bool = False
    varkw: bool = False
    is_async: bool = False
    kind: str = "method"
    decorators: tuple[str, ...] = ()
    defaults: tuple[tuple[str, str], ...] = ()
    line: int = 0

    @property
    def max_positional(self) -> int | None:
        """The most positional arguments a call may pass (``None``: unbounded, ``*args``)."""
        return None if self.varargs else len(self.positional)

    @property
    def keyword_names(self) -> frozenset[str]:
        """Every parameter name a caller may pass by keyword."""
        return frozenset(self.positional[self.posonly :]) | frozenset(self.keyword_only)

    def describe(self) -> str:
        """A short human spelling of the parameters, e.g. ``(user, ws, *, timeout=...)``."""
        parts: list[str] = []
        defaults = dict(self.defaults)
        for index, name in enumerate(self.positional):
            parts.append(f"{name}=..." if name in defaults else name)
            if self.posonly and index == self.posonly - 1:
                parts.append("/")
        if self.varargs:
            parts.append("*args")
        elif self.keyword_only:
            parts.append("*")
        parts.extend(f"{name}=..." if name in defaults else name for name in self.keyword_only)
        if self.varkw:
            parts.append("**kwargs")
        prefix = "async " if self.is_async else ""
        return f"{prefix}{self.name}({', '.join(parts)})"


@dataclass(frozen=True)
class ClassInterface:
    """A class as callers see it: its methods (inherited ones included) and instance attributes.

    ``own_methods`` are those defined in the class body itself. ``bases`` are the base classes as
    dotted names where the module's imports resolve them, as written otherwise;
    ``unresolved_bases`` are the ones that could not be read (outside the repository, dynamic),
    so anything they provide is unknown. ``constructor`` is ``None`` when ``__init__`` comes from
    such an unknown base.
    """

    name: str
    methods: dict[str, MethodSignature] = field(default_factory=dict)
    attributes: set[str] = field(default_factory=set)
    bases: tuple[str, ...] = ()
    own_methods: frozenset[str] = frozenset()
    abstract_methods: frozenset[str] = frozenset()
    unresolved_bases: tuple[str, ...] = ()
    constructor: MethodSignature | None = None
    qualname: str = ""
    line: int = 0

    @property
    def public_methods(self) -> frozenset[str]:
        """Methods a caller may use: no leading underscore, plus protocol dunders (``__len__``)."""
        return frozenset(name for name in self.methods if is_public(name))

    @property
    def implemented_methods(self) -> frozenset[str]:
        """Public methods the class body defines itself, abstract declarations left out.

        What a duplicate must share with the canonical: inherited methods are the base's (two
        siblings do not duplicate each other by inheriting them), ``@abstractmethod`` stubs are
        interface, not implementation.
        """
        return frozenset(
            name
            for name in self.own_methods
            if is_public(name) and name not in self.abstract_methods
        )

    @property
    def public_attributes(self) -> frozenset[str]:
        """Instance/class attributes without a leading underscore that are not methods."""
        return frozenset(a for a in self.attributes if is_public(a) and a not in self.methods)


@dataclass(frozen=True)
class MethodMismatch:
    """One difference between a candidate member and the canonical one, spelled out.

    ``breaking`` is true when a caller of the candidate could fail against the canonical (arity,
    keywords, async-ness, a member that does not exist); a differing default value is reported
    but does not break a call.
    """

    member: str
    message: str
    breaking: bool = True


@dataclass(frozen=True)
class InterfaceComparison:
    """The result of :func:`compare`: overlap, missing/extra members and every mismatch.

    ``overlap`` is the percentage of public methods the two share, out of all public methods of
    either (Jaccard; 100.0 when neither has any). ``missing`` are canonical public methods the
    candidate lacks; ``extra`` are candidate public methods the canonical lacks;
    ``missing_attributes``/``extra_attributes`` the same for attributes.
    """

    candidate: str
    canonical: str
    overlap: float
    common: tuple[str, ...]
    missing: tuple[str, ...]
    extra: tuple[str, ...]
    missing_attributes: tuple[str, ...]
    extra_attributes: tuple[str, ...]
    mismatches: tuple[MethodMismatch, ...]

    @property
    def is_compatible(self) -> bool:
        """True when every public member of the candidate works the same way on the canonical."""
        return not any(m.breaking for m in self.mismatches)

    def incompatible_members(self) -> dict[str, list[str]]:
        """Breaking mismatch messages grouped by member name (for "needs a decision" reasons)."""
        grouped: dict[str, list[str]] = {}
        for mismatch in self.mismatches:
            if mismatch.breaking:
                grouped.setdefault(mismatch.member, []).append(mismatch.message)
        return grouped


def is_public(name: str) -> bool:
    """Whether callers may use ``name``: no leading underscore, or an interface dunder."""
    if name.startswith("__") and name.endswith("__") and len(name) > 4:
        return name not in _NOT_INTERFACE_DUNDERS
    return not name.startswith("_")

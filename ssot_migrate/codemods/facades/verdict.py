"""What the forward analysis answers, per method and per facade, and the names it knows."""

from __future__ import annotations

from dataclasses import dataclass

# Categories a warning may carry and still be "a deprecation warning" around a forward.
_DEPRECATIONS = frozenset({"DeprecationWarning", "PendingDeprecationWarning"})
_LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "fatal"}
)
_MUTATORS = frozenset(
    {
        "append",
        "appendleft",
        "extend",
        "extendleft",
        "insert",
        "pop",
        "popitem",
        "popleft",
        "remove",
        "clear",
        "update",
        "setdefault",
        "add",
        "discard",
        "sort",
        "reverse",
        "__setitem__",
        "__delitem__",
    }
)
_SNIPPET = 40
# Builtins that compute a value from their arguments: "calls other code" would be noise for them
# (what the method returns is described instead).
_VALUE_BUILTINS = frozenset(
    {
        "len",
        "dict",
        "list",
        "tuple",
        "set",
        "frozenset",
        "sorted",
        "reversed",
        "str",
        "int",
        "float",
        "bool",
        "repr",
        "isinstance",
        "issubclass",
        "min",
        "max",
        "sum",
        "any",
        "all",
        "enumerate",
        "zip",
        "range",
        "iter",
        "next",
        "getattr",
        "hasattr",
        "type",
        "abs",
        "round",
    }
)


@dataclass(frozen=True)
class Verdict:
    """One facade method: a pure forward (``via`` says through what), or its own logic."""

    name: str
    forward: bool
    via: str = ""  # instance | super | class
    logic: tuple[str, ...] = ()
    # Parameters with a default that the forward passes on explicitly: an alias is the same call
    # only where the canonical's default is the same (checked against its signature).
    passed: tuple[tuple[str, str, str], ...] = ()  # (parameter, its default, "pos:<i>"|"kw")

    @property
    def what(self) -> str:
        """What the method does that the canonical does not, for the note."""
        return ", ".join(self.logic)


@dataclass(frozen=True)
class FacadeScope:
    """What the facade's class and module say about the names a forward may go through."""

    class_name: str
    canonical_refs: frozenset[str]  # spellings naming the canonical class in the facade's module
    factory_refs: frozenset[str]  # spellings naming the target's factory
    instance_attrs: frozenset[str]  # ``self.x`` holding a canonical instance for good
    subclass: bool  # the canonical is the facade's first base: ``super()`` reaches it
    warn_refs: frozenset[str]  # spellings of ``warnings.warn``


@dataclass(frozen=True)
class FacadeAnalysis:
    """Every own method's verdict, and why ``__init__`` (if any) is more than a construction."""

    verdicts: tuple[Verdict, ...]
    init_logic: tuple[str, ...] = ()
    init_passed: tuple[tuple[str, str, str], ...] = ()
    has_init: bool = False

    def verdict(self, name: str) -> Verdict | None:
        for verdict in self.verdicts:
            if verdict.name == name:
                return verdict
        return None

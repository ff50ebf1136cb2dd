"""The records phase 1 passes between its steps: small frozen values, plus the one accumulator
(``StatementEdit``) that the plan fills and the edit transform reads."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from ssot_migrate.codemods._common import Mapped
from ssot_migrate.conventions import PatchTarget
from ssot_migrate.model import ChangeKind, NameKind, NoteKind
from ssot_migrate.pysyntax import Binding


@dataclass(frozen=True)
class Move:
    """An alias of a ``from`` import that now comes from another module."""

    binding: Binding
    mapped: Mapped
    new_module: str
    new_name: str
    local: str
    rename: bool
    builtin: bool = False  # the canonical is a builtin: references use the bare name


@dataclass(frozen=True)
class Plan:
    """The file's plan: the ``from`` imports that move, and the imports whose attribute chains
    may reach an alias (their references decide what happens to them)."""

    moves: tuple[Move, ...]
    chain_bindings: tuple[Binding, ...]
    # A rename was planned or a chain may reach an alias: references must be resolved.
    resolve_references: bool


@dataclass(frozen=True)
class Needed:
    """The module an added import must load for a rewritten chain, and whether the canonical
    may be a module or a symbol there (its kind only assumed: a spelling right for both)."""

    module: str
    either: bool


@dataclass(frozen=True)
class PatchedAttribute:
    """An attribute a ``patch.object``/``patch.multiple`` call patches, and where it moves."""

    target: PatchTarget
    mapped: Mapped


@dataclass(frozen=True)
class Spec:
    """An import statement to add: ``from module import name as local`` or ``import module``."""

    is_from: bool
    module: str  # absolute
    name: str = ""
    local: str | None = None  # for ``from``: the bound name; for ``import``: the ``as`` name
    level: int = 0
    relmodule: str | None = None

    def bound(self) -> tuple[str, str]:
        """The local name the statement binds and what it means (``import m`` for a plain one)."""
        if self.is_from:
            return (self.local or self.name, f"{self.module}.{self.name}")
        if self.local:
            return (self.local, self.module)
        return (self.module.split(".")[0], "import " + self.module)


@dataclass(frozen=True)
class ModuleChange:
    """A ``from`` statement's module rewritten in place: ``module`` with ``level`` leading dots."""

    module: str | None
    level: int


@dataclass
class StatementEdit:
    """What happens to one import statement; filled while planning, read once by ``Apply``."""

    drop: list[cst.ImportAlias] = field(default_factory=list)
    replace: dict[int, cst.ImportAlias] = field(default_factory=dict)
    module_change: ModuleChange | None = None
    append: list[cst.ImportAlias] = field(default_factory=list)
    after: list[cst.BaseSmallStatement] = field(default_factory=list)


@dataclass(frozen=True)
class NodeChange:
    """A rewrite, located by its node in the original tree (the ``Change`` once positioned)."""

    node: cst.CSTNode
    target: str
    kind: ChangeKind
    old: str
    new: str


@dataclass(frozen=True)
class NodeNote:
    """A site left alone or explained, located by its node (the ``Note`` once positioned)."""

    node: cst.CSTNode
    target: str
    kind: NoteKind
    message: str


@dataclass(frozen=True)
class PatchCall:
    """A patch call with a static target, as ``conventions`` reads it."""

    call: cst.Call
    target: PatchTarget


def loads_a_module(mapped: Mapped) -> bool:
    """Whether an import that loads ``mapped`` (``import old.mod``, ``from old.mod import *``)
    loads a module: always for a module target, and for one whose kind was only assumed, since
    that statement itself proves the alias, and so its canonical, is a module."""
    return mapped.target.canonical_kind == NameKind.MODULE or bool(mapped.target.kind_assumed)

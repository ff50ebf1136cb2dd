"""What an import binds: relative imports resolved, each bound name with the name it denotes.

One reading of an import statement for every layer (scan's ``interfaces``, phases 1-3)::

    resolve_relative(2, "m", "pkg.sub")                     # from ..m import x in pkg.sub: "pkg.m"
    bindings_of(<import a.b.c>, None)                       # Binding("a", "a", "a.b.c", plain)
    import_bindings([<from .m import x as y>], "pkg")       # {"y": "pkg.m.x"}
    import_bindings(block_statements(module.body), "pkg")   # a module's import-time imports
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.helpers import get_absolute_module_from_package

from ssot_migrate.pysyntax.names import dotted_name

ImportNode = cst.Import | cst.ImportFrom


def resolve_relative(level: int, module: str | None, package: str | None) -> str | None:
    """The absolute module a ``from <level dots><module> import`` names, or ``None`` when unknowable.

    ``package`` is the importing file's package (``SourceFile.package``: the module itself for an
    ``__init__``, else its parent; ``""`` for a top-level module, which has no package to be
    relative to). Too many dots, or an unknown package, give ``None``, as Python refuses them.
    """
    return get_absolute_module_from_package(package, module, level)


def import_from_module(node: cst.ImportFrom, package: str | None) -> str | None:
    """The absolute module of a ``from ... import`` statement (relative ones resolved)."""
    module = dotted_name(node.module) if node.module is not None else None
    return resolve_relative(len(node.relative), module, package)


@dataclass(frozen=True)
class Binding:
    """One name an import statement binds.

    ``local`` is the bound name; ``qname`` the fully qualified name that local name denotes
    (``a`` for ``import a.b.c``, ``a.b.c`` for ``import a.b.c as x``, ``m.n`` for
    ``from m import n``); ``loaded`` the dotted path the statement imports (``a.b.c``, or ``m.n``).
    ``plain`` marks ``import a.b.c`` without ``as`` (it binds only the root package).
    """

    local: str
    qname: str
    loaded: str
    statement: ImportNode
    alias: cst.ImportAlias
    plain: bool = False

    @property
    def is_from(self) -> bool:
        """Whether the binding comes from a ``from ... import`` statement."""
        return isinstance(self.statement, cst.ImportFrom)


def alias_local_name(alias: cst.ImportAlias) -> str | None:
    """The name an ``ImportAlias`` binds (``as`` name, else the root of its dotted name)."""
    if alias.asname is not None:
        target = alias.asname.name
        return target.value if isinstance(target, cst.Name) else None
    full = dotted_name(alias.name)
    return None if full is None else full.split(".")[0]


def _bound(
    statement: ImportNode, package: str | None
) -> Iterator[tuple[cst.ImportAlias, str, str, str]]:
    """``(alias, local, qname, loaded)`` per name ``statement`` binds: the one reading of an import
    that :func:`bindings_of` and :func:`import_bindings` present (``Binding`` has the meanings)."""
    if isinstance(statement.names, cst.ImportStar):
        return
    base = None
    if isinstance(statement, cst.ImportFrom):
        base = import_from_module(statement, package)
        if base is None:
            return
    for alias in statement.names:
        name = dotted_name(alias.name)
        if name is None:
            continue
        if alias.asname is not None:
            target = alias.asname.name
            if not isinstance(target, cst.Name):
                continue
            local = target.value
        else:
            local = name.split(".")[0]
        if base is not None:
            qname = f"{base}.{name}"
            yield alias, local, qname, qname
        elif alias.asname is not None:
            yield alias, local, name, name
        else:
            yield alias, local, local, name


def bindings_of(statement: ImportNode, package: str | None) -> list[Binding]:
    """Every name ``statement`` binds, with the qualified name it denotes (``[]`` for ``*``)."""
    plain = isinstance(statement, cst.Import)
    return [
        Binding(local, qname, loaded, statement, alias, plain and alias.asname is None)
        for alias, local, qname, loaded in _bound(statement, package)
    ]


def import_bindings(statements: Iterable[cst.CSTNode], package: str | None) -> dict[str, str]:
    """Local name → qualified name for what the imports among ``statements`` bind (later win)."""
    bound: dict[str, str] = {}
    for statement in statements:
        if isinstance(statement, (cst.Import, cst.ImportFrom)):
            for _, local, qname, _ in _bound(statement, package):
                bound[local] = qname
    return bound


def small_statements(body: Sequence[cst.BaseStatement]) -> Iterator[cst.BaseSmallStatement]:
    """The simple statements of ``body``'s own lines, compound statements not entered."""
    for line in body:
        if isinstance(line, cst.SimpleStatementLine):
            yield from line.body


def block_statements(body: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """Statements of a module or class body, looking into ``if``/``try`` blocks (conditional
    definitions and imports); simple statements one by one, compound ones as they are."""
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            yield from statement.body
        elif isinstance(statement, cst.If):
            yield from block_statements(statement.body.body)
            orelse = statement.orelse
            while orelse is not None:
                yield from block_statements(orelse.body.body)
                orelse = orelse.orelse if isinstance(orelse, cst.If) else None
        elif isinstance(statement, cst.Try):
            yield from block_statements(statement.body.body)
            for handler in statement.handlers:
                yield from block_statements(handler.body.body)
            if statement.orelse is not None:
                yield from block_statements(statement.orelse.body.body)
        else:
            yield statement

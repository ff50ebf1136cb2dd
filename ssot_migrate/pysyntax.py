"""Python-syntax facts every layer reads the same way: one home, shared by scan and the phases.

Kept below every other layer (it imports libcst's helpers only), so ``interfaces``, the codemods,
``discovery`` and ``resolution`` all call the same function rather than each spelling its own::

    resolve_relative(2, "m", "pkg.sub")   # from ..m import x, inside package pkg.sub -> "pkg.m"
"""

from __future__ import annotations

from libcst.helpers import get_absolute_module_from_package


def resolve_relative(level: int, module: str | None, package: str | None) -> str | None:
    """The absolute module a ``from <level dots><module> import`` names, or ``None`` when unknowable.

    ``package`` is the importing file's package (``SourceFile.package``: the module itself for an
    ``__init__``, else its parent; ``""`` for a top-level module, which has no package to be
    relative to). Too many dots, or an unknown package, give ``None``, as Python refuses them.
    """
    return get_absolute_module_from_package(package, module, level)

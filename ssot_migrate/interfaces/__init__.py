"""Static class interfaces: what a class offers callers, and whether one can stand in for another.

This is the single implementation behind ``scan``'s ``interface-drift``, ``duplicate-implementation``
and ``facade`` findings and behind phase 2's alias-or-delegate decision. Nothing is imported or
executed: a class is read from its ``libcst.ClassDef``; base classes are followed in the same file
and, through :func:`load_class`, across the repository's own modules.

Example::

    class Mock:                                  class Unified:
        def add_connection(self, ws): ...            def add_connection(self, user, ws): ...

    compare(mock, unified).mismatches[0].message
    == "add_connection(): takes 1 positional argument but canonical takes 2"

The package, by step: ``records`` (the values), ``extract`` (a class read from its node),
``loading`` (classes found and parsed in a snapshot, bases followed), ``compare`` (the verdict
and its words).
"""

from __future__ import annotations

from ssot_migrate.interfaces.compare import compare, compare_double, compare_signatures
from ssot_migrate.interfaces.extract import (
    classes_in_module,
    extract_interface,
    find_class,
    implementation,
    method_signature,
    module_imports,
)
from ssot_migrate.interfaces.loading import (
    LocatedClass,
    ParsedModules,
    class_level_values,
    class_source,
    load_class,
    locate_class,
    parse_file,
)
from ssot_migrate.interfaces.records import (
    ClassInterface,
    InterfaceComparison,
    MethodMismatch,
    MethodSignature,
    SnapshotLike,
    is_public,
)

__all__ = [
    "ClassInterface",
    "InterfaceComparison",
    "LocatedClass",
    "MethodMismatch",
    "MethodSignature",
    "ParsedModules",
    "SnapshotLike",
    "class_level_values",
    "class_source",
    "classes_in_module",
    "compare",
    "compare_double",
    "compare_signatures",
    "extract_interface",
    "find_class",
    "implementation",
    "is_public",
    "load_class",
    "locate_class",
    "method_signature",
    "module_imports",
    "parse_file",
]

"""Python-syntax facts every layer reads the same way: one home, shared by scan and the phases.

Below every other layer (it imports libcst and ``ast`` only), so ``interfaces``, the codemods,
``discovery``, ``guard`` and ``resolution`` call one function rather than each spelling its own.
libcst's helpers are used where their meaning is exactly ours (``get_absolute_module_from_package``
behind :func:`resolve_relative`); where it differs the reason is at the function.

* ``names``: dotted names read (libcst and ``ast``) and built;
* ``bindings``: relative imports resolved, what an import binds (:class:`Binding`), the
  statements a module or class runs at import time (``if``/``try`` entered);
* ``edits``: import statements built and edited in place, relative spellings, free names;
* ``statements``: docstring, import lines, where a new import goes, what a module binds;
* ``strings``: plain string literals read and rewritten keeping their quotes;
* ``memo``: what is read from a parsed module, kept for the last few modules (``PerModule``).

Where top-level statements sit in the original bytes (and splicing a rewritten module back
around them) lives with the phase-1 rendering in ``codemods``.
"""

from __future__ import annotations

from ssot_migrate.pysyntax.bindings import (
    Binding,
    ImportNode,
    alias_local_name,
    bindings_of,
    block_statements,
    import_bindings,
    import_from_module,
    resolve_relative,
    small_statements,
)
from ssot_migrate.pysyntax.edits import (
    alias_comment,
    drop_aliases,
    free_name,
    make_alias,
    make_import,
    make_import_from,
    relative_spelling,
    shortest_relative,
)
from ssot_migrate.pysyntax.memo import PerModule
from ssot_migrate.pysyntax.names import (
    ast_dotted_name,
    build_dotted,
    dotted_name,
    dotted_parts,
    is_dotted_identifier,
    words,
)
from ssot_migrate.pysyntax.statements import (
    class_index,
    insert_top_import,
    is_docstring,
    is_future_import,
    is_import_line,
    top_level_names,
)
from ssot_migrate.pysyntax.strings import string_body, with_string_body

__all__ = [
    "Binding",
    "ImportNode",
    "PerModule",
    "alias_comment",
    "alias_local_name",
    "ast_dotted_name",
    "bindings_of",
    "block_statements",
    "build_dotted",
    "class_index",
    "dotted_name",
    "dotted_parts",
    "drop_aliases",
    "free_name",
    "import_bindings",
    "import_from_module",
    "insert_top_import",
    "is_docstring",
    "is_dotted_identifier",
    "is_future_import",
    "is_import_line",
    "make_alias",
    "make_import",
    "make_import_from",
    "relative_spelling",
    "resolve_relative",
    "shortest_relative",
    "small_statements",
    "string_body",
    "top_level_names",
    "with_string_body",
    "words",
]

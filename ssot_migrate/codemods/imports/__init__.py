"""Phase 1: rewrite every import and reference of a legacy path to the canonical one.

Before::

    from app.ws.manager import WebSocketManager
    import app.ws.legacy

    def make() -> "WebSocketManager":
        return WebSocketManager(app.ws.legacy.CONFIG)

After (``app.ws.manager.WebSocketManager`` -> ``app.ws.unified.UnifiedWebSocketManager``,
module alias ``app.ws.legacy`` -> ``app.ws.config``)::

    from app.ws.unified import UnifiedWebSocketManager
    import app.ws.config

    def make() -> "UnifiedWebSocketManager":
        return UnifiedWebSocketManager(app.ws.config.CONFIG)

How: (1) a cheap survey of the file's import statements (statements only, unless a needle sits
inside a quoted string: annotations, ``mock.patch`` targets, ``__all__``); (2) every import
resolved to the qualified names it binds and mapped through the alias table (longest prefix);
(3) only when local names change, or an attribute chain reaching an alias is spelled in the file,
are references resolved: from CPython's ``symtable`` when the names involved are bound only by
module-level imports, otherwise with libcst's ``ScopeProvider`` (shadowing, class bodies,
``global``, conditional bindings); (4) imports are edited where they stand: split, merged into an
earlier import of the canonical module in the same block, deduplicated, never hoisted, never moved
across another binding of the name; (5) only the touched top-level statements are regenerated and
spliced into the original bytes, so everything else keeps its bytes by construction.

Where each step lives: ``codemod`` (``ImportsCodemod``, the text checks before parsing),
``rewrite`` (``FileRewrite.run``: the steps in order, positioned results), ``survey`` (1, and the
chain collector of 3), ``plan`` (2), ``references`` and ``spelling`` (3), ``strings`` (3 inside
strings: annotations, ``__all__``, ``mock.patch`` targets), ``edits`` (4, planned per statement)
and ``apply`` (4, the transform), ``render`` (5). ``state.FileState`` is the one mutable object
of a file's rewrite; ``records`` the values passed between steps.
"""

from __future__ import annotations

from ssot_migrate.codemods.imports.codemod import ImportsCodemod
from ssot_migrate.codemods.imports.rewrite import LEFT_FOR_A_DECISION

__all__ = ["LEFT_FOR_A_DECISION", "ImportsCodemod"]

"""Phase 2: collapse facade classes into aliases of the canonical class, or thin delegations.

Only what is provably a forward collapses (``forwards``): a method whose body, a docstring and a
deprecation warning aside, calls the canonical's same-named method with its own arguments,
through the wrapped instance, ``super()`` or the canonical class. Alias mode, when every public
method is such a forward, ``__init__`` only builds the canonical from its own parameters, and the
interfaces are compatible (``interfaces.compare``)::

    class WebSocketManager:                          from app.core.unified import UnifiedManager
        def __init__(self, user):                    WebSocketManager = UnifiedManager
            self._impl = UnifiedManager(user)  →
        def send(self, msg):
            return self._impl.send(msg)

With ``deprecate = true`` the class goes and a module ``__getattr__`` returns the canonical with a
``DeprecationWarning`` naming its path. Otherwise the class stays: its forwards already delegate,
and every method with logic of its own is kept verbatim and listed (``facade-logic``, with what it
does). For the facades in ``replace-facade-logic`` the user decided the canonical's behaviour
replaces theirs: methods are judged by signature, each compatible one becomes a one-line forward
to one canonical instance (built through the target's factory when one is configured and can
take the arguments, and only when a forward uses it), the private state no remaining code uses is
dropped, and every replaced piece of logic is listed (``facade-logic-replaced``)::

    class WebSocketManager:                          class WebSocketManager:
        def __init__(self, user):                        def __init__(self, user):
            self._conns = {}                                 self._impl = create_manager(user=user)
            self._impl = UnifiedManager(user)            def send(self, msg):
        def send(self, msg):                   →             return self._impl.send(msg)
            self._conns[msg.id] = msg                    def legacy_only(self): ...   # kept, listed
            return self._impl.send(msg)
        def legacy_only(self): ...

Methods with no canonical counterpart or an incompatible signature are kept as they are and
listed as "needs a decision" with the reason. Every facade ends with exactly one outcome note
(``OUTCOME_KINDS``), or a plan-time line when there is no class left to rewrite. Repository reads
(both interfaces, the factory, which private names other files use) happen in
:func:`build_codemod`; ``transform`` is pure.

The package, by step: ``plan`` (the decisions and the repository reads behind them),
``codemod`` (``FacadesCodemod``, ``build_codemod``), ``rewrite`` (one facade, one outcome),
``alias`` and ``delegation`` (the two modes), ``state`` (members, stores and forwards),
``cleanup`` (imports left unused), ``forwards`` (is a method a pure forward; what its logic does).
"""

from __future__ import annotations

from ssot_migrate.codemods.facades.codemod import FacadesCodemod, build_codemod
from ssot_migrate.codemods.facades.plan import FacadePlan, MethodPlan
from ssot_migrate.codemods.facades.rewrite import OUTCOME_KINDS

__all__ = ["OUTCOME_KINDS", "FacadePlan", "FacadesCodemod", "MethodPlan", "build_codemod"]

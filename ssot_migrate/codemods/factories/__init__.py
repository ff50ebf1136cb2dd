"""Phase 3: direct instantiation (and legacy factories) → the target's canonical factory.

Before::

    from app.core.unified import UnifiedManager
    from app.core.legacy import get_manager

    manager = UnifiedManager(user_id, cfg=settings)
    other = get_manager(user_id)

After (``factory = "app.core.factory.create_manager"``, ``factory-args = { cfg = "config" }``)::

    from app.core.factory import create_manager
    from app.core.legacy import get_manager

    manager = create_manager(user_id, config=settings)
    other = create_manager(user_id)

Calls are found through imports, ``as`` names, module attributes and module-level aliases bound
once (``M = Manager``; scope and qualified-name metadata, on files that passed the text pre-filter
only), never by text. A site is left alone and listed with a reason when the factory cannot take
its arguments, when the factory returns a shared instance and ``allow-shared`` is off, in the
factory's own module, in a ``factory-exempt`` file, where rewriting would import the factory into
a module it imports (a cycle), or where a string elsewhere (a ``mock.patch`` target) names the
class in that module. Dynamic construction (a module-level alias bound more than once included),
``functools.partial``, constructor references passed as values, subclass ``super().__init__``
calls and class methods of the class (``Manager.from_config()``, alternative constructors) are
listed, never rewritten. The reads of the repository (factory signature, lifetime, patch targets)
happen in :func:`build_codemod` and ``phases``; :meth:`FactoriesCodemod.transform` is pure.
"""

from ssot_migrate.codemods.factories.codemod import FactoriesCodemod, build_codemod
from ssot_migrate.codemods.factories.plan import TargetPlan
from ssot_migrate.codemods.factory_info import FactoryInfo, analyze_factory, shared_instance_reason

__all__ = [
    "FactoriesCodemod",
    "FactoryInfo",
    "TargetPlan",
    "analyze_factory",
    "build_codemod",
    "shared_instance_reason",
]

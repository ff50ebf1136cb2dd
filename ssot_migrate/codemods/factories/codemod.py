"""The phase 3 codemod (``FactoriesCodemod``) and how it is built from the configuration
(``build_codemod``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from ssot_migrate.codemods.factories.plan import TargetPlan, _plan_target
from ssot_migrate.codemods.factories.prefilter import _applies, _may_reference, _parse_ast
from ssot_migrate.codemods.factories.rewrite import _FileRewrite
from ssot_migrate.interfaces import (
    SnapshotLike,
)
from ssot_migrate.model import (
    CodemodResult,
    Config,
    NameKind,
    PhaseId,
    SourceFile,
)


@dataclass(frozen=True)
class FactoriesCodemod:
    """The phase-3 codemod: picklable, pure; built by :func:`build_codemod`."""

    plans: tuple[TargetPlan, ...]
    nothing_to_do: tuple[str, ...] = ()
    phase: str = field(default=PhaseId.FACTORIES.value)
    # ``module.Name`` paths quoted anywhere in the repository (``mock.patch`` targets): a call
    # of ``Name`` in ``module`` is what such a patch intercepts, so it is not silently bypassed.
    named_elsewhere: frozenset[str] = frozenset()

    def needles(self) -> frozenset[str]:
        """Last segment of every constructor, facade and legacy factory name."""
        names: set[str] = set()
        for plan in self.plans:
            names.update(plan.constructors)
            names.update(name for name, _ in plan.blocked)
            names.update(name for name, _ in plan.legacy)
        return frozenset(name.rpartition(".")[2] for name in names)

    def transform(self, source: bytes, file: SourceFile) -> CodemodResult:
        """Rewrite the constructor and legacy-factory calls of ``source`` (see the module doc)."""
        plans = [p for p in self.plans if _applies(p, file)]
        if not plans:
            return CodemodResult(source)
        tree = _parse_ast(source)
        if tree is not None and not _may_reference(tree, file, plans):
            return CodemodResult(source)
        module = cst.parse_module(source)
        return _FileRewrite(module, source, file, plans, self.named_elsewhere, tree).run()


def build_codemod(
    config: Config, snapshot: SnapshotLike, *, facades_done: bool = False
) -> FactoriesCodemod:
    """Read every target's factory (signature, lifetime) and facades; return the pure codemod.

    Targets without a ``factory`` do nothing and are named in ``nothing_to_do``. ``facades_done``
    says phase 2 already ran on this base (a facade still separate is one it kept on purpose).
    """
    plans: list[TargetPlan] = []
    idle: list[str] = []
    for target in config.targets:
        if target.factory is None:
            idle.append(f"nothing to do for target {target.name}: no factory configured")
            continue
        if target.canonical_kind == NameKind.MODULE:
            idle.append(
                f"nothing to do for target {target.name}: its canonical is a module, "
                "not a class a factory could build"
            )
            continue
        plans.append(_plan_target(target, snapshot, facades_done))
    return FactoriesCodemod(tuple(plans), tuple(idle))

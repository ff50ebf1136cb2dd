"""The phase-2 codemod: built from the repository's reads, pure afterwards."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from ssot_migrate.codemods._common import faithful_result
from ssot_migrate.codemods.doubles import DoublePlan, build_plans, rewrite_double
from ssot_migrate.codemods.facades.plan import FacadePlan, _plan_facade
from ssot_migrate.codemods.facades.rewrite import _rewrite_facade
from ssot_migrate.interfaces import SnapshotLike
from ssot_migrate.model import Change, CodemodResult, Config, NameKind, Note, PhaseId, SourceFile


@dataclass(frozen=True)
class FacadesCodemod:
    """The phase-2 codemod: picklable, pure; built by :func:`build_codemod`."""

    plans: tuple[FacadePlan, ...]
    nothing_to_do: tuple[str, ...] = ()
    phase: str = field(default=PhaseId.FACADES.value)
    doubles: tuple[DoublePlan, ...] = ()

    def needles(self) -> frozenset[str]:
        """The facade and test-double class names (a module names the classes it defines)."""
        return frozenset(p.class_name for p in self.plans) | frozenset(
            d.class_name for d in self.doubles
        )

    def transform(self, source: bytes, file: SourceFile) -> CodemodResult:
        """Rewrite the facade and test-double classes defined in ``source`` (module docstrings)."""
        plans = [p for p in self.plans if p.module == file.module]
        doubles = [d for d in self.doubles if d.module == file.module]
        if not plans and not doubles:
            return CodemodResult(source)
        original = module = cst.parse_module(source)
        changes: list[Change] = []
        notes: list[Note] = []
        for plan in plans:
            module = _rewrite_facade(module, plan, file, changes, notes)
        for double in doubles:
            module = rewrite_double(module, double, file, changes, notes)
        target = plans[0].target if plans else doubles[0].target
        return faithful_result(source, original, module, file, target, changes, notes)


def build_codemod(config: Config, snapshot: SnapshotLike) -> FacadesCodemod:
    """Compare every facade with its canonical, decide alias or delegation, return the codemod.

    Targets without ``facades`` do nothing and are named in ``nothing_to_do``.
    """
    plans: list[FacadePlan] = []
    idle: list[str] = []
    for target in config.targets:
        if not target.facades:
            if not target.test_doubles:
                idle.append(
                    f"nothing to do for target {target.name}: no facades or test doubles configured"
                )
            continue
        if target.canonical_kind == NameKind.MODULE:
            idle.append(
                f"nothing to do for target {target.name}: its canonical is a module, "
                "so there is no class to alias or delegate to"
            )
            continue
        for facade in target.facades:
            plan = _plan_facade(target, facade, snapshot)
            if isinstance(plan, str):
                idle.append(plan)  # no file to put the outcome at
            else:
                plans.append(plan)
    doubles, idle_doubles = build_plans(config, snapshot)
    return FacadesCodemod(tuple(plans), (*idle, *idle_doubles), doubles=doubles)

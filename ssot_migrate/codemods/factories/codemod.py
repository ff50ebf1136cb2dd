"""The phase 3 codemod (``FactoriesCodemod``) and how it is built from the configuration
(``build_codemod``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

import libcst as cst

from ssot_migrate.codemods.factories.plan import TargetPlan, _plan_target
from ssot_migrate.codemods.factories.prefilter import _may_reference, _parse_ast, handled_names
from ssot_migrate.codemods.factories.rewrite import _FileRewrite
from ssot_migrate.conventions import construction_expected
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
        handled, _prefixes, _each = self._names
        return frozenset(name.rpartition(".")[2] for name in handled)

    def transform(self, source: bytes, file: SourceFile) -> CodemodResult:
        """Rewrite the constructor and legacy-factory calls of ``source`` (see the module doc)."""
        left_out = self._left_out(file)
        plans = [p for i, p in enumerate(self.plans) if i not in left_out]
        if not plans:
            return CodemodResult(source)
        tree = _parse_ast(source)
        if tree is not None and not _may_reference(tree, file, *self._handled(left_out)):
            return CodemodResult(source)
        module = cst.parse_module(source)
        return _FileRewrite(module, source, file, plans, self.named_elsewhere, tree).run()

    # A thousand targets must not cost a thousand tests per file: the plans are grouped by what
    # decides whether they apply to a file, and the names they handle are counted once.

    @cached_property
    def _groups(self) -> tuple[tuple[str | None, tuple[str, ...], frozenset[int]], ...]:
        groups: dict[tuple[str | None, tuple[str, ...]], set[int]] = {}
        for index, plan in enumerate(self.plans):
            groups.setdefault((plan.factory.module, tuple(plan.exempt)), set()).add(index)
        return tuple((module, exempt, frozenset(ix)) for (module, exempt), ix in groups.items())

    def _left_out(self, file: SourceFile) -> set[int]:
        """The plans whose constructions are expected in ``file`` (its factory's own module, a
        ``factory-exempt`` file): no site of theirs is there."""
        left_out: set[int] = set()
        for module, exempt, indices in self._groups:
            if construction_expected(file.path, file.module, module, exempt):
                left_out |= indices
        return left_out

    @cached_property
    def _names(self) -> tuple[Counter[str], Counter[str], tuple[tuple[frozenset[str], ...], ...]]:
        handled: Counter[str] = Counter()
        prefixes: Counter[str] = Counter()
        each = []
        for plan in self.plans:
            names, ways = handled_names(plan)
            handled.update(names)
            prefixes.update(ways)
            each.append((names, ways))
        return handled, prefixes, tuple(each)

    def _handled(self, left_out: set[int]) -> tuple[set[str], set[str]]:
        """``handled_names`` of every plan but ``left_out``."""
        handled, prefixes, each = self._names
        if not left_out:
            return set(handled), set(prefixes)
        result = []
        for position, counts in enumerate((handled, prefixes)):
            gone: Counter[str] = Counter()
            for index in left_out:
                gone.update(each[index][position])
            result.append({name for name in counts if counts[name] > gone[name]})
        return result[0], result[1]


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

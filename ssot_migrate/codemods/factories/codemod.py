"""The phase 3 codemod (``FactoriesCodemod``) and how it is built from the configuration
(``build_codemod``).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import libcst as cst

from ssot_migrate.codemods.factories.plan import TargetPlan, _names_only_plan, _plan_target
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
    Target,
)
from ssot_migrate.pysyntax import words

# PEP 263's declaration: a codec other than UTF-8 could spell a name in other bytes.
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=]", re.MULTILINE)


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

    def plans_spelt_in(self, source: bytes, file: SourceFile) -> set[int]:
        """The plans a site in ``file`` can belong to: those not left out here that handle a
        name whose last segment ``file`` spells as a whole word.

        A site is a Name or Attribute node whose qualified name is a handled name: its last
        segment is spelt in the file, at the node or in the import that binds it (an ``as``
        name's imported name, a module alias's value), and never only inside a string (string
        annotations name types, not sites). A non-ASCII file, or one declaring its encoding, may
        spell a name in other bytes: every plan that applies to it counts.
        """
        applying = set(range(len(self.plans))) - self._left_out(file)
        if not source.isascii() or _CODING.search(source, 0, _second_line_end(source)):
            return applying
        found: set[int] = set()
        for word in words(source.decode("ascii")) & self._by_last_segment.keys():
            found |= self._by_last_segment[word]
        return found & applying

    @cached_property
    def _by_last_segment(self) -> dict[str, set[int]]:
        by_segment: dict[str, set[int]] = {}
        _handled, _prefixes, each = self._names
        for index, (names, _ways) in enumerate(each):
            for name in names:
                segment = name.rpartition(".")[2]
                by_segment.setdefault(segment, set()).add(index)
        return by_segment

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


class _SearchableSnapshot(SnapshotLike, Protocol):
    """What :func:`build_codemod` reads: ``engine.Snapshot``'s files, search and module names."""

    def grep(self, needles: frozenset[str]) -> list[str]: ...

    def source_file(self, path: str) -> SourceFile: ...


def build_codemod(
    config: Config, snapshot: _SearchableSnapshot, *, facades_done: bool = False
) -> FactoriesCodemod:
    """Read every target's factory (signature, lifetime) and facades; return the pure codemod.

    Targets without a ``factory`` do nothing and are named in ``nothing_to_do``. ``facades_done``
    says phase 2 already ran on this base (a facade still separate is one it kept on purpose).
    A target no file can hold a site of (``FactoriesCodemod.plans_spelt_in`` of every file the
    engine will transform) keeps a plan of its names only: its factory, class and facades are
    never consulted, and reading them is most of the cost of a thousand targets.
    """
    idle: list[str] = []
    wanted: list[Target] = []
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
        wanted.append(target)
    names_only = FactoriesCodemod(tuple(_names_only_plan(t) for t in wanted), tuple(idle))
    plans = list(names_only.plans)
    for index in sorted(_plans_with_possible_sites(names_only, snapshot)):
        plans[index] = _plan_target(wanted[index], snapshot, facades_done)
    return FactoriesCodemod(tuple(plans), tuple(idle))


def _plans_with_possible_sites(
    codemod: FactoriesCodemod, snapshot: _SearchableSnapshot
) -> set[int]:
    """``plans_spelt_in`` over the files the engine will transform: those its text pre-filter
    (the same ``needles``, so the same memoised search) lets through."""
    found: set[int] = set()
    everything = set(range(len(codemod.plans)))
    for path in snapshot.grep(codemod.needles()):
        try:
            source = snapshot.read(path)
        except Exception:  # the engine lists it as skipped; counted as spelling everything
            return everything
        found |= codemod.plans_spelt_in(source, snapshot.source_file(path))
        if found == everything:
            break
    return found


def _second_line_end(source: bytes) -> int:
    """Where PEP 263 stops looking for an encoding declaration: the end of the second line."""
    first = source.find(b"\n")
    second = source.find(b"\n", first + 1) if first >= 0 else -1
    return len(source) if second < 0 else second

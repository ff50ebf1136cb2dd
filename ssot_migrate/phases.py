"""The three phases, in order, and how each one's codemod is built from the configuration.

Order matters and is fixed: imports first (so facades and factories are then reached through one
path), facades second (so phase 3 sees the canonical class behind every facade), factories last.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ssot_migrate.codemods.base import Codemod
from ssot_migrate.config import with_discovered
from ssot_migrate.errors import UsageError
from ssot_migrate.model import Config, FileOutcome, Target

if TYPE_CHECKING:
    from ssot_migrate.engine import Snapshot

PHASES: dict[str, str] = {"phase1": "imports", "phase2": "facades", "phase3": "factories"}


ROLLBACKS: tuple[str, ...] = tuple(f"rollback-{phase}" for phase in PHASES)


def branch_name(config: Config, phase: str) -> str:
    """``<prefix>phase1-imports`` and so on; ``<prefix>rollback-phase1`` for a revert."""
    if phase in ROLLBACKS:
        return f"{config.branch_prefix}{phase}"
    return f"{config.branch_prefix}{phase}-{PHASES[phase]}"


@dataclass(frozen=True)
class PhasePlan:
    """A ready-to-run codemod plus what was learnt while building it."""

    codemod: Codemod
    config: Config
    discovered: tuple[tuple[str, str], ...] = ()
    messages: tuple[str, ...] = ()
    elapsed: float = 0.0
    extra_outcomes: tuple[FileOutcome, ...] = ()  # changes to files no codemod parses


def build_plan(phase: str, config: Config, snapshot: Snapshot) -> PhasePlan:
    """Build ``phase``'s codemod; reads the repository (through ``snapshot``) only here."""
    if phase not in PHASES:
        raise UsageError(f"unknown phase {phase!r}; expected one of {', '.join(PHASES)}")
    started = time.perf_counter()
    discovered: tuple[tuple[str, str], ...] = ()
    # Phase 1 rewrites re-export paths away; phase 3 must recognise constructor calls made
    # through them. Phase 2 works on the configured facade classes only.
    if phase in ("phase1", "phase3") and any(t.discover_aliases for t in config.targets):
        config, discovered = _discover(config, snapshot)
    if phase == "phase1":
        codemod: Codemod = _imports_codemod(config.targets, snapshot)
        extra: tuple[FileOutcome, ...] = ()
        messages: tuple[str, ...] = ()
        if config.guard is not None:
            extra, message = _guard_outcome(config, snapshot)
            messages = (message,)
        return PhasePlan(
            codemod, config, discovered, messages, time.perf_counter() - started, extra
        )
    if phase == "phase2":
        codemod = _phase2_codemod(config, snapshot)
    else:
        from ssot_migrate.codemods import factories
        from ssot_migrate.gitlayer.branches import phase_commit_in_history

        # On phase 2's branch (or after it merged) a facade still separate is one phase 2 kept.
        facades_done = phase_commit_in_history(snapshot.files.repo_path, "phase2", snapshot.commit)
        built = factories.build_codemod(config, snapshot, facades_done=facades_done is not None)
        codemod = dataclasses.replace(
            built, named_elsewhere=named_in_strings(snapshot, built.needles())
        )
    messages = tuple(getattr(codemod, "nothing_to_do", ()))
    return PhasePlan(codemod, config, discovered, messages, time.perf_counter() - started)


def _phase2_codemod(config: Config, snapshot: Snapshot) -> Codemod:
    """Facades and test doubles, then the imports of every facade that became an alias.

    Once ``Facade = Canonical``, an import of the facade's path is a legacy import like any
    other: moving its importers to the canonical in the same branch keeps phase 2 from adding
    the violations phase 1 removed.
    """
    from ssot_migrate.codemods import facades
    from ssot_migrate.codemods.base import ChainedCodemod
    from ssot_migrate.discovery import find_all_paths

    built = facades.build_codemod(config, snapshot)
    aliased: dict[str, list[str]] = {}
    for plan in built.plans:
        if plan.mode == "alias":
            aliased.setdefault(plan.target, []).append(plan.facade)
    if not aliased:
        return built
    # Re-exports of the facade (``from .conn import Facade`` in a package) become legacy paths
    # too; the facade's own path is found as the "canonical" one. One search for every facade.
    roots = [
        dataclasses.replace(target, canonical=facade, aliases=(), discovered_aliases=())
        for target in config.targets
        for facade in aliased.get(target.name, ())
    ]
    reexports: dict[tuple[str, str], list[str]] = {
        (root.name, root.canonical): [p.dotted for p in found if p.origin == "discovered"]
        for root, found in zip(roots, find_all_paths(roots, snapshot))
    }
    targets: list[Target] = []
    for target in config.targets:
        if target.name not in aliased:
            continue
        paths = list(aliased[target.name])
        for facade in aliased[target.name]:
            paths += reexports[(target.name, facade)]
        targets.append(
            dataclasses.replace(
                target,
                aliases=tuple(dict.fromkeys(paths)),
                discover_aliases=False,
                discovered_aliases=(),
                facades=(),
                test_doubles=(),
            )
        )
    moved = _imports_codemod(targets, snapshot)
    return ChainedCodemod("phase2", (built, moved), built.nothing_to_do)


def _imports_codemod(targets: Sequence[Target], snapshot: Snapshot) -> Codemod:
    """Phase 1's codemod for ``targets``, told which consumer names strings elsewhere patch."""
    from ssot_migrate.codemods._common import AliasTable
    from ssot_migrate.codemods.imports import ImportsCodemod

    needles = AliasTable(targets).needles()  # what ImportsCodemod.needles() answers
    return ImportsCodemod(targets, named_in_strings(snapshot, needles))


def build_codemod(phase: str, config: Config, snapshot: Snapshot) -> Codemod:
    """The codemod of ``phase`` for ``config`` (see ``build_plan`` for the details)."""
    return build_plan(phase, config, snapshot).codemod


def _discover(config: Config, snapshot: Snapshot) -> tuple[Config, tuple[tuple[str, str], ...]]:
    from ssot_migrate.discovery import discover_aliases

    found = discover_aliases(config, snapshot)
    discovered = tuple(
        (t.name, alias)
        for t in found.targets
        for alias in t.discovered_aliases
        if alias not in t.aliases
    )
    by_target: dict[str, list[str]] = {}
    for name, alias in discovered:
        by_target.setdefault(name, []).append(alias)
    return with_discovered(config, by_target), discovered


def _guard_outcome(config: Config, snapshot: Snapshot) -> tuple[tuple[FileOutcome, ...], str]:
    """``guard = "ruff"|"import-linter"``: phase 1's commit also writes the guard configuration.

    The configuration files are read from the base commit, like the sources.
    """
    from ssot_migrate.guard import guard_outcome, legacy_sites_of

    assert config.guard is not None

    def read(path: str) -> bytes | None:
        try:
            return snapshot.files.read(path)
        except KeyError:
            return None

    try:
        sites = legacy_sites_of(config, snapshot) if config.guard == "import-linter" else []
        result = guard_outcome(config.guard, config, snapshot, read, sites)
    except UsageError as exc:
        return (), f"guard: not written ({exc}); fix that, then run 'ssot-migrate guard --write {config.guard}'"
    missing = sorted(path for path, (before, _after) in result.files.items() if before is None)
    if missing:
        # A phase's diff changes files; it does not create configuration files.
        return (), (
            f"guard: no {', '.join(missing)} at the base commit; "
            f"run 'ssot-migrate guard --write {config.guard}' after creating one"
        )
    outcomes = tuple(
        FileOutcome(path, "changed", before=before or b"", after=after)
        for path, (before, after) in sorted(result.files.items())
        if before != after
    )
    if not outcomes:
        return (), f"guard: the {config.guard} guard is already in place"
    written = ", ".join(o.path for o in outcomes)
    return outcomes, f"guard: the {config.guard} guard is added to {written}"


# A quoted dotted path: ``"app.chat.WebSocketManager"``, ``'pkg.mod.Name.method'``.
_QUOTED_DOTTED = re.compile(rb"""["']([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)["']""")


def named_in_strings(snapshot: Snapshot, needles: Iterable[str]) -> frozenset[str]:
    """Every ``module.Name`` prefix, ``Name`` a needle, of a dotted path quoted in a selected file.

    Tests name a consumer's attributes by string (``mock.patch("app.chat.WebSocketManager")``);
    a codemod that renames or removes that attribute must know, and the files that can hold such
    a string are exactly those containing a needle (one ``git grep``, no parsing).
    """
    wanted = frozenset(needles)
    hits, unreadable = snapshot.files.grep(wanted)
    selected = set(snapshot.paths)
    found: set[str] = set()
    for path in sorted((hits - unreadable) & selected):
        for match in _QUOTED_DOTTED.finditer(snapshot.read(path)):
            parts = match.group(1).decode("ascii").split(".")
            found.update(".".join(parts[: i + 1]) for i in range(1, len(parts)) if parts[i] in wanted)
    return frozenset(found)

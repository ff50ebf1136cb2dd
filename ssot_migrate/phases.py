"""The phase registry: which phases exist, in which order, and how each one's codemod is built.

Each phase is one ``Phase`` record: its id (the CLI command, the ``SSOT-Phase`` trailer), the
slug its branch is named after, the commit title, the CLI help and the function that builds its
codemod from the configuration and the base commit. The CLI registers one command per record,
the workflow orders branches by ``REGISTRY``, the commit message takes its title from it; the
engine runs whatever codemod it is given.

The codemod modules are imported when a phase is built, not here: the CLI reads this registry
at start-up for its help, and start-up must not load libcst.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ssot_migrate.codemods.base import Codemod
from ssot_migrate.errors import UsageError
from ssot_migrate.model import Config, FileOutcome, PhaseId, RunSummary, Target

if TYPE_CHECKING:
    from ssot_migrate.engine import Snapshot


@dataclass(frozen=True)
class Built:
    """What a phase's builder returns: the codemod, lines for the summary, files no codemod parses."""

    codemod: Codemod
    messages: tuple[str, ...] = ()
    extra_outcomes: tuple[FileOutcome, ...] = ()


@dataclass(frozen=True)
class Phase:
    """One phase: how it is named everywhere and how its codemod is built."""

    id: str
    slug: str  # the branch is ``<prefix><id>-<slug>``
    title: str  # the commit subject after ``ssot-migrate <id> (<slug>): ``
    help: str  # the CLI command's help
    build: Callable[[Config, Snapshot], Built]
    # Rewrites (or must recognise) re-export paths ``scan`` finds: the configuration is
    # completed with them before ``build`` runs (see ``discover-aliases``).
    discovers_aliases: bool = False

    @property
    def branch_suffix(self) -> str:
        """``phase1-imports``: what the phase's branch name ends with after the prefix."""
        return f"{self.id}-{self.slug}"


@dataclass(frozen=True)
class PhasePlan:
    """A ready-to-run codemod plus what was learnt while building it."""

    codemod: Codemod
    config: Config
    discovered: tuple[tuple[str, str], ...] = ()
    messages: tuple[str, ...] = ()
    elapsed: float = 0.0
    extra_outcomes: tuple[FileOutcome, ...] = ()  # changes to files no codemod parses


# --------------------------------------------------------------------------- the builders


def _build_imports(config: Config, snapshot: Snapshot) -> Built:
    codemod = _imports_codemod(config.targets, snapshot)
    if config.guard is None:
        return Built(codemod)
    extra, message = _guard_outcome(config, snapshot)
    return Built(codemod, (message,), extra)


def _build_facades(config: Config, snapshot: Snapshot) -> Built:
    codemod = _phase2_codemod(config, snapshot)
    return Built(codemod, tuple(getattr(codemod, "nothing_to_do", ())))


def _build_factories(config: Config, snapshot: Snapshot) -> Built:
    from ssot_migrate.codemods import factories
    from ssot_migrate.gitlayer.branches import phase_commit_in_history

    # On phase 2's branch (or after it merged) a facade still separate is one phase 2 kept.
    facades_done = phase_commit_in_history(
        snapshot.files.repo_path, PhaseId.FACADES.value, snapshot.commit
    )
    built = factories.build_codemod(config, snapshot, facades_done=facades_done is not None)
    codemod = dataclasses.replace(
        built, named_elsewhere=named_in_strings(snapshot, built.needles())
    )
    return Built(codemod, codemod.nothing_to_do)


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
    return ChainedCodemod(PhaseId.FACADES.value, (built, moved), built.nothing_to_do)


def _imports_codemod(targets: Sequence[Target], snapshot: Snapshot) -> Codemod:
    """Phase 1's codemod for ``targets``, told which consumer names strings elsewhere patch."""
    from ssot_migrate.codemods._common import AliasTable
    from ssot_migrate.codemods.imports import ImportsCodemod

    needles = AliasTable(targets).needles()  # what ImportsCodemod.needles() answers
    return ImportsCodemod(targets, named_in_strings(snapshot, needles))


def _discover(config: Config, snapshot: Snapshot) -> tuple[Config, tuple[tuple[str, str], ...]]:
    from ssot_migrate.config import with_discovered
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
    from ssot_migrate.guard import guard_outcome
    from ssot_migrate.guard_plan import legacy_sites_of

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
        return (
            (),
            f"guard: not written ({exc}); fix that, then run 'ssot-migrate guard --write {config.guard}'",
        )
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
            found.update(
                ".".join(parts[: i + 1]) for i in range(1, len(parts)) if parts[i] in wanted
            )
    return frozenset(found)


# The order is fixed, and each phase is built for the one before it:
REGISTRY: tuple[Phase, ...] = (
    # Imports first, so that facades and factories are then reached through one path.
    Phase(
        id=PhaseId.IMPORTS.value,
        slug="imports",
        title="rewrite legacy imports to their canonical paths",
        help="Rewrite every import and reference of a legacy path to the canonical path.",
        build=_build_imports,
        discovers_aliases=True,  # the re-export paths are rewritten away like aliases
    ),
    # Facades second, so that phase 3 sees the canonical class behind every facade; it moves
    # the importers of a facade it turns into an alias itself (phase 1 has run already).
    Phase(
        id=PhaseId.FACADES.value,
        slug="facades",
        title="collapse facade classes onto the canonical class; conform test doubles",
        help="Collapse facade classes into aliases of, or thin delegations to, the canonical class.",
        build=_build_facades,
    ),
    # Factories last: constructor calls are found through every path phase 1 rewrote, and a
    # facade still separate after phase 2 is one phase 2 kept on purpose.
    Phase(
        id=PhaseId.FACTORIES.value,
        slug="factories",
        title="route instantiation through the canonical factory",
        help="Replace direct instantiation and legacy factories with the canonical factory.",
        build=_build_factories,
        discovers_aliases=True,  # constructor calls made through re-export paths count too
    ),
)
BY_ID: dict[str, Phase] = {phase.id: phase for phase in REGISTRY}
IDS: tuple[str, ...] = tuple(BY_ID)
ROLLBACKS: tuple[str, ...] = tuple(f"rollback-{phase}" for phase in IDS)


def get(phase: str) -> Phase:
    """The record of ``phase`` (``phase1``...); a ``UsageError`` naming the known ones else."""
    try:
        return BY_ID[phase]
    except KeyError:
        raise UsageError(f"unknown phase {phase!r}; expected one of {', '.join(IDS)}") from None


def earlier(phase: str) -> tuple[Phase, ...]:
    """The phases that run before ``phase``, in order."""
    return REGISTRY[: IDS.index(phase)]


def later(phase: str) -> tuple[Phase, ...]:
    """The phases that run after ``phase``, in order."""
    return REGISTRY[IDS.index(phase) + 1 :]


def branch_name(config: Config, phase: str) -> str:
    """``<prefix>phase1-imports`` and so on; ``<prefix>rollback-phase1`` for a revert."""
    if phase in ROLLBACKS:
        return f"{config.branch_prefix}{phase}"
    return f"{config.branch_prefix}{BY_ID[phase].branch_suffix}"


def build_plan(phase: str, config: Config, snapshot: Snapshot) -> PhasePlan:
    """Build ``phase``'s codemod; reads the repository (through ``snapshot``) only here."""
    record = get(phase)
    started = time.perf_counter()
    discovered: tuple[tuple[str, str], ...] = ()
    if record.discovers_aliases and any(t.discover_aliases for t in config.targets):
        config, discovered = _discover(config, snapshot)
    built = record.build(config, snapshot)
    return PhasePlan(
        built.codemod,
        config,
        discovered,
        built.messages,
        time.perf_counter() - started,
        built.extra_outcomes,
    )


def build_codemod(phase: str, config: Config, snapshot: Snapshot) -> Codemod:
    """The codemod of ``phase`` for ``config`` (see ``build_plan`` for the details)."""
    return build_plan(phase, config, snapshot).codemod


def compute_phase(
    config: Config,
    phase: str,
    *,
    base: str = "HEAD",
    jobs: int | None = None,
    progress: bool = False,
    snapshot: Snapshot | None = None,
) -> RunSummary:
    """Build ``phase``'s codemod for ``config`` and run it over the repository at ``base``.

    Writes nothing: the outcomes are what ``--dry-run`` prints and what a branch commits.
    """
    from ssot_migrate.engine import Snapshot, run_codemod

    owned = snapshot is None
    snap = snapshot if snapshot is not None else Snapshot.open(config.repo, config, base)
    try:
        plan = build_plan(phase, config, snap)
        summary = run_codemod(snap, plan.codemod, jobs=jobs, progress=progress, phase=phase)
    finally:
        if owned:
            snap.close()
    outcomes = tuple(sorted((*summary.outcomes, *plan.extra_outcomes), key=lambda o: o.path))
    return RunSummary(
        phase=summary.phase,
        outcomes=outcomes,
        files_listed=summary.files_listed,
        files_parsed=summary.files_parsed,
        elapsed=summary.elapsed + plan.elapsed,
        discovered=plan.discovered,
        excluded=summary.excluded,
        messages=plan.messages + config.lookup_notes,
        base=summary.base,
        warnings=config.warnings,
    )


@dataclass(frozen=True)
class BaseChoice:
    """Where a phase starts: the commit, what it is called, and the line it merges into."""

    commit: str
    label: str
    mainline: str
    stacked_on: str | None = None


def choose_base(
    repo: Path, config: Config, phase: str, base: str, *, base_sha: str | None = None
) -> BaseChoice:
    """Phase N's base: the nearest earlier phase branch not merged into ``base``, else ``base``.

    ``base_sha``: ``base``'s commit when the caller has resolved it already (one git call less).
    """
    from ssot_migrate.gitlayer import branches as refs  # git only when a base is chosen
    from ssot_migrate.record import Trailers

    base_sha = base_sha or refs.resolve(repo, base)
    if base_sha is None:
        raise UsageError(f"--base {base!r}: not a commit of this repository")
    mainline = refs.symbolic_name(repo, base) or base_sha
    for before in reversed(earlier(phase)):
        name = branch_name(config, before.id)
        tip = refs.branch_tip(repo, name)
        if tip is not None and not refs.is_merged(repo, tip, base_sha):
            info = refs.commit_info(repo, tip)
            recorded = Trailers.parse(info.trailers).mainline
            return BaseChoice(tip, name, mainline if recorded is None else recorded, name)
    return BaseChoice(base_sha, base, mainline)


def describe_base(phase: str, choice: BaseChoice) -> str:
    """The line that says which base a phase (branch or ``--dry-run``) starts from."""
    label = choice.stacked_on or choice.mainline.removeprefix("refs/heads/")
    return f"{phase}: base {choice.commit[:12]} ({label})" + (
        f", stacked on {choice.stacked_on}" if choice.stacked_on else ""
    )

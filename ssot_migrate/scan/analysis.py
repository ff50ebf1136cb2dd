"""Measure every SSOT violation of the configured targets, statically, with evidence per site.

Analysis only: nothing is written and nothing of the project is imported. One pass over the
files that can be involved (the engine's text pre-filter and process pool) collects per-file
facts; the main process then turns them into categories::

    legacy-import             every reference phase 1 would rewrite (its own codemod, in analysis mode)
    dual-import               files reaching the object through the canonical path and an alias
    import-paths              distinct dotted paths consumers use to reach the object ("N should be 1")
    duplicate-implementation  classes competing with the canonical (listed facades, stem, overlap)
    facade                    classes holding an instance of the canonical and forwarding to it
    direct-instantiation      constructor calls outside the factory; calls of legacy factories
    interface-drift           duplicates, facades and test doubles whose interface differs
    stale-patch-target        mock.patch/monkeypatch strings naming an alias or nothing at all
    patch-seam                patches of a path nothing reads any more (consumers moved on)

Per-file facts are gathered by ``facts.py`` (in the engine's worker processes); this module
assembles them into categories, with the class categories in ``classes.py``, the patch ones in
``patches.py`` and each finding recorded through ``sites.py``. Rendering lives in ``report.py``; this module returns values only.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ssot_migrate.codemods._common import canonical_module
from ssot_migrate.config import with_discovered
from ssot_migrate.config_schema import DUPLICATE_OVERLAP
from ssot_migrate.discovery import ImportPath, find_all_paths, first_search
from ssot_migrate.interfaces import InterfaceComparison, LocatedClass, locate_class
from ssot_migrate.model import Config, NameKind, Note, Target
from ssot_migrate.scan.classes import ClassFindings
from ssot_migrate.scan.facts import ScanAnalyser
from ssot_migrate.scan.patches import PatchFindings
from ssot_migrate.scan.sites import Site, SiteRecorder
from ssot_migrate.scan.spec import TargetSpec, build_spec, matches

__all__ = ["CATEGORIES", "DESCRIPTIONS", "SCHEMA_VERSION", "ScanReport", "Site", "TargetReport"]

SCHEMA_VERSION = 1

CATEGORIES: tuple[str, ...] = (
    "legacy-import",
    "dual-import",
    "import-paths",
    "duplicate-implementation",
    "facade",
    "direct-instantiation",
    "interface-drift",
    "stale-patch-target",
    "patch-seam",
)

DESCRIPTIONS: dict[str, str] = {
    "legacy-import": "import or reference of a legacy (alias) path",
    "dual-import": "file reaching the object through both the canonical path and an alias",
    "import-paths": "distinct dotted paths through which the canonical object is reached (should be 1)",
    "duplicate-implementation": "class competing with the canonical implementation",
    "facade": "class holding an instance of the canonical and forwarding calls to it",
    "direct-instantiation": "construction outside the canonical factory, or a legacy factory call",
    "interface-drift": "duplicate, facade or test double whose interface differs from the canonical",
    "stale-patch-target": "mock.patch / monkeypatch target naming an alias or nothing that exists",
    "patch-seam": "patch of a path nothing reads any more, so it intercepts nothing",
}


@dataclass(frozen=True)
class TargetReport:
    """One target's figures: counts per category, the paths to the object, the verdict."""

    target: str
    canonical: str
    counts: dict[str, int]
    paths: tuple[ImportPath, ...]
    used_paths: tuple[str, ...]
    implementation_files: int
    drift: tuple[InterfaceComparison, ...] = ()

    @property
    def violations(self) -> dict[str, int]:
        """Counts that must be zero when consolidated (``import-paths``: the excess over one)."""
        result = dict(self.counts)
        result["import-paths"] = max(0, self.counts.get("import-paths", 0) - 1)
        return result

    @property
    def verdict(self) -> str:
        """``consolidated`` when nothing is left to do, else ``violations``."""
        return "consolidated" if not any(self.violations.values()) else "violations"


@dataclass(frozen=True)
class ScanReport:
    """Everything ``scan`` found at one commit; rendered by ``report.py``."""

    commit: str
    targets: tuple[TargetReport, ...]
    sites: tuple[Site, ...]
    skipped: tuple[tuple[str, str, int], ...] = ()
    files_listed: int = 0
    files_parsed: int = 0
    elapsed: float = 0.0
    warnings: tuple[str, ...] = ()  # configured names found nowhere (``Config.warnings``)

    def counts(self) -> dict[str, int]:
        """Total per category over all targets, every category present (zeros included)."""
        totals = {category: 0 for category in CATEGORIES}
        for target in self.targets:
            for category, value in target.counts.items():
                totals[category] = totals.get(category, 0) + value
        return totals

    def violations(self) -> dict[str, int]:
        """Like :meth:`counts` but only what must reach zero (``import-paths`` above one)."""
        totals = {category: 0 for category in CATEGORIES}
        for target in self.targets:
            for category, value in target.violations.items():
                totals[category] = totals.get(category, 0) + value
        return totals

    @property
    def verdict(self) -> str:
        """``consolidated`` when every target is."""
        ok = all(t.verdict == "consolidated" for t in self.targets)
        return "consolidated" if ok else "violations"


def scan_repository(
    config: Config,
    *,
    base: str = "HEAD",
    jobs: int | None = None,
    progress: bool = False,
    overlap: float | None = None,
) -> ScanReport:
    """Scan ``config.repo`` at ``base`` for every category; see :func:`scan_snapshot`."""
    from ssot_migrate.engine import Snapshot

    with Snapshot.open(config.repo, config, base) as snapshot:
        return scan_snapshot(config, snapshot, jobs=jobs, progress=progress, overlap=overlap)


def scan_snapshot(
    config: Config,
    snapshot: Any,
    *,
    jobs: int | None = None,
    progress: bool = False,
    overlap: float | None = None,
) -> ScanReport:
    """Scan an open ``engine.Snapshot``: discovery, one pooled pass, then per-target assembly."""
    from ssot_migrate.engine import run_codemod

    started = time.perf_counter()
    # One ``git grep`` for what discovery and the analyser search (every configured name, the
    # factories, stems, doubles, ``import *``): both are then answered from its hits
    # (``CommitFiles.grep``), not by a second pass of git over the whole commit each.
    configured = [
        build_spec(t, [ImportPath(t.name, alias, "configured") for alias in t.aliases])
        for t in config.targets
    ]
    snapshot.grep(first_search(config.targets) | ScanAnalyser(configured).needles())
    paths_by_target: dict[str, list[ImportPath]] = {}
    for target, found in zip(config.targets, find_all_paths(config.targets, snapshot, jobs=jobs)):
        if not target.discover_aliases:
            found = [p for p in found if p.origin != "discovered"]
        paths_by_target[target.name] = found
    discovered = {
        name: [p.dotted for p in found if p.origin == "discovered"]
        for name, found in paths_by_target.items()
    }
    config = with_discovered(config, discovered)
    # Where each canonical class is; its interface is read only for a target with a class to
    # compare with it (most of a thousand targets have none).
    canonicals: dict[str, LocatedClass | None] = {}
    specs = []
    for target in config.targets:
        canonical = None
        if target.canonical_kind == NameKind.SYMBOL:
            canonical = locate_class(snapshot, target.canonical)
        canonicals[target.name] = canonical
        # The share of public methods that makes a class a duplicate: the caller's, else the
        # target's ``duplicate-overlap``, else 50%.
        share = (
            overlap if overlap is not None else float(target.duplicate_overlap or DUPLICATE_OVERLAP)
        )
        specs.append(build_spec(target, paths_by_target[target.name], share))
    analyser = ScanAnalyser(specs)
    summary = run_codemod(snapshot, analyser, jobs=jobs, progress=progress, phase="scan")
    assembler = _Assembler(snapshot, config, specs, paths_by_target, canonicals)
    notes_by_target: dict[str, list[Note]] = {}
    for note in summary.notes:
        notes_by_target.setdefault(note.target, []).append(note)
    targets = tuple(
        assembler.target_report(t, notes_by_target.get(t.name, ())) for t in config.targets
    )
    sites = tuple(sorted(assembler.sites, key=lambda s: (s.path, s.line, s.column, s.category)))
    return ScanReport(
        commit=snapshot.commit,
        targets=targets,
        sites=sites,
        skipped=tuple((o.path, o.reason, o.line) for o in summary.skipped),
        files_listed=summary.files_listed,
        files_parsed=summary.files_parsed,
        elapsed=time.perf_counter() - started,
        warnings=config.warnings,
    )


class _Assembler:
    """Turns the notes of one pooled pass into each target's sites and counts."""

    def __init__(
        self,
        snapshot: Any,
        config: Config,
        specs: Sequence[TargetSpec],
        paths_by_target: dict[str, list[ImportPath]],
        canonicals: dict[str, LocatedClass | None],
    ) -> None:
        self.snapshot = snapshot
        self.config = config
        self.paths_by_target = paths_by_target
        self.recorder = SiteRecorder(snapshot)
        self.add = self.recorder.add
        self.sites = self.recorder.sites
        self._specs = {spec.name: spec for spec in specs}
        self._classes = ClassFindings(snapshot, self.recorder, canonicals)
        self._patches = PatchFindings(snapshot, self.recorder)
        self._canonical_files: set[str | None] | None = None

    def target_report(self, target: Target, notes: Sequence[Note]) -> TargetReport:
        spec = self._specs[target.name]
        mine = [n for n in notes if n.target == target.name]
        counts = {category: 0 for category in CATEGORIES}
        legacy = set(spec.legacy)
        uses = [n for n in mine if n.kind == "path-use"]

        # A legacy reference: an import, attribute chain or patch string naming an alias path
        # (the same references phase 1 rewrites; a local name's later uses are not counted).
        patches = [n for n in mine if n.kind == "patch-target"]
        # Phase 1 never rewrites a module that defines a canonical (the source of truth).
        sources = self._sources()
        for n in sorted([*uses, *patches], key=lambda n: (n.path, n.line, n.column)):
            alias = n.message if n.kind == "path-use" else matches(n.message, spec.legacy, True)
            if alias is None or alias not in legacy or n.path in sources:
                continue
            how = "imports" if n.kind == "path-use" else "patches"
            self.add(
                "legacy-import",
                target.name,
                n.path,
                n.line,
                n.column,
                f"{how} legacy path {alias}; canonical is {target.canonical}",
                (("alias", alias),),
            )
            counts["legacy-import"] += 1

        by_file: dict[str, set[str]] = {}
        for n in uses:
            by_file.setdefault(n.path, set()).add(n.message)
        for path, used in sorted(by_file.items()):
            if target.canonical in used and used & legacy:
                first = min(
                    (n for n in uses if n.path == path and n.message in legacy),
                    key=lambda n: (n.line, n.column),
                )
                names = ", ".join(sorted(used & legacy))
                self.add(
                    "dual-import",
                    target.name,
                    path,
                    first.line,
                    first.column,
                    f"imports {target.canonical} and legacy {names}",
                )
                counts["dual-import"] += 1

        used_paths = sorted({n.message for n in uses} | {target.canonical})
        counts["import-paths"] = len(used_paths)
        known = {p.dotted: p for p in self.paths_by_target[target.name]}
        if len(used_paths) > 1:
            for dotted_path in used_paths:
                if dotted_path == target.canonical:
                    continue
                users = sorted(n.path for n in uses if n.message == dotted_path)
                first = min(
                    (n for n in uses if n.message == dotted_path), key=lambda n: (n.path, n.line)
                )
                origin = known[dotted_path].origin if dotted_path in known else "configured"
                self.add(
                    "import-paths",
                    target.name,
                    first.path,
                    first.line,
                    first.column,
                    f"{dotted_path} ({origin}) reaches {target.canonical}; "
                    f"used by {len(set(users))} file(s)",
                    (("path", dotted_path), ("origin", origin)),
                )

        calls = [n for n in mine if n.kind == "direct-instantiation"]
        for n in calls:
            self.add("direct-instantiation", target.name, n.path, n.line, n.column, n.message)
        counts["direct-instantiation"] = len(calls)

        drift, implementation_files = self._classes.check(target, spec, mine, counts)
        self._patches.check(target, spec, mine, uses, counts)
        return TargetReport(
            target=target.name,
            canonical=target.canonical,
            counts=counts,
            paths=tuple(self.paths_by_target[target.name]),
            used_paths=tuple(used_paths),
            implementation_files=implementation_files,
            drift=tuple(drift),
        )

    def _sources(self) -> set[str | None]:
        """The files defining some target's canonical (worked out once for all targets)."""
        if self._canonical_files is None:
            self._canonical_files = {
                self.snapshot.path_for_module(canonical_module(t)) for t in self.config.targets
            }
        return self._canonical_files

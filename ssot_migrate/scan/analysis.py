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
assembles them into categories. Rendering lives in ``report.py``; this module returns values only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ssot_migrate import discovery
from ssot_migrate.codemods._common import canonical_module
from ssot_migrate.config import with_discovered
from ssot_migrate.conventions import is_test_path
from ssot_migrate.discovery import ImportPath, find_all_paths, parse_source
from ssot_migrate.interfaces import (
    ClassInterface,
    InterfaceComparison,
    compare,
    compare_double,
    extract_interface,
    find_class,
    load_class,
    module_imports,
    parse_file,
)
from ssot_migrate.model import Config, NameKind, Note, Target
from ssot_migrate.scan.facts import (
    DEFAULT_OVERLAP,
    ScanAnalyser,
    TargetSpec,
    build_spec,
    matches,
)

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
class Site:
    """One finding: where, for which target and category, the code line and what is wrong."""

    category: str
    target: str
    path: str
    line: int
    column: int
    message: str
    code: str = ""
    details: tuple[tuple[str, str], ...] = ()


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
    canonicals: dict[str, ClassInterface | None] = {}
    specs = []
    for target in config.targets:
        canonical = None
        if target.canonical_kind == NameKind.SYMBOL:
            canonical = load_class(snapshot, target.canonical)
        canonicals[target.name] = canonical
        # The share of public methods that makes a class a duplicate: the caller's, else the
        # target's ``duplicate-overlap``, else 50%.
        share = (
            overlap if overlap is not None else float(target.duplicate_overlap or DEFAULT_OVERLAP)
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


class _Interfaces:
    """Class interfaces for the main process, each file parsed once and each class read once.

    ``interfaces.load_class`` re-parses a file (and computes positions for all of it) per class;
    with dozens of candidate classes that is most of a scan. Re-exports and anything unusual are
    still handed to ``load_class``.
    """

    def __init__(self, snapshot: Any) -> None:
        self.snapshot = snapshot
        self._modules: dict[str, Any] = {}
        self._classes: dict[str, ClassInterface | None] = {}
        self._loading: set[str] = set()

    def _module(self, path: str) -> Any:
        if path not in self._modules:
            self._modules[path] = parse_file(self.snapshot, path)
        return self._modules[path]

    def load(self, dotted_name: str) -> ClassInterface | None:
        """The interface of class ``dotted_name`` (``None``: not a class of the repository)."""
        if dotted_name in self._classes:
            return self._classes[dotted_name]
        if dotted_name in self._loading:
            return None  # a base-class cycle: unknown, not infinite
        self._loading.add(dotted_name)
        try:
            found = self._load(dotted_name)
        finally:
            self._loading.discard(dotted_name)
        self._classes[dotted_name] = found
        return found

    def _load(self, dotted_name: str) -> ClassInterface | None:
        parts = dotted_name.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module_name = ".".join(parts[:cut])
            path = self.snapshot.path_for_module(module_name)
            if path is None:
                continue
            module = self._module(path)
            qualname = ".".join(parts[cut:])
            node = find_class(module, qualname) if module is not None else None
            if node is None:
                return load_class(self.snapshot, dotted_name)  # re-exports, aliases
            imports = module_imports(module, module_name, path.endswith("__init__.py"))
            return extract_interface(
                node, module, resolve_base=self.load, imports=imports, qualname=dotted_name
            )
        return None


@dataclass
class _Assembler:
    snapshot: Any
    config: Config
    specs: Sequence[TargetSpec]
    paths_by_target: dict[str, list[ImportPath]]
    canonicals: dict[str, ClassInterface | None]
    sites: list[Site] = field(default_factory=list)
    _lines: dict[str, list[str]] = field(default_factory=dict)
    _facts: dict[str, discovery.ModuleFacts | None] = field(default_factory=dict)
    _implementation_files: int = 0
    _modules: set[str] | None = None
    _canonical_files: set[str | None] | None = None

    def __post_init__(self) -> None:
        self._interfaces = _Interfaces(self.snapshot)
        self._specs = {spec.name: spec for spec in self.specs}

    def code(self, path: str, line: int) -> str:
        if path not in self._lines:
            try:
                data = self.snapshot.read(path)
            except (KeyError, OSError):
                data = b""
            self._lines[path] = data.decode("utf-8", "replace").splitlines()
        lines = self._lines[path]
        return lines[line - 1].strip() if 0 < line <= len(lines) else ""

    def add(
        self,
        category: str,
        target: str,
        path: str,
        line: int,
        column: int,
        message: str,
        details: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.sites.append(
            Site(
                category,
                target,
                path,
                line,
                column,
                message,
                self.code(path, line) if path else "",
                details,
            )
        )

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

        drift = self._classes(target, spec, mine, counts)
        self._patches(target, spec, mine, uses, counts)
        return TargetReport(
            target=target.name,
            canonical=target.canonical,
            counts=counts,
            paths=tuple(self.paths_by_target[target.name]),
            used_paths=tuple(used_paths),
            implementation_files=self._implementation_files,
            drift=tuple(drift),
        )

    def _sources(self) -> set[str | None]:
        """The files defining some target's canonical (worked out once for all targets)."""
        if self._canonical_files is None:
            self._canonical_files = {
                self.snapshot.path_for_module(canonical_module(t)) for t in self.config.targets
            }
        return self._canonical_files

    def _classes(
        self, target: Target, spec: TargetSpec, notes: Sequence[Note], counts: dict[str, int]
    ) -> list[InterfaceComparison]:
        canonical = self.canonicals.get(target.name)
        files: set[str] = set()
        if canonical is not None:
            canonical_path = self.snapshot.path_for_module(target.canonical.rpartition(".")[0])
            if canonical_path:
                files.add(canonical_path)
        drifts: list[InterfaceComparison] = []
        for n in sorted((n for n in notes if n.kind == "class"), key=lambda n: (n.path, n.line)):
            info = json.loads(n.message)
            qual, roles = info["class"], set(info["roles"])
            listed_double = "listed-double" in roles
            # A double stands in for the canonical: it must accept every call the canonical
            # does (the reverse of a facade, which the canonical must be able to replace). Doubles
            # found by name live in test code, where only a listed facade is a duplicate.
            as_double = listed_double or (
                "double" in roles and not roles & {"listed-facade", "facade"}
            )
            interface = self._interfaces.load(qual) if canonical is not None else None
            comparison = None
            if interface is not None and canonical is not None:
                comparison = (compare_double if as_double else compare)(interface, canonical)
            why = self._duplicate_evidence(target, spec, qual, roles, interface, canonical)
            duplicate = not listed_double and not info["test"] and why is not None
            if "listed-facade" in roles and info["test"]:
                why, duplicate = "listed facade", True
            if "facade" in roles and not listed_double:
                self.add(
                    "facade",
                    target.name,
                    n.path,
                    n.line,
                    n.column,
                    f"{qual} holds a {target.canonical.rpartition('.')[2]} in "
                    f"self.{info['held']} and forwards calls to it",
                )
                counts["facade"] += 1
            if duplicate:
                self.add(
                    "duplicate-implementation",
                    target.name,
                    n.path,
                    n.line,
                    n.column,
                    f"{qual} competes with {target.canonical} ({why})",
                )
                counts["duplicate-implementation"] += 1
                files.add(n.path)
            checked = duplicate or as_double or "facade" in roles
            if checked and comparison is not None and (comparison.missing or comparison.mismatches):
                drifts.append(comparison)
                self.add(
                    "interface-drift",
                    target.name,
                    n.path,
                    n.line,
                    n.column,
                    _drift_message(comparison, as_double),
                    (
                        ("overlap", f"{comparison.overlap:g}"),
                        ("missing", ",".join(comparison.missing)),
                        ("extra", ",".join(comparison.extra)),
                        *(("mismatch", m.message) for m in comparison.mismatches),
                    ),
                )
                counts["interface-drift"] += 1
        self._implementation_files = len(files)
        return drifts

    def _duplicate_evidence(
        self,
        target: Target,
        spec: TargetSpec,
        qual: str,
        roles: set[str],
        interface: ClassInterface | None,
        canonical: ClassInterface | None,
    ) -> str | None:
        """Why ``qual`` duplicates the canonical, or ``None`` when nothing shows it does.

        Configured classes (a listed facade, a class at an alias path) are duplicates by
        declaration. Otherwise a class must be named after the component *and* implement itself
        at least ``duplicate-overlap`` % of the methods the canonical implements itself, two or
        more (all, when the canonical implements one): inherited methods and empty sets are no
        evidence, and a base or a subclass of the canonical specialises it, it does not compete.
        """
        configured = sorted(roles & {"listed-facade", "alias-class"})
        if configured:
            return ", ".join(r.replace("-", " ") for r in configured)
        if "stem" not in roles or interface is None or canonical is None:
            return None
        wanted = canonical.implemented_methods
        shared = sorted(interface.implemented_methods & wanted)
        if not shared or len(shared) < min(2, len(wanted)):
            return None
        if 100.0 * len(shared) / len(wanted) < spec.overlap:
            return None
        names = {target.canonical, canonical.qualname}
        if names & self._ancestors(qual) or {qual, interface.qualname} & self._ancestors(
            target.canonical
        ):
            return None
        return (
            f"named after {spec.stem}, implements {len(shared)} of its {len(wanted)} "
            f"methods: {', '.join(shared)}"
        )

    def _ancestors(self, qual: str) -> set[str]:
        """Every base class of ``qual``, transitively, under each name it was reached by."""
        found: set[str] = set()
        pending = [qual]
        while pending:
            current = pending.pop()
            interface = self._interfaces.load(current)
            if interface is None:
                continue
            module = current.rpartition(".")[0]
            for base in interface.bases:
                # A base written as a bare name is a class of the same module.
                names = [base] if "." in base else [f"{module}.{base}", base]
                name = next((n for n in names if self._interfaces.load(n) is not None), None)
                loaded = self._interfaces.load(name) if name is not None else None
                if name is None or loaded is None:
                    found.add(base)
                    continue
                reached = {name, loaded.qualname} - {""}
                pending.extend(reached - found)
                found |= reached
        return found

    def _module_facts(self, module: str) -> tuple[str | None, discovery.ModuleFacts | None]:
        path = self.snapshot.path_for_module(module)
        if path is None:
            return None, None
        if path not in self._facts:
            tree = parse_source(self.snapshot.read(path))
            file = self.snapshot.source_file(path)
            self._facts[path] = discovery.module_facts(tree, file) if tree is not None else None
        return path, self._facts[path]

    def _patches(
        self,
        target: Target,
        spec: TargetSpec,
        notes: Sequence[Note],
        uses: Sequence[Note],
        counts: dict[str, int],
    ) -> None:
        live = {n.message for n in uses if not is_test_path(n.path)}
        bound = set(spec.paths)
        for n in (n for n in notes if n.kind == "patch-target"):
            string = n.message
            alias = matches(string, spec.legacy, True)
            if alias is not None:
                if alias in live:
                    self.add(
                        "stale-patch-target",
                        target.name,
                        n.path,
                        n.line,
                        n.column,
                        f"patches legacy path {string!r}; patch the canonical "
                        f"{_rebase(string, alias, target.canonical)!r}",
                    )
                    counts["stale-patch-target"] += 1
                else:
                    self.add(
                        "patch-seam",
                        target.name,
                        n.path,
                        n.line,
                        n.column,
                        f"patches {string!r} but no code reads {alias} any more: "
                        f"it intercepts nothing (consumers use {target.canonical})",
                    )
                    counts["patch-seam"] += 1
                continue
            problem, binds_canonical = self._resolve_patch(string, bound)
            if problem is None:
                continue
            if binds_canonical:
                self.add(
                    "patch-seam",
                    target.name,
                    n.path,
                    n.line,
                    n.column,
                    f"patches {string!r} but {problem}: that module now binds the "
                    f"canonical as {binds_canonical} (patch that name instead)",
                )
                counts["patch-seam"] += 1
            else:
                self.add(
                    "stale-patch-target",
                    target.name,
                    n.path,
                    n.line,
                    n.column,
                    f"patch target {string!r} does not resolve: {problem}",
                )
                counts["stale-patch-target"] += 1

    def _packages(self) -> set[str]:
        """Every module and package name of the snapshot, namespace packages included."""
        if self._modules is None:
            self._modules = set()
            for path in self.snapshot.paths:
                module = self.snapshot.source_file(path).module
                parts = module.split(".") if module else []
                for cut in range(1, len(parts) + 1):
                    self._modules.add(".".join(parts[:cut]))
        return self._modules

    def _resolve_patch(self, string: str, bound: set[str]) -> tuple[str | None, str]:
        """Why ``string`` does not exist statically (None: it does, or is not ours to judge).

        The second value names the canonical binding of the patched module, when it has one:
        the patch then misses a rename (a seam), not just a typo.
        """
        parts = string.split(".")
        modules = self._packages()
        for cut in range(len(parts), 0, -1):
            module = ".".join(parts[:cut])
            if module not in modules:
                continue
            if cut == len(parts):
                return None, ""
            name = parts[cut]
            if f"{module}.{name}" in modules:
                return None, ""
            path, facts = self._module_facts(module)
            if path is not None and facts is None:
                return None, ""  # does not parse: reported as skipped elsewhere
            if facts is not None:
                names = facts.defined | {b.name for b in facts.bindings}
                if name in names or facts.stars or "__getattr__" in facts.defined:
                    return None, ""
            where = f"{module} ({path})" if path else f"namespace package {module}"
            canonical_here = sorted(
                f"{module}.{b.name}" for b in (facts.bindings if facts else []) if b.value in bound
            )
            return f"{where} has no {name!r}", canonical_here[0] if canonical_here else ""
        return None, ""  # outside the repository: not ours to judge


def _rebase(string: str, alias: str, canonical: str) -> str:
    return canonical + string[len(alias) :]


def _drift_message(comparison: InterfaceComparison, double: bool = False) -> str:
    shared = len(comparison.common)
    total = shared + len(comparison.missing)
    parts = [
        f"{comparison.candidate}: shares {shared} of the {total} public methods of "
        f"{comparison.canonical}" + (f" ({', '.join(comparison.common)})" if shared else "")
    ]
    if comparison.missing:
        parts.append("missing " + ", ".join(f"{m}()" for m in comparison.missing))
    if comparison.extra and not double:  # a double's extras are its tests' helpers
        parts.append("extra " + ", ".join(f"{m}()" for m in comparison.extra))
    listed = set(comparison.extra) | set(comparison.missing)
    parts += [m.message for m in comparison.mismatches if m.member not in listed]
    return "; ".join(parts)

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

Rendering lives in ``report.py``; this module returns values only.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from ssot_migrate import discovery
from ssot_migrate.config import with_discovered
from ssot_migrate.discovery import (
    ImportPath,
    dotted,
    find_paths,
    parse_source,
    resolve_relative,
)
from ssot_migrate.interfaces import (
    ClassInterface,
    InterfaceComparison,
    compare,
    load_class,
)
from ssot_migrate.model import CodemodResult, Config, NameKind, Note, SourceFile, Target

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

DEFAULT_OVERLAP = 50.0
TEST_GLOBS = ("tests/*", "test/*", "*/tests/*", "*/test/*", "test_*.py", "*/test_*.py",
              "*_test.py", "conftest.py", "*/conftest.py", "testing/*", "*/testing/*")
DOUBLE_PREFIXES = ("Mock", "Fake", "Stub", "Dummy")
# Words that qualify rather than name a component: "UnifiedWebSocketManager" -> "WebSocketManager".
STEM_QUALIFIERS = ("Unified", "Canonical", "Core", "Base", "Default", "Main", "Real", "Concrete",
                   "Single", "Shared", "Central", "Consolidated", "Standard", "Primary", "Abstract")
PATCH_CALLS = frozenset({"patch", "mock.patch", "unittest.mock.patch", "mocker.patch",
                         "monkeypatch.setattr", "monkeypatch.delattr", "patch.object"})


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


# --------------------------------------------------------------------------- worker side


@dataclass(frozen=True)
class _Spec:
    """What the per-file analysis needs to know about one target (picklable)."""

    name: str
    canonical: str
    module_kind: bool
    paths: tuple[str, ...]  # canonical + every alias (configured, discovered)
    legacy: tuple[str, ...]  # aliases only
    facades: tuple[str, ...]
    constructors: tuple[str, ...]  # canonical, aliases, facades (when a factory is configured)
    legacy_factories: tuple[str, ...]
    factory_module: str | None
    factory_exempt: tuple[str, ...]
    stem: str
    canonical_methods: frozenset[str]
    min_common: int
    names: frozenset[str]  # last segments of everything above: the relevance test for patches


def stem_of(canonical: str) -> str:
    """The component's core name: the canonical class name without qualifying leading words."""
    name = canonical.rpartition(".")[2]
    changed = True
    while changed:
        changed = False
        for word in STEM_QUALIFIERS:
            rest = name[len(word):]
            if name.startswith(word) and rest[:1].isupper() and len(rest) > 3:
                name, changed = rest, True
    return name


def is_test_path(path: str) -> bool:
    """Whether ``path`` is test code (where test doubles live and direct construction is usual)."""
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in TEST_GLOBS)


def _matches(dotted_name: str, paths: Iterable[str], prefix: bool) -> str | None:
    """The path ``dotted_name`` reaches: equal to one, or (``prefix``) an attribute/submodule of one."""
    best: str | None = None
    for path in paths:
        hit = dotted_name == path or (prefix and dotted_name.startswith(path + "."))
        if hit and (best is None or len(path) > len(best)):
            best = path
    return best


class ScanAnalyser:
    """A ``Codemod``-shaped analyser: ``transform`` returns the source unchanged and facts as notes.

    Run through ``engine.run_codemod`` so scan shares the engine's pre-filter and process pool.
    Note kinds: ``path-use`` (message: the dotted path an import or attribute chain reaches), ``direct-instantiation``, ``patch-target`` (message: the string), ``class``
    (message: JSON with the class's roles).
    """

    phase = "scan"

    def __init__(self, specs: Sequence[_Spec]) -> None:
        self.specs = tuple(specs)
        needles: set[str] = set()
        for spec in specs:
            needles |= spec.names
            if spec.stem:
                needles.add(spec.stem)
            needles |= {f"def {m}(" for m in spec.canonical_methods}
        self._reference_needles = frozenset(n for n in needles if not n.startswith("def "))
        self._needles = frozenset(needles)

    def needles(self) -> frozenset[str]:
        """Last segments of every configured/discovered name, the stem, canonical method defs."""
        return self._needles

    def transform(self, source: bytes, file: SourceFile) -> CodemodResult:
        """Analyse one file: cheap text tests first, then one ``ast`` parse (no libcst)."""
        text = source.decode("utf-8", "replace")
        referenced = any(n in text for n in self._reference_needles)
        if not referenced and not any(
            sum(f"def {m}(" in text for m in s.canonical_methods) >= s.min_common
            for s in self.specs if s.canonical_methods
        ):
            return CodemodResult(source)
        tree = parse_source(source)
        if tree is None:
            import libcst  # raises the ParserSyntaxError the engine reports, with its line

            libcst.parse_module(source)
            return CodemodResult(source)
        notes: list[Note] = []
        facts = _FileFacts(tree, file)
        for spec in self.specs:
            notes += _analyse(tree, file, facts, spec, referenced)
        return CodemodResult(source, notes=tuple(notes))


class _FileFacts:
    """Names a file binds by import (anywhere in it: scan counts, it does not rewrite)."""

    def __init__(self, tree: ast.Module, file: SourceFile) -> None:
        self.local: dict[str, str] = {}
        # One entry per import statement: the ``from`` module (None for ``import``), the dotted
        # names it imports, and its position.
        self.imports: list[tuple[str | None, list[str], int, int]] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = resolve_relative(file, node.level, node.module)
                if source is None:
                    continue
                names = []
                for alias in node.names:
                    if alias.name == "*":
                        continue
                    full = f"{source}.{alias.name}"
                    self.local[alias.asname or alias.name] = full
                    names.append(full)
                self.imports.append((source, names, node.lineno, node.col_offset))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    self.imports.append((None, [alias.name], node.lineno, node.col_offset))
                    if alias.asname:
                        self.local[alias.asname] = alias.name
                    else:
                        head = alias.name.split(".")[0]
                        self.local.setdefault(head, head)
        self.defined: set[str] = {
            n.name for n in tree.body if isinstance(n, ast.ClassDef | ast.FunctionDef)
        }
        self.module = file.module

    def resolve(self, node: ast.expr) -> str | None:
        """The dotted name an expression refers to, through this file's imports and definitions."""
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        if head in self.local:
            base = self.local[head]
        elif head in self.defined and self.module:
            base = f"{self.module}.{head}"
        else:
            return None
        return f"{base}.{rest}" if rest else base

    def head_value(self, name: str) -> str | None:
        """What the first segment of ``name`` is bound to in this file."""
        head = name.partition(".")[0]
        if head in self.local:
            return self.local[head]
        if head in self.defined and self.module:
            return f"{self.module}.{head}"
        return None


def _analyse(
    tree: ast.Module, file: SourceFile, facts: _FileFacts, spec: _Spec, referenced: bool
) -> list[Note]:
    notes: list[Note] = []
    path = file.path

    def note(kind: str, node: ast.AST, message: str) -> None:
        notes.append(Note(path, getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1,
                          spec.name, kind, message))

    if referenced:
        # Paths reached: import statements (a ``from`` module that is itself a path counts once,
        # not once per imported name), then attribute chains whose head is not already a path.
        for source, names, line, column in facts.imports:
            hit = _matches(source, spec.paths, spec.module_kind) if source else None
            hits = [hit] if hit else [_matches(n, spec.paths, spec.module_kind) for n in names]
            for found in hits:
                if found is not None:
                    notes.append(Note(path, line, column + 1, spec.name, "path-use", found))
        inner: set[int] = set()  # parts of a chain already counted through its outer node
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and id(node) not in inner:
                hit = _chain_use(node, facts, spec)
                if hit is not None:
                    note("path-use", node, hit)
                    value = node.value
                    while isinstance(value, ast.Attribute):
                        inner.add(id(value))
                        value = value.value
            elif isinstance(node, ast.Call):
                _call_notes(node, facts, spec, file, note)
    notes += _class_notes(tree, file, facts, spec)
    return notes


def _chain_use(node: ast.Attribute, facts: _FileFacts, spec: _Spec) -> str | None:
    """The path an attribute chain reaches (``pkg.mod.Name`` after ``import pkg.mod``, or
    ``mod.Name`` after ``from pkg import mod``), unless its head alone is one (counted at import).
    """
    name = dotted(node)
    if name is None:
        return None
    head = facts.head_value(name)
    if head is None or _matches(head, spec.paths, spec.module_kind) is not None:
        return None
    resolved = facts.resolve(node)
    return _matches(resolved, spec.paths, spec.module_kind) if resolved else None


def _call_notes(node: ast.Call, facts: _FileFacts, spec: _Spec, file: SourceFile, note: Any) -> None:
    func = dotted(node.func)
    if func in PATCH_CALLS or (func or "").endswith((".patch", "mock.patch")):
        first = node.args[0] if node.args else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str) and "." in first.value:
            segments = set(first.value.split("."))
            if segments & spec.names:
                note("patch-target", first, first.value)
        return
    resolved = facts.resolve(node.func)
    if resolved is None or spec.module_kind:
        return
    if resolved in spec.legacy_factories:
        note("direct-instantiation", node, f"call of legacy factory {resolved}")
        return
    if resolved not in spec.constructors:
        return
    if file.module is not None and file.module == spec.factory_module:
        return
    if any(fnmatch.fnmatchcase(file.path, glob) for glob in spec.factory_exempt):
        return
    note("direct-instantiation", node, f"direct construction of {resolved}")


def _class_notes(tree: ast.Module, file: SourceFile, facts: _FileFacts, spec: _Spec) -> list[Note]:
    """Classes that may compete with, wrap or stand in for the canonical (roles as JSON)."""
    if spec.module_kind:
        return []
    found: list[Note] = []
    test = is_test_path(file.path)
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        qual = f"{file.module}.{node.name}" if file.module else node.name
        if qual == spec.canonical:
            continue
        bases = [facts.resolve(b) or (dotted(b) or "") for b in node.bases]
        if any(b.rpartition(".")[2] == "Protocol" for b in bases):
            continue  # an interface description, not an implementation
        own = {
            n.name for n in node.body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and not n.name.startswith("_")
        }
        roles: list[str] = []
        if qual in spec.facades:
            roles.append("listed-facade")
        if qual in spec.legacy:
            roles.append("alias-class")
        thin = any(b in spec.paths for b in bases) and not own
        if spec.stem and spec.stem in node.name and not node.name.startswith("Test"):
            roles.append("stem")
        if spec.canonical_methods and len(own & spec.canonical_methods) >= spec.min_common:
            roles.append("overlap-candidate")
        if test and not node.name.startswith("Test") and (
            node.name.startswith(DOUBLE_PREFIXES) or (spec.stem and node.name.endswith(spec.stem))
        ):
            roles.append("double")
        held = _forwarding_attribute(node, facts, spec)
        if held is not None:
            roles.append("facade")
        if not roles or (thin and "facade" not in roles):
            continue
        found.append(Note(file.path, node.lineno, node.col_offset + 1, spec.name, "class",
                          json.dumps({"class": qual, "roles": roles, "test": test,
                                      "held": held or ""})))
    return found


def _forwarding_attribute(node: ast.ClassDef, facts: _FileFacts, spec: _Spec) -> str | None:
    """``self.<attr>`` holding a canonical instance that methods forward calls to, or None.

    Held: assigned from a constructor/factory call of the object, or from a parameter annotated
    with it, or declared ``attr: Canonical`` in the class body.
    """
    reach = set(spec.paths) | set(spec.legacy_factories)
    held: set[str] = set()
    for stmt in node.body:  # class-level ``_impl: Canonical``
        if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                and _annotation_hits(stmt.annotation, facts, spec)):
            held.add(stmt.target.id)
    for method in node.body:
        if not isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        typed = {
            a.arg for a in method.args.args + method.args.kwonlyargs
            if a.annotation is not None and _annotation_hits(a.annotation, facts, spec)
        }
        for sub in ast.walk(method):
            targets: list[ast.expr] = []
            value: ast.expr | None = None
            if isinstance(sub, ast.Assign):
                targets, value = sub.targets, sub.value
            elif isinstance(sub, ast.AnnAssign):
                targets, value = [sub.target], sub.value
                if _annotation_hits(sub.annotation, facts, spec):
                    _add_self_attrs(targets, held)
            if value is None:
                continue
            source = value.func if isinstance(value, ast.Call) else value
            resolved = facts.resolve(source)
            hit = resolved is not None and (
                _matches(resolved, reach, False) is not None
                or (spec.factory_module is not None and resolved.startswith(spec.factory_module + "."))
            )
            if hit or (isinstance(value, ast.Name) and value.id in typed):
                _add_self_attrs(targets, held)
    if not held:
        return None
    # Forwarding, not mere use: a method that calls the same-named method of the held instance
    # (``def send(...): return self._impl.send(...)``), or ``__getattr__`` delegating to it.
    for method in node.body:
        if not isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for sub in ast.walk(method):
            if not isinstance(sub, ast.Call):
                continue
            owner: ast.expr | None = None
            if isinstance(sub.func, ast.Attribute) and sub.func.attr == method.name:
                owner = sub.func.value
            elif method.name == "__getattr__" and dotted(sub.func) == "getattr" and sub.args:
                owner = sub.args[0]
            if (isinstance(owner, ast.Attribute) and isinstance(owner.value, ast.Name)
                    and owner.value.id == "self" and owner.attr in held):
                return owner.attr
    return None


def _add_self_attrs(targets: Sequence[ast.expr], held: set[str]) -> None:
    for target in targets:
        if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                and target.value.id == "self"):
            held.add(target.attr)


def _annotation_hits(annotation: ast.expr, facts: _FileFacts, spec: _Spec) -> bool:
    nodes: list[ast.expr] = [annotation]
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            nodes = [ast.parse(annotation.value, mode="eval").body]
        except SyntaxError:
            return False
    for root in nodes:
        for sub in ast.walk(root):
            if isinstance(sub, ast.Name | ast.Attribute):
                resolved = facts.resolve(sub)
                if resolved is not None and _matches(resolved, spec.paths, False):
                    return True
    return False


# --------------------------------------------------------------------------- main process


def build_spec(target: Target, paths: Sequence[ImportPath], canonical: ClassInterface | None,
               overlap: float = DEFAULT_OVERLAP) -> _Spec:
    """The picklable per-target input of :class:`ScanAnalyser`."""
    legacy = tuple(p.dotted for p in paths if p.origin != "canonical")
    all_paths = (target.canonical, *legacy)
    factory_module = target.factory.rpartition(".")[0] if target.factory else None
    constructors = (*all_paths, *target.facades) if target.factory else ()
    methods = canonical.public_methods if canonical is not None else frozenset()
    # Jaccard >= t needs at least t * |canonical methods| shared names.
    min_common = max(1, math.ceil(len(methods) * overlap / 100.0)) if methods else 0
    names = {n.rpartition(".")[2] for n in (*all_paths, *target.facades, *target.legacy_factories)}
    if target.factory:
        names.add(target.factory.rpartition(".")[2])
    return _Spec(
        name=target.name,
        canonical=target.canonical,
        module_kind=target.canonical_kind == NameKind.MODULE,
        paths=all_paths,
        legacy=legacy,
        facades=target.facades,
        constructors=constructors,
        legacy_factories=target.legacy_factories,
        factory_module=factory_module,
        factory_exempt=target.factory_exempt,
        stem=stem_of(target.canonical) if target.canonical_kind == NameKind.SYMBOL else "",
        canonical_methods=frozenset(methods),
        min_common=min_common,
        names=frozenset(names),
    )


def scan_repository(
    config: Config,
    *,
    base: str = "HEAD",
    jobs: int | None = None,
    progress: bool = False,
    overlap: float = DEFAULT_OVERLAP,
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
    overlap: float = DEFAULT_OVERLAP,
) -> ScanReport:
    """Scan an open ``engine.Snapshot``: discovery, one pooled pass, then per-target assembly."""
    from ssot_migrate.engine import run_codemod

    started = time.perf_counter()
    paths_by_target: dict[str, list[ImportPath]] = {}
    for target in config.targets:
        found = find_paths(target, snapshot)
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
        specs.append(build_spec(target, paths_by_target[target.name], canonical, overlap))
    analyser = ScanAnalyser(specs)
    summary = run_codemod(snapshot, analyser, jobs=jobs, progress=progress, phase="scan")
    assembler = _Assembler(snapshot, config, specs, paths_by_target, canonicals, overlap)
    targets = tuple(assembler.target_report(t, summary.notes) for t in config.targets)
    sites = tuple(sorted(assembler.sites, key=lambda s: (s.path, s.line, s.column, s.category)))
    return ScanReport(
        commit=snapshot.commit,
        targets=targets,
        sites=sites,
        skipped=tuple((o.path, o.reason, o.line) for o in summary.skipped),
        files_listed=summary.files_listed,
        files_parsed=summary.files_parsed,
        elapsed=time.perf_counter() - started,
    )


@dataclass
class _Assembler:
    snapshot: Any
    config: Config
    specs: Sequence[_Spec]
    paths_by_target: dict[str, list[ImportPath]]
    canonicals: dict[str, ClassInterface | None]
    overlap: float
    sites: list[Site] = field(default_factory=list)
    _lines: dict[str, list[str]] = field(default_factory=dict)
    _facts: dict[str, discovery.ModuleFacts | None] = field(default_factory=dict)
    _implementation_files: int = 0
    _modules: set[str] | None = None

    def code(self, path: str, line: int) -> str:
        if path not in self._lines:
            try:
                data = self.snapshot.read(path)
            except (KeyError, OSError):
                data = b""
            self._lines[path] = data.decode("utf-8", "replace").splitlines()
        lines = self._lines[path]
        return lines[line - 1].strip() if 0 < line <= len(lines) else ""

    def add(self, category: str, target: str, path: str, line: int, column: int, message: str,
            details: tuple[tuple[str, str], ...] = ()) -> None:
        self.sites.append(Site(category, target, path, line, column, message,
                               self.code(path, line) if path else "", details))

    def target_report(self, target: Target, notes: Sequence[Note]) -> TargetReport:
        spec = next(s for s in self.specs if s.name == target.name)
        mine = [n for n in notes if n.target == target.name]
        counts = {category: 0 for category in CATEGORIES}
        legacy = set(spec.legacy)
        uses = [n for n in mine if n.kind == "path-use"]

        # A legacy reference: an import, attribute chain or patch string naming an alias path
        # (the same references phase 1 rewrites; a local name's later uses are not counted).
        patches = [n for n in mine if n.kind == "patch-target"]
        for n in sorted([*uses, *patches], key=lambda n: (n.path, n.line, n.column)):
            alias = n.message if n.kind == "path-use" else _matches(n.message, spec.legacy, True)
            if alias is None or alias not in legacy:
                continue
            how = "imports" if n.kind == "path-use" else "patches"
            self.add("legacy-import", target.name, n.path, n.line, n.column,
                     f"{how} legacy path {alias}; canonical is {target.canonical}",
                     (("alias", alias),))
            counts["legacy-import"] += 1

        by_file: dict[str, set[str]] = {}
        for n in uses:
            by_file.setdefault(n.path, set()).add(n.message)
        for path, used in sorted(by_file.items()):
            if target.canonical in used and used & legacy:
                first = min((n for n in uses if n.path == path and n.message in legacy),
                            key=lambda n: (n.line, n.column))
                names = ", ".join(sorted(used & legacy))
                self.add("dual-import", target.name, path, first.line, first.column,
                         f"imports {target.canonical} and legacy {names}")
                counts["dual-import"] += 1

        used_paths = sorted({n.message for n in uses} | {target.canonical})
        counts["import-paths"] = len(used_paths)
        known = {p.dotted: p for p in self.paths_by_target[target.name]}
        if len(used_paths) > 1:
            for dotted_path in used_paths:
                if dotted_path == target.canonical:
                    continue
                users = sorted(n.path for n in uses if n.message == dotted_path)
                first = min((n for n in uses if n.message == dotted_path),
                            key=lambda n: (n.path, n.line))
                origin = known[dotted_path].origin if dotted_path in known else "configured"
                self.add("import-paths", target.name, first.path, first.line, first.column,
                         f"{dotted_path} ({origin}) reaches {target.canonical}; "
                         f"used by {len(set(users))} file(s)",
                         (("path", dotted_path), ("origin", origin)))

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

    def _classes(self, target: Target, spec: _Spec, notes: Sequence[Note],
                 counts: dict[str, int]) -> list[InterfaceComparison]:
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
            interface = load_class(self.snapshot, qual) if canonical is not None else None
            comparison = compare(interface, canonical) if interface and canonical else None
            overlap_hit = comparison is not None and comparison.overlap >= self.overlap
            duplicate = not info["test"] and (
                roles & {"listed-facade", "alias-class", "stem"} or overlap_hit
            )
            if "listed-facade" in roles and info["test"]:
                duplicate = True
            if "facade" in roles:
                self.add("facade", target.name, n.path, n.line, n.column,
                         f"{qual} holds a {target.canonical.rpartition('.')[2]} in "
                         f"self.{info['held']} and forwards calls to it")
                counts["facade"] += 1
            if duplicate:
                why = sorted(roles & {"listed-facade", "alias-class", "stem"})
                if overlap_hit and comparison is not None:
                    why.append(f"{comparison.overlap:g}% method overlap")
                self.add("duplicate-implementation", target.name, n.path, n.line, n.column,
                         f"{qual} competes with {target.canonical} ({', '.join(why)})")
                counts["duplicate-implementation"] += 1
                files.add(n.path)
            checked = duplicate or "facade" in roles or "double" in roles
            if checked and comparison is not None and (comparison.missing or comparison.mismatches):
                drifts.append(comparison)
                self.add(
                    "interface-drift", target.name, n.path, n.line, n.column,
                    _drift_message(comparison),
                    (("overlap", f"{comparison.overlap:g}"),
                     ("missing", ",".join(comparison.missing)),
                     ("extra", ",".join(comparison.extra)),
                     *(("mismatch", m.message) for m in comparison.mismatches)),
                )
                counts["interface-drift"] += 1
        self._implementation_files = len(files)
        return drifts

    def _module_facts(self, module: str) -> tuple[str | None, discovery.ModuleFacts | None]:
        path = self.snapshot.path_for_module(module)
        if path is None:
            return None, None
        if path not in self._facts:
            tree = parse_source(self.snapshot.read(path))
            file = self.snapshot.source_file(path)
            self._facts[path] = discovery.module_facts(tree, file) if tree is not None else None
        return path, self._facts[path]

    def _patches(self, target: Target, spec: _Spec, notes: Sequence[Note], uses: Sequence[Note],
                 counts: dict[str, int]) -> None:
        live = {n.message for n in uses if not is_test_path(n.path)}
        bound = set(spec.paths)
        for n in (n for n in notes if n.kind == "patch-target"):
            string = n.message
            alias = _matches(string, spec.legacy, True)
            if alias is not None:
                if alias in live:
                    self.add("stale-patch-target", target.name, n.path, n.line, n.column,
                             f"patches legacy path {string!r}; patch the canonical "
                             f"{_rebase(string, alias, target.canonical)!r}")
                    counts["stale-patch-target"] += 1
                else:
                    self.add("patch-seam", target.name, n.path, n.line, n.column,
                             f"patches {string!r} but no code reads {alias} any more: "
                             f"it intercepts nothing (consumers use {target.canonical})")
                    counts["patch-seam"] += 1
                continue
            problem, binds_canonical = self._resolve_patch(string, bound)
            if problem is None:
                continue
            if binds_canonical:
                self.add("patch-seam", target.name, n.path, n.line, n.column,
                         f"patches {string!r} but {problem}: that module now binds the "
                         f"canonical as {binds_canonical} (patch that name instead)")
                counts["patch-seam"] += 1
            else:
                self.add("stale-patch-target", target.name, n.path, n.line, n.column,
                         f"patch target {string!r} does not resolve: {problem}")
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
    return canonical + string[len(alias):]


def _drift_message(comparison: InterfaceComparison) -> str:
    parts = [f"{comparison.candidate}: {comparison.overlap:g}% method overlap with {comparison.canonical}"]
    if comparison.missing:
        parts.append("missing " + ", ".join(f"{m}()" for m in comparison.missing))
    if comparison.extra:
        parts.append("extra " + ", ".join(f"{m}()" for m in comparison.extra))
    parts += [m.message for m in comparison.mismatches if m.member not in comparison.extra]
    return "; ".join(parts)


def module_of(path: str) -> str:
    """Dotted spelling of a repo path (for messages only)."""
    return ".".join(PurePosixPath(path).with_suffix("").parts)

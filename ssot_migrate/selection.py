"""Affected-test selection: the test files that can reach a phase's changed modules, statically.

``tests = "affected"`` (or ``--tests affected``) runs only the test files whose static import
graph reaches a changed file, on both trees. Nothing is imported; every file is read with
``ast``. What a file depends on::

    import a.b.c                  -> a/b/c.py, and a/__init__.py, a/b/__init__.py (executed first)
    from a.b import c, X          -> a/b/c.py when ``a.b.c`` is a module; X through a/b/__init__.py's
                                     re-exports to the module that defines it
    from .sibling import *        -> sibling.py
    mock.patch("a.b.c.X")         -> a/b/c.py (the module patch imports), like an import
    importlib.import_module("m")  -> m.py (a literal name); any other name: dynamic, see below
    pytest_plugins = ["p"]        -> p.py
    conftest.py beside or above a test file is loaded with it

A test file *uses* what it reaches through those edges, following a package ``__init__`` only
for the names imported from it, and *loads* everything import-time execution reaches (every
``__init__`` in full). Selected: the test files that use a changed file, plus, for a changed file
that tests only load (an import-time effect), the tests that load it. The whole suite runs
instead when a changed file is a ``conftest.py``, a pytest plugin, not Python, or a package
``__init__`` loaded by most test files, when a dynamic import whose module name is not a literal
can run in a test, or when the command is not pytest; ``Selection.reason`` says which.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import PurePosixPath

from ssot_migrate.config import module_for_path
from ssot_migrate.conventions import (
    collected_by_pytest,
    is_test_path,
)
from ssot_migrate.discovery import parse_source
from ssot_migrate.model import Config, SourceFile
from ssot_migrate.selection_imports import Edge, FileImports, imports_of_source, wrapper_calls
from ssot_migrate.test_command import pytest_position

# A changed ``__init__.py`` loaded by at least this share of the test files is "imported
# everywhere": selecting would run nearly the whole suite anyway, through a guess.
EVERYWHERE = 0.5
_POOL_MIN_BYTES = 256 * 1024


@dataclass(frozen=True)
class Selection:
    """Which test files to run: ``files`` when ``everything`` is false, else the whole suite;
    ``reason`` says why, in a sentence; ``candidates``: test files the command can run."""

    everything: bool
    files: tuple[str, ...]
    reason: str
    candidates: int = 0

    def line(self) -> str:
        """One line for the summary, the commit and the pull request."""
        if self.everything:
            return f"tests: affected selection fell back to the whole suite: {self.reason}"
        return (
            f"tests: affected selection: {len(self.files)} of {self.candidates} test "
            f"file(s): {self.reason}"
        )


def whole_suite(reason: str) -> Selection:
    """The selection that runs everything, for ``reason``."""
    return Selection(True, (), reason)


def _user_paths(argv: Sequence[str], paths: Iterable[str]) -> list[str]:
    """The path arguments of the pytest command that name files or folders of the repository."""
    known = set(paths)
    folders = {str(PurePosixPath(p).parent) for p in known}
    found: list[str] = []
    for item in argv:
        if item.startswith("-"):
            continue
        clean = item.split("::", 1)[0].rstrip("/")
        if clean in known or clean in folders or any(f.startswith(clean + "/") for f in folders):
            found.append(clean)
    return found


def _plugin_options(argv: Sequence[str]) -> list[str]:
    plugins = []
    for i, item in enumerate(argv):
        if item == "-p" and i + 1 < len(argv):
            plugins.append(argv[i + 1])
        elif item.startswith("-p") and len(item) > 2:
            plugins.append(item[2:])
    return [p for p in plugins if not p.startswith("no:")]


class _Graph:
    """Files, their modules and their dependencies, with the two reach relations."""

    def __init__(
        self, files: Mapping[str, SourceFile], facts: dict[str, FileImports | None]
    ) -> None:
        self.facts = facts  # filled as the search reaches files: unread files have no edges
        self.files = files
        self.by_module: dict[str, str] = {}
        self._memo: dict[Edge, list[tuple[str, frozenset[str] | None, bool]]] = {}
        self._importers: dict[str, set[str]] | None = None
        for path, file in sorted(self.files.items()):
            if file.module is not None:
                self.by_module.setdefault(file.module, path)

    def module_file(self, dotted_name: str) -> tuple[str, str] | None:
        """The longest prefix of ``dotted_name`` that is a module here: (path, the rest)."""
        parts = dotted_name.split(".")
        for i in range(len(parts), 0, -1):
            path = self.by_module.get(".".join(parts[:i]))
            if path is not None:
                return path, ".".join(parts[i:])
        return None

    def targets(self, edge: Edge) -> list[tuple[str, frozenset[str] | None, bool]]:
        """(file, names or None for all, parent-only) for one edge."""
        known = self._memo.get(edge)
        if known is None:
            known = self._memo[edge] = self._resolve(edge)
        return known

    def _resolve(self, edge: Edge) -> list[tuple[str, frozenset[str] | None, bool]]:
        hit = self.module_file(edge.module)
        if hit is None:
            return []
        path, rest = hit
        if rest:  # a patch string, or ``import a.b`` where a.b is no module: a name in path
            return [(path, frozenset([rest.split(".")[0]]), False)]
        out: list[tuple[str, frozenset[str] | None, bool]] = [(path, edge.names, edge.parent)]
        for name in edge.names or ():
            sub = self.by_module.get(f"{edge.module}.{name}")
            if sub is not None:
                out.append((sub, None, False))
        return out

    def reset(self) -> None:
        """Forget derived indexes (edges were added)."""
        self._importers = None

    def loaders(self, path: str) -> set[str]:
        """Every file whose import-time execution can reach ``path`` (``__init__``s in full)."""
        if self._importers is None:
            self._importers = {}
            for source, facts in self.facts.items():
                for edge in facts.edges if facts else ():
                    for target, _, _ in self.targets(edge):
                        self._importers.setdefault(target, set()).add(source)
        seen: set[str] = set()
        stack = [path]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            stack += [p for p in self._importers.get(current, ()) if p not in seen]
        return seen

    def uses(self, start: Iterable[str]) -> set[str]:
        """Files whose code ``start`` can call: like ``loads``, but a package ``__init__`` is
        followed only for the names imported from it (to the modules that define them)."""
        seen: set[str] = set()
        full: set[str] = set()
        asked: dict[str, set[str]] = {}
        stack: list[tuple[str, frozenset[str] | None]] = [(p, None) for p in start]
        while stack:
            path, names = stack.pop()
            seen.add(path)
            file = self.files.get(path)
            facts = self.facts.get(path)
            if facts is None or file is None:
                continue
            if names is not None and file.is_package:
                todo = set(names) - asked.setdefault(path, set())
                asked[path] |= todo
                for name in sorted(todo):
                    stack += self._export(path, facts, name)
                continue
            if path in full:
                continue
            full.add(path)
            for edge in facts.edges:
                for target, wanted, parent in self.targets(edge):
                    if parent:
                        seen.add(target)  # executed, but nothing of it is used
                    elif wanted is None or self.files[target].is_package:
                        stack.append((target, wanted))
                    else:
                        stack.append((target, None))
        return seen

    def _export(
        self, path: str, facts: FileImports, name: str
    ) -> list[tuple[str, frozenset[str] | None]]:
        """Where ``from <package> import name`` leads: the re-export's module, else the
        ``__init__`` itself in full (a name it defines, or one it cannot be followed for)."""
        module = self.files[path].module
        sub = self.by_module.get(f"{module}.{name}")
        if sub is not None:
            return [(sub, None)]
        value = facts.exports.get(name)
        if value is not None:
            hit = self.module_file(value)
            if hit is None:
                return []  # bound to something outside the repository
            target, rest = hit
            if target != path:
                return [(target, frozenset([rest.split(".")[0]]) if rest else None)]
        if name not in facts.defined and facts.stars:
            out: list[tuple[str, frozenset[str] | None]] = []
            for source in facts.stars:
                hit = self.module_file(source)
                if hit is not None and not hit[1]:
                    out.append((hit[0], frozenset([name])))
            if out:
                return out
        return [(path, None)]


class _Reader:
    """Reads files' imports, in a process pool once there is enough source to pay for one; a
    changed file counts with the imports of its old and of its new bytes."""

    def __init__(
        self,
        files: Mapping[str, SourceFile],
        read: Callable[[str], bytes],
        changed: Mapping[str, bytes],
        jobs: int | None,
    ) -> None:
        self.files, self.read, self.changed = files, read, changed
        self.workers = jobs if jobs and jobs > 0 else (os.cpu_count() or 1)
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown()

    def source(self, path: str) -> bytes | None:
        try:
            return self.read(path)
        except (KeyError, OSError):
            return None

    def imports(self, paths: Sequence[str]) -> dict[str, FileImports | None]:
        tasks = [(self.files[p], b) for p in paths if (b := self.source(p)) is not None]
        size = sum(len(b) for _, b in tasks)
        if self.workers > 1 and size >= _POOL_MIN_BYTES and self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=self.workers)
        if self.pool is not None and len(tasks) > 1:
            chunk = max(1, len(tasks) // (4 * self.workers))
            results = list(self.pool.map(imports_of_source, tasks, chunksize=chunk))
        else:
            results = [imports_of_source(t) for t in tasks]
        found: dict[str, FileImports | None] = {p: None for p in paths}
        found.update((f.path, r) for (f, _), r in zip(tasks, results))
        for path in paths:
            if path in self.changed:
                new = imports_of_source((self.files[path], self.changed[path]))
                old = found[path]
                if old is None:
                    found[path] = new
                elif new is not None:
                    old.edges += new.edges
                    old.dynamic += new.dynamic
                    old.wrappers += new.wrappers
        return found


def _read_reachable(graph: _Graph, reader: _Reader, start: Iterable[str]) -> None:
    """Read every file import-time execution can reach from ``start`` (and only those), then
    the callers of dynamic-import wrappers among them, until nothing new is reached."""
    frontier = sorted(set(start))
    done_wrappers: set[str] = set()
    while frontier:
        graph.facts.update(reader.imports(frontier))
        reached: set[str] = set()
        for path in frontier:
            imports = graph.facts.get(path)
            for edge in imports.edges if imports else ():
                reached.update(t for t, _, _ in graph.targets(edge) if t not in graph.facts)
        if not reached:
            reached = _wrapper_edges(graph, reader, done_wrappers)
        frontier = sorted(reached)


def _wrapper_edges(graph: _Graph, reader: _Reader, done: set[str]) -> set[str]:
    """Add the edges of wrapper calls (see ``wrapper_calls``) in the files read so far; the
    files they reach that are not read yet."""
    wrappers: dict[str, int] = {}
    below: set[str] = set()
    for path, imports in graph.facts.items():
        module = graph.files[path].module
        for name, index, sub in imports.wrappers if imports and module else ():
            if f"{module}.{name}" not in done:
                wrappers[f"{module}.{name}"] = index
                if sub:
                    below.add(f"{module}.{name}")
    if not wrappers:
        return set()
    done.update(wrappers)
    needles = {w.rpartition(".")[2].encode() for w in wrappers}
    reached: set[str] = set()
    for path, imports in list(graph.facts.items()):
        source = reader.changed.get(path) or reader.source(path)
        if imports is None or source is None or not any(n in source for n in needles):
            continue
        tree = parse_source(source)
        if tree is None:
            continue
        edges, dynamic = wrapper_calls(tree, graph.files[path], wrappers)
        if below:  # any submodule of the names given may be imported: edges to all of them
            given = {e.module for e in edges if not e.parent}
            edges += [Edge(m) for m in graph.by_module if any(m.startswith(g + ".") for g in given)]
        imports.edges += edges
        imports.dynamic += dynamic
        for edge in edges:
            reached.update(t for t, _, _ in graph.targets(edge) if t not in graph.facts)
    graph.reset()
    return reached


def select_tests(
    paths: Sequence[str],
    read: Callable[[str], bytes],
    changed: Mapping[str, bytes],
    roots: Sequence[str],
    argv: Sequence[str],
    *,
    pytest_args_at: int | None,
    jobs: int | None = None,
) -> Selection:
    """The test files of ``argv``'s suite that can reach a file of ``changed`` (new bytes).

    ``paths`` are the base commit's files and ``read`` their bytes; each changed file counts
    with its old and its new imports, so a selection run on either tree sees the same edges.
    ``pytest_args_at``: where pytest's own arguments start in ``argv`` (``None``: not pytest).
    """
    if pytest_args_at is None:
        return whole_suite("the test command is not pytest, so tests cannot be chosen by file")
    not_python = sorted(p for p in changed if not p.endswith(".py"))
    if not_python:
        return whole_suite(f"{not_python[0]} changed and is not Python (configuration?)")
    conftests = sorted(p for p in changed if PurePosixPath(p).name == "conftest.py")
    if conftests:
        return whole_suite(f"{conftests[0]} changed: a conftest.py reaches every test under it")
    python = sorted({p for p in paths if p.endswith(".py")} | set(changed))
    files = {p: module_for_path(p, roots) for p in python}
    wanted = _user_paths(argv[pytest_args_at:], python)
    tests = sorted(
        p
        for p in python
        if is_test_path(p)
        and collected_by_pytest(p)
        and (not wanted or any(p == w or p.startswith(w + "/") for w in wanted))
    )
    if not tests:
        return whole_suite("no test file of the command's paths was found statically")
    facts: dict[str, FileImports | None] = {}
    graph = _Graph(files, facts)
    conftest_of = {p: _conftests(p, files) for p in tests}
    start = {*tests, *changed, *(c for found in conftest_of.values() for c in found)}
    with _Reader(files, read, changed, jobs) as reader:
        _read_reachable(graph, reader, start)
    plugins = set(_plugin_options(argv[pytest_args_at:]))
    for imports in facts.values():
        plugins.update(imports.plugins if imports else ())
    for path in sorted(changed):
        module = files[path].module
        if module is not None and any(module == p or module.startswith(p + ".") for p in plugins):
            return whole_suite(f"{path} changed and is a pytest plugin ({module})")
    broken = sorted(p for p in tests if facts.get(p) is None)
    if broken:
        return whole_suite(f"{broken[0]} does not parse, so what it imports is unknown")
    uses = {t: graph.uses([t, *conftest_of[t]]) for t in tests}

    def loaded_by(path: str) -> list[str]:
        # a conftest.py loads with every test under it: its loaders are those tests
        reach = graph.loaders(path)
        return [t for t in tests if t in reach or reach.intersection(conftest_of[t])]

    for test in tests:
        for path in sorted(uses[test]):
            imports = facts.get(path)
            if imports is not None and imports.dynamic:
                return whole_suite(
                    f"{path}:{imports.dynamic[0]} imports a module whose name is not a literal "
                    f"(reached by {test}), so any module may be loaded"
                )
    changed_py = sorted(changed)
    loaders = {path: loaded_by(path) for path in changed_py}
    for path in changed_py:
        if graph.files.get(path) is not None and graph.files[path].is_package:
            if len(loaders[path]) >= EVERYWHERE * len(tests) and len(tests) > 1:
                return whole_suite(
                    f"{path} changed: a package __init__ loaded by {len(loaders[path])} of "
                    f"{len(tests)} test files"
                )
    selected = {t for t in tests if t in changed or uses[t] & set(changed_py)}
    why = [f"{len(selected)} use the {len(changed_py)} changed file(s)"]
    only_loaded = []
    for path in changed_py:
        if not loaders[path] or set(loaders[path]) & selected:
            continue  # an import-time failure there shows in a selected test too
        only_loaded.append(path)
        selected |= set(loaders[path])
    if only_loaded:
        why.append(f"plus the tests that load {', '.join(only_loaded)} (import-time effects)")
    unreached = [p for p in changed_py if not loaders[p]]
    if unreached:
        why.append(f"{len(unreached)} changed file(s) reached by no test")
    return Selection(False, tuple(sorted(selected)), "; ".join(why), len(tests))


def select_at(
    config: Config,
    argv: Sequence[str],
    commit: str,
    changed: Mapping[str, bytes],
    jobs: int | None = None,
) -> Selection:
    """``select_tests`` on the files of ``commit`` for the test command ``argv``."""
    from ssot_migrate.engine import CommitFiles

    files = CommitFiles(config.repo, commit)
    try:
        return select_tests(
            files.all_paths,
            files.read,
            changed,
            config.source_roots,
            argv,
            pytest_args_at=pytest_position(argv),
            jobs=jobs,
        )
    finally:
        files.close()


def _conftests(path: str, files: Mapping[str, SourceFile]) -> list[str]:
    """The ``conftest.py`` files pytest loads for ``path``: its folder's and every parent's."""
    found = []
    parent = PurePosixPath(path).parent
    while True:
        candidate = str(parent / "conftest.py") if str(parent) != "." else "conftest.py"
        if candidate in files:
            found.append(candidate)
        if str(parent) in (".", ""):
            return found
        parent = parent.parent

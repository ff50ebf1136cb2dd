"""Every dotted path that reaches a target's canonical object, followed statically.

A *path* is ``module.Name`` such that importing ``Name`` from ``module`` gives the canonical
object (or a configured alias of it). Bindings are followed through the repository's own files,
never by importing them::

    # app/core/__init__.py
    from .unified import UnifiedManager          -> path  app.core.UnifiedManager
    # app/legacy.py
    from app.core import UnifiedManager as Manager
    __all__ = ["Manager"]                        -> path  app.legacy.Manager
    LegacyManager = Manager                      -> path  app.legacy.LegacyManager
    # app/compat.py
    from app.legacy import *                     -> paths app.compat.Manager, app.compat.LegacyManager

Which bindings count as paths (the rule phase 1 relies on): a module-level binding ``m.X`` of
the object is a path when another file of the repository imports ``X`` from ``m`` (consumers
really reach the object through it); otherwise, when ``m`` has ``__all__``, exactly when ``X`` is
listed in it; without ``__all__``, when it is an alias assignment ``X = <object>`` with a public
``X``, or an import ``m`` never uses itself (a re-export, as in a package ``__init__``).
``from s import *`` re-exports what ``s.__all__`` lists (public names without one). A module that
imports the class to use it is *not* a path: phase 1 must not rewrite
``mock.patch("consumer.X")`` (the idiomatic "patch where it is used") away from that module. Only files that contain one of the names involved are parsed (``snapshot.grep``),
repeating until no new name appears.
"""

from __future__ import annotations

import ast
import heapq
import os
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from ssot_migrate.config import with_discovered
from ssot_migrate.model import Config, NameKind, SourceFile, Target
from ssot_migrate.pysyntax import ast_dotted_name, resolve_relative, words


class SnapshotView(Protocol):
    """The part of ``engine.Snapshot`` discovery reads."""

    def read(self, path: str) -> bytes: ...

    def source_file(self, path: str) -> SourceFile: ...

    def grep(self, needles: Iterable[str]) -> list[str]: ...

    def path_for_module(self, dotted: str) -> str | None: ...


@dataclass(frozen=True)
class ModuleBinding:
    """A module-level name of a file and the dotted name it is bound to (statically).

    Any binding (import, assignment, ``*``), read from ``ast``; ``pysyntax.Binding`` is one name
    of one libcst import statement.
    """

    name: str
    value: str
    how: str  # "import", "assign" or "star"
    line: int
    column: int  # 1-based, like every position (``model``)


@dataclass
class ModuleFacts:
    """What discovery (and scan) needs from one parsed file: bindings, ``__all__``, imports."""

    file: SourceFile
    bindings: list[ModuleBinding] = field(default_factory=list)
    stars: list[tuple[str, int, int]] = field(default_factory=list)
    dunder_all: frozenset[str] | None = None
    defined: frozenset[str] = frozenset()
    used: frozenset[str] = frozenset()
    imported_from: set[tuple[str, str]] = field(default_factory=set)


@dataclass(frozen=True)
class ImportPath:
    """One dotted path to a target's canonical object, where it is bound and how.

    ``origin`` is ``canonical``, ``configured`` (a configured alias) or ``discovered``;
    ``line`` and ``column`` are 1-based, 0 when the path was configured rather than found.
    """

    target: str
    dotted: str
    origin: str
    path: str = ""
    line: int = 0
    column: int = 0
    how: str = ""


def parse_source(source: bytes) -> ast.Module | None:
    """``ast.parse`` that answers None instead of raising on files Python cannot compile."""
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _module_statements(body: Sequence[ast.stmt]) -> Iterable[ast.stmt]:
    """Statements executed at import time: top level, inside if/try/with, not in defs."""
    for statement in body:
        yield statement
        if isinstance(statement, ast.If | ast.With | ast.AsyncWith):
            yield from _module_statements(statement.body)
            yield from _module_statements(getattr(statement, "orelse", []))
        elif isinstance(statement, ast.Try | ast.TryStar):
            for block in (statement.body, statement.orelse, statement.finalbody):
                yield from _module_statements(block)
            for handler in statement.handlers:
                yield from _module_statements(handler.body)


def module_facts(tree: ast.Module, file: SourceFile, *, uses: bool = True) -> ModuleFacts:
    """Collect a module's import-time bindings, ``__all__``, definitions and imported names.

    ``uses=False`` skips the walk over every expression (``used`` and ``imported_from`` stay
    empty): ``init`` reads every file of a repository and decides re-exports by who imports them.
    """
    facts = ModuleFacts(file=file)
    local: dict[str, str] = {}
    defined: set[str] = set()
    typing_only = _type_checking_statements(tree)
    for statement in _module_statements(tree.body):
        how = "typing" if id(statement) in typing_only else "import"
        if isinstance(statement, ast.ImportFrom):
            source = resolve_relative(statement.level, statement.module, file.package)
            if source is None:
                continue
            for alias in statement.names:
                if alias.name == "*":
                    facts.stars.append((source, statement.lineno, statement.col_offset + 1))
                    continue
                name = alias.asname or alias.name
                value = f"{source}.{alias.name}"
                local[name] = value
                facts.bindings.append(
                    ModuleBinding(name, value, how, statement.lineno, statement.col_offset + 1)
                )
        elif isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.asname:
                    local[alias.asname] = alias.name
                    facts.bindings.append(
                        ModuleBinding(
                            alias.asname,
                            alias.name,
                            how,
                            statement.lineno,
                            statement.col_offset + 1,
                        )
                    )
                else:
                    head = alias.name.split(".")[0]
                    local[head] = head
        elif isinstance(statement, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            defined.add(statement.name)
            local.pop(statement.name, None)
        elif isinstance(statement, ast.Assign | ast.AnnAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            value_node = statement.value
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if "__all__" in names and value_node is not None:
                facts.dunder_all = (facts.dunder_all or frozenset()) | _string_items(value_node)
            assigned = ast_dotted_name(value_node) if value_node is not None else None
            for name in names:
                defined.add(name)
                if assigned is None:
                    local.pop(name, None)
                    continue
                head, _, rest = assigned.partition(".")
                if head in local:
                    resolved = local[head] + (f".{rest}" if rest else "")
                elif head in defined and file.module:
                    resolved = f"{file.module}.{assigned}"
                else:
                    local.pop(name, None)
                    continue
                local[name] = resolved
                facts.bindings.append(
                    ModuleBinding(
                        name, resolved, "assign", statement.lineno, statement.col_offset + 1
                    )
                )
        elif (
            isinstance(statement, ast.AugAssign)
            and isinstance(statement.target, ast.Name)
            and statement.target.id == "__all__"
        ):
            facts.dunder_all = (facts.dunder_all or frozenset()) | _string_items(statement.value)
    facts.defined = frozenset(defined)
    if not uses:
        return facts
    used: set[str] = set()
    for node in ast.walk(tree):
        # A module uses an import it reads, names in ``global``/``del``, or names in a string
        # that reads as a type expression (``Optional["WSM"]``, ``"WSM | None"``, ...), so
        # none of those make it a re-export.
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load | ast.Del):
            used.add(node.id)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            used.update(node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            used |= _string_annotation_names(node)
        if isinstance(node, ast.ImportFrom):
            source = resolve_relative(node.level, node.module, file.package)
            if source is not None:
                facts.imported_from.update((source, a.name) for a in node.names if a.name != "*")
    facts.used = frozenset(used)
    return facts


def _type_checking_statements(tree: ast.Module) -> set[int]:
    """ids of the statements inside ``if TYPE_CHECKING:`` blocks (never run, never re-exported)."""
    found: set[int] = set()
    for node in _module_statements(tree.body):
        if isinstance(node, ast.If) and ast_dotted_name(node.test) in (
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
        ):
            found.update(id(n) for n in _module_statements(node.body))
    return found


_TYPE_EXPRESSION = re.compile(r"[\w.\[\], |'\"]{1,200}")


def _string_annotation_names(annotation: ast.expr | None) -> set[str]:
    """Names used by a string that reads as a type expression (``"WebSocketManager | None"``)."""
    if not (isinstance(annotation, ast.Constant) and isinstance(annotation.value, str)):
        return set()
    if not _TYPE_EXPRESSION.fullmatch(annotation.value.strip()):
        return set()
    try:
        parsed = ast.parse(annotation.value, mode="eval")
    except (SyntaxError, ValueError):
        return set()
    return {n.id for n in ast.walk(parsed) if isinstance(n, ast.Name)}


def _string_items(node: ast.expr) -> frozenset[str]:
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return frozenset(
            e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
        )
    return frozenset()


def _last(name: str) -> str:
    return name.rpartition(".")[2]


def find_paths(
    target: Target,
    snapshot: SnapshotView,
    *,
    jobs: int | None = None,
    cache: dict[str, ModuleFacts | None] | None = None,
) -> list[ImportPath]:
    """Every dotted path reaching ``target``'s canonical object: canonical, configured, discovered.

    Configured aliases are followed too (a re-export of an alias reaches the same object once
    phase 1 has run). Sorted: canonical first, then configured aliases, then discovered paths.
    ``cache`` shares parsed files between calls; ``jobs`` caps the parsing processes.
    """
    return find_all_paths([target], snapshot, jobs=jobs, cache=cache)[0]


def find_all_paths(
    targets: Sequence[Target],
    snapshot: SnapshotView,
    *,
    jobs: int | None = None,
    cache: dict[str, ModuleFacts | None] | None = None,
) -> list[list[ImportPath]]:
    """:func:`find_paths` of every target (in order) in one search: one ``git grep`` per round
    for every target's new names, each matching file parsed once whatever the number of targets.

    A file that contains none of a target's names binds nothing of that target's object, so
    sharing the parsed files between targets cannot add a path that does not exist; the index
    of bindings by value keeps each target's propagation to the files that can extend it.
    """
    reached_by_target: list[dict[str, ImportPath]] = []
    bound_by_target: list[set[str]] = []
    for target in targets:
        seeds = {target.canonical: "canonical"}
        for alias in target.aliases:
            seeds.setdefault(alias, "configured")
        module_kind = target.canonical_kind == NameKind.MODULE
        reached = {
            name: ImportPath(
                target.name,
                name,
                origin,
                snapshot.path_for_module(name if module_kind else name.rpartition(".")[0]) or "",
            )
            for name, origin in seeds.items()
        }
        reached_by_target.append(reached)
        bound_by_target.append(set(reached))
    parsed = cache if cache is not None else {}
    index = _FactsIndex()
    needles: set[str] = set()
    # Files that contain ``import *`` but no name of the search, with the modules they
    # star-import: parsed only once one of those modules (or their own) binds a name of a target.
    waiting: dict[str, _StarFile] = {}
    while True:
        # ``from m import *`` never names what it re-exports: every star import is a candidate.
        wanted = {_STAR_NEEDLE}.union(*({_last(name) for name in b} for b in bound_by_target))
        new_needles = wanted - needles
        needles |= new_needles
        names = needles - {_STAR_NEEDLE}
        hits: list[str] = []
        for path in snapshot.grep(new_needles) if new_needles else ():
            if path in index.facts_by_path:
                continue
            if path not in waiting:
                star_file = _star_only(snapshot, path, names)
                if star_file is not None:
                    waiting[path] = star_file
                    continue
            waiting.pop(path, None)  # a new name matched it: parsed like any other file
            hits.append(path)
        owners = {name.rpartition(".")[0] for b in bound_by_target for name in b}
        ready = [path for path, star in waiting.items() if star.may_extend(owners)]
        for path in ready:
            del waiting[path]
        hits = sorted(hits + ready)
        if not hits and not new_needles:
            break
        parsed.update(_parse_all(snapshot, [p for p in hits if p not in parsed], jobs))
        for path in hits:
            index.add(path, parsed[path])
        bound_by_target = [
            _propagate(reached, index, target)
            for reached, target in zip(reached_by_target, targets)
        ]
    return [sorted(reached.values(), key=_order) for reached in reached_by_target]


_STAR_NEEDLE = "import *"


def first_search(targets: Sequence[Target]) -> frozenset[str]:
    """What :func:`find_all_paths` searches for first: ``import *`` and the last segment of
    every target's canonical and configured aliases. A caller that searches a superset first
    has discovery's search answered from that one's hits (``engine.CommitFiles.grep``)."""
    return frozenset(
        {_STAR_NEEDLE}.union(*({_last(t.canonical), *map(_last, t.aliases)} for t in targets))
    )


# A star import as written on one logical line: ``from`` (a space unless dots follow), dots, a
# dotted ASCII name, ``import``, ``*``, with spaces or backslash continuations between.
_GAP = rb"(?:[ \t\f]|\\\r?\n)"
_STAR_IMPORT = re.compile(
    rb"(?<![\w.])from(?:"
    + _GAP
    + rb"+|(?=\.))(\.*)"
    + _GAP
    + rb"*([A-Za-z_][\w.]*)?"
    + _GAP
    + rb"*(?<!\w)import"
    + _GAP
    + rb"*\*"
)
_ANY_STAR = re.compile(rb"(?<!\w)import" + _GAP + rb"*\*")
_FEW_NAMES = 32


@dataclass(frozen=True)
class _StarFile:
    """A file found only by ``import *``: its module and the modules it star-imports."""

    module: str | None
    sources: frozenset[str]

    def may_extend(self, owners: set[str]) -> bool:
        """Whether parsing it can add a binding: it star-imports a module that binds a name of a
        target, or its own ``__all__`` decides what a star import of it re-exports."""
        return self.module in owners or not self.sources.isdisjoint(owners)


def _star_only(snapshot: SnapshotView, path: str, names: set[str]) -> _StarFile | None:
    """The star imports of ``path`` when no word of it is one of ``names`` and a text pass reads
    every star import in it; None when it must be parsed now (a name occurs, or the text is
    unclear).

    Exact, because a binding of a name (and an import of it) spells the name's last part as a
    word: a file without any binds nothing of the search, and all it can add are the star
    re-exports (and the ``__all__``) ``_propagate`` reads, which need a star source (or the
    module itself) that binds a name. Every ``import *`` the text holds must be read as a
    ``from`` statement, or the file is parsed: a statement the pattern misses is never dropped.
    """
    try:
        source = snapshot.read(path)
        file = snapshot.source_file(path)
    except (KeyError, OSError, ValueError):
        return None
    if file.module is None:
        return None
    # A few substring tests rule most files out faster than splitting the text into words.
    if len(names) > _FEW_NAMES or any(
        n.encode("utf-8", "surrogateescape") in source for n in names
    ):
        if not names.isdisjoint(words(source.decode("utf-8", "surrogateescape"))):
            return None
    found = _STAR_IMPORT.findall(source)
    if len(found) != len(_ANY_STAR.findall(source)):
        return None
    sources = set()
    for dots, dotted in found:
        resolved = resolve_relative(len(dots), dotted.decode("ascii") or None, file.package)
        if resolved is not None:
            sources.add(resolved)
    return _StarFile(file.module, frozenset(sources))


class _FactsIndex:
    """The parsed files of a search, indexed by what can extend a target's set of names."""

    def __init__(self) -> None:
        self.facts_by_path: dict[str, ModuleFacts | None] = {}
        self.facts_by_module: dict[str, ModuleFacts] = {}
        self.imported: set[tuple[str, str]] = set()
        self._by_value: dict[str, set[str]] = {}
        self._by_star_source: dict[str, set[str]] = {}

    def add(self, path: str, facts: ModuleFacts | None) -> None:
        self.facts_by_path[path] = facts
        if facts is None:
            return
        self.imported |= facts.imported_from
        if facts.file.module is None:
            return
        self.facts_by_module[facts.file.module] = facts
        for binding in facts.bindings:
            self._by_value.setdefault(binding.value, set()).add(path)
        for source, _line, _column in facts.stars:
            self._by_star_source.setdefault(source, set()).add(path)

    def readers(self, name: str) -> set[str]:
        """Files that bind ``name`` or star-import the module that would define it."""
        head = name.rpartition(".")[0]
        return self._by_value.get(name, set()) | self._by_star_source.get(head, set())


# Below this much source, starting processes costs more than parsing in this one (engine's rule).
_POOL_MIN_BYTES = 256 * 1024


def _facts_task(task: tuple[SourceFile, bytes]) -> ModuleFacts | None:
    file, source = task
    tree = parse_source(source) if file.module else None
    return module_facts(tree, file) if tree is not None else None


def _parse_all(
    snapshot: SnapshotView, paths: Sequence[str], jobs: int | None
) -> dict[str, ModuleFacts | None]:
    """Facts of ``paths``, parsed in a process pool when there is enough source to pay for one."""
    tasks: list[tuple[SourceFile, bytes]] = []
    found: dict[str, ModuleFacts | None] = {}
    for path in paths:
        try:
            tasks.append((snapshot.source_file(path), snapshot.read(path)))
        except (KeyError, OSError, ValueError):
            found[path] = None
    workers = min(jobs if jobs and jobs > 0 else (os.cpu_count() or 1), len(tasks))
    if workers <= 1 or sum(len(source) for _, source in tasks) < _POOL_MIN_BYTES:
        found.update((file.path, _facts_task((file, source))) for file, source in tasks)
        return found
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = pool.map(_facts_task, tasks, chunksize=max(1, len(tasks) // (4 * workers)))
        found.update((file.path, facts) for (file, _), facts in zip(tasks, results))
    return found


def _order(item: ImportPath) -> tuple[int, str]:
    return ({"canonical": 0, "configured": 1}.get(item.origin, 2), item.dotted)


def _propagate(reached: dict[str, ImportPath], index: _FactsIndex, target: Target) -> set[str]:
    """Add every binding of a reached name, to a fixpoint over the facts parsed so far.

    Returns every dotted name bound to the object, exported or not (the next round's needles).
    Each sweep visits, in path order, the files that bind a name bound so far (a file that
    binds none adds nothing), including files that a name added earlier in the same sweep
    reaches, so the first binding found for each path is the same as in a sweep of every file.
    """
    bound: set[str] = set(reached)  # every binding of the object, path or not
    changed = True
    while changed:
        changed = False
        queue = sorted(set().union(*(index.readers(name) for name in bound)))
        heapq.heapify(queue)
        visited: set[str] = set()
        while queue:
            path = heapq.heappop(queue)
            if path in visited:
                continue
            visited.add(path)
            facts = index.facts_by_path[path]
            if facts is None or facts.file.module is None:
                continue
            module = facts.file.module
            candidates: list[tuple[str, ModuleBinding]] = [
                (f"{module}.{b.name}", b) for b in facts.bindings if b.value in bound
            ]
            for source, line, column in facts.stars:
                exported = _star_exports(source, index.facts_by_module)
                for name in sorted(n for n in bound if n.rpartition(".")[0] == source):
                    leaf = name.rpartition(".")[2]
                    if leaf in exported if exported is not None else not leaf.startswith("_"):
                        candidates.append(
                            (f"{module}.{leaf}", ModuleBinding(leaf, name, "star", line, column))
                        )
            for dotted_path, binding in candidates:
                if dotted_path not in bound:
                    bound.add(dotted_path)
                    changed = True
                    for reader in index.readers(dotted_path):
                        if reader > path:
                            heapq.heappush(queue, reader)
                if dotted_path in reached:
                    continue
                if _is_export(facts, binding, index.imported):
                    reached[dotted_path] = ImportPath(
                        target.name,
                        dotted_path,
                        "discovered",
                        path,
                        binding.line,
                        binding.column,
                        binding.how,
                    )
                    changed = True
    return bound


def _star_exports(source: str, facts_by_module: dict[str, ModuleFacts]) -> frozenset[str] | None:
    """Names ``from source import *`` binds when ``source`` has ``__all__`` (None: public names)."""
    facts = facts_by_module.get(source)
    return facts.dunder_all if facts is not None else None


def _is_export(facts: ModuleFacts, binding: ModuleBinding, imported: set[tuple[str, str]]) -> bool:
    """Whether a binding is meant to be (or is) reached from outside its module.

    ``__all__`` decides when the module has one; without it an import the module never uses
    itself is there to be re-exported (ruff's F401 reads it the same way). A name imported from
    the module elsewhere in the repository is a path whatever the module meant.
    """
    module = facts.file.module
    if (module or "", binding.name) in imported:
        return True
    if binding.how == "star":
        return True
    if facts.dunder_all is not None:
        return binding.name in facts.dunder_all
    if binding.how == "assign":
        return not binding.name.startswith("_")
    if binding.how == "typing":
        return False  # exists for type checkers only: nothing imports it at run time
    return binding.name not in facts.used


def discover_aliases(config: Config, snapshot: SnapshotView, *, jobs: int | None = None) -> Config:
    """``config`` with every target's ``discovered_aliases`` filled by :func:`find_all_paths`."""
    wanted = [target for target in config.targets if target.discover_aliases]
    found = {
        target.name: [p.dotted for p in paths if p.origin == "discovered"]
        for target, paths in zip(wanted, find_all_paths(wanted, snapshot, jobs=jobs))
    }
    return with_discovered(config, found)

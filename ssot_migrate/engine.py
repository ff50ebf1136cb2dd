"""Run a codemod over a commit's Python files: pre-filter by text, transform in a pool, never write.

Files come from the base commit's tree (never the working tree), so a dirty checkout cannot leak
into a phase and a dry-run diff describes exactly what the phase's branch would hold.
Pre-filter first: a file that contains none of the codemod's needles is never parsed, because
parsing (and above all scope metadata) is where the time goes.
"""

from __future__ import annotations

import ast
import fnmatch
import functools
import os
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import TracebackType

import libcst

from ssot_migrate.codemods.base import Codemod
from ssot_migrate.config import load_config, module_for_path
from ssot_migrate.gitlayer import tree
from ssot_migrate.interfaces import ParsedModules
from ssot_migrate.model import Config, FileOutcome, RunSummary, SourceFile

# Below this much source a process pool costs more (start-up, pickling) than it saves.
POOL_MIN_BYTES = 256 * 1024
# Bytes times needles that substring tests may scan instead of a ``git grep`` (~0.1 s of CPU on
# a Django-sized commit, which memchr-speed tests of 64 MiB do not reach).
_GREP_KNOWN_BYTES = 64 * 1024 * 1024
# Above this many needles, one regex pass over a file costs less than a substring test each
# (a pass of ``tree.literal_pattern`` costs ~45 of them, measured on Django).
_GREP_KNOWN_NEEDLES = 48
# Bytes such a pass may read instead of a ``git grep`` (~35 ms of CPU at ~8 ns a byte; git
# searches a Django- or SymPy-sized commit in 0.06-0.15 s).
_GREP_KNOWN_REGEX_BYTES = 4 * 1024 * 1024


class CommitFiles:
    """Every file of one commit, readable by path; knows nothing of the configuration."""

    def __init__(self, repo_path: Path, base: str = "HEAD") -> None:
        self.repo_path = repo_path.resolve()
        self._repo = tree.open_repo(self.repo_path)
        try:
            self.commit = tree.resolve_commit(self._repo, base)
            self.entries = {e.path: e for e in tree.list_entries(self._repo, self.commit)}
        except Exception:
            self._repo.close()
            raise
        self.base = base
        self._greps: dict[frozenset[str], tuple[set[str], set[str]]] = {}

    @property
    def all_paths(self) -> list[str]:
        """Paths of regular files and symlinks (submodules are not files of this repository)."""
        return [p for p, e in self.entries.items() if e.kind != "submodule"]

    def read(self, path: str) -> bytes:
        """The exact bytes of ``path`` at the commit (a symlink's target text is not followed)."""
        entry = self.entries.get(path)
        if entry is None or entry.kind != "file":
            raise KeyError(path)
        return tree.read_blob(self._repo, entry.sha)

    def read_or_empty(self, path: str) -> bytes:
        try:
            return self.read(path)
        except KeyError:
            return b""

    def grep(self, needles: Iterable[str]) -> tuple[set[str], set[str]]:
        """Paths containing a needle, and paths whose blob git could not read.

        Remembered per set of needles: planning a phase and running it ask the same question
        of the same commit.
        """
        key = frozenset(needles)
        if key not in self._greps:
            found = self._grep_known(key)
            self._greps[key] = found or tree.grep_paths(self._repo, self.commit, key)
        hits, unreadable = self._greps[key]
        return set(hits), set(unreadable)

    def _grep_known(self, key: frozenset[str]) -> tuple[set[str], set[str]] | None:
        """The answer for ``key`` from earlier answers, when they searched every one of its
        needles and matched few bytes: only those files can hold a needle, and testing each is
        cheaper than a second ``git grep`` over the whole commit (discovery asks for every name
        the phase then searches). None: ask git.
        """
        wanted = {n.encode("utf-8", "surrogateescape") for n in key if n and "\n" not in n}
        covering = [
            (asked, found) for asked, found in self._greps.items() if not asked.isdisjoint(key)
        ]
        searched = {n.encode("utf-8", "surrogateescape") for asked, _ in covering for n in asked}
        if not wanted or not wanted <= searched:
            return None
        candidates = set().union(*(found[0] for _, found in covering))
        # ``git grep`` reports every blob it cannot read, whatever it searches for.
        unreadable = set().union(*(found[1] for _, found in covering))
        # Few needles: a substring test each. Many (a thousand targets): one pass of the trie
        # ``git grep`` itself is given, whatever their number.
        many = len(wanted) > _GREP_KNOWN_NEEDLES
        pattern = tree.literal_pattern(wanted) if many else None
        budget = _GREP_KNOWN_REGEX_BYTES if many else _GREP_KNOWN_BYTES
        hits: set[str] = set()
        for path in sorted(candidates - unreadable):
            try:
                data = self.read(path)
            except (KeyError, OSError, ValueError):
                return None
            budget -= len(data) if many else len(data) * len(wanted)
            if budget < 0:
                return None
            if pattern.search(data) if pattern else any(needle in data for needle in wanted):
                hits.add(path)
        return hits, unreadable

    def close(self) -> None:
        self._repo.close()


class Snapshot:
    """The repository's Python files at a commit, as the configuration selects them."""

    def __init__(self, files: CommitFiles, config: Config) -> None:
        self.files = files
        self.config = config
        self.commit = files.commit
        selected: list[str] = []
        excluded: list[tuple[str, str]] = []
        for path, entry in files.entries.items():
            if not path.endswith(".py"):
                continue
            if entry.kind != "file":
                excluded.append((path, f"{entry.kind}: not followed"))
            elif _selected(path, config.include, config.exclude):
                selected.append(path)
        for path, entry in files.entries.items():
            if entry.kind == "submodule":
                excluded.append((path, "submodule: skipped"))
        self.paths: list[str] = sorted(selected)
        self.excluded: list[tuple[str, str]] = sorted(excluded)
        self._path_set = frozenset(self.paths)
        self._modules: dict[str, str] | None = None
        # Every target's planning reads modules through this one memo (parsed at most once).
        self.parsed = ParsedModules(self.read)

    @classmethod
    def open(cls, repo: Path, config: Config, base: str = "HEAD") -> Snapshot:
        """Open ``repo`` at ``base`` and select its Python files with ``config``."""
        return cls(CommitFiles(repo, base), config)

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.files.close()

    def read(self, path: str) -> bytes:
        return self.files.read(path)

    def source_file(self, path: str) -> SourceFile:
        return module_for_path(path, self.config.source_roots)

    def path_for_module(self, dotted: str) -> str | None:
        """The file defining module ``dotted`` (``pkg/mod.py`` or ``pkg/mod/__init__.py``)."""
        if self._modules is None:
            self._modules = {}
            for path in self.paths:
                module = self.source_file(path).module
                if module is not None:
                    self._modules.setdefault(module, path)
        return self._modules.get(dotted)

    def grep(self, needles: Iterable[str]) -> list[str]:
        """Selected paths whose bytes contain any of ``needles`` (no parsing).

        A path whose blob cannot be read is returned too, so that reading it fails visibly and
        the file is listed as skipped rather than silently treated as not matching.
        """
        hits, unreadable = self.files.grep(needles)
        return sorted((hits | unreadable) & self._path_set)


def _selected(path: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    if include and not any(fnmatch.fnmatchcase(path, pattern) for pattern in include):
        return False
    return not any(fnmatch.fnmatchcase(path, pattern) for pattern in exclude)


def open_config_and_snapshot(
    repo: Path,
    config_path: Path | None,
    base: str = "HEAD",
    *,
    python: Path | None = None,
    strict: bool = False,
) -> tuple[Config, Snapshot]:
    """Validate the configuration against ``base``'s files and open the snapshot for it.

    ``python`` and ``strict`` are the ``--python`` and ``--strict`` options (see ``load_config``).
    """
    files = CommitFiles(repo, base)
    # Many targets' canonicals can share a module: read each once while validating.
    read = functools.lru_cache(maxsize=64)(files.read_or_empty)
    try:
        config = load_config(
            repo,
            config_path,
            files=files.all_paths,
            read=read,
            python=python,
            strict=strict,
        )
        return config, Snapshot(files, config)
    except BaseException:
        files.close()
        raise


# --- the per-file work, run in worker processes ----------------------------------------------

_WORKER_CODEMOD: Codemod | None = None


def _init_worker(codemod: Codemod) -> None:
    global _WORKER_CODEMOD
    _WORKER_CODEMOD = codemod


def _work(task: tuple[SourceFile, bytes]) -> FileOutcome:
    assert _WORKER_CODEMOD is not None
    return transform_file(_WORKER_CODEMOD, task[0], task[1])


# CPython's own limits: a file past them cannot run, and libcst's native parser can overflow
# its stack (a segfault, not an exception) on such input, so it must never see it.
_TOO_DEEP = ("too many nested parentheses", "too many levels of indentation")


def depth_problem(source: bytes) -> tuple[str | None, bool]:
    """Why ``source`` is too deeply nested to hand to libcst safely (or None), and whether
    CPython's ``ast`` could parse it.

    ``ast.parse`` is the guard: it is ~10x cheaper than libcst and fails with an exception
    where libcst's parser can crash the process. Other syntax errors are left to libcst, which
    may know newer syntax than this interpreter.
    """
    try:
        ast.parse(source)
    except (RecursionError, MemoryError):
        return "nested too deeply to analyse safely", False
    except SyntaxError as exc:
        if any(marker in str(exc.msg) for marker in _TOO_DEEP):
            return f"nested too deeply to analyse safely ({exc.msg})", False
        return None, False
    except ValueError as exc:
        return f"cannot be parsed: {exc}", False
    return None, True


def transform_file(codemod: Codemod, file: SourceFile, source: bytes) -> FileOutcome:
    """Run ``codemod`` on one file; every failure becomes a ``skipped`` outcome, never a raise."""
    too_deep, ast_parses = depth_problem(source)
    if too_deep is not None:
        return FileOutcome(file.path, "skipped", reason=too_deep)
    try:
        result = codemod.transform(source, file)
    except libcst.ParserSyntaxError as exc:
        return FileOutcome(
            file.path, "skipped", reason=f"syntax error: {exc.message}", line=exc.raw_line
        )
    except RecursionError:
        return FileOutcome(file.path, "skipped", reason="nested too deeply to analyse")
    except (UnicodeDecodeError, LookupError, SyntaxError) as exc:
        return FileOutcome(file.path, "skipped", reason=f"cannot decode: {exc}")
    except Exception as exc:  # a codemod bug must cost one file, not the run
        return FileOutcome(
            file.path,
            "skipped",
            reason=f"internal error in the {codemod.phase} codemod: {type(exc).__name__}: {exc}",
        )
    if result.source == source:
        return FileOutcome(file.path, "unchanged", notes=result.notes)
    problem = _output_problem(result.source, ast_parses)
    if problem is not None:
        return FileOutcome(
            file.path,
            "skipped",
            reason=f"internal error in the {codemod.phase} codemod: {problem}; file left as is",
            notes=result.notes,
        )
    return FileOutcome(
        file.path,
        "changed",
        before=source,
        after=result.source,
        changes=result.changes,
        notes=result.notes,
    )


def _output_problem(after: bytes, input_ast_parses: bool) -> str | None:
    """Why ``after`` must not be written, or None: the rewrite must still parse.

    CPython's ``ast`` checks it when it could read the input (10x cheaper than libcst, and
    stricter: it compiles what libcst merely parses); libcst checks it otherwise, for syntax
    newer than this interpreter.
    """
    if not input_ast_parses:
        try:
            libcst.parse_module(after)
        except Exception as exc:
            return f"output does not parse ({type(exc).__name__})"
        return None
    try:
        ast.parse(after)
    except (SyntaxError, ValueError) as exc:
        return f"output does not compile: {exc}"
    except (RecursionError, MemoryError):
        return "output nested too deeply to check"
    return None


def run_codemod(
    snapshot: Snapshot,
    codemod: Codemod,
    *,
    jobs: int | None = None,
    progress: bool = False,
    phase: str | None = None,
) -> RunSummary:
    """Pre-filter the snapshot's files by the codemod's needles and transform the hits.

    Outcomes are sorted by path and include every selected file (``filtered`` ones were never
    parsed). Nothing is written.
    """
    started = time.perf_counter()
    hits = snapshot.grep(codemod.needles())
    hit_set = set(hits)
    outcomes: list[FileOutcome] = [
        FileOutcome(path, "filtered") for path in snapshot.paths if path not in hit_set
    ]
    tasks: list[tuple[SourceFile, bytes]] = []
    for path in hits:
        try:
            tasks.append((snapshot.source_file(path), snapshot.read(path)))
        except Exception as exc:  # corrupt object store, vanished pack: list it, go on
            outcomes.append(
                FileOutcome(path, "skipped", reason=f"cannot read the file's git object: {exc}")
            )
    outcomes.extend(_transform_all(codemod, tasks, jobs, progress))
    outcomes.sort(key=lambda o: o.path)
    return RunSummary(
        phase=phase or codemod.phase,
        outcomes=tuple(outcomes),
        files_listed=len(snapshot.paths),
        files_parsed=len(tasks),
        elapsed=time.perf_counter() - started,
        excluded=tuple(snapshot.excluded),
        base=snapshot.commit,
    )


def _transform_all(
    codemod: Codemod,
    tasks: list[tuple[SourceFile, bytes]],
    jobs: int | None,
    progress: bool,
) -> list[FileOutcome]:
    workers = jobs if jobs and jobs > 0 else (os.cpu_count() or 1)
    total_bytes = sum(len(source) for _, source in tasks)
    workers = min(workers, len(tasks))
    with _progress(progress, len(tasks)) as advance:
        if workers <= 1 or total_bytes < POOL_MIN_BYTES:
            # In-process: no module global, since a scan may run here in a background thread.
            results = []
            for file, source in tasks:
                results.append(transform_file(codemod, file, source))
                advance()
            return results
        # Biggest files first so one large file does not finish last on an otherwise idle pool.
        order = sorted(range(len(tasks)), key=lambda i: -len(tasks[i][1]))
        results_by_index: dict[int, FileOutcome] = {}
        try:
            with ProcessPoolExecutor(
                max_workers=workers, initializer=_init_worker, initargs=(codemod,)
            ) as pool:
                for index, outcome in zip(order, pool.map(_work, [tasks[i] for i in order])):
                    results_by_index[index] = outcome
                    advance()
        except BrokenProcessPool:
            # A worker died (a native crash): finish file by file, each in its own process,
            # so the one file that kills a process is skipped and everything else proceeds.
            for index in order:
                if index not in results_by_index:
                    results_by_index[index] = _isolated(codemod, tasks[index])
                    advance()
        return [results_by_index[i] for i in range(len(tasks))]


def _isolated(codemod: Codemod, task: tuple[SourceFile, bytes]) -> FileOutcome:
    try:
        with ProcessPoolExecutor(
            max_workers=1, initializer=_init_worker, initargs=(codemod,)
        ) as pool:
            return pool.submit(_work, task).result()
    except BrokenProcessPool:
        return FileOutcome(task[0].path, "skipped", reason="the parser crashed on this file")


class _progress:
    """Progress on stderr when the caller asked for it: a Rich bar on a terminal, else a plain
    ``rewriting: 120/1200 files done, 1080 to do`` line every so often (long runs only)."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled = enabled and total > 0 and sys.stderr.isatty()
        self.plain = enabled and total > 0 and not self.enabled
        self.total = total
        self._bar: object | None = None

    def __enter__(self) -> _Advance:
        if not self.enabled:
            if self.plain:
                from ssot_migrate.terminal import progress_seconds

                return _Advance(None, None, self.total, progress_seconds())
            return _Advance(None, None)
        from rich.console import Console
        from rich.progress import Progress

        bar = Progress(console=Console(stderr=True), transient=True)
        bar.start()
        task = bar.add_task("rewriting", total=self.total)
        self._bar = bar
        return _Advance(bar, task)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            from rich.progress import Progress

            assert isinstance(self._bar, Progress)
            self._bar.stop()


class _Advance:
    def __init__(
        self, bar: object | None, task: object | None, total: int = 0, every: float | None = None
    ) -> None:
        self.bar = bar
        self.task = task
        self.total = total
        self.every = every
        self.done = 0
        self.last = time.monotonic()

    def __call__(self) -> None:
        self.done += 1
        if self.every is not None and time.monotonic() - self.last >= self.every:
            self.last = time.monotonic()
            sys.stderr.write(
                f"rewriting: {self.done}/{self.total} files done, {self.total - self.done} to do\n"
            )
            sys.stderr.flush()
        if self.bar is not None:
            from rich.progress import Progress, TaskID

            assert isinstance(self.bar, Progress)
            assert isinstance(self.task, int)
            self.bar.advance(TaskID(self.task))

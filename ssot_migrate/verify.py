"""Run the project's own tests on a tree and compare two runs test by test.

The ``test-command`` runs without a shell (a string is split as a POSIX shell would split it),
in the worktree, with the user's environment, in its own process group under ``test-timeout``
(the whole group is killed on timeout). When the runner is pytest, junit XML is collected and
results are compared per test id (``path::Class::name``); any other runner is compared by exit
code. Full runs are cached by git tree hash, so a tree is never measured twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import BinaryIO
from xml.etree import ElementTree

from ssot_migrate import bytecode
from ssot_migrate.errors import ConfigError
from ssot_migrate.model import Config
from ssot_migrate.test_command import command_argv, pytest_position, select_only

ProgressFn = Callable[[str], None]
EXPECTED_FIX_MARK = "ssot_expected_fix"
KEEP_LOGS = 100
CACHE_FORMAT = 2  # bump when TestRun's fields change
PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"
_RANK = {PASSED: 0, SKIPPED: 1, FAILED: 2, ERROR: 3}
# Variables that would point git (and so a test suite calling git) at the user's checkout.
_LEAKY_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX")


@dataclass(frozen=True)
class TestRun:
    """One run of the test command on one tree.

    ``results`` maps test id to ``passed``/``failed``/``error``/``skipped`` when the runner wrote
    junit XML, else ``None`` (compare ``exit_code``). ``exit_code`` is ``None`` after a timeout.
    """

    __test__ = False  # not a pytest test class

    tree: str
    argv: tuple[str, ...]
    exit_code: int | None
    duration: float
    log: str
    results: dict[str, str] | None = None
    timed_out: bool = False
    cached: bool = False

    def counts(self) -> dict[str, int]:
        """How many tests ended in each state."""
        counts: dict[str, int] = {}
        for status in (self.results or {}).values():
            counts[status] = counts.get(status, 0) + 1
        return counts

    def summary(self) -> str:
        """One line: ``12 passed, 1 failed`` / ``exit 0`` / ``timed out after 2s``."""
        if self.timed_out:
            return f"timed out after {self.duration:.0f}s"
        if self.results is not None:
            counts = self.counts()
            parts = [f"{counts[s]} {s}" for s in (PASSED, FAILED, ERROR, SKIPPED) if counts.get(s)]
            return ", ".join(parts) if parts else "no tests"
        return f"exit {self.exit_code}"

    def is_empty(self) -> bool:
        """Whether the runner found no tests at all (pytest exit 5 / an empty report)."""
        if self.results is not None:
            return not self.results
        return self.exit_code == 5 and pytest_position(self.argv) is not None


def parse_junit(data: bytes) -> dict[str, str]:
    """Per-test status from pytest junit XML (xunit1: ``file`` attribute), worst state wins."""
    results: dict[str, str] = {}
    root = ElementTree.fromstring(data)
    for case in root.iter("testcase"):
        test_id = _junit_id(case.get("classname", ""), case.get("name", ""), case.get("file"))
        status = PASSED
        for child in case:
            if child.tag == "error":
                status = ERROR
            elif child.tag == "failure" and status != ERROR:
                status = FAILED
            elif child.tag == "skipped" and status == PASSED:
                status = SKIPPED
        if _RANK[status] >= _RANK.get(results.get(test_id, PASSED), 0):
            results[test_id] = status
    return results


def _junit_id(classname: str, name: str, file: str | None) -> str:
    if not file:
        return f"{classname}::{name}" if classname else name
    file = file.replace("\\", "/")
    module = file[:-3].replace("/", ".") if file.endswith(".py") else file
    if not classname and name == module:
        return file  # a collection error of the whole module
    parts = classname[len(module) + 1 :].split(".") if classname.startswith(module + ".") else []
    return "::".join([file, *[p for p in parts if p], name])


@dataclass(frozen=True)
class RunRequest:
    """One run to make: the command on ``worktree`` (whose files are ``tree``).

    ``only`` limits pytest to those test ids (bisection, triage); ``fresh`` skips the cache
    (a re-run meant to catch a flaky failure must run again).
    """

    worktree: Path
    tree: str
    label: str
    only: tuple[str, ...] = ()
    fresh: bool = False


def hermetic_env(
    base: Mapping[str, str], scratch: Path, extra: Iterable[tuple[str, str]], pytest: bool
) -> dict[str, str]:
    """The environment of one run: the user's, minus git's pointers, plus a private scratch area.

    Temporary files (``TMPDIR``, ``TMP``, ``TEMP``) and bytecode (``PYTHONPYCACHEPREFIX``) go to
    ``scratch``, which nothing else uses and which is removed after the run, so nothing one run
    leaves there can be found by the next. pytest's cache is off for a pytest command; for any
    other command a pytest it starts keeps its cache in ``scratch``. ``extra`` (``test-env``)
    is applied last, so it can override all of this; ``{tmpdir}`` in a value is the run's
    temporary directory (a per-run database file, say).
    """
    # Bytecode goes to the private prefix, never next to the sources, so PYTHONDONTWRITEBYTECODE
    # (set to keep a checkout clean) would only make every run compile every module again.
    env = {k: v for k, v in base.items() if k not in (*_LEAKY_ENV, "PYTHONDONTWRITEBYTECODE")}
    tmp = scratch / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    for name in ("TMPDIR", "TMP", "TEMP"):
        env[name] = str(tmp)
    env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    if not pytest:
        cache = shlex.quote(f"cache_dir={scratch / 'pytest-cache'}")
        env["PYTEST_ADDOPTS"] = f"{env.get('PYTEST_ADDOPTS', '')} -o {cache}".strip()
    for name, value in extra:
        env[name] = value.replace("{tmpdir}", str(tmp))
    return env


# A pytest progress line: an optional file name, result letters, then "[ 42%]".
_PROGRESS_LINE = re.compile(rb"^(?:\S+ )?([.FEsxXR]+)\s*\[\s*(\d+)%\]\s*$")
_VERBOSE_LINE = re.compile(rb" (?:PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b.*\[\s*(\d+)%\]\s*$")
_PARTIAL_LINE = re.compile(rb"^(?:\S+\.py )?([.FEsxXR]+)$")


@dataclass
class _Job:
    """A started run: its process, log, scratch area and what is known of its progress."""

    request: RunRequest
    argv: list[str]
    log: Path
    junit: Path | None
    scratch: Path
    out: BinaryIO
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    ended: float | None = None
    code: int | None = None
    timed_out: bool = False
    finished: bool = False
    done: int = 0
    percent: int | None = None
    _offset: int = 0
    _partial: bytes = b""

    def read_progress(self) -> None:
        """Count the tests pytest reported in the log since the last call."""
        try:
            with self.log.open("rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except OSError:
            return
        self._offset += len(chunk)
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            line = line.rstrip(b"\r")
            if (m := _PROGRESS_LINE.match(line)) is not None:
                self.done += len(m.group(1))
                self.percent = int(m.group(2))
            elif (v := _VERBOSE_LINE.search(line)) is not None:
                self.done += 1
                self.percent = int(v.group(1))

    def status(self, now: float) -> str:
        """``base: 120 tests done (40%), 1m05s`` (elapsed only when pytest says nothing)."""
        pending = _PARTIAL_LINE.match(self._partial.rstrip(b"\r"))
        done = self.done + (len(pending.group(1)) if pending else 0)
        elapsed = _clock((self.ended or now) - self.started)
        if self.ended is not None:
            return f"{self.request.label}: finished in {elapsed}"
        if done or self.percent is not None:
            pct = f" ({self.percent}%)" if self.percent is not None else ""
            return f"{self.request.label}: {done} tests done{pct}, {elapsed}"
        return f"{self.request.label}: running, {elapsed}"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _reap(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """Collect the killed suite without trusting ``Popen.wait``'s lock.

    A Ctrl-C that lands inside ``Popen.wait(timeout=...)`` just after it took its internal lock
    leaves the lock held, and a second ``wait()`` then blocks forever: the run would hang on the
    very signal meant to stop it. A bounded wait, then ``waitpid`` itself, cannot.
    """
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        try:
            _, status = os.waitpid(proc.pid, 0)
        except ChildProcessError:
            return  # already collected
        proc.returncode = os.waitstatus_to_exitcode(status)


def _safe_label(label: str) -> str:
    # Log names are pasted into shells: nothing a shell would read as syntax.
    return re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-") or "run"


@dataclass
class TestRunner:
    """Runs one configured test command on worktrees, caching full runs by tree hash.

    Every run is hermetic as far as a process can make it (see ``hermetic_env``); several
    requests given to ``run_many`` run at the same time, each in its own worktree, log and
    scratch area, watched by one loop that enforces the timeout and reports progress.
    """

    __test__ = False  # not a pytest test class

    argv: tuple[str, ...]
    timeout: float
    cache_dir: Path
    log_dir: Path
    env: tuple[tuple[str, str], ...] = ()
    runs: int = 0  # how many times the command actually ran (cache misses, subset runs)
    logs: list[Path] = field(default_factory=list)
    progress: ProgressFn | None = None
    progress_every: float = 30.0
    share_log: dict[str, Path] = field(default_factory=dict)
    # Library bytecode kept between runs (see ``bytecode``); ``None``: every run compiles it.
    bytecode_dir: Path | None = None
    # The user's checkout, whose own ``__pycache__`` files seed the trees' bytecode (read only).
    checkout: Path | None = None

    @classmethod
    def for_config(cls, config: Config, git_dir: Path) -> TestRunner | None:
        """A runner for ``config.test_command`` (``None`` when none is configured)."""
        argv = command_argv(config)
        if argv is None:
            return None
        return cls(
            argv=argv,
            timeout=config.test_timeout,
            cache_dir=git_dir / "ssot-cache" / "tests",
            log_dir=git_dir / "ssot-logs",
            env=config.test_env,
            bytecode_dir=git_dir / "ssot-cache" / "bytecode",
            # Its paths are the trees' only at the top of the checkout (not a bare repository).
            checkout=config.repo if (config.repo / ".git").exists() else None,
        )

    @property
    def is_pytest(self) -> bool:
        """Whether the command runs pytest (so junit XML is collected)."""
        return pytest_position(self.argv) is not None

    def _cache_key(self) -> str:
        # The environment is part of what was measured: another test-env is another result.
        # The format too: an entry another version wrote is never read.
        key = json.dumps([CACHE_FORMAT, list(self.argv), [list(p) for p in self.env]])
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def _cache_table(self, tree: str) -> dict[str, object]:
        try:
            table = json.loads((self.cache_dir / f"{tree}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}
        return table if isinstance(table, dict) else {}

    def cached(self, tree: str) -> TestRun | None:
        """The cached full run of this command on ``tree``, if any (malformed entries: none)."""
        return _run_from_cache(self._cache_table(tree).get(self._cache_key()), tree)

    def _store(self, run: TestRun) -> None:
        # The cache only saves time: a full disk or a read-only git dir must not fail the phase.
        path = self.cache_dir / f"{run.tree}.json"
        table = self._cache_table(run.tree)
        table[self._cache_key()] = asdict(run)
        tmp: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(table, handle)
            os.replace(tmp, path)
        except OSError:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)

    def run(
        self, worktree: Path, tree: str, label: str, only: Sequence[str] = (), fresh: bool = False
    ) -> TestRun:
        """Run the command in ``worktree`` (whose files are ``tree``); ``only`` limits pytest ids.

        A full run is answered from the cache when this tree was measured before; subset runs
        (bisection, triage) and ``fresh`` runs are never answered from it.
        """
        return self.run_many([RunRequest(worktree, tree, label, tuple(only), fresh)])[0]

    def run_many(self, requests: Sequence[RunRequest]) -> list[TestRun]:
        """Run every request at the same time; answers in the same order."""
        with Batch(self) as batch:
            batch.start(requests)
            return batch.wait()

    def _prepare(self, request: RunRequest) -> _Job:
        """A run's command line, log, scratch area and seeded bytecode, not yet started."""
        argv = list(self.argv)
        junit: Path | None = None
        pos = pytest_position(argv)
        worktree = request.worktree
        if pos is not None:
            fd, name = tempfile.mkstemp(
                prefix="ssot-junit-", suffix=".xml", dir=_private_dir(worktree)
            )
            os.close(fd)
            junit = Path(name)
            extra = [
                f"--junitxml={junit}",
                "-o",
                "junit_family=xunit1",
                "-p",
                "no:cacheprovider",
                "--continue-on-collection-errors",
            ]
            only = request.only
            rest = argv[pos:] if not only else select_only(argv[pos:], worktree, only)
            # The worktree lives inside the repository's git dir: stop pytest's upward search
            # for rootdir and conftest.py files at the worktree, or it would find the checkout's.
            if not any(a.startswith("--rootdir") for a in rest):
                extra.append(f"--rootdir={worktree}")
            if not any(a.startswith("--confcutdir") for a in rest):
                extra.append(f"--confcutdir={worktree}")
            argv = argv[:pos] + extra + rest
        elif request.only:
            raise ValueError("subset runs need pytest")
        label = _safe_label(request.label)
        # Subset runs (every bisect step, every triage re-run) append to one log per label.
        log = self.share_log.get(label) if request.only else None
        if log is None:
            stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
            log = self.log_dir / f"{stamp}-{label}-{request.tree[:12]}.log"
            _prune_logs(self.log_dir)
            self.logs.append(log)
            if request.only:
                self.share_log[label] = log
        scratch = Path(tempfile.mkdtemp(prefix="ssot-run-"))
        env = hermetic_env(os.environ, scratch, self.env, pos is not None)
        # A test-env of its own for PYTHONPYCACHEPREFIX is the user's directory: left alone.
        cache = self.bytecode_dir
        if cache is not None and env.get("PYTHONPYCACHEPREFIX") == str(scratch / "pycache"):
            bytecode.seed(cache / bytecode.LIBRARIES, scratch / "pycache")
            for tree in {worktree, worktree.resolve()}:  # as given, and as Python may see it
                bytecode.seed_tree(cache / bytecode.TREES, scratch / "pycache", tree, self.checkout)
        log.parent.mkdir(parents=True, exist_ok=True)
        out = log.open("ab")
        job = _Job(request, argv, log, junit, scratch, out, env)
        job._offset = out.tell()
        out.write(f"$ {shlex.join(argv)}\n# cwd: {worktree}\n# TMPDIR: {env['TMPDIR']}\n".encode())
        out.flush()
        return job

    def _spawn(self, job: _Job) -> None:
        job.started = time.monotonic()
        try:
            job.proc = subprocess.Popen(
                job.argv,
                cwd=job.request.worktree,
                env=job.env,
                stdin=subprocess.DEVNULL,
                stdout=job.out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise ConfigError(f"test-command: cannot run {job.argv[0]!r}: {exc}") from exc
        self.runs += 1

    def _watch(self, jobs: Sequence[_Job]) -> None:
        """Wait for every job, killing each at its timeout; report progress meanwhile."""
        last_report = time.monotonic()
        shown = False
        while True:
            now = time.monotonic()
            running = [j for j in jobs if j.proc is not None and j.ended is None]
            for job in running:
                assert job.proc is not None
                code = job.proc.poll()
                if code is not None:
                    job.code, job.ended = code, now
                    _kill_group(job.proc)  # what the suite started and left running goes too
                elif now - job.started > self.timeout:
                    job.timed_out, job.ended = True, now
                    _kill_group(job.proc)
                    job.out.write(
                        f"\n# ssot-migrate: killed after the {self.timeout:g}s test-timeout\n".encode()
                    )
            for job in running:
                if job.ended is not None:
                    self._finish(job)  # its bytecode is kept while the others still run
            if all(j.ended is not None for j in jobs):
                if shown and self.progress is not None:
                    self.progress("")  # a live line is cleared once the runs end
                return
            if self.progress is not None and now - last_report >= self.progress_every:
                last_report, shown = now, True
                for job in jobs:
                    job.read_progress()
                self.progress(" | ".join(j.status(now) for j in jobs))
            time.sleep(0.05)

    def _finish(self, job: _Job) -> None:
        # Runs on every path out (done, timeout, Ctrl-C, an error): no child outlives the run.
        if job.finished:
            return
        job.finished = True
        if job.proc is not None:
            _kill_group(job.proc)
            _reap(job.proc)
        if job.ended is None:
            job.ended = time.monotonic()
        job.out.close()
        if self.bytecode_dir is not None and job.proc is not None:
            worktree = job.request.worktree
            private = (worktree, worktree.resolve(), job.scratch, job.scratch.resolve())
            prefix = job.scratch / "pycache"
            bytecode.keep(prefix, self.bytecode_dir / bytecode.LIBRARIES, private)
            for tree in {worktree, worktree.resolve()}:
                bytecode.keep_tree(prefix, self.bytecode_dir / bytecode.TREES, tree)
        _remove_soon(job.scratch)

    def _result(self, job: _Job) -> TestRun:
        results = None
        try:
            if job.junit is not None and job.code is not None and job.junit.stat().st_size:
                try:
                    results = parse_junit(job.junit.read_bytes())
                except ElementTree.ParseError:
                    results = None
        finally:
            if job.junit is not None:
                job.junit.unlink(missing_ok=True)
        request = job.request
        run = TestRun(
            tree=request.tree,
            argv=self.argv,
            exit_code=None if job.timed_out else job.code,
            duration=(job.ended or job.started) - job.started,
            log=str(job.log),
            results=results,
            timed_out=job.timed_out,
        )
        if not request.only and not run.timed_out:
            self._store(run)
        return run


class Batch:
    """Runs started as each becomes ready and watched together until all have ended.

    ``TestRunner.run_many`` starts them all at once; a phase starts the base tree's suite first
    and the phase tree's once its files exist. Leaving the ``with`` block stops whatever still
    runs and removes every run's scratch area, however the block ends.
    """

    def __init__(self, runner: TestRunner) -> None:
        self.runner = runner
        self._entries: list[TestRun | _Job] = []
        self._requests: list[RunRequest] = []

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, *exc: object) -> None:
        for entry in self._entries:
            if isinstance(entry, _Job):
                self.runner._finish(entry)

    @property
    def labels(self) -> list[str]:
        """The label of every request started, in order."""
        return [request.label for request in self._requests]

    @property
    def running(self) -> list[str]:
        """The labels of the runs started and not yet waited for."""
        return [e.request.label for e in self._entries if isinstance(e, _Job) and not e.finished]

    def start(self, requests: Sequence[RunRequest]) -> None:
        """Start ``requests`` now (a full run of a measured tree is answered by the cache);
        all are prepared before the first starts, so they start together."""
        runner = self.runner
        prepared = []
        for request in requests:
            self._requests.append(request)
            hit = None if request.only or request.fresh else runner.cached(request.tree)
            if hit is not None:
                self._entries.append(hit)
            else:
                job = runner._prepare(request)
                self._entries.append(job)  # cleaned up on the way out, even if never started
                prepared.append(job)
        for job in prepared:
            runner._spawn(job)

    def wait(self) -> list[TestRun]:
        """Wait for every run started (timeouts enforced, progress reported); the answers in
        the order the requests were started."""
        runner = self.runner
        jobs = [e for e in self._entries if isinstance(e, _Job)]
        runner._watch(jobs)
        for job in jobs:
            runner._finish(job)
        return [e if isinstance(e, TestRun) else runner._result(e) for e in self._entries]


def _remove_soon(scratch: Path) -> None:
    """Remove a run's scratch area in a thread of its own: its thousands of bytecode files take a
    while to unlink and nothing waits for them. The thread is not a daemon, so the interpreter
    waits for it before exiting: nothing is left behind, however the command ends."""
    threading.Thread(
        target=shutil.rmtree, args=(scratch,), kwargs={"ignore_errors": True}, name="ssot-cleanup"
    ).start()


def _private_dir(worktree: Path) -> str | None:
    """The worktree's own git dir: removed with the worktree (or by the next run's clean-up),
    so a report left by a killed run does not pile up in TMPDIR. ``None``: TMPDIR after all."""
    try:
        text = (worktree / ".git").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    admin = Path(text.removeprefix("gitdir: "))
    return str(admin) if text.startswith("gitdir: ") and admin.is_dir() else None


def _run_from_cache(entry: object, tree: str) -> TestRun | None:
    """A ``TestRun`` from a cache entry whose every field has its type, else ``None``."""
    if not isinstance(entry, dict) or set(entry) != {f.name for f in fields(TestRun)}:
        return None

    def number(value: object) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    results = entry["results"]
    argv = entry["argv"]
    exit_code = entry["exit_code"]
    valid = (
        entry["tree"] == tree
        and isinstance(argv, list)
        and all(isinstance(a, str) for a in argv)
        and (exit_code is None or (isinstance(exit_code, int) and not isinstance(exit_code, bool)))
        and number(entry["duration"])
        and isinstance(entry["log"], str)
        and isinstance(entry["timed_out"], bool)
        and isinstance(entry["cached"], bool)
        and (
            results is None
            or (
                isinstance(results, dict)
                and all(isinstance(k, str) and v in _RANK for k, v in results.items())
            )
        )
    )
    if not valid:
        return None
    return TestRun(
        tree=tree,
        argv=tuple(argv),
        exit_code=exit_code,
        duration=float(entry["duration"]),
        log=entry["log"],
        results=results,
        timed_out=entry["timed_out"],
        cached=True,
    )


def _prune_logs(log_dir: Path, keep: int = KEEP_LOGS) -> None:
    # Logs are for the last few runs; an unbounded pile under .git helps nobody.
    try:
        logs = sorted(log_dir.glob("*.log"), key=lambda p: p.stat().st_mtime)
    except OSError:
        return
    for old in logs[: max(0, len(logs) - keep + 1)]:
        old.unlink(missing_ok=True)

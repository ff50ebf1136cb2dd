"""The command line: parse, call, render. Data on stdout, everything else on stderr.

Exit codes (DESIGN.md): 0 success; 1 the phase ran but verification regressed, or ``scan --check``
found violations; 2 usage or configuration error; 3 an internal error (a bug).

Each command body only parses and delegates: phases to ``dryrun.run_dry_run`` and
``phase_cli.run_phase_command``; ``scan.cli.run_scan_command``; ``guard_cli.run_guard_command``;
``status.run_status_command``; ``init_cli.run_init_command``; ``rollback.run_rollback_command``; ``pr.run_pr_command``;
``demo.run_demo_command``. Each returns the exit code.
"""

from __future__ import annotations

import dataclasses
import errno
import gc
import io
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.console import Console

from ssot_migrate import __version__
from ssot_migrate.errors import SsotError
from ssot_migrate.phases import REGISTRY

try:  # Typer >= 0.24 vendors click as typer._click; earlier releases use click itself
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - depends on the installed Typer
    from click.exceptions import ClickException  # type: ignore[assignment]

app = typer.Typer(
    name="ssot-migrate",
    help="Consolidate a codebase onto a single source of truth, in phased, verified codemods.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

RepoOption = Annotated[
    Path, typer.Option("--repo", help="Repository to work on (default: the current directory).")
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", help="TOML file with a [tool.ssot-migrate] table (default: pyproject.toml)."
    ),
]
BaseOption = Annotated[str, typer.Option("--base", help="Commit the phase starts from.")]
JobsOption = Annotated[
    int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes (default: CPU count).")
]
PythonOption = Annotated[
    Path | None,
    typer.Option(
        "--python",
        help="The project's interpreter or venv, where names outside the repository are looked up.",
    ),
]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="A configured name found nowhere is an error (exit 2).")
]


def stderr_console() -> Console:
    """Rich console for humans: stderr, never markup-interpreting user text by accident."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        print(f"ssot-migrate {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
) -> None:
    if debug:
        os.environ["SSOT_MIGRATE_DEBUG"] = "1"


# --- phases ------------------------------------------------------------------------------------


def _phase_command(
    phase: str,
    repo: Path,
    config: Path | None,
    dry_run: bool,
    base: str,
    no_verify: bool,
    jobs: int | None,
    refresh: bool = False,
    bisect: bool = False,
    quarantine: bool = False,
    python: Path | None = None,
    strict: bool = False,
    tests: str | None = None,
) -> int:
    if dry_run:
        from ssot_migrate.dryrun import run_dry_run

        _imported()
        return run_dry_run(
            phase,
            repo,
            config,
            base=base,
            jobs=jobs,
            python=python,
            strict=strict,
            console=stderr_console(),
        )
    from ssot_migrate.phase_cli import run_phase_command

    _imported()
    return run_phase_command(
        phase,
        repo,
        config,
        base=base,
        jobs=jobs,
        verify=not no_verify,
        refresh=refresh,
        bisect=bisect,
        quarantine=quarantine,
        python=python,
        strict=strict,
        tests=tests,
        console=stderr_console(),
    )


DryRunOption = Annotated[
    bool,
    typer.Option(
        "--dry-run", help="Print the diff the branch would hold on stdout; change nothing."
    ),
]
NoVerifyOption = Annotated[bool, typer.Option("--no-verify", help="Do not run the test command.")]
RefreshOption = Annotated[
    bool,
    typer.Option(
        "--refresh",
        help="Regenerate an existing phase branch (old tip kept under refs/ssot-backup/).",
    ),
]
BisectOption = Annotated[
    bool, typer.Option("--bisect", help="On a regression, find the changed files that cause it.")
]
TestsOption = Annotated[
    str | None,
    typer.Option(
        "--tests",
        help="all, or affected: only the test files that can reach the "
        "changed files (default: the tests key, else all).",
    ),
]
QuarantineOption = Annotated[
    bool,
    typer.Option("--quarantine", help="With --bisect: commit the phase without the culprit files."),
]


def _register_phase(phase: str, help: str) -> None:
    """The three phase commands share one signature and differ only in the phase they run."""

    def command(
        repo: RepoOption = Path("."),
        config: ConfigOption = None,
        dry_run: DryRunOption = False,
        base: BaseOption = "HEAD",
        no_verify: NoVerifyOption = False,
        jobs: JobsOption = None,
        refresh: RefreshOption = False,
        bisect: BisectOption = False,
        quarantine: QuarantineOption = False,
        python: PythonOption = None,
        strict: StrictOption = False,
        tests: TestsOption = None,
    ) -> int:
        return _phase_command(
            phase,
            repo,
            config,
            dry_run,
            base,
            no_verify,
            jobs,
            refresh,
            bisect,
            quarantine,
            python,
            strict,
            tests,
        )

    app.command(name=phase, help=help)(command)


for _phase in REGISTRY:
    _register_phase(_phase.id, _phase.help)

_PHASE_ARGUMENT = f"{', '.join(p.id for p in REGISTRY[:-1])} or {REGISTRY[-1].id}."


# --- scan and guard (body owned by scan) ------------------------------------------------------


@app.command()
def scan(
    repo: RepoOption = Path("."),
    config: ConfigOption = None,
    format: Annotated[
        str, typer.Option("--format", help="table, json, markdown or sarif.")
    ] = "table",
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 when any violation remains.")
    ] = False,
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="Fail only when a count rose above this baseline."),
    ] = None,
    write_baseline: Annotated[
        Path | None, typer.Option("--write-baseline", help="Save the counts as a baseline file.")
    ] = None,
    base: BaseOption = "HEAD",
    jobs: JobsOption = None,
    python: PythonOption = None,
    strict: StrictOption = False,
) -> int:
    """Measure every SSOT violation, with evidence."""
    from ssot_migrate.scan.cli import run_scan_command

    _imported()
    return run_scan_command(
        repo,
        config,
        fmt=format,
        check=check,
        baseline=baseline,
        write_baseline=write_baseline,
        base=base,
        jobs=jobs,
        python=python,
        strict=strict,
        console=stderr_console(),
    )


@app.command()
def guard(
    write: Annotated[str, typer.Option("--write", help="ruff or import-linter.")],
    repo: RepoOption = Path("."),
    config: ConfigOption = None,
) -> int:
    """Add configuration that keeps the codebase consolidated (ruff banned-api or import-linter)."""
    from ssot_migrate.guard_cli import run_guard_command

    return run_guard_command(write, repo, config, console=stderr_console())


@app.command()
def init(
    repo: RepoOption = Path("."),
    format: Annotated[str, typer.Option("--format", help="table, toml or json.")] = "table",
    write: Annotated[
        bool,
        typer.Option("--write", help="Append the proposed table to the repo's pyproject.toml."),
    ] = False,
    merge: Annotated[
        bool,
        typer.Option("--merge", help="With --write: append new targets to an existing table."),
    ] = False,
    base: Annotated[str, typer.Option("--base", help="Commit to read.")] = "HEAD",
    jobs: JobsOption = None,
) -> int:
    """Find the fragmentation in a codebase and propose the [tool.ssot-migrate] table for it."""
    from ssot_migrate.init_cli import run_init_command

    return run_init_command(
        repo, fmt=format, write=write, merge=merge, base=base, jobs=jobs, console=stderr_console()
    )


# --- status, rollback, pr, demo ---------------------------------------------------------------


@app.command()
def status(repo: RepoOption = Path(".")) -> int:
    """Show each phase's branch, base, verification and whether it is merged."""
    from ssot_migrate.status import run_status_command

    return run_status_command(repo, console=stderr_console())


@app.command()
def rollback(
    phase: Annotated[str, typer.Argument(help=_PHASE_ARGUMENT)],
    repo: RepoOption = Path("."),
    yes: Annotated[
        bool, typer.Option("--yes", help="Do not ask before deleting branches.")
    ] = False,
    config: ConfigOption = None,
    remote: Annotated[
        str | None,
        typer.Option(
            "--remote", help="Also close the pull requests and delete the branches there."
        ),
    ] = None,
) -> int:
    """Undo a phase: delete its unmerged branch (backed up), or revert it if merged."""
    from ssot_migrate.rollback import run_rollback_command

    return run_rollback_command(
        phase, repo, yes=yes, config_path=config, remote=remote, console=stderr_console()
    )


@app.command()
def pr(
    phase: Annotated[str, typer.Argument(help=_PHASE_ARGUMENT)],
    repo: RepoOption = Path("."),
    remote: Annotated[str, typer.Option("--remote", help="Remote to push to.")] = "origin",
    open_: Annotated[
        bool, typer.Option("--open", help="Create the pull request with the GitHub CLI (gh).")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Allow a branch whose verification failed.")
    ] = False,
) -> int:
    """Push a phase branch and write its pull request."""
    from ssot_migrate.pr import run_pr_command

    return run_pr_command(
        phase, repo, remote=remote, open_pr=open_, force=force, console=stderr_console()
    )


@app.command()
def demo(
    path: Annotated[
        Path | None, typer.Option("--path", help="Where to create the sample repository.")
    ] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the sample repository afterwards.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show phase 1's diff on the sample.")
    ] = False,
) -> int:
    """Run scan, phases 1-3, status on a bundled sample repository."""
    from ssot_migrate.demo import run_demo_command

    return run_demo_command(path=path, keep=keep, dry_run=dry_run, console=stderr_console())


class _HumanStream(io.TextIOBase):
    """stderr for humans: once the reader has gone (``... 2>&1 | head -2``), writes are dropped.

    A closed pipe is the reader's choice, not a failure of the work: a phase keeps going, makes
    its branch and exits with its own code; only the messages nobody reads are lost.
    """

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__()
        self._stream = stream
        self.gone = stream is None

    def write(self, text: str) -> int:
        if not self.gone and self._stream is not None:
            try:
                self._stream.write(text)
                self._stream.flush()
            except (BrokenPipeError, ValueError):  # ValueError: the stream was closed
                self.gone = True
            except OSError as exc:
                if exc.errno != errno.EPIPE:
                    raise
                self.gone = True
        return len(text)

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return not self.gone and self._stream is not None and self._stream.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", None) or "utf-8"


def _quiet_stdout() -> None:
    """stdout's reader has gone: point it at /dev/null so the final flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _standard_streams() -> None:
    """Make stdin/stdout/stderr safe to use, whatever the caller left us.

    A closed descriptor 0-2 would be handed to the next file opened (a lock, a log) and our
    output would land in it: it is opened on ``/dev/null`` instead. Text that the streams'
    encoding cannot hold (``PYTHONIOENCODING=ascii``, a C locale) is escaped, not fatal.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    if sys.stdout is None:
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - lives as long as the process
    if sys.stderr is None:
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def _environment_error(exc: OSError) -> str:
    """One line for an error of the machine (disk full, a full pipe), not of ssot-migrate."""
    where = f": {exc.filename}" if exc.filename else ""
    if exc.errno in (errno.EPIPE, errno.ENOSPC, errno.EBADF) and not exc.filename:
        where = " (writing the output)"
    return f"error: {exc.strerror or exc}{where}"


# Young objects collected every this many allocations (Python's default: 700). A run allocates
# millions of short-lived libcst and ``ast`` nodes, very few of them in cycles: at the default
# the collector ran thousands of times, rescanning every survivor (15% of a ``phase1
# --dry-run``'s CPU); at this rate a cycle still waits at most a few megabytes.
_GC_YOUNG = 50_000


_tuned = False  # the collector is tuned for a process that ends with this command (``main``)


def _imported() -> None:
    """After a command's imports: what they built (modules, classes, libcst's grammar) lives
    until the process ends, so the collector stops scanning it (``gc.freeze``). Not when
    ``main`` is called in-process: frozen garbage would never be freed."""
    if _tuned:
        gc.freeze()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turn errors into ``error: ...`` and the documented exit codes."""
    global _tuned
    if argv is None:  # the process's command line: it exits when the command returns
        _tuned = True
        gc.set_threshold(_GC_YOUNG, 20, 20)
    _standard_streams()
    real_stderr = sys.stderr
    sys.stderr = _HumanStream(real_stderr)
    try:
        code = _main(argv)
    finally:
        sys.stderr = real_stderr
    if argv is None:
        sys.exit(code)
    return code


INTERRUPTED = 130  # the shell's code for a run ended by SIGINT


def _coerce_plain_values(command: object) -> None:
    """Typer (>= 0.2x) checks every parameter's value through a pydantic ``TypeAdapter``, even
    an absent one: importing pydantic and building the adapters cost ~90 ms of CPU per command,
    a fifth of a dry run's overhead over a bare parse. Values that need no checking (absent, a
    ``str``, a ``Path`` read as Typer reads it) are taken here, with Typer's own path checks;
    every other value still goes to Typer's adapter, built when first needed. A Typer whose
    internals differ is left alone.
    """
    try:
        from typer._click import Command, Context
        from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
        from typer._param_types import coerce_cli_path
        from typer.core import _TyperParameter
    except ImportError:  # pragma: no cover - depends on the installed Typer
        return

    @dataclasses.dataclass(frozen=True)
    class Plain(RuntimeParam):
        descriptor: TypeDescriptor

        def _coerce_value(self, value: Any, param: _TyperParameter, ctx: Context) -> Any:
            info = self.parameter_info
            if info.parser is None and isinstance(value, str):
                if self.annotation is str:
                    return value
                if self.annotation is Path and info.path_type is None:
                    return coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)
            return build_runtime_param(self.descriptor)._coerce_value(value, param, ctx)

    def visit(node: object) -> None:
        params = list(getattr(node, "params", ()))
        # ``--help`` is made on first use (and kept): make it now, with the default names.
        get_help_option = getattr(node, "get_help_option", None)
        if get_help_option is not None and isinstance(node, Command):
            params.append(get_help_option(Context(node)))
        for param in params:
            if not isinstance(param, _TyperParameter) or param._runtime_param is not None:
                continue
            descriptor = param.type_descriptor
            if descriptor.file_annotation is None:
                param._runtime_param = Plain(
                    descriptor.parameter_info, descriptor.annotation, descriptor
                )
        for sub in getattr(node, "commands", {}).values():
            visit(sub)

    try:
        visit(command)
    except (AttributeError, TypeError):  # pragma: no cover - another Typer's internals
        pass  # a parameter left as it was still goes through Typer's own adapter


def _main(argv: list[str] | None) -> int:
    command = typer.main.get_command(app)
    _coerce_plain_values(command)
    try:
        result = command.main(args=argv, prog_name="ssot-migrate", standalone_mode=False)
    except SsotError as exc:
        if os.environ.get("SSOT_MIGRATE_DEBUG"):
            raise
        print(f"error: {exc}", file=sys.stderr)
        code = exc.exit_code
    except typer.Exit as exc:
        code = exc.exit_code
    except ClickException as exc:
        exc.show()
        code = 2
    except typer.Abort:
        print("aborted", file=sys.stderr)
        code = 130
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut this short
        print("interrupted", file=sys.stderr)
        code = 130
    except OSError as exc:  # the machine's: a full disk, a full pipe
        if os.environ.get("SSOT_MIGRATE_DEBUG"):
            raise
        _quiet_stdout()
        print(_environment_error(exc), file=sys.stderr)
        code = 2
    except Exception as exc:  # a bug: say so in one line, keep the traceback behind --debug
        if os.environ.get("SSOT_MIGRATE_DEBUG"):
            raise
        print(
            f"internal error: {type(exc).__name__}: {exc} "
            "(a bug in ssot-migrate; rerun with --debug for the traceback and report it)",
            file=sys.stderr,
        )
        code = 3
    else:
        code = result if isinstance(result, int) else 0
        if code == INTERRUPTED:
            # typer turns a Ctrl-C inside a command into a returned 130 (no exception, nothing
            # said); no command of ours exits 130 otherwise, so it is said here as above
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            print("interrupted", file=sys.stderr)
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        _quiet_stdout()
    except OSError as exc:  # a full disk behind stdout (`> /dev/full`): the output is lost
        _quiet_stdout()
        print(_environment_error(exc), file=sys.stderr)
        code = 2
    return code

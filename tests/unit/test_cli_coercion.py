"""The CLI's own coercion of plain values (issue 17): what Typer's pydantic adapters would give,
without importing pydantic (or GitPython) on a dry run."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import typer.main
from typer._click import Context
from typer._coercion import RuntimeParam, build_runtime_param
from typer.core import _TyperParameter

from ssot_migrate import cli
from tests.helpers.scan import FILES

VALUES = ["x", " x ", "", ".", "a b", "-", "/tmp//x/", "~/y", "é", "3", "0", None]


def _params() -> list[tuple[str, _TyperParameter, Context]]:
    root = typer.main.get_command(cli.app)
    cli._coerce_plain_values(root)
    found = []
    for name, command in [("", root), *getattr(root, "commands", {}).items()]:
        ctx = Context(command)
        for param in [*command.params, command.get_help_option(ctx)]:
            if isinstance(param, _TyperParameter):
                found.append((f"{name} {param.name}", param, ctx))
    return found


def _outcome(
    runtime: RuntimeParam, value: str | None, param: _TyperParameter, ctx: Context
) -> object:
    try:
        return runtime.coerce(value, param=param, ctx=ctx)
    except Exception as exc:  # the same error, worded the same, is the same outcome
        return (type(exc).__name__, str(exc))


@pytest.mark.parametrize("value", VALUES)
def test_plain_coercion_equals_typers_adapters(value: str | None) -> None:
    params = _params()
    assert any(param.type_descriptor.annotation is Path for _, param, _ in params)
    for where, param, ctx in params:
        ours = param._runtime_param
        assert ours is not None, where
        typers = build_runtime_param(param.type_descriptor)
        assert type(ours).__name__ == "Plain", where
        got = _outcome(ours, value, param, ctx)
        want = _outcome(typers, value, param, ctx)
        assert got == want, (where, value)


def test_a_dry_run_imports_no_pydantic_gitpython_or_test_runner(
    repo_factory: Callable[..., Path],
) -> None:
    repo = repo_factory(FILES)
    probe = (
        "import sys\n"
        "from ssot_migrate.__main__ import run\n"
        f"sys.argv = ['ssot-migrate', 'phase1', '--dry-run', '--repo', {str(repo)!r}]\n"
        "try:\n    run()\nexcept SystemExit as exc:\n    code = exc.code\n"
        "heavy = {'pydantic', 'git', 'gitdb', 'ssot_migrate.verify'}\n"
        "found = [m for m in sys.modules if m in heavy or m.split('.')[0] in heavy]\n"
        "print(code, sorted(found), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.stderr.splitlines()[-1] == "0 []", done.stderr
    assert "diff --git" in done.stdout

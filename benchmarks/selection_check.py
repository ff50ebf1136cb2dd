"""Does ``tests = "affected"`` miss a failing test? Inject breakage, compare with the full suite.

    python benchmarks/selection_check.py --corpus /tmp/packaging-26.4 --roots src \
        --python /tmp/pkg-venv/bin/python --tests tests

For each module of the corpus (not a test, not an ``__init__``; ``--modules`` to choose), one
injection: every function and method of the module raises ``RuntimeError`` as its first
statement (a change that breaks whatever runs its code, as a wrong rewrite would). The selection
is computed exactly as a phase computes it (``selection.select_tests`` on the corpus's files,
the injected module as the changed file). Then:

- the selected test files run on the injected tree: a failure there is **caught**;
- otherwise the whole suite runs on the injected tree: a failure there is a **miss** (listed),
  none means no test fails for this injection (not counted either way);
- a selection that fell back to the whole suite runs it (its reason is listed).

The corpus is a copy: each injection is undone before the next. Not run by CI. Prints a Markdown
table per injection and the totals (injections, caught, missed, time of the selected runs against
one run of the whole suite), with the machine's load average.
"""

from __future__ import annotations

import argparse
import ast
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ssot_migrate.config import module_for_path  # noqa: E402
from ssot_migrate.conventions import is_test_path  # noqa: E402
from ssot_migrate.selection import select_tests  # noqa: E402

RAISE = "raise RuntimeError('ssot-selection-check: injected breakage')"


def inject(source: str) -> str | None:
    """``source`` with a raise as the first statement of every function, or None if none."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    points = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0]
            if first.lineno > node.lineno and not any(
                isinstance(d, ast.Name) and d.id == "overload" for d in node.decorator_list
            ):
                points.append((first.lineno, first.col_offset))
    if not points:
        return None
    for lineno, col in sorted(points, reverse=True):
        lines.insert(lineno - 1, " " * col + RAISE + "\n")
    return "".join(lines)


def run(
    python: str, corpus: Path, args: list[str], *, first: bool = True
) -> tuple[float, list[str], dict[str, float]]:
    """Seconds, the failing test ids, and seconds per test file (from pytest's junit report).
    ``first``: stop at the first failure (``-x``), as only whether one fails matters."""
    from xml.etree import ElementTree

    from ssot_migrate.verify import parse_junit

    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "junit.xml"
        env = {
            **os.environ,
            "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pyc"),
            "PYTHONPATH": os.pathsep.join(str(corpus / r) for r in ARGS.roots),
        }
        started = time.monotonic()
        subprocess.run(
            [
                python,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                *(["-x"] if first else []),
                f"--junitxml={junit}",
                "-o",
                "junit_family=xunit1",
                *args,
            ],
            cwd=corpus,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.monotonic() - started
        if not junit.exists():
            return seconds, ["(no report)"], {}
        data = junit.read_bytes()
        failed = sorted(t for t, s in parse_junit(data).items() if s in ("failed", "error"))
        per_file: dict[str, float] = {}
        for case in ElementTree.fromstring(data).iter("testcase"):
            name = case.get("file") or ""
            per_file[name] = per_file.get(name, 0.0) + float(case.get("time") or 0)
        return seconds, failed, per_file


def main() -> int:
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--roots", nargs="*", default=[""])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--tests", nargs="*", default=[], help="the suite's pytest paths")
    parser.add_argument("--modules", nargs="*", default=None, help="files to inject into")
    ARGS = parser.parse_args()
    corpus = ARGS.corpus.resolve()
    paths = sorted(
        str(p.relative_to(corpus)) for p in corpus.rglob("*.py") if ".git" not in p.parts
    )
    argv = ["python", "-m", "pytest", "-q", *ARGS.tests]

    def read(path: str) -> bytes:
        return (corpus / path).read_bytes()

    modules = ARGS.modules or [
        p
        for p in paths
        if not is_test_path(p)
        and not p.endswith("__init__.py")
        and module_for_path(p, ARGS.roots).module is not None
        and any(p.startswith(r.rstrip("/") + "/") or not r for r in ARGS.roots)
    ]
    load_before = os.getloadavg()
    full_s, failing, per_file = run(ARGS.python, corpus, ARGS.tests, first=False)
    total = sum(per_file.values())
    print(
        f"whole suite, no injection: {full_s:.1f} s ({total:.1f} s in tests), "
        f"{len(failing)} failing",
        file=sys.stderr,
    )
    rows, shares, select_times = [], [], []
    caught = missed = silent = whole = 0
    for module in modules:
        original = read(module)
        injected = inject(original.decode())
        if injected is None:
            continue
        started = time.monotonic()
        chosen = select_tests(
            paths, read, {module: injected.encode()}, ARGS.roots, argv, pytest_args_at=3
        )
        select_s = time.monotonic() - started
        select_times.append(select_s)
        (corpus / module).write_text(injected)
        try:
            if chosen.everything:
                whole += 1
                share = 1.0
                _, failed, _ = run(ARGS.python, corpus, ARGS.tests)
                files = f"all ({chosen.reason})"
                outcome = "caught (whole suite)" if failed else "no test fails"
                caught += bool(failed)
                silent += not failed
            else:
                share = sum(per_file.get(f, 0.0) for f in chosen.files) / total if total else 0
                _, failed, _ = (
                    run(ARGS.python, corpus, list(chosen.files)) if chosen.files else (0.0, [], {})
                )
                files = f"{len(chosen.files)}/{chosen.candidates}"
                if failed:
                    caught += 1
                    outcome = "caught"
                else:
                    _, everywhere, _ = run(ARGS.python, corpus, ARGS.tests)
                    if everywhere:
                        missed += 1
                        outcome = f"**missed** ({everywhere[0]} fails)"
                    else:
                        silent += 1
                        outcome = "no test fails"
            shares.append(share)
        finally:
            (corpus / module).write_bytes(original)
        rows.append((module, files, f"{100 * share:.0f}%", f"{select_s:.1f}", outcome))
        print(f"{module}: {files} -> {outcome}", file=sys.stderr)
    load_after = os.getloadavg()
    print(
        f"{os.cpu_count()} cores; load average before {'/'.join(f'{x:.1f}' for x in load_before)}"
        f", after {'/'.join(f'{x:.1f}' for x in load_after)}\n"
    )
    print(
        "| injected module | selected test files | their share of the suite's test time "
        "| selection s | outcome |"
    )
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    share = statistics.mean(shares) if shares else 1.0
    select_s = statistics.mean(select_times) if select_times else 0.0
    print(
        f"\n{len(rows)} injections: {caught} caught, {missed} missed, {silent} with no failing "
        f"test anywhere, {whole} fell back to the whole suite. Whole suite {full_s:.1f} s "
        f"({total:.1f} s in tests); the selected files hold {100 * share:.0f}% of the test time "
        f"on average ({100 * (1 - share):.0f}% saved), selection itself {select_s:.1f} s."
    )
    return 1 if missed else 0


ARGS: argparse.Namespace

if __name__ == "__main__":
    raise SystemExit(main())

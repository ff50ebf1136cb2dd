"""A phase's wall time against one run of the project's own suite, on a real project.

    python benchmarks/verify_bench.py --python /tmp/sympy-venv/bin/python -n 3

Copies the SymPy corpus to ``--work``, adds ``sympy.utilities.memoization_new`` (a copy of
``memoization``) and commits, so that phase 1 has a real rename to make: the importers of
``recurrence_memo`` move to the new module. The suite is a fixed list of SymPy's own test files
(563 tests: 545 pass, 7 skip, 10 xfail, 1 deselected; among them those of
``sympy.functions.combinatorial.numbers``, which the phase changes), run by ``--python`` (a venv
with pytest, mpmath<1.4 and hypothesis; SymPy itself is imported from the copy).

After one untimed warm-up run of the suite (so the checkout's bytecode is written, as after a
user's first run; ``PYTHONDONTWRITEBYTECODE`` is dropped for every run), each round times, one
after the other in the same session: the suite alone (``pytest -q`` in the copy, as a user would
run it), then ``ssot-migrate phase1`` with ``test-jobs = 2`` (base and phase suites at the same
time) with no kept bytecode (a repository's first phase: ``.git/ssot-cache`` removed; the
checkout's own ``__pycache__`` from the user's runs is there, and ssot-migrate starts from it),
then the same with the bytecode the previous run kept (a later phase, a ``--refresh``), then
with nothing compiled anywhere (the cache removed and the checkout's ``__pycache__`` folders
moved aside for the run: a user who never ran the suite in that checkout), then, unless
``--concurrent-only``, with ``test-jobs = 1`` (one after the other, as before), cold. The test
results cache and the branch are removed before every phase run, so each one measures both
trees. Prints a Markdown table of medians and the ratios to the suite run, with the machine's
load before and after, and exits 1 if a phase did not verify (``SSOT-Verified`` other than
``yes``), since a ratio of a failed run means nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TESTS = (
    "sympy/functions/combinatorial/tests",
    "sympy/core/tests/test_sympify.py",
    "sympy/core/tests/test_relational.py",
    "sympy/core/tests/test_basic.py",
    "sympy/core/tests/test_arit.py",
    "sympy/core/tests/test_numbers.py",
    "sympy/core/tests/test_power.py",
    "sympy/core/tests/test_evalf.py",
    "sympy/utilities/tests/test_iterables.py",
)
TARGET = """
[[tool.ssot-migrate.targets]]
name = "recurrence-memo"
canonical = "sympy.utilities.memoization_new.recurrence_memo"
aliases = ["sympy.utilities.memoization.recurrence_memo"]
"""
GIT = ("git", "-c", "user.name=bench", "-c", "user.email=bench@invalid")
# A user's own runs write bytecode: the suite alone is timed warm, as it is the second time.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def prepare(corpus: Path, work: Path, python: str, tests: tuple[str, ...] = TESTS) -> Path:
    repo = work / "sympy"
    if not (repo / ".git").is_dir():
        shutil.rmtree(repo, ignore_errors=True)
        shutil.copytree(corpus, repo, symlinks=True)
        memo = repo / "sympy/utilities/memoization.py"
        shutil.copyfile(memo, memo.with_name("memoization_new.py"))
        subprocess.run([*GIT, "init", "-q", "-b", "main"], cwd=repo, check=True)
        subprocess.run([*GIT, "add", "-A"], cwd=repo, check=True)
        subprocess.run([*GIT, "commit", "-q", "-m", "corpus"], cwd=repo, check=True)
    for jobs in (1, 2):
        command = [python, "-m", "pytest", "-q", *tests]
        (work / f"ssot-jobs{jobs}.toml").write_text(
            f"[tool.ssot-migrate]\ntest-command = {command!r}\n".replace("'", '"')
            + f"test-timeout = 3600\ntest-jobs = {jobs}\n"
            + TARGET
        )
    return repo


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, str]:
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or [""]
    return seconds, f"exit {proc.returncode}: {tail[0]}"


def phase(
    ssot: str, repo: Path, config: Path, *, cold: bool = True, bare: bool = False
) -> tuple[float, str]:
    """One ``phase1`` measuring both trees (the test results cache is always removed); ``cold``
    removes the bytecode kept by earlier runs too, as on a repository's very first phase;
    ``bare`` also hides the checkout's own ``__pycache__`` folders during the run."""
    subprocess.run(
        [*GIT, "branch", "-D", "ssot/phase1-imports"], cwd=repo, capture_output=True, check=False
    )
    cache = repo / ".git" / "ssot-cache"
    shutil.rmtree(cache if cold else cache / "tests", ignore_errors=True)
    hidden = [p for p in repo.rglob("__pycache__") if ".git" not in p.parts] if bare else []
    for folder in hidden:
        folder.rename(folder.with_name("__pycache__.hidden"))
    try:
        argv = [ssot, "phase1", "--repo", str(repo), "--config", str(config)]
        seconds, _ = timed(argv, repo, ENV)
    finally:
        for folder in hidden:
            folder.with_name("__pycache__.hidden").rename(folder)
    verified = subprocess.run(
        [
            *GIT,
            "log",
            "-1",
            "--format=%(trailers:key=SSOT-Verified,valueonly)",
            "ssot/phase1-imports",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return seconds, verified


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/bench-corpus/sympy"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/ssot-verify-bench"))
    parser.add_argument(
        "--python", default=sys.executable, help="the project's Python (pytest, mpmath)"
    )
    parser.add_argument("--ssot", default=str(Path(sys.executable).with_name("ssot-migrate")))
    parser.add_argument("-n", type=int, default=3, help="rounds")
    parser.add_argument(
        "--concurrent-only",
        action="store_true",
        help="time test-jobs = 2 only (the criterion), not the sequential run",
    )
    parser.add_argument(
        "--deselect",
        action="append",
        default=[],
        metavar="NODEID",
        help="leave a test out of every run (e.g. sympy/core/tests/test_arit.py::test_issue_21034, "
        "whose time alone swings between 20 and 45 s from run to run)",
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    tests = TESTS + tuple(f"--deselect={node}" for node in args.deselect)
    repo = prepare(args.corpus, args.work, args.python, tests)
    suite_argv = [args.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests]
    seconds, tail = timed(suite_argv, repo, ENV)  # warm-up: compiles the checkout's bytecode
    print(f"warm-up: suite {seconds:.1f} s ({tail})", file=sys.stderr)
    load_before = os.getloadavg()
    suite: list[float] = []
    runs: dict[str, list[float]] = {}
    ok = True
    kinds = [
        ("concurrent, nothing kept (the checkout's bytecode used)", 2, True, False),
        ("concurrent, kept bytecode", 2, False, False),
        ("concurrent, nothing compiled anywhere", 2, True, True),
    ]
    if not args.concurrent_only:
        kinds.append(("sequential, nothing kept", 1, True, False))
    for round_no in range(1, args.n + 1):
        seconds, tail = timed(suite_argv, repo, ENV)
        suite.append(seconds)
        print(f"round {round_no}: suite {seconds:.1f} s ({tail})", file=sys.stderr)
        for name, jobs, cold, bare in kinds:
            config = args.work / f"ssot-jobs{jobs}.toml"
            seconds, verified = phase(args.ssot, repo, config, cold=cold, bare=bare)
            runs.setdefault(name, []).append(seconds)
            ok = ok and verified == "yes"
            print(
                f"round {round_no}: phase1 {name} {seconds:.1f} s "
                f"(SSOT-Verified: {verified or '?'})",
                file=sys.stderr,
            )
    load_after = os.getloadavg()
    one = statistics.median(suite)
    print(
        f"{os.cpu_count()} cores; load average (1/5/15 min) before "
        f"{'/'.join(f'{x:.1f}' for x in load_before)}, after "
        f"{'/'.join(f'{x:.1f}' for x in load_after)}; {args.n} rounds, medians\n"
    )
    print("| run | wall s (median) | all runs s | x one suite run |")
    print("|---|---|---|---|")
    for name, values in [("one suite run (pytest -q, warm)", suite)] + [
        (f"phase1, {kind}", values) for kind, values in runs.items()
    ]:
        runs = ", ".join(f"{v:.1f}" for v in values)
        print(
            f"| {name} | {statistics.median(values):.1f} | {runs} | "
            f"{statistics.median(values) / one:.2f}x |"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

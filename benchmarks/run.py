#!/usr/bin/env python3
"""Time ``ssot-migrate phase1 --dry-run`` on the shared rename cases and put it beside the peers.

    benchmarks/run.py [--cases REGEX] [-n RUNS] [--no-floors] [--scan] [--phase3] [--fresh]

For every case of ``$BENCH/cases.tsv`` (Django and SymPy renames touching 2-3 or 90-308 files):

1. prepare a copy of the corpus in ``$WORK/copies/ssot.CASE`` (git init, one commit), plus the
   destination module the rename points at (``django/utils/functional_new.py`` ...), committed,
   because ssot-migrate refuses a canonical name it cannot find in the repository;
2. time ``ssot-migrate phase1 --dry-run`` there with the shared ``bench_time.py`` (median of N
   runs after a warm-up; wall, cpu of the whole process tree, peak RSS of the largest process);
3. re-time the fast floors in the same session (``grep -rl``, the pure-Python scan, and
   ``parse_libcst_hits`` = scan + a bare libcst parse of the files containing the name), so the
   ratios are taken between figures measured under the same machine load;
4. check the diff with the shared ``check.py`` (missed / extra files, compile, dangling names);
5. print one table: medians, ratio to the floor, speed-up over the RenameCommand and Bowler
   baseline medians (``results-baseline.tsv``, not re-run: they take ~1.5 h).

Optional: ``--scan`` times ``ssot-migrate scan`` on the same copy (issue 3 wants scan within
1.5x of the phase-1 dry run); ``--phase3`` times ``phase3 --dry-run`` with the canonical name
as the target's factory. Rows are appended to ``$WORK/results.tsv`` (bench_time.py's format).

Environment (defaults): ``BENCH=/work/shared/bench CORPUS=/tmp/bench-corpus
WORK=/tmp/ssot-bench VENV=/tmp/bench-venv SSOT=<ssot-migrate next to this python>``.
Nothing outside ``$WORK`` is written.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(os.environ.get("BENCH", "/work/shared/bench"))
CORPUS = Path(os.environ.get("CORPUS", "/tmp/bench-corpus"))
WORK = Path(os.environ.get("WORK", "/tmp/ssot-bench"))
VENV = Path(os.environ.get("VENV", "/tmp/bench-venv"))
SSOT = os.environ.get("SSOT") or str(Path(sys.executable).with_name("ssot-migrate"))
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]


@dataclass(frozen=True)
class Case:
    """One rename of ``cases.tsv``."""

    id: str
    corpus: str
    old: str
    new: str

    @property
    def name(self) -> str:
        return self.old.rpartition(".")[2]


def read_cases(pattern: str) -> list[Case]:
    """The cases of ``cases.tsv`` whose id matches ``pattern``."""
    cases = []
    for line in (BENCH / "cases.tsv").read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        cid, corpus, old, new, *_ = line.split("\t")
        if re.search(pattern, cid):
            cases.append(Case(cid, corpus, old, new))
    return cases


def prepare_copy(case: Case, fresh: bool) -> Path:
    """A git copy of the corpus with the rename's destination module committed."""
    copy = WORK / "copies" / f"ssot.{case.id}"
    dest_module, _, leaf = case.new.rpartition(".")
    dest = copy / (dest_module.replace(".", "/") + ".py")
    if copy.exists() and not fresh and dest.exists():
        return copy
    if copy.exists():
        shutil.rmtree(copy)
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(CORPUS / case.corpus, copy, symlinks=True)
    # The destination must define the name (ssot-migrate validates the canonical statically);
    # a stand-in, not an import of the old module, so the codemod has nothing to do in it.
    dest.write_text(
        f'"""Benchmark stand-in: the new home of {leaf}."""\n\n\n'
        f"def {leaf}(*args, **kwargs):\n    raise NotImplementedError\n"
    )
    subprocess.run([*GIT, "init", "-q", str(copy)], check=True)
    subprocess.run([*GIT, "-C", str(copy), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(copy), "commit", "-qm", "corpus", "--no-verify"], check=True)
    return copy


def write_config(case: Case, phase3: bool = False) -> Path:
    """The same ``[tool.ssot-migrate]`` table the shared ``run_peers.sh`` writes."""
    cfg = WORK / "configs" / f"{case.id}{'-phase3' if phase3 else ''}.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    extra = f'factory = "{case.new}"\n' if phase3 else ""
    cfg.write_text(
        "[tool.ssot-migrate]\n[[tool.ssot-migrate.targets]]\n"
        f'name = "{case.id}"\ncanonical = "{case.new}"\naliases = ["{case.old}"]\n{extra}'
    )
    return cfg


def time_command(
    peer: str, case: Case, cmd: list[str], cwd: Path, runs: int, warmup: int, results: Path
) -> Path:
    """Time ``cmd`` with the shared ``bench_time.py``; returns the file holding its stdout."""
    out = WORK / "out" / f"{peer}.{case.id}.out"
    out.parent.mkdir(parents=True, exist_ok=True)
    print(f"== {peer} {case.id} (runs={runs} warmup={warmup})", file=sys.stderr, flush=True)
    subprocess.run(
        [
            sys.executable,
            str(BENCH / "bench_time.py"),
            "-n",
            str(runs),
            "--warmup",
            str(warmup),
            "--cwd",
            str(cwd),
            "--stdout",
            str(out),
            "--tsv",
            str(results),
            "--peer",
            peer,
            "--case",
            case.id,
            "--corpus",
            case.corpus,
            "--",
            *cmd,
        ],
        check=True,
        stdout=sys.stderr,
    )
    return out


def load_rows(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    """Rows of a results file keyed by (peer, case); the last row of a pair wins."""
    rows: dict[tuple[str, str], dict[str, str]] = {}
    if path.exists():
        with path.open() as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                rows[(row["peer"], row["case"])] = row
    return rows


def check_diff(case: Case, copy: Path, out: Path) -> dict[str, object]:
    """The shared ``check.py`` verdict on a dry-run diff (applied in memory)."""
    proc = subprocess.run(
        [sys.executable, str(BENCH / "check.py"), str(copy), str(out), case.old, case.new],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        result: dict[str, object] = json.loads(proc.stdout)
    except json.JSONDecodeError:
        result = {"error": (proc.stderr or proc.stdout).strip()[-500:]}
    return result


def _ratio(numerator: float, denominator: float) -> str:
    if denominator <= 0:
        return "-"
    value = numerator / denominator
    return f"{value:.1f}x" if value < 10 else f"{value:,.0f}x"


def table(cases: list[Case], session: dict[tuple[str, str], dict[str, str]]) -> str:
    """Markdown: ssot-migrate's medians, ratio to the floor, speed-up over the slow peers."""
    baseline = load_rows(BENCH / "results-baseline.tsv")
    lines = [
        (
            "| case | command | wall med s | cpu med s | peak MiB | floor wall s | x floor "
            "| RenameCommand s | faster than RC | Bowler s | faster than Bowler | exit |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case in cases:
        floor = session.get(("parse_libcst_hits", case.id))
        rc = baseline.get(("libcst", case.id))
        bowler = baseline.get(("bowler", case.id))
        for peer in ("ssot_migrate", "ssot_scan", "ssot_phase3"):
            row = session.get((peer, case.id))
            if row is None:
                continue
            wall = float(row["wall_med"])
            fw = float(floor["wall_med"]) if floor else 0.0
            rcw = float(rc["wall_med"]) if rc else 0.0
            bw = float(bowler["wall_med"]) if bowler else 0.0
            lines.append(
                f"| {case.id} | {peer} | {wall:.2f} | {float(row['cpu_med']):.2f} "
                f"| {float(row['peak_mib_med']):.0f} | {fw:.2f} | {_ratio(wall, fw)} "
                f"| {rcw:.0f} | {_ratio(rcw, wall)} | {bw:.0f} | {_ratio(bw, wall)} "
                f"| {row['exit_codes']} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Prepare, time, check and tabulate; returns 1 when a diff fails the correctness check."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--cases", default=".", help="regex over case ids (dj-mod dj-few sy-mod sy-few)"
    )
    ap.add_argument("-n", "--runs", type=int, default=5)
    ap.add_argument("--floor-runs", type=int, default=5)
    ap.add_argument("--no-floors", action="store_true", help="do not re-time grep/pyscan/parse")
    ap.add_argument("--scan", action="store_true", help="also time `ssot-migrate scan`")
    ap.add_argument("--phase3", action="store_true", help="also time `phase3 --dry-run`")
    ap.add_argument("--fresh", action="store_true", help="rebuild the corpus copies")
    ap.add_argument("--jobs", type=int, default=None, help="pass --jobs to ssot-migrate")
    args = ap.parse_args(argv)
    if not (CORPUS / "django").is_dir() or not (CORPUS / "sympy").is_dir():
        print(f"corpora missing: run {BENCH}/corpus.sh {CORPUS}", file=sys.stderr)
        return 2
    if not Path(SSOT).exists() and shutil.which(SSOT) is None:
        print(f"ssot-migrate not found at {SSOT} (set SSOT=...)", file=sys.stderr)
        return 2
    results = WORK / "results.tsv"
    cases = read_cases(args.cases)
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    checks: dict[str, dict[str, object]] = {}
    for case in cases:
        copy = prepare_copy(case, args.fresh)
        cfg = write_config(case)
        out = time_command(
            "ssot_migrate",
            case,
            [SSOT, "phase1", "--dry-run", "--repo", str(copy), "--config", str(cfg), *jobs],
            copy,
            args.runs,
            1,
            results,
        )
        checks[case.id] = check_diff(case, copy, out)
        if args.scan:
            time_command(
                "ssot_scan",
                case,
                [SSOT, "scan", "--repo", str(copy), "--config", str(cfg), *jobs],
                copy,
                args.runs,
                1,
                results,
            )
        if args.phase3:
            cfg3 = write_config(case, phase3=True)
            time_command(
                "ssot_phase3",
                case,
                [SSOT, "phase3", "--dry-run", "--repo", str(copy), "--config", str(cfg3), *jobs],
                copy,
                args.runs,
                1,
                results,
            )
        if not args.no_floors:
            floors = {
                "grep": ["grep", "-rl", "--include=*.py", case.name, "."],
                "pyscan": ["python3", str(BENCH / "floor.py"), "scan", ".", case.name],
                "parse_libcst_hits": [
                    str(VENV / "bin" / "python"),
                    str(BENCH / "floor.py"),
                    "parse",
                    ".",
                    "--parser",
                    "libcst",
                    "--needle",
                    case.name,
                ],
            }
            for peer, cmd in floors.items():
                time_command(peer, case, cmd, copy, args.floor_runs, 1, results)
    session = load_rows(results)
    print(table(cases, session))
    print()
    print(
        "| case | files in diff | changed | missed (absolute) | missed (relative-only) | extra "
        "| compile failures | dangling names |"
    )
    print("|---|---|---|---|---|---|---|---|")
    bad = False
    for cid, res in checks.items():
        if "error" in res:
            print(f"| {cid} | check.py failed: {res['error']} | | | | | | |")
            bad = True
            continue
        missed = res.get("missed_absolute") or []
        compile_fail = res.get("compile_fail") or []
        dangling = res.get("dangling") or []
        bad = bad or bool(compile_fail) or bool(dangling)
        print(
            f"| {cid} | {res.get('files_in_diff')} | {res.get('changed_files')} "
            f"| {len(missed) if isinstance(missed, list) else missed} "
            f"| {res.get('missed_relative')} | {_count(res.get('extra'))} "
            f"| {len(compile_fail) if isinstance(compile_fail, list) else compile_fail} "
            f"| {len(dangling) if isinstance(dangling, list) else dangling} |"
        )
    (WORK / "checks.json").write_text(json.dumps(checks, indent=1))
    print(f"\nfull check results: {WORK / 'checks.json'}; rows: {results}", file=sys.stderr)
    return 1 if bad else 0


def _count(value: object) -> str:
    if not isinstance(value, list):
        return str(value)
    if value and isinstance(value[-1], str) and value[-1].startswith("... "):
        return value[-1].split()[1]
    return str(len(value))


if __name__ == "__main__":
    sys.exit(main())

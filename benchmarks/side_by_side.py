#!/usr/bin/env python3
"""Issue 17's criteria, timed in one run, every command once per round, rounds interleaved.

    benchmarks/side_by_side.py [-n ROUNDS] [--cases dj-few,sy-few,dj-mod]

Per case of ``run.py`` (a git copy of the corpus with the rename's destination committed, made by
``run.py``'s ``prepare_copy``): the floor (``many_targets.py``'s ``parse_libcst_hits``: read every
file, libcst-parse those containing the name, one process), ``phase1 --dry-run`` and
``phase3 --dry-run`` (the canonical as the factory, as ``run.py --phase3``). Plus the many-target
rows of ``many_targets.py`` (1 and 1,000 targets for ``scan``, ``phase1`` and ``phase3``, the
25-target case and its floor) and ``ssot-migrate --version`` (interpreter and CLI start-up).
Medians, ratios between medians of the same rounds, the load average before and after.
Outputs land in ``$WORK/out/side`` for comparison with another version's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import many_targets as many  # noqa: E402
import run as single  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Time the rounds and print the two tables (markdown)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--runs", type=int, default=3)
    ap.add_argument("--cases", default="dj-few,sy-few,dj-mod")
    args = ap.parse_args(argv)
    me = [sys.executable, str(Path(many.__file__).resolve())]
    items: list[tuple[str, Path, many.Item]] = []
    for case in single.read_cases("|".join(f"^{c}$" for c in args.cases.split(","))):
        copy = single.prepare_copy(case, False)
        cfg, cfg3 = single.write_config(case), single.write_config(case, phase3=True)
        items += [
            (case.id, copy, many.Item(f"{case.id}-floor", [*me, "--floor", str(copy), case.name])),
            (
                case.id,
                copy,
                many.Item(
                    f"{case.id}-phase1",
                    [single.SSOT, "phase1", "--dry-run", "--repo", str(copy), "--config", str(cfg)],
                ),
            ),
            (
                case.id,
                copy,
                many.Item(
                    f"{case.id}-phase3",
                    [
                        single.SSOT,
                        "phase3",
                        "--dry-run",
                        "--repo",
                        str(copy),
                        "--config",
                        str(cfg3),
                    ],
                ),
            ),
        ]
    copy = many.prepare_copy(False)
    configs = many.write_configs([1, 1000])
    for size in (1, 1000):
        for command in ("phase1", "scan", "phase3"):
            config = configs[f"n{size}-{'phase3' if command == 'phase3' else 'phase1'}"]
            argv_ = [single.SSOT, command, "--repo", str(copy), "--config", str(config)]
            argv_ += ["--format", "json"] if command == "scan" else ["--dry-run"]
            items.append(("many", copy, many.Item(f"many-{command}-n{size}", argv_)))
    for command in ("phase1", "scan"):
        argv_ = [single.SSOT, command, "--repo", str(copy), "--config", str(configs["many25"])]
        argv_ += ["--format", "json"] if command == "scan" else ["--dry-run"]
        items.append(("many", copy, many.Item(f"many25-{command}", argv_)))
    items.append(
        (
            "many",
            copy,
            many.Item("many25-floor", [*me, "--floor", str(copy), *(n for _, n in many.MANY)]),
        )
    )
    items.append(("start", copy, many.Item("start-version", [single.SSOT, "--version"])))
    loads = [os.getloadavg()]
    for round_ in range(args.runs):
        for _, cwd, item in items:
            print(f"round {round_} {item.key}", file=sys.stderr, flush=True)
            many.run_once(item, cwd)
            item.out.rename(item.out.with_name(f"side-{item.key}.out"))  # type: ignore[union-attr]
        loads.append(os.getloadavg())
        (many.WORK / "side.json").write_text(
            json.dumps(  # kept should the tables below fail
                {"loads": loads, **{i.key: [i.wall, i.cpu, i.peak, i.exits] for _, _, i in items}}
            )
        )
    by = {item.key: item for _, _, item in items}
    print(
        "load average (1, 5, 15 min) before and after each round: "
        + "; ".join("/".join(f"{x:.1f}" for x in load) for load in loads)
    )
    print("\n| row | wall med s | cpu med s | peak MiB | runs (wall) | exit |")
    print("|---|---|---|---|---|---|")
    for key, item in by.items():
        print(
            f"| {key} | {item.median('wall'):.2f} | {item.median('cpu'):.2f} "
            f"| {item.median('peak'):.0f} | {', '.join(f'{w:.1f}' for w in item.wall)} "
            f"| {sorted(set(item.exits))} |"
        )
    print("\n| ratio | wall | cpu | criterion |")
    print("|---|---|---|---|")

    def ratio(label: str, top: str, bottom: str, criterion: str) -> None:
        a, b = by[top], by[bottom]
        print(
            f"| {label} | {a.median('wall') / b.median('wall'):.2f}x "
            f"| {a.median('cpu') / b.median('cpu'):.2f}x | {criterion} |"
        )

    for case in args.cases.split(","):
        ratio(
            f"{case} phase 1 / floor", f"{case}-phase1", f"{case}-floor", "<= 2x (dj-few, sy-few)"
        )
        ratio(f"{case} phase 3 / phase 1", f"{case}-phase3", f"{case}-phase1", "<= 1.5x")
    for command in ("phase1", "scan", "phase3"):
        ratio(
            f"{command} 1,000 targets / 1", f"many-{command}-n1000", f"many-{command}-n1", "<= 2x"
        )
    print(
        "| peak +MiB at 1,000 targets | "
        + ", ".join(
            f"{c} {by[f'many-{c}-n1000'].median('peak') - by[f'many-{c}-n1'].median('peak'):+.0f}"
            for c in ("phase1", "scan", "phase3")
        )
        + " | | < 100 MB |"
    )
    ratio("25 targets phase 1 / floor", "many25-phase1", "many25-floor", "<= 2x")
    ratio("25 targets scan / floor", "many25-scan", "many25-floor", "<= 2x")
    ratio("phase 3 (1 target, many copy) / phase 1", "many-phase3-n1", "many-phase1-n1", "<= 1.5x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Does a command's cost grow with the number of configured targets? Timed beside its floor.

    benchmarks/many_targets.py [-n RUNS] [--sizes 1,10,100,1000] [--commands phase1,scan,phase3]

On a git copy of the Django corpus (``$WORK/copies/ssot.many``):

* **N targets**: the dj-few rename (``django.utils.inspect.func_supports_parameter``, 2 files
  reference it) plus N-1 targets that match nothing: each has a canonical stand-in class and a
  factory function in a committed package ``ssot_fill`` (50 modules of 20, as a compat layer
  groups them) and an alias no file spells. Timed for ``phase1 --dry-run``, ``scan`` and
  ``phase3 --dry-run`` (the real target's factory is its canonical, as ``run.py --phase3``).
* **25 targets**: 25 ``django.utils`` functions and classes imported by 2-5 files each, moved to
  a committed stand-in module; ``phase1 --dry-run`` and ``scan``.
* **floors**, in the same rounds: ``parse_libcst_hits`` (read every file, test the needles,
  ``libcst.parse_module`` the files that contain one, one process) for dj-few's name and for the
  25 names.

Every round runs every command once, in turn, so a machine loaded by others slows all of them
alike; medians over the rounds, ratios taken between medians of the same rounds. Outputs are
checked: the N-target diffs must equal the 1-target diff, and scan's report of the real target
must not change with N. Writes nothing outside ``$WORK``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(os.environ.get("CORPUS", "/tmp/bench-corpus"))
WORK = Path(os.environ.get("WORK", "/tmp/ssot-bench"))
SSOT = os.environ.get("SSOT") or str(Path(sys.executable).with_name("ssot-migrate"))
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]

REAL = "django.utils.inspect.func_supports_parameter"
REAL_NEW = "django.utils.inspect_new.func_supports_parameter"
PER_MODULE = 20
FILL_MODULES = 50
# (module, name): imported by 2-5 files each, the name spelt in at most 8 files.
MANY = [
    ("django.utils._os", "symlinks_supported"),
    ("django.utils.cache", "get_cache_key"),
    ("django.utils.cache", "get_conditional_response"),
    ("django.utils.choices", "BaseChoiceIterator"),
    ("django.utils.connection", "BaseConnectionHandler"),
    ("django.utils.crypto", "InvalidAlgorithm"),
    ("django.utils.datastructures", "CaseInsensitiveMapping"),
    ("django.utils.dateparse", "parse_date"),
    ("django.utils.decorators", "async_only_middleware"),
    ("django.utils.duration", "duration_iso_string"),
    ("django.utils.encoding", "escape_uri_path"),
    ("django.utils.feedgenerator", "Atom1Feed"),
    ("django.utils.formats", "get_format"),
    ("django.utils.functional", "keep_lazy"),
    ("django.utils.html", "avoid_wrapping"),
    ("django.utils.http", "base36_to_int"),
    ("django.utils.inspect", "func_accepts_kwargs"),
    ("django.utils.ipv6", "clean_ipv6_address"),
    ("django.utils.jslex", "prepare_js_for_gettext"),
    ("django.utils.lorem_ipsum", "paragraphs"),
    ("django.utils.module_loading", "autodiscover_modules"),
    ("django.utils.text", "Truncator"),
    ("django.utils.timesince", "timesince"),
    ("django.utils.translation.reloader", "translation_file_changed"),
    ("django.utils.xmlutils", "SimplerXMLGenerator"),
]
MANY_HOME = "django.utils.ssot_many_new"


def prepare_copy(fresh: bool) -> Path:
    """The Django corpus with the stand-in modules committed (built once, reused)."""
    copy = WORK / "copies" / "ssot.many"
    marker = copy / "ssot_fill" / f"m{FILL_MODULES - 1:02d}.py"
    if copy.exists() and marker.exists() and not fresh:
        return copy
    if copy.exists():
        shutil.rmtree(copy)
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(CORPUS / "django", copy, symlinks=True)
    (copy / "django/utils/inspect_new.py").write_text(
        '"""Benchmark stand-in."""\n\n\ndef func_supports_parameter(*args, **kwargs):\n'
        "    raise NotImplementedError\n"
    )
    (copy / "ssot_fill").mkdir()
    (copy / "ssot_fill/__init__.py").write_text("")
    for module in range(FILL_MODULES):
        body = '"""Benchmark stand-ins: canonicals no file uses."""\n\n'
        for i in range(module * PER_MODULE, (module + 1) * PER_MODULE):
            body += (
                f'class Canon{i:04d}:\n    """A stand-in."""\n\n\n'
                f"def make_canon{i:04d}():\n    return Canon{i:04d}()\n\n\n"
            )
        (copy / f"ssot_fill/m{module:02d}.py").write_text(body)
    stand_ins = '"""Benchmark stand-ins: the new home of 25 moved names."""\n\n'
    for _, name in MANY:
        kind = "class" if name[0].isupper() else "def"
        stand_ins += (
            f"\n{kind} {name}{'' if kind == 'class' else '(*args, **kwargs)'}:\n    pass\n\n"
        )
    (copy / (MANY_HOME.replace(".", "/") + ".py")).write_text(stand_ins)
    subprocess.run([*GIT, "init", "-q", str(copy)], check=True)
    subprocess.run([*GIT, "-C", str(copy), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(copy), "commit", "-qm", "corpus", "--no-verify"], check=True)
    return copy


def write_configs(sizes: list[int]) -> dict[str, Path]:
    """``n<N>-phase1``/``n<N>-phase3`` and ``many25``; phase 1's serves scan too."""
    out: dict[str, Path] = {}
    folder = WORK / "configs" / "many"
    folder.mkdir(parents=True, exist_ok=True)
    for size in sizes:
        for phase in ("phase1", "phase3"):
            text = (
                "[tool.ssot-migrate]\n[[tool.ssot-migrate.targets]]\n"
                f'name = "dj-few"\ncanonical = "{REAL_NEW}"\naliases = ["{REAL}"]\n'
            )
            if phase == "phase3":
                text += f'factory = "{REAL_NEW}"\n'
            for i in range(size - 1):
                module = f"ssot_fill.m{i // PER_MODULE:02d}"
                text += (
                    f'[[tool.ssot-migrate.targets]]\nname = "fill{i:04d}"\n'
                    f'canonical = "{module}.Canon{i:04d}"\n'
                    f'aliases = ["ssot_gone.legacy{i // PER_MODULE:02d}.OldThing{i:04d}"]\n'
                    f'factory = "{module}.make_canon{i:04d}"\n'
                )
            path = folder / f"n{size}-{phase}.toml"
            path.write_text(text)
            out[f"n{size}-{phase}"] = path
    text = "[tool.ssot-migrate]\n"
    for module, name in MANY:
        text += (
            f'[[tool.ssot-migrate.targets]]\nname = "{name}"\n'
            f'canonical = "{MANY_HOME}.{name}"\naliases = ["{module}.{name}"]\n'
        )
    path = folder / "many25.toml"
    path.write_text(text)
    out["many25"] = path
    return out


@dataclass
class Item:
    """One command of a round and its measurements."""

    key: str
    argv: list[str]
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    peak: list[float] = field(default_factory=list)
    exits: list[int] = field(default_factory=list)
    out: Path | None = None

    def median(self, what: str) -> float:
        values: list[float] = getattr(self, what)
        return statistics.median(values) if values else 0.0


def run_once(item: Item, cwd: Path) -> None:
    """One run: wall, cpu of the process tree (``os.wait4``), peak RSS of the largest process."""
    item.out = WORK / "out" / "many" / f"{item.key}.out"
    item.out.parent.mkdir(parents=True, exist_ok=True)
    with item.out.open("wb") as out, item.out.with_suffix(".err").open("wb") as err:
        started = time.monotonic()
        proc = subprocess.Popen(
            item.argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        _, status, usage = os.wait4(proc.pid, 0)
        item.wall.append(time.monotonic() - started)
    item.cpu.append(usage.ru_utime + usage.ru_stime)
    item.peak.append(usage.ru_maxrss / 1024.0)
    item.exits.append(os.waitstatus_to_exitcode(status))


def floor(root: Path, needles: list[str]) -> None:
    """``parse_libcst_hits`` for several needles: read every file, parse those containing one."""
    import libcst

    wanted = [n.encode() for n in needles]
    parsed = failed = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            data = Path(dirpath, name).read_bytes()
            if any(n in data for n in wanted):
                parsed += 1
                try:
                    libcst.parse_module(data)
                except libcst.ParserSyntaxError:  # the corpus's deliberately broken file
                    failed += 1
    print(f"parsed {parsed}, {failed} do not parse")


def real_target(scan_json: Path) -> object:
    """Scan's report of the dj-few target alone (the fillers' entries grow with N)."""
    report = json.loads(scan_json.read_text())
    targets = [t for t in report["targets"] if t["name"] == "dj-few"]
    sites = [s for s in report.get("sites", []) if s.get("target") == "dj-few"]
    return {"target": targets, "sites": sites, "counts_of_real": targets[0]["counts"]}


def main(argv: list[str] | None = None) -> int:
    """Prepare, run the rounds, check the outputs, print the tables; 1 when an output differs."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--runs", type=int, default=3, help="measured rounds")
    ap.add_argument("--sizes", default="1,10,100,1000")
    ap.add_argument("--commands", default="phase1,scan,phase3")
    ap.add_argument("--warmup", type=int, default=1, help="unmeasured rounds first")
    ap.add_argument("--fresh", action="store_true", help="rebuild the corpus copy")
    ap.add_argument("--floor", nargs="+", metavar=("ROOT", "NEEDLE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.floor:
        floor(Path(args.floor[0]), args.floor[1:])
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    commands = args.commands.split(",")
    copy = prepare_copy(args.fresh)
    configs = write_configs(sizes)
    me = [sys.executable, str(Path(__file__).resolve())]
    items: list[Item] = []
    for size in sizes:
        for command in commands:
            config = configs[f"n{size}-{'phase3' if command == 'phase3' else 'phase1'}"]
            argv_ = [SSOT, command, "--repo", str(copy), "--config", str(config)]
            if command == "scan":
                argv_ += ["--format", "json"]
            else:
                argv_.insert(2, "--dry-run")
            items.append(Item(f"{command}-n{size}", argv_))
    items.append(
        Item(
            "phase1-many25",
            [SSOT, "phase1", "--dry-run", "--repo", str(copy), "--config", str(configs["many25"])],
        )
    )
    items.append(
        Item(
            "scan-many25",
            [
                SSOT,
                "scan",
                "--format",
                "json",
                "--repo",
                str(copy),
                "--config",
                str(configs["many25"]),
            ],
        )
    )
    items.append(Item("floor-dj-few", [*me, "--floor", str(copy), REAL.rpartition(".")[2]]))
    items.append(Item("floor-many25", [*me, "--floor", str(copy), *(n for _, n in MANY)]))
    print(f"load before: {os.getloadavg()[0]:.1f}", file=sys.stderr)
    for round_ in range(args.warmup + args.runs):  # warm-up rounds fill the page cache
        for item in items:
            print(f"round {round_} {item.key}", file=sys.stderr, flush=True)
            run_once(item, copy)
            if round_ < args.warmup:
                for values in (item.wall, item.cpu, item.peak, item.exits):
                    values.clear()
    print(f"load after: {os.getloadavg()[0]:.1f}", file=sys.stderr)
    by_key = {item.key: item for item in items}
    bad = _check(by_key, sizes, commands)
    print(_table(by_key, sizes, commands))
    return 1 if bad else 0


def _check(by_key: dict[str, Item], sizes: list[int], commands: list[str]) -> bool:
    bad = False
    for command in commands:
        first = by_key[f"{command}-n{sizes[0]}"]
        for size in sizes[1:]:
            item = by_key[f"{command}-n{size}"]
            assert first.out is not None and item.out is not None
            if command == "scan":
                same = real_target(first.out) == real_target(item.out)
            else:
                same = first.out.read_bytes() == item.out.read_bytes()
            if not same or set(item.exits) != {0}:
                print(f"DIFFERS: {item.key} (exit {item.exits})", file=sys.stderr)
                bad = True
    return bad


def _table(by_key: dict[str, Item], sizes: list[int], commands: list[str]) -> str:
    lines = [
        (
            "| command | targets | wall med s | cpu med s | peak MiB | x 1 target (wall) "
            "| x 1 target (cpu) | peak +MiB |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for command in commands:
        base = by_key[f"{command}-n{sizes[0]}"]
        for size in sizes:
            item = by_key[f"{command}-n{size}"]
            lines.append(
                f"| {command} | {size} | {item.median('wall'):.2f} | {item.median('cpu'):.2f} "
                f"| {item.median('peak'):.0f} | {item.median('wall') / base.median('wall'):.2f} "
                f"| {item.median('cpu') / base.median('cpu'):.2f} "
                f"| {item.median('peak') - base.median('peak'):+.0f} |"
            )
    lines += [
        "",
        (
            "| case | command | wall med s | cpu med s | peak MiB | floor wall s "
            "| floor cpu s | x floor (wall) | x floor (cpu) |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    rows = [
        ("dj-few (1 target)", f"phase1-n{sizes[0]}", "floor-dj-few"),
        ("dj-few (1 target)", f"scan-n{sizes[0]}", "floor-dj-few"),
        ("25 targets", "phase1-many25", "floor-many25"),
        ("25 targets", "scan-many25", "floor-many25"),
    ]
    for case, key, floor_key in rows:
        if key not in by_key:
            continue
        item, low = by_key[key], by_key[floor_key]
        lines.append(
            f"| {case} | {key.split('-')[0]} | {item.median('wall'):.2f} | {item.median('cpu'):.2f} "
            f"| {item.median('peak'):.0f} | {low.median('wall'):.2f} | {low.median('cpu'):.2f} "
            f"| {item.median('wall') / low.median('wall'):.2f} "
            f"| {item.median('cpu') / low.median('cpu'):.2f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

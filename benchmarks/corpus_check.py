#!/usr/bin/env python3
"""Run every phase over real corpora (Django, SymPy) and check the promise, by hand (not CI).

    benchmarks/corpus_check.py [--only REGEX] [--jobs N]

For each corpus and phase, one target that matches nothing and one that matches many files:
``ssot-migrate PHASE --dry-run`` on a git copy of the corpus, then

* crashes: exit code other than 0, a traceback, or a file skipped for an "internal error";
* validity: the diff applies with ``git apply --cached`` to a scratch index, and every file it
  changes compiles (``compile()``) - except files that did not compile before either;
* untouched files: the applied tree differs from HEAD in exactly the files the diff names, and
  a "matches nothing" target produces an empty diff;
* idempotency: the changed tree, committed in the copy, gives an empty diff when run again.

Prints one table row per run and a total line ("N files processed, 0 crashes, ..."). Copies live
under ``$WORK`` (default ``/tmp/ssot-corpus``); corpora come from ``$CORPUS`` (default
``/tmp/bench-corpus``, made by ``/work/shared/bench/corpus.sh``). Stand-in modules for the
canonical names (``*_new.py``, a factory module) are added to the copies and committed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(os.environ.get("CORPUS", "/tmp/bench-corpus"))
WORK = Path(os.environ.get("WORK", "/tmp/ssot-corpus"))
SSOT = os.environ.get("SSOT") or str(Path(sys.executable).with_name("ssot-migrate"))
GIT = ["git", "-c", "user.name=corpus", "-c", "user.email=corpus@localhost"]

STANDINS = {
    "django": {
        "django/utils/functional_new.py": "def cached_property(*args, **kwargs):\n    raise NotImplementedError\n",
        "django/utils/timezone_new.py": "def now():\n    raise NotImplementedError\n",
        "django/http/zz_factory.py": "def make_response(*args, **kwargs):\n    raise NotImplementedError\n",
        # A verbatim copy of django.utils.datastructures.OrderedSet (Django 5.1.15): phase 2 may
        # alias the original to it, since an identical copy has the same logic.
        "django/utils/datastructures_new.py": (
            "class OrderedSet:\n"
            '    """\n    A set which keeps the ordering of the inserted items.\n    """\n\n'
            "    def __init__(self, iterable=None):\n        self.dict = dict.fromkeys(iterable or ())\n\n"
            "    def add(self, item):\n        self.dict[item] = None\n\n"
            "    def remove(self, item):\n        del self.dict[item]\n\n"
            "    def discard(self, item):\n        try:\n            self.remove(item)\n"
            "        except KeyError:\n            pass\n\n"
            "    def __iter__(self):\n        return iter(self.dict)\n\n"
            "    def __reversed__(self):\n        return reversed(self.dict)\n\n"
            "    def __contains__(self, item):\n        return item in self.dict\n\n"
            "    def __bool__(self):\n        return bool(self.dict)\n\n"
            "    def __len__(self):\n        return len(self.dict)\n\n"
            "    def __repr__(self):\n"
            '        data = repr(list(self.dict)) if self.dict else ""\n'
            '        return f"{self.__class__.__qualname__}({data})"\n'
        ),
        # A stub with OrderedSet's interface whose methods raise: the real OrderedSet has logic
        # of its own against it, which phase 2 must keep (it used to alias it silently).
        "django/utils/datastructures_stub.py": (
            "class OrderedSet:\n"
            "    def __init__(self, iterable=None):\n        self.dict = dict.fromkeys(iterable or ())\n"
            + "".join(
                f"\n    def {name}(self, *args, **kwargs):\n        raise NotImplementedError\n"
                for name in (
                    "add",
                    "remove",
                    "discard",
                    "__iter__",
                    "__reversed__",
                    "__contains__",
                    "__bool__",
                    "__len__",
                    "__repr__",
                )
            )
        ),
        "django/http/zz_nothing.py": (
            "class ZzNothing:\n    pass\n\n\ndef make_nothing():\n    return ZzNothing()\n"
        ),
    },
    "sympy": {
        "sympy/core/sympify_new.py": "def sympify(*args, **kwargs):\n    raise NotImplementedError\n",
        "sympy/utilities/iterables_new.py": "def flatten(*args, **kwargs):\n    raise NotImplementedError\n",
        "sympy/core/zz_factory.py": "def make_symbol(*args, **kwargs):\n    raise NotImplementedError\n",
    },
}


@dataclass(frozen=True)
class Run:
    """One phase with one target table over one corpus."""

    corpus: str
    phase: str
    label: str
    target: str  # the body of one [[tool.ssot-migrate.targets]] table
    expect_changes: bool

    @property
    def id(self) -> str:
        return f"{self.corpus}-{self.phase}-{self.label}"


def _t(name: str, canonical: str, aliases: list[str], **extra: object) -> str:
    lines = [
        f'name = "{name}"',
        f'canonical = "{canonical}"',
        "aliases = [" + ", ".join(f'"{a}"' for a in aliases) + "]",
    ]
    for key, value in extra.items():
        key = key.replace("_", "-")
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, list):
            lines.append(f"{key} = [" + ", ".join(f'"{v}"' for v in value) + "]")
        else:
            lines.append(f'{key} = "{value}"')
    return "\n".join(lines) + "\n"


RUNS = [
    # phase 1: imports
    # "nothing": discovery off, or the canonical's re-export paths would be rewritten (by design)
    Run(
        "django",
        "phase1",
        "nothing",
        _t(
            "none",
            "django.utils.functional.cached_property",
            ["django.utils.zz_gone.ZzNothing"],
            discover_aliases=False,
        ),
        False,
    ),
    Run(
        "django",
        "phase1",
        "symbol-90",
        _t(
            "cp",
            "django.utils.functional_new.cached_property",
            ["django.utils.functional.cached_property"],
        ),
        True,
    ),
    Run(
        "django",
        "phase1",
        "module-many",
        _t("tz", "django.utils.timezone_new", ["django.utils.timezone"]),
        True,
    ),
    Run(
        "sympy",
        "phase1",
        "nothing",
        _t(
            "none",
            "sympy.core.sympify.sympify",
            ["sympy.zz_gone.ZzNothing"],
            discover_aliases=False,
        ),
        False,
    ),
    Run(
        "sympy",
        "phase1",
        "discovered-only",
        _t("none", "sympy.core.sympify.sympify", ["sympy.zz_gone.ZzNothing"]),
        True,
    ),
    Run(
        "sympy",
        "phase1",
        "symbol-308",
        _t("sy", "sympy.core.sympify_new.sympify", ["sympy.core.sympify.sympify"]),
        True,
    ),
    Run(
        "sympy",
        "phase1",
        "module-many",
        _t("it", "sympy.utilities.iterables_new", ["sympy.utilities.iterables"]),
        True,
    ),
    # phase 2: facades (a subclass collapsed onto its base)
    Run(
        "django",
        "phase2",
        "nothing",
        _t(
            "none",
            "django.http.response.HttpResponse",
            ["django.http.zz_gone.ZzResponse"],
            facades=["django.http.zz_gone.ZzResponse"],
        ),
        False,
    ),
    Run(
        "django",
        "phase2",
        "facade",
        _t(
            "resp",
            "django.http.response.HttpResponse",
            ["django.http.response.HttpResponseNotFound"],
            facades=["django.http.response.HttpResponseNotFound"],
        ),
        False,
    ),
    # HttpResponseNotFound overrides status_code: listed as "needs a decision", an empty diff.
    # OrderedSet becomes an alias of its identical copy, and its importers move to the copy.
    Run(
        "django",
        "phase2",
        "alias-and-importers",
        _t(
            "oset",
            "django.utils.datastructures_new.OrderedSet",
            [],
            facades=["django.utils.datastructures.OrderedSet"],
        ),
        True,
    ),
    # Against a stub, OrderedSet's methods are logic of its own: kept and listed, an empty diff...
    Run(
        "django",
        "phase2",
        "logic-kept",
        _t(
            "oset",
            "django.utils.datastructures_stub.OrderedSet",
            [],
            facades=["django.utils.datastructures.OrderedSet"],
        ),
        False,
    ),
    # ...unless the user decides the canonical's logic replaces it (listed method by method).
    Run(
        "django",
        "phase2",
        "logic-replaced",
        _t(
            "oset",
            "django.utils.datastructures_stub.OrderedSet",
            [],
            facades=["django.utils.datastructures.OrderedSet"],
            replace_facade_logic=["django.utils.datastructures.OrderedSet"],
        ),
        True,
    ),
    Run(
        "sympy",
        "phase2",
        "nothing",
        _t(
            "none",
            "sympy.core.symbol.Symbol",
            ["sympy.zz_gone.ZzSymbol"],
            facades=["sympy.zz_gone.ZzSymbol"],
        ),
        False,
    ),
    # Dummy declares __slots__: listed as "needs a decision", never rewritten (an empty diff).
    Run(
        "sympy",
        "phase2",
        "slots-facade",
        _t(
            "dummy",
            "sympy.core.symbol.Symbol",
            ["sympy.core.symbol.Dummy"],
            facades=["sympy.core.symbol.Dummy"],
        ),
        False,
    ),
    # phase 3: factories (direct instantiation -> the factory)
    Run(
        "django",
        "phase3",
        "nothing",
        _t(
            "none",
            "django.http.zz_nothing.ZzNothing",
            [],
            factory="django.http.zz_nothing.make_nothing",
        ),
        False,
    ),
    Run(
        "django",
        "phase3",
        "many",
        _t(
            "resp",
            "django.http.response.HttpResponse",
            [],
            factory="django.http.zz_factory.make_response",
            factory_exempt=["django/http/*"],
        ),
        True,
    ),
    Run(
        "sympy",
        "phase3",
        "many",
        _t(
            "sym",
            "sympy.core.symbol.Symbol",
            [],
            factory="sympy.core.zz_factory.make_symbol",
            factory_exempt=["sympy/core/*"],
        ),
        True,
    ),
]


def prepare(corpus: str) -> Path:
    """A git copy of ``corpus`` with the stand-in modules committed (made once)."""
    copy = WORK / "copies" / corpus
    if (copy / ".git").is_dir():
        return copy
    if copy.exists():
        shutil.rmtree(copy)
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(CORPUS / corpus, copy, symlinks=True)
    for rel, text in STANDINS[corpus].items():
        (copy / rel).write_text(text)
    # the corpus's own pyproject.toml must not be read: every run passes --config
    subprocess.run([*GIT, "init", "-q", str(copy)], check=True)
    subprocess.run([*GIT, "-C", str(copy), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(copy), "commit", "-qm", "corpus", "--no-verify"], check=True)
    return copy


def git(copy: Path, *args: str, index: Path | None = None, stdin: bytes | None = None) -> bytes:
    env = dict(os.environ)
    if index is not None:
        env["GIT_INDEX_FILE"] = str(index)
    return subprocess.run(
        ["git", "-C", str(copy), *args], env=env, input=stdin, capture_output=True, check=True
    ).stdout


def dry_run(
    copy: Path, phase: str, config: Path, jobs: list[str], base: str = "HEAD"
) -> tuple[int, bytes, str, float]:
    started = time.monotonic()
    proc = subprocess.run(
        [
            SSOT,
            phase,
            "--dry-run",
            "--repo",
            str(copy),
            "--config",
            str(config),
            "--base",
            base,
            *jobs,
        ],
        capture_output=True,
        check=False,
    )
    return (
        proc.returncode,
        proc.stdout,
        proc.stderr.decode("utf-8", "replace"),
        time.monotonic() - started,
    )


def compiles(data: bytes, path: str) -> bool:
    try:
        compile(data, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def check(run: Run, jobs: list[str]) -> dict[str, object]:
    copy = prepare(run.corpus)
    config = WORK / "configs" / f"{run.id}.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[tool.ssot-migrate]\n\n[[tool.ssot-migrate.targets]]\n" + run.target)
    code, diff, err, seconds = dry_run(copy, run.phase, config, jobs)
    row: dict[str, object] = {"id": run.id, "exit": code, "seconds": round(seconds, 1)}
    summary = re.search(r"(\d+) Python files listed, (\d+) parsed, (\d+) changed", err)
    row["listed"], row["parsed"], row["changed"] = (
        tuple(int(x) for x in summary.groups()) if summary else ("?", "?", "?")
    )
    internal = [line for line in err.splitlines() if "internal error" in line]
    # Phase 2: every configured facade ends with exactly one outcome line in the summary.
    facades = re.findall(
        r'"([\w.]+)"', (re.findall(r"^facades = \[(.*)\]$", run.target, re.MULTILINE) or [""])[0]
    )
    verdicts = (" aliased to ", " delegated to ", " left as it is: ")
    row["outcome_errors"] = sum(
        1
        for facade in facades
        if sum(1 for line in err.splitlines() if any(f"{facade}{v}" in line for v in verdicts)) != 1
    )
    row["kept_listed"] = err.count(" has logic of its own: ")
    row["crashes"] = int(code not in (0,)) + len(internal) + int("Traceback" in err)
    row["skipped"] = len(
        re.findall(r"^\s{2}\S.*: (?:syntax error|cannot|nested)", err, re.MULTILINE)
    )
    row["invalid"] = 0
    row["untouched_changed"] = 0
    row["second_run_changes"] = "-"
    if code != 0:
        row["error"] = err.strip().splitlines()[-1][:200] if err.strip() else "no stderr"
        return row
    if not diff:
        row["files_in_diff"] = 0
        if run.expect_changes:
            row["note"] = "expected changes, got an empty diff"
        return row
    if not run.expect_changes:
        row["note"] = "expected an empty diff"
        row["untouched_changed"] = len(set(re.findall(rb"^\+\+\+ b/(.*)$", diff, re.MULTILINE)))
    index = WORK / f"index-{run.id}"
    index.unlink(missing_ok=True)
    git(copy, "read-tree", "HEAD", index=index)
    try:
        git(copy, "apply", "--cached", "-", index=index, stdin=diff)
    except subprocess.CalledProcessError as exc:
        row["invalid"] = "diff does not apply: " + exc.stderr.decode(errors="replace")[:200]
        return row
    tree = git(copy, "write-tree", index=index).decode().strip()
    named = {
        m.decode("utf-8", "surrogateescape")
        for m in re.findall(rb"^\+\+\+ b/(.*)$", diff, re.MULTILINE)
    }
    actual = set(
        git(copy, "diff", "--name-only", "-z", "HEAD", tree)
        .decode("utf-8", "surrogateescape")
        .split("\0")
    ) - {""}
    row["files_in_diff"] = len(named)
    row["untouched_changed"] = len(actual - named) + len(named - actual)
    bad = []
    for path in sorted(actual):
        after = git(copy, "cat-file", "blob", f"{tree}:{path}")
        before = git(copy, "cat-file", "blob", f"HEAD:{path}")
        if not compiles(after, path) and compiles(before, path):
            bad.append(path)
    row["invalid"] = len(bad)
    if bad:
        row["invalid_files"] = bad[:5]
    # idempotency: commit the result (a commit object only, no ref moves) and run again on it
    commit = git(copy, "commit-tree", tree, "-p", "HEAD", "-m", "phase result").decode().strip()
    code2, diff2, _, _ = dry_run(copy, run.phase, config, jobs, base=commit)
    second = (
        len(set(re.findall(rb"^\+\+\+ b/(.*)$", diff2, re.MULTILINE)))
        if code2 == 0
        else f"exit {code2}"
    )
    row["second_run_changes"] = second
    index.unlink(missing_ok=True)
    return row


def main(argv: list[str] | None = None) -> int:
    """Run the checks, print the table and the totals; 1 when anything broke."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default=".", help="regex over run ids (corpus-phase-label)")
    ap.add_argument("--jobs", type=int, default=None)
    args = ap.parse_args(argv)
    if not (CORPUS / "django").is_dir():
        print(f"corpora missing: run /work/shared/bench/corpus.sh {CORPUS}", file=sys.stderr)
        return 2
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    cols = [
        "id",
        "exit",
        "seconds",
        "listed",
        "parsed",
        "changed",
        "files_in_diff",
        "skipped",
        "crashes",
        "invalid",
        "untouched_changed",
        "second_run_changes",
        "outcome_errors",
        "kept_listed",
    ]
    print("| " + " | ".join(cols) + " | notes |")
    print("|" + "---|" * (len(cols) + 1))
    totals = {
        "runs": 0,
        "processed": 0,
        "parsed": 0,
        "changed": 0,
        "crashes": 0,
        "invalid": 0,
        "untouched_changed": 0,
        "not_idempotent": 0,
        "outcome_errors": 0,
    }
    for run in RUNS:
        if not re.search(args.only, run.id):
            continue
        row = check(run, jobs)
        notes = "; ".join(str(row[k]) for k in ("error", "note", "invalid_files") if k in row)
        print("| " + " | ".join(str(row.get(c, "-")) for c in cols) + f" | {notes} |", flush=True)
        totals["runs"] += 1
        for key, col in (("processed", "listed"), ("parsed", "parsed"), ("changed", "changed")):
            totals[key] += row[col] if isinstance(row[col], int) else 0
        totals["crashes"] += int(row["crashes"]) if isinstance(row["crashes"], int) else 1
        totals["invalid"] += row["invalid"] if isinstance(row["invalid"], int) else 1
        totals["untouched_changed"] += int(row["untouched_changed"])  # type: ignore[call-overload]
        if row["second_run_changes"] not in (0, "-"):
            totals["not_idempotent"] += 1
        totals["outcome_errors"] += int(row.get("outcome_errors", 0))  # type: ignore[call-overload]
    print(
        f"\n{totals['runs']} runs, {totals['processed']} files processed "
        f"({totals['parsed']} parsed, {totals['changed']} changed): {totals['crashes']} crashes, "
        f"{totals['invalid']} invalid outputs, {totals['untouched_changed']} untouched files changed, "
        f"{totals['not_idempotent']} runs not idempotent, "
        f"{totals['outcome_errors']} facades without exactly one outcome line"
    )
    broken = (
        totals["crashes"]
        + totals["invalid"]
        + totals["untouched_changed"]
        + totals["not_idempotent"]
        + totals["outcome_errors"]
    )
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())

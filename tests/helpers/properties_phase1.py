"""What the phase 1 and phase 3 properties assert on a generated program (shared with
``tests/stress``).
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import libcst
import pytest
from hypothesis import assume

from ssot_migrate.model import Config, NameKind, SourceFile, Target
from tests.helpers.repos import make_repo
from tests.helpers.strategies import Shape

SYMBOL = Target(
    name="sym",
    canonical="zznew.core.NewThing",
    aliases=("zzold.legacy.OldThing",),
    canonical_kind=NameKind.SYMBOL,
)


MODULE = Target(
    name="mod",
    canonical="zznew.modern",
    aliases=("zzold.ancient",),
    canonical_kind=NameKind.MODULE,
)


TARGETS = (SYMBOL, MODULE)


FILE = SourceFile(path="pkg/gen.py", module="pkg.gen")


COUNTS: Counter[str] = Counter()


def imports_codemod() -> object:
    """The phase-1 codemod for ``TARGETS`` (skips the test while the module does not exist)."""
    module = pytest.importorskip("ssot_migrate.codemods.imports")
    return module.ImportsCodemod(TARGETS)


ALIASES = ("zzold.legacy.OldThing", "zzold.ancient")


def _indent(text: str, by: str = "    ") -> str:
    return "".join(by + line if line.strip() else line for line in text.splitlines(True))


def compose(program: str, shape: Shape, place: str) -> tuple[str, str]:
    """The generated ``program`` with ``shape`` injected at ``place``; returns (source, block).

    ``block`` names where the probes live: ``module`` or the function ``__zz_probe_fn``.
    """
    probes = [("__zz_probe_0", shape.probe)] + [
        (f"__zz_probe_{i + 1}", expr) for i, (expr, _) in enumerate(shape.extra_probes)
    ]
    probe_lines = "".join(f"{name} = {expr}\n" for name, expr in probes)
    body = program if program.endswith("\n") or not program else program + "\n"
    if place == "top":
        return f"{shape.imports}\n{body}{probe_lines}", "module"
    if place == "function":
        fn = (
            "def __zz_probe_fn():\n"
            + _indent(shape.imports + "\n" + probe_lines)
            + "    return 0\n"
        )
        return f"{body}\n\n{fn}", "__zz_probe_fn"
    if place == "try":
        head = "try:\n" + _indent(shape.imports + "\n") + "except ImportError:\n    raise\n"
        return f"{head}{body}{probe_lines}", "module"
    head = "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n" + _indent(
        shape.imports + "\n" + probe_lines
    )
    return f"{head}{body}", "module"


def libcst_footer_quirk(source: str) -> bool:
    """Blank lines, then an indented comment, at the end of the file.

    libcst keeps those blank lines only while the tree is unmodified; any rewrite elsewhere in
    the file drops them. A codemod must keep them (phase 1 splices changed statements into the
    original bytes) or refuse the file with a ``not-reproducible`` note: the properties accept a
    refusal only for files this predicate matches.
    """
    lines = source.splitlines()
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith("#")):
        tail = lines.pop()
        if tail.strip() and tail[0] in " \t\f" and lines and not lines[-1].strip():
            return True
    return False


def parses(source: str) -> bool:
    """Whether both libcst and CPython accept ``source`` (the generators are not perfect)."""
    try:
        libcst.parse_module(source)
        compile(source, "<generated>", "exec", dont_inherit=True)
    except Exception:  # noqa: BLE001  (any refusal by either parser means "not a valid program")
        return False
    return True


def _scope_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements of one scope in source order, through if/try/with/loops, not into defs."""
    for node in body:
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for field in ("body", "orelse", "finalbody"):
            yield from _scope_statements(getattr(node, field, []) or [])
        for handler in getattr(node, "handlers", []) or []:
            yield from _scope_statements(handler.body)


def import_bindings(body: list[ast.stmt]) -> dict[str, list[str]]:
    """Local name -> the qualified names imports of this scope bind to it (in source order)."""
    bound: dict[str, list[str]] = {}
    for node in _scope_statements(body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bound.setdefault(alias.asname, []).append(alias.name)
                else:
                    top = alias.name.split(".")[0]
                    bound.setdefault(top, []).append(top)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                bound.setdefault(alias.asname or alias.name, []).append(
                    f"{node.module}.{alias.name}"
                )
    return bound


def qualified(expr: ast.expr, bound: dict[str, list[str]]) -> str | None:
    """The dotted name ``expr`` denotes through the imports in ``bound`` (last binding wins)."""
    if isinstance(expr, ast.Name):
        names = bound.get(expr.id)
        return names[-1] if names else None
    if isinstance(expr, ast.Attribute):
        head = qualified(expr.value, bound)
        return f"{head}.{expr.attr}" if head else None
    return None


def scope_body(tree: ast.Module, block: str) -> list[ast.stmt]:
    if block == "module":
        return tree.body
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == block:
            return node.body
    raise AssertionError(f"function {block} vanished from the output")


def probe_values(body: list[ast.stmt]) -> dict[str, ast.expr]:
    values: dict[str, ast.expr] = {}
    for node in _scope_statements(body):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id.startswith("__zz_probe_"):
                values[target.id] = node.value
    return values


def alias_references(tree: ast.Module) -> list[str]:
    """Every import (any scope) that still binds an alias or something inside it."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if any(full == a or full.startswith(a + ".") for a in ALIASES):
                    found.append(ast.unparse(node))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if any(alias.name == a or alias.name.startswith(a + ".") for a in ALIASES):
                    found.append(ast.unparse(node))
    return found


def check_injected(codemod: object, program: str, shape: Shape, place: str) -> None:
    """Run the codemod on ``program`` with ``shape`` injected; assert the properties."""
    source, block = compose(program, shape, place)
    assume(parses(source))
    result = codemod.transform(source.encode("utf-8"), FILE)  # type: ignore[attr-defined]
    out = result.source.decode("utf-8")
    COUNTS[f"injected:{shape.id}:{place}"] += 1
    COUNTS["programs_injected"] += 1
    assert out != source, f"nothing rewritten for {shape.id} at {place}:\n{source}"
    assert parses(out), f"output does not parse:\n{out}"
    tree = ast.parse(out)
    left = alias_references(tree)
    assert not left, f"alias still imported: {left}\n{out}"
    body = scope_body(tree, block)
    bound = import_bindings(body if block != "module" else tree.body)
    if block != "module":  # a function also sees module-level imports
        module_bound = import_bindings(tree.body)
        bound = {**module_bound, **bound}
    probes = probe_values(body)
    expected = [("__zz_probe_0", shape.expected)] + [
        (f"__zz_probe_{i + 1}", want) for i, (_, want) in enumerate(shape.extra_probes)
    ]
    for name, want in expected:
        assert name in probes, f"probe {name} vanished:\n{out}"
        got = qualified(probes[name], bound)
        assert got == want, (
            f"{name} = {ast.unparse(probes[name])} resolves to {got}, not {want}\n{out}"
        )
    if shape.id == "dual":
        binders = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and any(a.name == "NewThing" for a in n.names)
        ]
        assert len(binders) == 1, f"canonical imported {len(binders)} times:\n{out}"
    # the generated program's own text is untouched (only the injected lines may change)
    if program.strip():
        assert program.rstrip("\n") in out, f"generated code was modified:\n{out}"
    again = codemod.transform(result.source, FILE)  # type: ignore[attr-defined]
    assert again.source == result.source, "second run is not a no-op"


def check_untouched(codemod: object, program: str) -> None:
    """A program with no reference to any configured name is returned byte for byte."""
    assume(parses(program))
    data = program.encode("utf-8")
    result = codemod.transform(data, FILE)  # type: ignore[attr-defined]
    COUNTS["programs_untouched"] += 1
    assert result.source == data
    assert not result.changes


# Text that mentions the names without binding any alias: a local of the same name, a comment,
# an attribute of an unrelated object. The needles match, so the file IS parsed; still no change.
DECOYS = [
    "OldThing = 1\nprint(OldThing)\n",
    "# see zzold.legacy.OldThing and zzold.ancient\n",
    "class OldThing:\n    ancient = None\n\nOldThing.ancient\n",
    "def f(OldThing, legacy):\n    return legacy.OldThing, OldThing\n",
    "import zzother.legacy\nzzother.legacy.OldThing\n",
    "from zzold.legacy import Other\nOther.OldThing\n",
]


def check_prefilter(tmp: Path, generated: list[str]) -> None:
    """Files with no needle are never parsed (``filtered``); one file with a reference is."""
    from ssot_migrate.engine import Snapshot, run_codemod

    codemod = imports_codemod()
    needles = codemod.needles()  # type: ignore[attr-defined]
    files: dict[str, str | bytes] = {}
    for i, program in enumerate(generated):
        if any(n in program for n in needles):
            continue
        files[f"gen/m{i}.py"] = program
    files["gen/uses.py"] = "from zzold.legacy import OldThing\n\nOldThing()\n"
    repo = make_repo(tmp, files)
    config = Config(repo=repo, source=repo / "pyproject.toml", targets=TARGETS)
    limit = sys.getrecursionlimit()
    try:
        with Snapshot.open(repo, config) as snapshot:
            summary = run_codemod(snapshot, codemod, jobs=1)  # type: ignore[arg-type]
    finally:
        # run in-process, the engine raises the interpreter's recursion limit for good
        sys.setrecursionlimit(limit)
    by_path = {o.path: o for o in summary.outcomes}
    COUNTS["programs_prefiltered"] += len(files) - 1
    for path in files:
        if path != "gen/uses.py":
            assert by_path[path].status == "filtered", (path, by_path[path])
    assert by_path["gen/uses.py"].status == "changed"
    assert summary.files_parsed == 1


PHASE3_FILES = {
    "zznew/__init__.py": "",
    "zznew/core.py": "class NewThing:\n    def __init__(self, *args, **kwargs):\n        self.args = args\n",
    "zznew/factory.py": (
        "from zznew.core import NewThing\n\n\n"
        "def make_thing(*args, **kwargs):\n    return NewThing(*args, **kwargs)\n"
    ),
    "pyproject.toml": (
        '[tool.ssot-migrate]\n\n[[tool.ssot-migrate.targets]]\nname = "thing"\n'
        'canonical = "zznew.core.NewThing"\naliases = []\nfactory = "zznew.factory.make_thing"\n'
    ),
}


def build_factories_codemod(tmp_path_factory: pytest.TempPathFactory) -> object:
    """The phase-3 codemod built from a small real repository (configuration validated)."""
    pytest.importorskip("ssot_migrate.codemods.factories")
    from ssot_migrate.config import load_config
    from ssot_migrate.engine import Snapshot
    from ssot_migrate.phases import build_codemod

    repo = make_repo(tmp_path_factory.mktemp("phase3") / "repo", PHASE3_FILES)
    config = load_config(repo)
    with Snapshot.open(repo, config) as snapshot:
        return build_codemod("phase3", config, snapshot)


def check_factory_call(codemod: object, program: str, shape: Shape, place: str) -> None:
    """The injected constructor call now calls the factory with the same arguments."""
    source, block = compose(program, shape, place)
    assume(parses(source))
    result = codemod.transform(source.encode("utf-8"), FILE)  # type: ignore[attr-defined]
    out = result.source.decode("utf-8")
    COUNTS["phase3_programs_injected"] += 1
    if any(n.kind == "not-reproducible" for n in result.notes):
        assert libcst_footer_quirk(source), f"refused a reproducible file: {result.notes}\n{source}"
        assert out == source
        COUNTS["phase3_not_reproducible"] += 1
        return
    assert parses(out), f"output does not parse:\n{out}"
    tree = ast.parse(out)
    body = scope_body(tree, block)
    bound = import_bindings(body if block != "module" else tree.body)
    if block != "module":
        bound = {**import_bindings(tree.body), **bound}
    call = probe_values(body).get("__zz_probe_0")
    assert isinstance(call, ast.Call), f"probe is no longer a call:\n{out}"
    assert qualified(call.func, bound) == shape.expected, f"not the factory:\n{out}"
    assert [ast.unparse(a) for a in call.args] == ["1"]
    assert [(k.arg, ast.unparse(k.value)) for k in call.keywords] == [("key", "2")]
    # Phase 3 may add the factory's import at the top of the module (after a header comment),
    # so the program's lines must survive in order, not necessarily as one block.
    assert _subsequence(program.splitlines(), out.splitlines()), (
        f"generated code was modified:\n{out}"
    )
    again = codemod.transform(result.source, FILE)  # type: ignore[attr-defined]
    assert again.source == result.source, "second run is not a no-op"


def _subsequence(needles: list[str], haystack: list[str]) -> bool:
    remaining = iter(haystack)
    return all(any(line == other for other in remaining) for line in needles)

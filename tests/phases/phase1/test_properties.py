"""Property-based tests of the codemods on generated Python programs (Hypothesis + hypothesmith).

1. A program that references no configured name comes out byte-identical, and the engine's text
   pre-filter never parses it.
2. Import statements and references of an alias, in one of many shapes and places, injected into
   a generated program: the output parses and compiles, no reference binds the alias any more,
   the probe that referenced the alias now resolves (statically) to the canonical name, the
   generated program's own bytes are untouched, and a second run changes nothing.

The normal suite runs a few examples per property; ``tests/stress/`` runs the same properties
with many more (``STRESS_EXAMPLES``). Counts are appended to ``$SSOT_RELIABILITY_COUNTS`` when set.
"""

from __future__ import annotations

import ast
import os
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import hypothesmith
import libcst
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ssot_migrate.model import Config, NameKind, SourceFile, Target
from tests.conftest import make_repo

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

FAST = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


def imports_codemod() -> object:
    """The phase-1 codemod for ``TARGETS`` (skips the test while the module does not exist)."""
    module = pytest.importorskip("ssot_migrate.codemods.imports")
    return module.ImportsCodemod(TARGETS)


# --- injected shapes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """An import that binds an alias, the expression probing it, and what the probe must become."""

    id: str
    imports: str
    probe: str
    expected: str
    extra_probes: tuple[tuple[str, str], ...] = ()


SHAPES = [
    Shape("from", "from zzold.legacy import OldThing", "OldThing", "zznew.core.NewThing"),
    Shape(
        "from-as", "from zzold.legacy import OldThing as ZzAlias", "ZzAlias", "zznew.core.NewThing"
    ),
    Shape("import", "import zzold.legacy", "zzold.legacy.OldThing", "zznew.core.NewThing"),
    Shape("import-as", "import zzold.legacy as zz_lm", "zz_lm.OldThing", "zznew.core.NewThing"),
    Shape("from-pkg", "from zzold import legacy", "legacy.OldThing", "zznew.core.NewThing"),
    Shape(
        "split",
        "from zzold.legacy import (\n    OldThing,\n    other_zz,\n)",
        "OldThing",
        "zznew.core.NewThing",
        (("other_zz", "zzold.legacy.other_zz"),),
    ),
    Shape(
        "dual",
        "from zznew.core import NewThing\nfrom zzold.legacy import OldThing",
        "OldThing",
        "zznew.core.NewThing",
        (("NewThing", "zznew.core.NewThing"),),
    ),
    Shape("mod-import", "import zzold.ancient", "zzold.ancient.attr_zz", "zznew.modern.attr_zz"),
    Shape(
        "mod-import-as", "import zzold.ancient as zz_an", "zz_an.attr_zz", "zznew.modern.attr_zz"
    ),
    Shape("mod-from-pkg", "from zzold import ancient", "ancient.attr_zz", "zznew.modern.attr_zz"),
    Shape("mod-from", "from zzold.ancient import attr_zz", "attr_zz", "zznew.modern.attr_zz"),
    Shape(
        "mod-sub", "from zzold.ancient.sub import thing_zz", "thing_zz", "zznew.modern.sub.thing_zz"
    ),
]
PLACES = ["top", "function", "try", "type-checking"]
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


# --- a small static resolver over the output ------------------------------------------------------


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

programs = st.one_of(hypothesmith.from_grammar(), hypothesmith.from_node())


@FAST
@given(program=programs, decoy=st.sampled_from(["", *DECOYS]))
def test_unrelated_program_is_byte_identical(program: str, decoy: str) -> None:
    check_untouched(
        imports_codemod(),
        program + ("\n" if program and not program.endswith("\n") else "") + decoy,
    )


@FAST
@given(program=programs, shape=st.sampled_from(SHAPES), place=st.sampled_from(PLACES))
def test_injected_alias_is_rewritten(program: str, shape: Shape, place: str) -> None:
    check_injected(imports_codemod(), program, shape, place)


@pytest.mark.parametrize("shape", SHAPES, ids=[s.id for s in SHAPES])
@pytest.mark.parametrize("place", PLACES)
def test_every_shape_and_place_on_a_plain_program(shape: Shape, place: str) -> None:
    """The same properties on a fixed small program, so every shape x place runs every time."""
    program = "import os\n\n\ndef helper(x):\n    return os.path.join(x, 'y')  # keep me\n"
    codemod = imports_codemod()

    @settings(max_examples=1, deadline=None, database=None)
    @given(st.just(program))
    def run(text: str) -> None:
        check_injected(codemod, text, shape, place)

    run()


def test_blank_lines_before_dedented_comment_kept() -> None:
    """Found by test_injected_alias_is_rewritten (program='\\n\\n #'): libcst drops these lines
    once anything in the tree is replaced; phase 1 now splices only the statements it changes."""
    source = b"from zzold.legacy import OldThing\nx = OldThing\n\n\n #\n"
    result = imports_codemod().transform(source, FILE)  # type: ignore[attr-defined]
    assert result.source == source.replace(b"zzold.legacy", b"zznew.core").replace(
        b"OldThing", b"NewThing"
    )


# --- the engine's pre-filter -----------------------------------------------------------------------


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


_repo_counter = iter(range(10**9))


# hypothesmith's strategies record Hypothesis targets, which allows one program per example
# (a list of them would target the same label twice): one generated program per repository.
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(program=programs)
def test_prefilter_never_parses_unrelated_files(
    tmp_path_factory: pytest.TempPathFactory, program: str
) -> None:
    check_prefilter(tmp_path_factory.mktemp(f"prefilter{next(_repo_counter)}"), [program])


def append_counts(label: str, *counters: Counter[str]) -> None:
    """Append ``label<TAB>key<TAB>value`` lines to ``$SSOT_RELIABILITY_COUNTS``, then reset.

    The normal suite and ``tests/stress`` share the counters: each example is counted once.
    """
    path = os.environ.get("SSOT_RELIABILITY_COUNTS")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        for counts in counters:
            handle.writelines(f"{label}\t{key}\t{value}\n" for key, value in sorted(counts.items()))
            counts.clear()


@pytest.fixture(autouse=True, scope="module")
def _report_counts() -> Iterator[None]:
    yield
    append_counts(__name__, COUNTS)


# --- phase 3: direct instantiation routed through the canonical factory --------------------------

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
PHASE3_SHAPES = [
    Shape(
        "call", "from zznew.core import NewThing", "NewThing(1, key=2)", "zznew.factory.make_thing"
    ),
    Shape(
        "call-as",
        "from zznew.core import NewThing as ZzT",
        "ZzT(1, key=2)",
        "zznew.factory.make_thing",
    ),
    Shape(
        "call-attr",
        "import zznew.core",
        "zznew.core.NewThing(1, key=2)",
        "zznew.factory.make_thing",
    ),
    Shape(
        "call-mod-as",
        "from zznew import core as zz_core",
        "zz_core.NewThing(1, key=2)",
        "zznew.factory.make_thing",
    ),
]


@pytest.fixture(scope="module")
def factories_codemod(tmp_path_factory: pytest.TempPathFactory) -> object:
    return build_factories_codemod(tmp_path_factory)


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


def test_phase3_never_drops_lines_libcst_cannot_reproduce(factories_codemod: object) -> None:
    """libcst drops blank lines before an indented end-of-file comment when it regenerates a
    module: phase 3 keeps them (it used to refuse such a file; it must never write the loss)."""
    source = b"from zznew.core import NewThing\nx = NewThing(1)\n\n\n #\n"
    result = factories_codemod.transform(source, FILE)  # type: ignore[attr-defined]
    if [n.kind for n in result.notes] == ["not-reproducible"]:  # the older, safe behaviour
        assert result.source == source and result.notes[0].severity == "needs-decision"
        return
    assert result.source == b"from zznew.factory import make_thing\nx = make_thing(1)\n\n\n #\n"
    assert not result.notes


@FAST
@given(program=programs)
def test_phase3_unrelated_program_is_byte_identical(
    factories_codemod: object, program: str
) -> None:
    assume(parses(program))
    data = program.encode("utf-8")
    result = factories_codemod.transform(data, FILE)  # type: ignore[attr-defined]
    COUNTS["phase3_programs_untouched"] += 1
    assert result.source == data


@FAST
@given(
    program=programs,
    shape=st.sampled_from(PHASE3_SHAPES),
    place=st.sampled_from(["top", "function"]),
)
def test_phase3_injected_construction_uses_the_factory(
    factories_codemod: object, program: str, shape: Shape, place: str
) -> None:
    check_factory_call(factories_codemod, program, shape, place)

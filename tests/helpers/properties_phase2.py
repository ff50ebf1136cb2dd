"""What the phase 2 properties assert on a generated program with a facade (shared with
``tests/stress``).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
import types
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libcst
import pytest
from hypothesis import assume

from ssot_migrate.codemods.facades import OUTCOME_KINDS
from ssot_migrate.model import CodemodResult, SourceFile
from tests.helpers.properties_phase1 import (
    import_bindings,
    libcst_footer_quirk,
    parses,
    qualified,
)
from tests.helpers.repos import git, make_repo
from tests.helpers.strategies import (
    CONTEXTS,
    Context,
    FacadeSpec,
    MethodSpec,
)

CANONICAL = "zzcanon.core.ZzCanonical"


FACADE = "pkg.gen.ZzFacade"


FILE = SourceFile(path="pkg/gen.py", module="pkg.gen")


ELSEWHERE = SourceFile(path="pkg/elsewhere.py", module="pkg.elsewhere")


CONFIG = f"""\
[tool.ssot-migrate]

[[tool.ssot-migrate.targets]]
name = "thing"
canonical = "{CANONICAL}"
aliases = []
facades = ["{FACADE}"]
# The generated methods have bodies of their own: these properties test the rewriting itself, on
# facades whose logic the user decided to replace (tests/phases/phase2/test_logic_properties.py checks
# that without this key every such method is kept, observably the same).
replace-facade-logic = ["{FACADE}"]
"""


COUNTS: Counter[str] = Counter()


repo_counter = iter(range(10**9))


@dataclass
class Built:
    repo: Path
    codemod: Any


def build(tmp_path_factory: pytest.TempPathFactory, spec: FacadeSpec, module_source: str) -> Built:
    """A repository holding the canonical and ``module_source`` as ``pkg/gen.py``; phase 2's codemod."""
    repo = make_repo(
        tmp_path_factory.mktemp(f"phase2-{next(repo_counter)}") / "repo",
        {
            "pyproject.toml": CONFIG,
            "zzcanon/__init__.py": "",
            "zzcanon/core.py": spec.canonical_source(),
            "pkg/__init__.py": "",
            "pkg/gen.py": module_source,
        },
    )
    return Built(repo, _codemod(repo))


def _codemod(repo: Path) -> Any:
    from ssot_migrate.engine import open_config_and_snapshot
    from ssot_migrate.phases import build_codemod

    config, snapshot = open_config_and_snapshot(repo, None)
    with snapshot:
        return build_codemod("phase2", config, snapshot)


def rebuilt_after(built: Built, output: bytes) -> Any:
    """Phase 2's codemod for a new commit holding ``output`` (a user's second run)."""
    (built.repo / FILE.path).write_bytes(output)
    git(built.repo, "commit", "-q", "-am", "phase 2")
    return _codemod(built.repo)


def joined(*parts: str) -> str:
    text = ""
    for part in parts:
        if not part:
            continue
        if text and not text.endswith("\n"):
            text += "\n"
        text += ("\n\n" if text else "") + part
    return text


NO_CONTEXT = CONTEXTS[0]


def compose(before: str, spec: FacadeSpec, after: str, context: Context = NO_CONTEXT) -> str:
    return joined(context.head, before, spec.facade_source(), after, context.tail)


def _statements(module: libcst.Module) -> list[tuple[libcst.BaseStatement, str]]:
    """Top-level statements with their code, leading blank lines and comments left out.

    Rendered by their own module: a block's indentation is stored relative to the module's
    default indentation, which libcst infers per file (the output may infer another one).
    """
    return [(s, module.code_for_node(s.with_changes(leading_lines=()))) for s in module.body]


def _is_facade(statement: libcst.BaseStatement) -> bool:
    if isinstance(statement, libcst.ClassDef):
        return statement.name.value == "ZzFacade"
    if isinstance(statement, libcst.SimpleStatementLine):
        for small in statement.body:
            if isinstance(small, libcst.Assign) and any(
                isinstance(t.target, libcst.Name) and t.target.value == "ZzFacade"
                for t in small.targets
            ):
                return True
            if isinstance(small, libcst.ImportFrom) and "zzcanon" in libcst.Module(
                body=[]
            ).code_for_node(small):
                return True
    return False


def _subsequence(needles: list[str], haystack: list[str]) -> bool:
    remaining = iter(haystack)
    return all(any(line == other for other in remaining) for line in needles)


def _class(tree: ast.Module, name: str) -> ast.ClassDef | None:
    found = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name]
    assert len(found) <= 1
    return found[0] if found else None


def _methods(cls: ast.ClassDef) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def check_injected(
    tmp_path_factory: pytest.TempPathFactory,
    spec: FacadeSpec,
    before: str,
    after: str,
    context: Context = NO_CONTEXT,
) -> None:
    """Phase 2 on ``before`` + the facade + ``after`` (in ``context``); assert the properties."""
    assume(all("zz" not in p.lower() and "ZzFacade" not in p for p in (before, after)))
    source = compose(before, spec, after, context)
    assume(parses(source))
    built = build(tmp_path_factory, spec, source)
    result: CodemodResult = built.codemod.transform(source.encode("utf-8"), FILE)
    COUNTS["phase2_programs_injected"] += 1
    COUNTS[f"phase2_context:{context.id}"] += 1
    if any(n.kind == "not-reproducible" for n in result.notes):
        # Only where libcst cannot reproduce the file after a change: left alone and listed.
        assert libcst_footer_quirk(source), f"refused a reproducible file: {result.notes}\n{source}"
        assert result.source == source.encode("utf-8")
        COUNTS["phase2_not_reproducible"] += 1
        return
    out = result.source.decode("utf-8")
    outcomes = [n for n in result.notes if n.kind in OUTCOME_KINDS]
    assert len(outcomes) == 1, f"not exactly one outcome line: {result.notes}"
    if not spec.alias_mode and not any(m.forwarded for m in spec.methods):
        # Nothing to forward: the class stays byte for byte, no unused canonical instance.
        assert out == source, f"a facade with nothing to forward was changed:\n{out}"
        assert outcomes[0].kind == "facade-left-alone", outcomes
        COUNTS["phase2_nothing_forwarded"] += 1
        check_runtime(tmp_path_factory, spec, built.codemod, context)
        return
    assert out != source, f"facade not rewritten:\n{source}"
    assert outcomes[0].kind == ("facade-aliased" if spec.alias_mode else "facade-delegated"), (
        outcomes
    )
    assert parses(out), f"output does not parse:\n{out}"
    # Every unrelated top-level statement byte for byte, in order; every generated line too.
    kept_in = [code for s, code in _statements(libcst.parse_module(source)) if not _is_facade(s)]
    kept_out = [code for s, code in _statements(libcst.parse_module(out)) if not _is_facade(s)]
    assert kept_out == kept_in, f"unrelated statements changed:\n{out}"
    for program in (before, after):
        # Lines as Python reads them: a lone "\r" ends a line too (a comment moved from the
        # removed class's footer keeps its "\r" and may gain a blank line after it).
        assert _subsequence(_lines(program), _lines(out)), f"generated lines lost:\n{out}"
    tree, original = ast.parse(out), ast.parse(source)
    if spec.alias_mode:
        COUNTS["phase2_alias"] += 1
        check_alias(tree, result, out)
    else:
        COUNTS["phase2_delegate"] += 1
        check_delegation(spec, tree, original, result, out)
    # A second run (its plan rebuilt from a commit holding the output) changes nothing.
    again = rebuilt_after(built, result.source).transform(result.source, FILE)
    assert again.source == result.source, "second run is not a no-op"
    assert not again.changes
    check_runtime(tmp_path_factory, spec, built.codemod, context)


def _lines(text: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", text)


def check_alias(tree: ast.Module, result: CodemodResult, out: str) -> None:
    assert _class(tree, "ZzFacade") is None, f"class kept in alias mode:\n{out}"
    bound = import_bindings(tree.body)
    assigned = [
        n
        for n in tree.body
        if isinstance(n, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "ZzFacade" for t in n.targets)
    ]
    assert len(assigned) == 1, f"ZzFacade bound {len(assigned)} times:\n{out}"
    assert qualified(assigned[0].value, bound) == CANONICAL, (
        f"ZzFacade is not the canonical:\n{out}"
    )
    assert [c.kind for c in result.changes] == ["facade-alias"]
    assert not [n for n in result.notes if n.kind == "facade-method-kept"]


def check_delegation(
    spec: FacadeSpec, tree: ast.Module, original: ast.Module, result: CodemodResult, out: str
) -> None:
    cls, old = _class(tree, "ZzFacade"), _class(original, "ZzFacade")
    assert cls is not None and old is not None, f"class gone in delegation mode:\n{out}"
    new_methods, old_methods = _methods(cls), _methods(old)
    assert ast.dump(new_methods["__init__"].args) == ast.dump(old_methods["__init__"].args), (
        f"constructor signature changed:\n{out}"
    )
    kept = {
        n.message.split("(")[0].removeprefix("ZzFacade."): n
        for n in result.notes
        if n.kind == "facade-method-kept"
    }
    for method in spec.methods:
        assert method.name in new_methods, f"{method.name} vanished:\n{out}"
        if method.forwarded:
            assert method.name not in kept, kept[method.name]
            continue
        assert ast.dump(new_methods[method.name]) == ast.dump(old_methods[method.name]), (
            f"kept method {method.name} was changed:\n{out}"
        )
        note = kept.get(method.name)
        assert note is not None, (
            f"{method.name} ({method.kind}) kept without a note: {result.notes}"
        )
        assert note.severity == "needs-decision" and note.path == FILE.path
        reason = note.message.partition(":")[2].strip()
        assert reason and reason != "(kept as it is)", note.message
        COUNTS[f"phase2_kept:{method.kind}"] += 1


PLAIN = "import os\n\nHERE = os.sep\n"


def _drive(value: object) -> object:
    """The result of a call: a coroutine that never suspends is run to its end."""
    if not inspect.iscoroutine(value):
        return value
    try:
        value.send(None)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("coroutine suspended")


def run_module(
    tmp_path_factory: pytest.TempPathFactory, spec: FacadeSpec, output: bytes
) -> tuple[types.ModuleType, type]:
    """Execute ``output`` as ``pkg.gen`` with the canonical importable from a fresh directory."""
    root = tmp_path_factory.mktemp(f"run-{next(repo_counter)}")
    (root / "zzcanon").mkdir()
    (root / "zzcanon" / "__init__.py").write_text("")
    (root / "zzcanon" / "core.py").write_text(spec.canonical_source())
    for name in ("zzcanon.core", "zzcanon"):
        sys.modules.pop(name, None)
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    try:
        canonical = importlib.import_module("zzcanon.core").ZzCanonical
        module = types.ModuleType("pkg.gen")
        exec(compile(output, "pkg/gen.py", "exec", dont_inherit=True), module.__dict__)  # noqa: S102
    finally:
        sys.path.remove(str(root))
        for name in ("zzcanon.core", "zzcanon"):
            sys.modules.pop(name, None)
    return module, canonical


def check_runtime(
    tmp_path_factory: pytest.TempPathFactory,
    spec: FacadeSpec,
    codemod: Any,
    context: Context = NO_CONTEXT,
) -> None:
    """The facade around a plain program, rewritten and executed (see the module docstring)."""
    result = codemod.transform(compose(PLAIN, spec, "", context).encode("utf-8"), FILE)
    module, canonical = run_module(tmp_path_factory, spec, result.source)
    facade = module.ZzFacade
    instance, reference = facade(7), canonical(zzvalue=7)
    if spec.alias_mode:
        assert facade is canonical and isinstance(facade(zzvalue=7), canonical)
        if hasattr(module, "ZzSub"):
            assert issubclass(module.ZzSub, canonical) and isinstance(module.zzinstance, canonical)
    else:
        assert facade is not canonical and not isinstance(instance, canonical)
        assert isinstance(facade(zzvalue=7), facade)  # the constructor keeps its keyword
    for method in spec.methods:
        if method.decorator == "property":
            want = (
                getattr(reference, method.name)
                if method.forwarded or spec.alias_mode
                else ("zzfacade", method.name, *(7 for _ in method.state))
            )
            assert getattr(instance, method.name) == want, method
            continue
        for count in {method.required, len(method.params)}:
            args = tuple(range(100, 100 + count))
            got = _drive(getattr(instance, method.name)(*args))
            if method.forwarded or spec.alias_mode:
                assert got == _drive(getattr(reference, method.name)(*args)), (method, got)
            else:  # the facade's own body: its arguments, its defaults, maybe its own state
                own = (
                    "zzfacade",
                    method.name,
                    *args,
                    *range(count, len(method.params)),
                    *(7 for _ in method.state),
                )
                assert got == own, (method, got)
    COUNTS["phase2_programs_executed"] += 1


DECOYS = [
    "",
    "ZzFacade = 1\n",
    "# ZzFacade is mentioned in a comment\n",
    "def ZzFacade():\n    return 1\n",
    "def build():\n    class ZzFacade:\n        def zzsend(self):\n            return 1\n\n    return ZzFacade\n",
    "class Outer:\n    class ZzFacade:\n        pass\n",
    "from zzcanon.core import ZzCanonical as ZzFacade\n",
    "x = 'ZzFacade'\n",
]


DECOY_SPEC = FacadeSpec(
    (
        MethodSpec("zzsend", ("zza",), 1, "same", False),
        MethodSpec("zzextra", (), 0, "extra", False),
    )
)


def check_untouched(codemod: Any, program: str, decoy: str) -> None:
    source = joined(program, decoy)
    assume(parses(source))
    data = source.encode("utf-8")
    result = codemod.transform(data, FILE)
    assert result.source == data and not result.changes and not result.notes
    # A same-named class in another module is not the configured facade.
    other = joined(program, DECOY_SPEC.facade_source(), decoy)
    if parses(other):
        assert codemod.transform(other.encode("utf-8"), ELSEWHERE).source == other.encode("utf-8")
    COUNTS["phase2_programs_untouched"] += 1


def check_prefilter(tmp: Path, program: str) -> None:
    """A file without a needle is filtered (never parsed); the facade's module is parsed."""
    from ssot_migrate.engine import open_config_and_snapshot, run_codemod
    from ssot_migrate.phases import build_codemod

    repo = make_repo(
        tmp / "repo",
        {
            "pyproject.toml": CONFIG,
            "zzcanon/__init__.py": "",
            "zzcanon/core.py": DECOY_SPEC.canonical_source(),
            "pkg/__init__.py": "",
            "pkg/gen.py": DECOY_SPEC.facade_source(),
            "pkg/generated.py": program,
        },
    )
    config, snapshot = open_config_and_snapshot(repo, None)
    limit = sys.getrecursionlimit()
    try:
        with snapshot:
            codemod = build_codemod("phase2", config, snapshot)
            needles = codemod.needles()
            summary = run_codemod(snapshot, codemod, jobs=1)
    finally:
        sys.setrecursionlimit(limit)  # in-process, the engine raises it for good
    assert needles and not any(n in program for n in needles)
    by_path = {o.path: o.status for o in summary.outcomes}
    assert by_path["pkg/generated.py"] == "filtered", by_path
    assert by_path["pkg/gen.py"] == "changed", by_path
    assert summary.files_parsed == 1
    COUNTS["phase2_programs_prefiltered"] += 1

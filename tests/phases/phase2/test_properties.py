"""Property-based tests of phase 2 (the facades codemod) on generated programs.

1. A generated program that does not define the configured facade, in the facade's own module
   (with decoys that mention its name) or a same-named class in another module, comes out byte
   for byte; and a file without any of the codemod's needles is never parsed by the engine.
2. A facade class built from generated method names and signatures (plain, async, property,
   staticmethod, classmethod) is injected into a generated program, in one of several real-world
   surroundings (``CONTEXTS``). Each method is, against the canonical class, ``same`` or
   ``looser`` (compatible), or ``renamed``, ``needs-more``, ``async-mismatch`` or ``extra``
   (incompatible); all compatible means alias mode, otherwise delegation mode. For every case:
   the output parses and compiles, every unrelated top-level statement is kept byte for byte
   (and every line of the generated program, in order), alias mode binds the facade's name to
   the canonical (``from ... import Canonical`` + ``Facade = Canonical``), delegation mode keeps
   the class and its constructor's signature, keeps every incompatible method (and every
   classmethod, which may build the facade itself) as it was and lists it as a needs-decision
   note with its reason, and phase 2 over its own output (rebuilt from a new commit, as a
   user's second run is) changes nothing.
3. The same facade, around a plain program, is executed by real Python with the canonical
   module on ``sys.path``: in alias mode ``Facade is Canonical`` and
   ``isinstance(Facade(...), Canonical)``; in delegation mode every forwarded method returns
   what the canonical returns and every kept method still returns the facade's own value.

The normal suite runs a few examples per property; ``tests/stress/`` runs many more. Counts are
appended to ``$SSOT_RELIABILITY_COUNTS`` when set.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import keyword
import re
import sys
import types
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libcst
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ssot_migrate.codemods.facades import OUTCOME_KINDS
from ssot_migrate.model import CodemodResult, SourceFile
from tests.conftest import git, make_repo
from tests.phases.phase1.test_properties import (
    append_counts,
    import_bindings,
    libcst_footer_quirk,
    parses,
    programs,
    qualified,
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

FAST = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

COMPATIBLE = ("same", "looser")
INCOMPATIBLE = ("renamed", "needs-more", "async-mismatch", "extra")


# --- the generated facade ------------------------------------------------------------------------


@dataclass(frozen=True)
class MethodSpec:
    """One public method of the facade, and how the canonical's same-named method differs.

    ``params`` are the facade's positional parameters after ``self``; the first ``required``
    have no default, the others default to their index. ``decorator`` (``property``,
    ``staticmethod``, ``classmethod`` or none) is the same on both classes.
    """

    name: str
    params: tuple[str, ...]
    required: int
    kind: str
    is_async: bool
    decorator: str = ""
    reads_state: bool = False  # the facade's body also returns its own ``self._zzstate``

    @property
    def state(self) -> tuple[str, ...]:
        """What the facade's body returns after its arguments."""
        if self.reads_state and self.decorator not in ("staticmethod", "classmethod"):
            return ("self._zzstate",)
        return ()

    @property
    def compatible(self) -> bool:
        return self.kind in COMPATIBLE

    @property
    def forwarded(self) -> bool:
        """Whether delegation mode forwards it: a classmethod may build the facade itself."""
        return self.compatible and self.decorator != "classmethod"

    def canonical_params(self) -> tuple[tuple[str, ...], int, bool] | None:
        """(params, required, async) of the canonical's method; ``None`` when it has none."""
        if self.kind == "extra":
            return None
        if self.kind == "looser":  # the canonical takes one more optional parameter
            return (*self.params, "zzlast"), self.required, self.is_async
        if self.kind == "renamed":
            return ("zzrenamed", *self.params[1:]), self.required, self.is_async
        if self.kind == "needs-more":  # every parameter required, and one more
            return (*self.params, "zzmore"), len(self.params) + 1, self.is_async
        if self.kind == "async-mismatch":
            return self.params, self.required, not self.is_async
        return self.params, self.required, self.is_async


@dataclass(frozen=True)
class FacadeSpec:
    """A facade class and the canonical class it is configured against."""

    methods: tuple[MethodSpec, ...]

    @property
    def alias_mode(self) -> bool:
        return all(m.compatible for m in self.methods)

    def facade_source(self) -> str:
        lines = [
            "class ZzFacade:",
            '    """zzdoc"""',
            "",
            "    def __init__(self, zzvalue=0):",
            "        self._zzstate = zzvalue",
        ]
        for method in self.methods:
            lines += [
                "",
                *_method(
                    method.name,
                    method.params,
                    method.required,
                    method.is_async,
                    ("zzfacade", method.name),
                    "".join(method.state),
                    method.decorator,
                ),
            ]
        return "\n".join(lines) + "\n"

    def canonical_source(self) -> str:
        lines = [
            "class ZzCanonical:",
            "    def __init__(self, zzvalue=0):",
            "        self.zzvalue = zzvalue",
            "",
            "    def zzcanonicalonly(self):",
            '        return "zz"',
        ]
        for method in self.methods:
            shape = method.canonical_params()
            if shape is not None:
                params, required, is_async = shape
                extra = {"staticmethod": "", "classmethod": "cls.__name__"}.get(
                    method.decorator, "self.zzvalue"
                )
                lines += [
                    "",
                    *_method(
                        method.name,
                        params,
                        required,
                        is_async,
                        ("zzcanonical", method.name),
                        extra,
                        method.decorator,
                    ),
                ]
        return "\n".join(lines) + "\n"


def _method(
    name: str,
    params: tuple[str, ...],
    required: int,
    is_async: bool,
    tag: tuple[str, str],
    extra: str,
    decorator: str = "",
) -> list[str]:
    receiver = {"staticmethod": [], "classmethod": ["cls"]}.get(decorator, ["self"])
    signature = ", ".join(
        [*receiver, *(p if i < required else f"{p}={i}" for i, p in enumerate(params))]
    )
    values = ", ".join([repr(tag[0]), repr(tag[1]), *params, *([extra] if extra else [])])
    prefix = "async def" if is_async else "def"
    head = [f"    @{decorator}"] if decorator else []
    return [*head, f"    {prefix} {name}({signature}):", f"        return ({values},)"]


# Every identifier the class uses starts with "zz", and generated programs mentioning "zz" are
# left out: an unrelated generated name never coincides with one of the facade's (that case is
# ``test_unrelated_import_named_like_a_parameter_is_kept`` below).
identifiers = st.from_regex(r"\Azz[a-z][a-z0-9]{0,4}\Z").filter(lambda s: not keyword.iskeyword(s))
RESERVED = {
    "zzvalue",
    "zzstate",
    "zzlast",
    "zzrenamed",
    "zzmore",
    "zzcanonicalonly",
    "zzfacade",
    "zzcanonical",
}


@st.composite
def method_specs(draw: st.DrawFn, name: str) -> MethodSpec:
    params = tuple(
        draw(
            st.lists(
                identifiers.filter(lambda s: s not in RESERVED and s != name),
                max_size=3,
                unique=True,
            )
        )
    )
    required = draw(st.integers(0, len(params)))
    decorator = draw(st.sampled_from(["", "", "", "property", "staticmethod", "classmethod"]))
    reads_state = draw(st.booleans())
    if decorator == "property":
        kind = draw(st.sampled_from(["same", "extra"]))
        return MethodSpec(name, (), 0, kind, False, decorator, reads_state)
    kinds = ["same", "looser", "needs-more", "async-mismatch", "extra"] + (
        ["renamed"] if params else []
    )
    kind = draw(st.sampled_from(kinds))
    return MethodSpec(name, params, required, kind, draw(st.booleans()), decorator, reads_state)


@st.composite
def facade_specs(draw: st.DrawFn, mode: str = "any") -> FacadeSpec:
    names = draw(
        st.lists(
            identifiers.filter(lambda s: s not in RESERVED), min_size=1, max_size=4, unique=True
        )
    )
    methods = tuple(draw(method_specs(name)) for name in names)
    if mode == "alias":
        methods = tuple(_with_kind(m, "same") if not m.compatible else m for m in methods)
    elif mode == "delegate" and all(m.compatible for m in methods):
        methods = (_with_kind(methods[0], "extra"), *methods[1:])
    return FacadeSpec(methods)


def _with_kind(method: MethodSpec, kind: str) -> MethodSpec:
    from dataclasses import replace

    return replace(method, kind=kind)


# --- building the codemod from a real repository ------------------------------------------------


_counter = iter(range(10**9))


@dataclass
class Built:
    repo: Path
    codemod: Any


def build(tmp_path_factory: pytest.TempPathFactory, spec: FacadeSpec, module_source: str) -> Built:
    """A repository holding the canonical and ``module_source`` as ``pkg/gen.py``; phase 2's codemod."""
    repo = make_repo(
        tmp_path_factory.mktemp(f"phase2-{next(_counter)}") / "repo",
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


# --- composing and checking ----------------------------------------------------------------------


def _joined(*parts: str) -> str:
    text = ""
    for part in parts:
        if not part:
            continue
        if text and not text.endswith("\n"):
            text += "\n"
        text += ("\n\n" if text else "") + part
    return text


@dataclass(frozen=True)
class Context:
    """Code a real facade module has around the class: above the generated code, and below."""

    id: str
    head: str = ""
    tail: str = ""


CONTEXTS = [
    Context("none"),
    Context("docstring-future", '"""A module."""\nfrom __future__ import annotations\n'),
    Context(
        "canonical-imported", "from zzcanon.core import ZzCanonical\n", "zzkeep = ZzCanonical\n"
    ),
    Context("canonical-imported-as", "from zzcanon.core import ZzCanonical as ZzOther\n"),
    Context(
        "canonical-module-imported", "import zzcanon.core\n", "zzkeep = zzcanon.core.ZzCanonical\n"
    ),
    Context("canonical-name-shadowed", "ZzCanonical = object\n"),
    Context("exported", '__all__ = ["ZzFacade"]\n'),
    Context("star-import", "from os.path import *\n"),
    Context("used-below", "", "zzinstance = ZzFacade(1)\n\n\nclass ZzSub(ZzFacade):\n    pass\n"),
]
NO_CONTEXT = CONTEXTS[0]


def compose(before: str, spec: FacadeSpec, after: str, context: Context = NO_CONTEXT) -> str:
    return _joined(context.head, before, spec.facade_source(), after, context.tail)


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


# --- running the output --------------------------------------------------------------------------

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
    root = tmp_path_factory.mktemp(f"run-{next(_counter)}")
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


# --- the properties ------------------------------------------------------------------------------


def split(program: str, where: float) -> tuple[str, str]:
    """``program`` cut between two top-level statements, ``where`` of the way through.

    hypothesmith allows one generated program per example (it records Hypothesis targets under
    fixed labels), so the code before and after the facade comes from cutting one program.
    """
    try:
        module = libcst.parse_module(program)
    except libcst.ParserSyntaxError:
        return program, ""
    cut = round(where * len(module.body))
    before = module.with_changes(body=module.body[:cut], footer=())
    after = module.with_changes(body=module.body[cut:], header=(), encoding="utf-8")
    if not module.body[cut:]:
        return module.code, ""
    if not module.body[:cut]:
        return "", program
    return before.code, after.code


WHERE = st.sampled_from([0.0, 0.5, 1.0])  # the facade first, amid, or after the generated code


@FAST
@given(spec=facade_specs("alias"), program=programs, where=WHERE, context=st.sampled_from(CONTEXTS))
def test_alias_facade_in_generated_module(
    tmp_path_factory: pytest.TempPathFactory,
    spec: FacadeSpec,
    program: str,
    where: float,
    context: Context,
) -> None:
    check_injected(tmp_path_factory, spec, *split(program, where), context)


@FAST
@given(
    spec=facade_specs("delegate"), program=programs, where=WHERE, context=st.sampled_from(CONTEXTS)
)
def test_delegating_facade_in_generated_module(
    tmp_path_factory: pytest.TempPathFactory,
    spec: FacadeSpec,
    program: str,
    where: float,
    context: Context,
) -> None:
    check_injected(tmp_path_factory, spec, *split(program, where), context)


@pytest.mark.parametrize("context", CONTEXTS, ids=[c.id for c in CONTEXTS])
@pytest.mark.parametrize("mode", ["alias", "delegate"])
def test_every_context_on_a_plain_module(
    tmp_path_factory: pytest.TempPathFactory, context: Context, mode: str
) -> None:
    """Every context in both modes, each time the suite runs."""
    methods = [MethodSpec("zzsend", ("zza", "zzb"), 1, "same", True)]
    if mode == "delegate":
        methods.append(MethodSpec("zzold", ("zza",), 0, "extra", False))
    run_fixed(tmp_path_factory, FacadeSpec(tuple(methods)), context)


VARIANTS = {
    "plain": ("", False),
    "async": ("", True),
    "staticmethod": ("staticmethod", False),
    "classmethod": ("classmethod", True),
}


@pytest.mark.parametrize("kind", [*COMPATIBLE, *INCOMPATIBLE])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_method_kind_on_a_plain_module(
    tmp_path_factory: pytest.TempPathFactory, kind: str, variant: str
) -> None:
    """Every kind of every variant beside a ``same`` method and property, each time the suite runs."""
    decorator, is_async = VARIANTS[variant]
    run_fixed(
        tmp_path_factory,
        FacadeSpec(
            (
                MethodSpec(
                    "zzsend", ("zza", "zzb"), 1, kind, is_async, decorator, reads_state=True
                ),
                MethodSpec("zzcount", (), 0, "same", False),
                MethodSpec("zzsize", (), 0, "same", False, "property"),
            )
        ),
    )


@pytest.mark.parametrize("kind", ["same", "extra"])
def test_property_kinds_on_a_plain_module(
    tmp_path_factory: pytest.TempPathFactory, kind: str
) -> None:
    run_fixed(
        tmp_path_factory,
        FacadeSpec(
            (
                MethodSpec("zzsize", (), 0, kind, False, "property", reads_state=True),
                MethodSpec("zzcount", (), 0, "same", False),
            )
        ),
    )


def run_fixed(
    tmp_path_factory: pytest.TempPathFactory, spec: FacadeSpec, context: Context = NO_CONTEXT
) -> None:
    """``check_injected`` on ``spec`` between two fixed snippets, once (no generated code)."""

    @settings(max_examples=1, deadline=None, database=None)
    @given(st.just(spec))
    def run(generated: FacadeSpec) -> None:
        check_injected(
            tmp_path_factory, generated, PLAIN, "def helper():\n    return HERE\n", context
        )

    run()


# --- programs that do not define the facade -------------------------------------------------------

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


@pytest.fixture(scope="module")
def delegating_codemod(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Phase 2's codemod for a delegating facade ``pkg.gen.ZzFacade`` (a real repository)."""
    codemod = build(tmp_path_factory, DECOY_SPEC, DECOY_SPEC.facade_source()).codemod
    assert [p.mode for p in codemod.plans] == ["delegate"]
    return codemod


def check_untouched(codemod: Any, program: str, decoy: str) -> None:
    source = _joined(program, decoy)
    assume(parses(source))
    data = source.encode("utf-8")
    result = codemod.transform(data, FILE)
    assert result.source == data and not result.changes and not result.notes
    # A same-named class in another module is not the configured facade.
    other = _joined(program, DECOY_SPEC.facade_source(), decoy)
    if parses(other):
        assert codemod.transform(other.encode("utf-8"), ELSEWHERE).source == other.encode("utf-8")
    COUNTS["phase2_programs_untouched"] += 1


@FAST
@given(program=programs, decoy=st.sampled_from(DECOYS))
def test_program_without_the_facade_is_byte_identical(
    delegating_codemod: Any, program: str, decoy: str
) -> None:
    check_untouched(delegating_codemod, program, decoy)


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


@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(program=programs)
def test_prefilter_never_parses_a_file_without_the_facade(
    tmp_path_factory: pytest.TempPathFactory, program: str
) -> None:
    assume("ZzFacade" not in program)
    check_prefilter(tmp_path_factory.mktemp(f"prefilter-{next(_counter)}"), program)


@pytest.fixture(autouse=True, scope="module")
def _report_counts() -> Iterator[None]:
    yield
    append_counts(__name__, COUNTS)


# --- found by this suite --------------------------------------------------------------------------


def test_unrelated_import_named_like_a_parameter_is_kept(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Found here: alias mode dropped a module-level import whose name only the facade's
    parameters (locals) shared, though the class never read it."""
    spec = FacadeSpec((MethodSpec("zzsend", ("zza",), 1, "same", False),))
    source = _joined("from os import sep as zza\n", spec.facade_source())
    built = build(tmp_path_factory, spec, source)
    out = built.codemod.transform(source.encode("utf-8"), FILE).source.decode("utf-8")
    assert "ZzFacade = ZzCanonical" in out
    assert "from os import sep as zza\n" in out, out

"""Unit tests of the phase-1 codemod through its public API (``ImportsCodemod``).

The fixture suite (phase1/test_fixtures.py) covers one behaviour per repository; these tests pin
the codemod's contract (needles, pickling, same-bytes identity, errors, changes and notes) and a
table of hard import shapes that must each come out exactly as written here, parse, and be left
alone by a second run.
"""

from __future__ import annotations

import os
import pickle
import textwrap

import libcst
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ssot_migrate import pysyntax
from ssot_migrate.codemods import _common
from ssot_migrate.codemods.base import Codemod
from ssot_migrate.codemods.imports import ImportsCodemod
from ssot_migrate.model import NameKind, SourceFile, Target
from ssot_migrate.pysyntax import resolve_relative

WS = Target(
    name="ws",
    canonical="app.ws.unified.Unified",
    aliases=("app.ws.manager.WSM",),
)
TEXT = Target(
    name="text",
    canonical="app.utils.text",
    aliases=("app.legacy.text",),
    canonical_kind=NameKind.MODULE,
)
CODEMOD = ImportsCodemod((WS, TEXT))


def file_at(module: str, is_package: bool = False) -> SourceFile:
    path = module.replace(".", "/") + ("/__init__.py" if is_package else ".py")
    return SourceFile(path=path, module=module, is_package=is_package)


CONSUMER = file_at("app.api.views")


def rewrite(source: str, file: SourceFile = CONSUMER, codemod: ImportsCodemod = CODEMOD) -> str:
    """Run the codemod, check the output parses and is a fixed point, return it as text."""
    before = textwrap.dedent(source).encode()
    result = codemod.transform(before, file)
    libcst.parse_module(result.source)
    compile(result.source, file.path, "exec", dont_inherit=True)
    again = codemod.transform(result.source, file)
    assert again.source == result.source, "a second run changed the output"
    return result.source.decode()


# ---------------------------------------------------------------------------------------------
# The contract
# ---------------------------------------------------------------------------------------------


def test_implements_the_codemod_protocol() -> None:
    assert isinstance(CODEMOD, Codemod)
    assert CODEMOD.phase == "phase1"


def test_needles_are_last_segments_of_every_alias_including_discovered() -> None:
    discovered = Target(
        name="ws",
        canonical="app.ws.unified.Unified",
        aliases=("app.ws.manager.WSM",),
        discovered_aliases=("app.api.LegacyManager",),
    )
    assert ImportsCodemod((discovered, TEXT)).needles() == frozenset(
        {"WSM", "LegacyManager", "text"}
    )
    off = Target(
        name="ws",
        canonical="app.ws.unified.Unified",
        aliases=("app.ws.manager.WSM",),
        discover_aliases=False,
        discovered_aliases=("app.api.LegacyManager",),
    )
    assert ImportsCodemod((off,)).needles() == frozenset({"WSM"})


def test_pickles_for_the_process_pool() -> None:
    clone = pickle.loads(pickle.dumps(CODEMOD))
    source = b"from app.ws.manager import WSM\nWSM()\n"
    assert clone.transform(source, CONSUMER).source == CODEMOD.transform(source, CONSUMER).source


def test_unchanged_file_returns_the_same_bytes_object() -> None:
    source = b"import os\nWSM = os.environ  # mentions the needle, binds nothing legacy\n"
    result = CODEMOD.transform(source, CONSUMER)
    assert result.source is source
    assert result.changes == ()


def test_syntax_error_propagates_for_the_engine_to_report() -> None:
    with pytest.raises(libcst.ParserSyntaxError):
        CODEMOD.transform(b"from app.ws.manager import WSM\ndef broken(:\n", CONSUMER)


def test_changes_name_the_target_kind_and_line() -> None:
    source = textwrap.dedent(
        """\
        from app.ws.manager import WSM
        from unittest import mock

        __all__ = ["WSM"]


        @mock.patch("app.ws.manager.WSM.send")
        def test(m: "WSM") -> None:
            WSM()
        """
    ).encode()
    result = CODEMOD.transform(source, file_at("app.api.views"))
    got = sorted((c.line, c.kind, c.old, c.new, c.target) for c in result.changes)
    kinds = {(line, kind) for line, kind, *_ in got}
    assert (1, "import") in kinds
    assert (4, "all") in kinds
    assert (7, "string") in kinds
    assert (8, "string") in kinds
    assert (9, "reference") in kinds
    assert all(target == "ws" for *_, target in got)
    assert all(c.path == "app/api/views.py" and c.column >= 1 for c in result.changes)


def test_star_import_of_an_alias_module_is_left_and_noted_with_its_line() -> None:
    source = b"import os\nfrom app.ws.manager import *\n"
    result = CODEMOD.transform(source, CONSUMER)
    assert result.source is source
    assert [(n.path, n.line, n.kind, n.target) for n in result.notes] == [
        ("app/api/views.py", 2, "star-import", "ws")
    ]
    assert result.notes[0].severity == "warning"


def test_bytes_survive_crlf_bom_and_a_latin1_cookie() -> None:
    crlf = b"# caf\xc3\xa9\r\nfrom app.ws.manager import WSM\r\n\r\nx = WSM()  # keep\r\n"
    assert CODEMOD.transform(crlf, CONSUMER).source == (
        b"# caf\xc3\xa9\r\nfrom app.ws.unified import Unified\r\n\r\nx = Unified()  # keep\r\n"
    )
    bom = b"\xef\xbb\xbffrom app.ws.manager import WSM\nWSM()\n"
    assert CODEMOD.transform(bom, CONSUMER).source == (
        b"\xef\xbb\xbffrom app.ws.unified import Unified\nUnified()\n"
    )
    latin1 = b"# -*- coding: latin-1 -*-\nfrom app.ws.manager import WSM\nname = '\xe9t\xe9'\r\n"
    out = CODEMOD.transform(latin1, CONSUMER).source
    assert (
        out
        == b"# -*- coding: latin-1 -*-\nfrom app.ws.unified import Unified\nname = '\xe9t\xe9'\r\n"
    )


def test_canonical_module_itself_is_never_changed() -> None:
    source = b"from app.ws.manager import WSM\n\nclass Unified(WSM):\n    pass\n"
    result = CODEMOD.transform(source, file_at("app.ws.unified"))
    assert result.source is source


def test_alias_module_reexporting_the_canonical_is_not_turned_into_a_self_import() -> None:
    source = b"from app.ws.unified import Unified as WSM\n\n\ndef helper():\n    return WSM\n"
    assert CODEMOD.transform(source, file_at("app.ws.manager")).source is source


# ---------------------------------------------------------------------------------------------
# Hard shapes: input -> exact expected output
# ---------------------------------------------------------------------------------------------

SHAPES: list[tuple[str, str, str]] = [
    (
        "references_everywhere_but_attributes_keywords_strings_comments",
        """\
        from app.ws.manager import WSM
        try:
            pass
        except WSM:
            pass
        match x:
            case WSM(a=1):
                pass
        f(WSM=1)
        obj.WSM
        d = {'WSM': 1}
        # WSM comment
        g = lambda a=WSM: a
        if (y := WSM): pass
        print(f"{WSM!r}")
        """,
        """\
        from app.ws.unified import Unified
        try:
            pass
        except Unified:
            pass
        match x:
            case Unified(a=1):
                pass
        f(WSM=1)
        obj.WSM
        d = {'WSM': 1}
        # WSM comment
        g = lambda a=Unified: a
        if (y := Unified): pass
        print(f"{Unified!r}")
        """,
    ),
    (
        "shadowing_parameter_local_comprehension",
        """\
        from app.ws.manager import WSM
        def f(WSM):
            return WSM
        def g():
            WSM = 3
            return WSM
        xs = [WSM for WSM in range(3)]
        y = WSM
        """,
        """\
        from app.ws.unified import Unified
        def f(WSM):
            return WSM
        def g():
            WSM = 3
            return WSM
        xs = [WSM for WSM in range(3)]
        y = Unified
        """,
    ),
    (
        "collision_with_a_parameter_keeps_the_local_name",
        """\
        from app.ws.manager import WSM
        def f(Unified):
            return WSM(Unified)
        """,
        """\
        from app.ws.unified import Unified as WSM
        def f(Unified):
            return WSM(Unified)
        """,
    ),
    (
        "global_rebinding_keeps_the_local_name",
        """\
        from app.ws.manager import WSM
        def reset():
            global WSM
            WSM = None
        """,
        """\
        from app.ws.unified import Unified as WSM
        def reset():
            global WSM
            WSM = None
        """,
    ),
    (
        "del_follows_the_rename",
        """\
        from app.ws.manager import WSM
        del WSM
        """,
        """\
        from app.ws.unified import Unified
        del Unified
        """,
    ),
    (
        "both_branches_of_an_if",
        """\
        if x:
            from app.ws.manager import WSM
        else:
            from app.ws.manager import WSM
        WSM()
        """,
        """\
        if x:
            from app.ws.unified import Unified
        else:
            from app.ws.unified import Unified
        WSM()
        """.replace("WSM()", "Unified()"),
    ),
    (
        "same_import_twice_in_one_block_is_deduplicated",
        """\
        from app.ws.manager import WSM
        from app.ws.manager import WSM
        WSM()
        """,
        """\
        from app.ws.unified import Unified
        Unified()
        """,
    ),
    (
        "one_line_suite_and_semicolons",
        """\
        if True: from app.ws.manager import WSM; x = WSM
        """,
        """\
        if True: from app.ws.unified import Unified; x = Unified
        """,
    ),
    (
        "trailing_comment_on_the_import_line_stays",
        """\
        from app.ws.manager import WSM  # noqa: F401
        """,
        """\
        from app.ws.unified import Unified  # noqa: F401
        """,
    ),
    (
        "comment_after_open_parenthesis_stays",
        """\
        from app.ws.manager import (  # legacy
            WSM,
        )
        """,
        """\
        from app.ws.unified import (  # legacy
            Unified,
        )
        """,
    ),
    (
        "split_without_trailing_comma_keeps_the_kept_part_as_written",
        """\
        from app.ws.manager import (
            helper,
            WSM
        )
        """,
        """\
        from app.ws.manager import (
            helper
        )
        from app.ws.unified import Unified
        """,
    ),
    (
        "string_annotations_nested_subscripts_and_triple_quotes",
        """\
        from app.ws.manager import WSM
        x: "dict['a', WSM]" = {}
        y: \"\"\"WSM\"\"\" = 1
        """,
        """\
        from app.ws.unified import Unified
        x: "dict['a', Unified]" = {}
        y: \"\"\"Unified\"\"\" = 1
        """,
    ),
    (
        "dotted_string_annotation_through_a_module_import",
        """\
        import app.ws.manager
        def f(x: 'app.ws.manager.WSM'): pass
        """,
        """\
        import app.ws.unified
        def f(x: 'app.ws.unified.Unified'): pass
        """,
    ),
    (
        "patch_targets_but_not_patch_object",
        """\
        from unittest.mock import patch
        from mock import patch as p2
        @patch('app.ws.manager.WSM')
        @p2('app.ws.manager.WSM')
        def t(mocker, monkeypatch):
            mocker.patch('app.ws.manager.WSM.send')
            monkeypatch.setattr('app.ws.manager.WSM.limit', 3)
            patch.object(x, 'app.ws.manager.WSM')
        """,
        """\
        from unittest.mock import patch
        from mock import patch as p2
        @patch('app.ws.unified.Unified')
        @p2('app.ws.unified.Unified')
        def t(mocker, monkeypatch):
            mocker.patch('app.ws.unified.Unified.send')
            monkeypatch.setattr('app.ws.unified.Unified.limit', 3)
            patch.object(x, 'app.ws.manager.WSM')
        """,
    ),
    (
        "a_local_function_named_patch_is_not_mock",
        """\
        def patch(path):
            return path
        patch('app.ws.manager.WSM')
        """,
        """\
        def patch(path):
            return path
        patch('app.ws.manager.WSM')
        """,
    ),
    (
        "dotted_import_shared_head_other_module_still_used",
        """\
        import app.ws.manager
        x = app.ws.manager.WSM()
        y = app.ws.manager.helper()
        """,
        """\
        import app.ws.manager
        import app.ws.unified
        x = app.ws.unified.Unified()
        y = app.ws.manager.helper()
        """,
    ),
    (
        "module_alias_submodule_import_and_chain",
        """\
        import app.legacy.text.sub
        app.legacy.text.sub.f()
        """,
        """\
        import app.utils.text.sub
        app.utils.text.sub.f()
        """,
    ),
    (
        "module_alias_from_package_same_leaf",
        """\
        from app.legacy import text
        text.slug()
        """,
        """\
        from app.utils import text
        text.slug()
        """,
    ),
    (
        "relative_import_stays_relative",
        """\
        from ..ws.manager import WSM as W
        """,
        """\
        from ..ws.unified import Unified as W
        """,
    ),
    (
        "unrelated_module_with_the_same_leaf_is_untouched",
        """\
        from other.manager import WSM
        import other.legacy.text
        WSM(); other.legacy.text.f()
        """,
        """\
        from other.manager import WSM
        import other.legacy.text
        WSM(); other.legacy.text.f()
        """,
    ),
]


@pytest.mark.parametrize(("source", "expected"), [pytest.param(s, e, id=i) for i, s, e in SHAPES])
def test_shape(source: str, expected: str) -> None:
    assert rewrite(source) == textwrap.dedent(expected)


def test_relative_import_inside_a_package_init() -> None:
    out = rewrite("from .manager import WSM\n", file_at("app.ws", is_package=True))
    assert out == "from .unified import Unified\n"


def test_class_scope_import_keeps_the_attribute_name() -> None:
    source = """\
    class K:
        from app.ws.manager import WSM
        def m(self):
            return self.WSM
    """
    assert rewrite(source) == textwrap.dedent(
        """\
        class K:
            from app.ws.unified import Unified as WSM
            def m(self):
                return self.WSM
        """
    )


# ---------------------------------------------------------------------------------------------
# Dual imports under another name (found missing once, fixed, kept as a regression test)
# ---------------------------------------------------------------------------------------------


def test_dual_import_under_another_name_reuses_it() -> None:
    source = """\
    from app.ws.unified import Unified as U
    from app.ws.manager import WSM
    WSM(); U()
    """
    assert rewrite(source) == textwrap.dedent(
        """\
        from app.ws.unified import Unified as U
        U(); U()
        """
    )


# ---------------------------------------------------------------------------------------------
# Differential execution: generated programs over stub packages, run before and after.
# ---------------------------------------------------------------------------------------------

# The stubs are our own tiny modules (never project code). Every value the legacy paths give
# is "legacy..."; the canonical ones give "canonical...". A probe that saw a legacy value must see
# the canonical one after the rewrite; every other probe must see exactly what it saw before.
STUBS = {
    "zzprobe/__init__.py": "",
    "zzprobe/ws/__init__.py": "",
    "zzprobe/ws/manager.py": (
        "class WSM:\n    ROLE = 'legacy'\n\n\ndef helper():\n    return 'helper'\n"
    ),
    "zzprobe/ws/unified.py": "class Unified:\n    ROLE = 'canonical'\n",
    "zzprobe/legacy/__init__.py": "",
    "zzprobe/legacy/text/__init__.py": "def slug():\n    return 'legacy-slug'\n",
    "zzprobe/legacy/text/sub.py": "VALUE = 'legacy-sub'\n",
    "zzprobe/utils/__init__.py": "",
    "zzprobe/utils/text/__init__.py": "def slug():\n    return 'canonical-slug'\n",
    "zzprobe/utils/text/sub.py": "VALUE = 'canonical-sub'\n",
}
PROBE_TARGETS = (
    Target(name="ws", canonical="zzprobe.ws.unified.Unified", aliases=("zzprobe.ws.manager.WSM",)),
    Target(
        name="text",
        canonical="zzprobe.utils.text",
        aliases=("zzprobe.legacy.text",),
        canonical_kind=NameKind.MODULE,
    ),
)
# The program runs as a module of the stub package, so relative imports resolve too.
PROBE_FILE = SourceFile(path="zzprobe/user.py", module="zzprobe.user")

# Statements a program is made of (module level), each with the probes it makes meaningful.
STATEMENTS: list[tuple[str, tuple[str, ...]]] = [
    ("from zzprobe.ws.manager import WSM", ("WSM",)),
    ("from zzprobe.ws.manager import WSM as W", ("W",)),
    ("from zzprobe.ws.manager import WSM, helper", ("WSM", "helper()")),
    ("from zzprobe.ws.manager import (\n    helper,\n    WSM,\n)", ("WSM", "helper()")),
    ("import zzprobe.ws.manager", ("zzprobe.ws.manager.WSM", "zzprobe.ws.manager.helper()")),
    ("import zzprobe.ws.manager as mgr", ("mgr.WSM", "mgr.helper()")),
    ("from zzprobe.ws import manager", ("manager.WSM",)),
    ("from zzprobe.ws.unified import Unified", ("Unified",)),
    ("from zzprobe.ws.unified import Unified as U", ("U",)),
    ("Unified = 'user-value'", ("Unified",)),
    ("WSM = 'user-value'", ("WSM",)),
    ("def f(WSM='param'):\n    return WSM", ("f()",)),
    ("def g():\n    from zzprobe.ws.manager import WSM\n    return WSM", ("g()",)),
    ("def h():\n    return WSM", ("h()",)),
    ("class K:\n    from zzprobe.ws.manager import WSM", ("K.WSM",)),
    ("try:\n    from zzprobe.ws.manager import WSM\nexcept ImportError:\n    WSM = None", ("WSM",)),
    ("items = [WSM for WSM in ('comp',)]", ("items",)),
    ("from zzprobe.legacy import text", ("text.slug()",)),
    ("import zzprobe.legacy.text", ("zzprobe.legacy.text.slug()",)),
    ("import zzprobe.legacy.text.sub", ("zzprobe.legacy.text.sub.VALUE",)),
    ("from zzprobe.legacy.text import slug", ("slug()",)),
    ("import zzprobe.legacy.text as t", ("t.slug()",)),
    ("from zzprobe.legacy import text as tx", ("tx.slug()",)),
    ("from zzprobe.legacy.text.sub import VALUE", ("VALUE",)),
    ("import zzprobe", ("zzprobe.ws.manager.WSM", "zzprobe.legacy.text.slug()")),
    ("from zzprobe.ws import manager as m", ("m.WSM", "m.helper()")),
    ("def k():\n    import zzprobe.ws.manager\n    return zzprobe.ws.manager.WSM", ("k()",)),
    ("from .ws.manager import WSM as RW", ("RW",)),
    ("from .ws import manager as rm", ("rm.WSM",)),
    ("from .legacy import text as rt", ("rt.slug()",)),
    ("if True:\n    from zzprobe.ws.manager import WSM", ("WSM",)),
    ("class Sub(WSM):\n    pass", ("Sub.ROLE",)),
    ("label = f'{WSM.ROLE}'", ("label",)),
    (
        (
            "def patched():\n    from unittest import mock\n"
            "    with mock.patch('zzprobe.ws.manager.WSM.ROLE', 'patched'):\n"
            "        return WSM.ROLE"
        ),
        ("patched()",),
    ),
    ("class Holder:\n    WSM = WSM", ("Holder.WSM",)),
]


def _value(obj: object) -> str:
    role = getattr(obj, "ROLE", None)
    return role if isinstance(role, str) else repr(obj)


def _program(indices: list[int], in_function: bool = False) -> str:
    """The statements, then one probe per meaningful expression; optionally in a function body."""
    lines: list[str] = []
    probes: list[str] = []
    for index in indices:
        statement, statement_probes = STATEMENTS[index]
        lines.append(statement)
        probes += [p for p in statement_probes if p not in probes]
    lines.append("RESULTS = {}")
    for probe in probes:
        # Each probe reads its expression in a lambda, so renamed names are renamed here too.
        lines.append(f"try:\n    RESULTS[{probe!r}] = _value((lambda: {probe})())")
        lines.append(f"except Exception as exc:\n    RESULTS[{probe!r}] = type(exc).__name__")
    body = "\n".join(lines) + "\n"
    if not in_function:
        return body
    # The same statements as locals of a function: function-scope imports and shadowing.
    indented = textwrap.indent(body, "    ")
    return f"def scope():\n{indented}    return RESULTS\n\n\nRESULTS = scope()\n"


def _run(source: bytes, stub_root: str) -> dict[str, str]:
    import sys

    for name in [m for m in sys.modules if m == "zzprobe" or m.startswith("zzprobe.")]:
        del sys.modules[name]  # fresh imports: a missing import must not be hidden by a cache
    sys.path.insert(0, stub_root)
    try:
        namespace: dict[str, object] = {
            "_value": _value,
            "__name__": "zzprobe.user",
            "__package__": "zzprobe",
        }
        exec(compile(source, "zzprobe/user.py", "exec"), namespace)  # noqa: S102 - generated snippet
        results = namespace["RESULTS"]
        assert isinstance(results, dict)
        return results
    finally:
        sys.path.remove(stub_root)
        for name in [m for m in sys.modules if m == "zzprobe" or m.startswith("zzprobe.")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def stub_root(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("stubs")
    for rel, text in STUBS.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return str(root)


LEGACY_TO_CANONICAL = {
    "'legacy'": "'canonical'",
    "legacy": "canonical",
    "'legacy-slug'": "'canonical-slug'",
    "'legacy-sub'": "'canonical-sub'",
}


def _check_program(indices: list[int], stub_root: str, in_function: bool = False) -> bool:
    """False when the original program itself cannot run (nothing to compare)."""
    codemod = ImportsCodemod(PROBE_TARGETS)
    source = _program(indices, in_function).encode()
    try:
        before = _run(source, stub_root)
    except Exception:  # noqa: BLE001 - any failure of the original program: nothing to compare
        return False  # e.g. ``class Holder: WSM = WSM`` with no WSM bound before it
    result = codemod.transform(source, PROBE_FILE)
    assert codemod.transform(result.source, PROBE_FILE).source == result.source
    after = _run(result.source, stub_root)
    for probe, old in before.items():
        if old in ("NameError", "AttributeError"):
            continue  # a name or submodule the program never bound may become bound: harmless
        expected = LEGACY_TO_CANONICAL.get(old, old)
        assert after.get(probe) == expected, (
            f"probe {probe!r}: {old!r} before, {after.get(probe)!r} after, expected {expected!r}\n"
            f"--- before\n{source.decode()}--- after\n{result.source.decode()}"
        )
    return True


@pytest.mark.parametrize(
    "index", range(len(STATEMENTS)), ids=[s[0].split("\n")[0] for s in STATEMENTS]
)
def test_each_statement_alone_keeps_runtime_meaning(index: int, stub_root: str) -> None:
    # A statement that reads WSM before binding it runs after a plain import instead.
    assert _check_program([index], stub_root) or _check_program([0, index], stub_root)


def test_class_body_rebinding_the_same_name_at_runtime(stub_root: str) -> None:
    holder = STATEMENTS.index(("class Holder:\n    WSM = WSM", ("Holder.WSM",)))
    assert _check_program([0, holder], stub_root)


@settings(
    max_examples=int(os.environ.get("SSOT_PROBE_EXAMPLES", "40")), deadline=None, database=None
)
@given(
    indices=st.lists(st.integers(0, len(STATEMENTS) - 1), min_size=1, max_size=6),
    in_function=st.booleans(),
)
def test_generated_programs_keep_runtime_meaning(
    indices: list[int], in_function: bool, stub_root: str
) -> None:
    assume(_check_program(indices, stub_root, in_function))


REBIND = STATEMENTS.index(("WSM = 'user-value'", ("WSM",)))
CANONICAL_IMPORT = STATEMENTS.index(("from zzprobe.ws.unified import Unified", ("Unified",)))


def test_reimport_after_a_rebinding_is_kept(stub_root: str) -> None:
    assert _check_program([0, REBIND, 0], stub_root)


def test_no_merge_upwards_across_a_rebinding(stub_root: str) -> None:
    assert _check_program([CANONICAL_IMPORT, REBIND, 0], stub_root)


def test_no_merge_downwards_across_a_rebinding(stub_root: str) -> None:
    assert _check_program([0, REBIND, CANONICAL_IMPORT], stub_root)


def test_no_merge_downwards_across_a_use(stub_root: str) -> None:
    subclass = STATEMENTS.index(("class Sub(WSM):\n    pass", ("Sub.ROLE",)))
    assert _check_program([0, subclass, CANONICAL_IMPORT], stub_root)


# ---------------------------------------------------------------------------------------------
# The shared helpers in pysyntax/ and codemods/_common.py (phase 2 and 3 use them too).
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "module", "package", "expected"),
    [
        (0, "a.b", "x", "a.b"),
        (1, "m", "pkg.sub", "pkg.sub.m"),
        (1, None, "pkg", "pkg"),
        (2, "m", "pkg.sub", "pkg.m"),
        (3, None, "pkg.sub", None),  # above the top package
        (1, "m", None, None),  # unknown package
        (1, "m", "", None),  # a top-level module has no package to be relative to
    ],
)
def test_resolve_relative(
    level: int, module: str | None, package: str | None, expected: str | None
) -> None:
    assert resolve_relative(level, module, package) == expected


def test_common_relative_spelling_stays_relative_only_inside_the_anchor() -> None:
    assert pysyntax.relative_spelling("app.ws.unified", 1, "app.ws") == "unified"
    assert pysyntax.relative_spelling("app.ws", 1, "app.ws") == ""
    assert pysyntax.relative_spelling("app.core.x", 2, "app.ws") == "core.x"
    assert pysyntax.relative_spelling("other.x", 1, "app.ws") is None
    assert pysyntax.relative_spelling("app.ws.x", 0, "app.ws") is None


def test_common_alias_table_longest_prefix() -> None:
    module_target = Target(
        "cfg", "app.settings", ("app.legacy_cfg",), canonical_kind=NameKind.MODULE
    )
    symbol_target = Target("ws", "app.ws.unified.Unified", ("app.ws.manager.WSM",))
    table = _common.AliasTable([symbol_target, module_target])
    hit = table.lookup("app.ws.manager.WSM.connect")
    assert hit is not None
    assert (hit.alias, hit.new, hit.module) == (
        "app.ws.manager.WSM",
        "app.ws.unified.Unified.connect",
        "app.ws.unified",
    )
    sub = table.lookup("app.legacy_cfg.sub.thing")
    assert sub is not None and sub.new == "app.settings.sub.thing"
    assert table.lookup("app.ws.manager.helper") is None
    assert table.lookup("app.legacy_cfgx") is None  # a prefix only counts at a dot
    assert table.leads_to_alias("app.ws") and not table.leads_to_alias("app.ws.manager.WSM")
    assert table.needles() == {"WSM", "legacy_cfg"}
    assert table.canonical_modules() == {"app.ws.unified", "app.settings"}
    assert table.alias_modules() == {"app.ws.manager", "app.legacy_cfg"}


def test_common_alias_table_follows_discovery_switch() -> None:
    on = Target("t", "a.New", ("a.Old",), discovered_aliases=("b.Old",))
    off = Target("t", "a.New", ("a.Old",), discovered_aliases=("b.Old",), discover_aliases=False)
    assert _common.AliasTable([on]).lookup("b.Old") is not None
    assert _common.AliasTable([off]).lookup("b.Old") is None


def _import_node(code: str) -> libcst.Import | libcst.ImportFrom:
    line = libcst.parse_statement(code)
    assert isinstance(line, libcst.SimpleStatementLine)
    node = line.body[0]
    assert isinstance(node, (libcst.Import, libcst.ImportFrom))
    return node


def test_common_bindings_of_every_import_shape() -> None:
    plain = pysyntax.bindings_of(_import_node("import a.b.c"), "pkg")
    assert [(b.local, b.qname, b.loaded, b.plain) for b in plain] == [("a", "a", "a.b.c", True)]
    aliased = pysyntax.bindings_of(_import_node("import a.b as x, os"), "pkg")
    assert [(b.local, b.qname) for b in aliased] == [("x", "a.b"), ("os", "os")]
    relative = pysyntax.bindings_of(_import_node("from .. import m as n, k"), "pkg.sub")
    assert [(b.local, b.qname) for b in relative] == [("n", "pkg.m"), ("k", "pkg.k")]
    assert pysyntax.bindings_of(_import_node("from m import *"), "pkg") == []
    assert pysyntax.bindings_of(_import_node("from .m import x"), None) == []


def _code_of(node: libcst.CSTNode | None) -> str:
    assert node is not None
    return libcst.Module([]).code_for_node(node)


def test_common_drop_aliases_keeps_the_layout() -> None:
    single = _import_node("from m import a, b  # c")
    assert not isinstance(single.names, libcst.ImportStar)
    assert _code_of(pysyntax.drop_aliases(single, [single.names[1]])) == "from m import a"
    assert _code_of(pysyntax.drop_aliases(single, [single.names[0]])) == "from m import b"
    assert pysyntax.drop_aliases(single, list(single.names)) is None
    block = _import_node("from m import (\n    a,\n    b,\n)")
    assert not isinstance(block.names, libcst.ImportStar)
    assert _code_of(pysyntax.drop_aliases(block, [block.names[1]])) == "from m import (\n    a,\n)"
    plain = _import_node("import a, b")
    assert not isinstance(plain.names, libcst.ImportStar)
    assert _code_of(pysyntax.drop_aliases(plain, [plain.names[1]])) == "import a"


def test_common_builders_free_names_and_strings() -> None:
    assert _code_of(pysyntax.make_import_from("a.b", 1, [("X", None), ("Y", "Z")])) == (
        "from .a.b import X, Y as Z"
    )
    assert _code_of(pysyntax.make_import("a.b", "c")) == "import a.b as c"
    assert pysyntax.free_name("x", {"y"}) == "x"
    assert pysyntax.free_name("x", {"x"}) == "x_"
    assert pysyntax.free_name("x", {"x", "x_"}) == "x_2"
    assert pysyntax.string_body(libcst.SimpleString("r'a.b'")) == ("r", "'", "a.b")
    assert pysyntax.string_body(libcst.SimpleString("'a\\\\b'")) is None  # escapes: left alone
    assert pysyntax.string_body(libcst.SimpleString("b'a'")) is None
    assert pysyntax.with_string_body(libcst.SimpleString('"a"'), "b.c").value == '"b.c"'


@pytest.mark.parametrize(
    "source",
    [
        "import app.legacy.text\napp.legacy.text.slug()\napp.other()\n",
        "import os.path\nimport app.legacy.text\napp.legacy.text.slug()\napp.other()\n",
    ],
    ids=["head-still-used", "after-another-dotted-import"],
)
def test_module_alias_import_whose_head_is_still_used_converges(source: str) -> None:
    # Found on site-packages (``import os.path`` with os.* used elsewhere, os.path an alias):
    # the legacy import is kept for the head's other uses; a second run must not add the
    # canonical import again.
    out = rewrite(source)
    assert out.count("import app.utils.text\n") == 1
    assert "app.utils.text.slug()" in out
    assert "app.other()" in out


DETERMINISM_SOURCE = """\
def scope():
    def k():
        import zzprobe.ws.manager
        return zzprobe.ws.manager.WSM
    from zzprobe.ws.unified import Unified as U
    return k(), U
"""


def test_output_is_deterministic_and_keeps_the_canonical_import() -> None:
    # Found by the differential programs (in_function=True): the same bytes in, in the same
    # process, gave two different outputs, one of which deletes the only binding of U.
    codemod = ImportsCodemod(PROBE_TARGETS)
    outputs = {codemod.transform(DETERMINISM_SOURCE.encode(), PROBE_FILE).source for _ in range(30)}
    assert len(outputs) == 1
    assert b"from zzprobe.ws.unified import Unified as U\n" in outputs.pop()


@pytest.mark.parametrize(
    ("target", "source", "kind"),
    [
        pytest.param(
            Target("list", "builtins.list", ("typing.List",)),
            "from typing import List\n\n\ndef f(list):\n    return List\n",
            "builtin-kept",
            id="builtin-kept",
        ),
        pytest.param(
            Target(
                "json",
                "newjson",
                ("simplejson",),
                canonical_kind=NameKind.MODULE,
                canonical_names=frozenset({"dumps"}),
            ),
            "from simplejson import dumps, legacy_only\n",
            "missing-in-canonical",
            id="missing-in-canonical",
        ),
    ],
)
def test_a_site_left_as_it_is_needs_a_decision(target: Target, source: str, kind: str) -> None:
    # Left as it is, so listed under "needs a decision" (dry-run summary, commit, PR), not only
    # as a note on how a rewrite was done.
    result = ImportsCodemod([target]).transform(source.encode(), CONSUMER)
    (note,) = [n for n in result.notes if n.kind == kind]
    assert note.severity == "needs-decision"


def test_strings_found_in_the_statements_that_spell_them_as_in_a_whole_file_visit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a target's name inside a string, only the top-level statements spelling a needle or
    ``__all__`` are visited whole: the same changes and notes as visiting every node."""
    from ssot_migrate.codemods.imports.survey import Survey

    source = textwrap.dedent(
        '''\
        """Views."""
        from unittest import mock
        from typing import cast

        from app.ws.manager import WSM


        def unrelated(x: "int") -> str:
            return "plain"


        class Holder:
            def method(self, other: "WSM") -> "list[WSM]":
                def inner():
                    with mock.patch("app.ws.manager.WSM.send") as sent:
                        return sent

                return [cast("WSM", other)]

            value = 1


        @mock.patch.multiple("app.ws.manager", WSM=None)
        def patched():
            pass


        __all__ = ["WSM", "unrelated"]
        __all__ += ["Holder"]
        '''
    ).encode()
    gated = CODEMOD.transform(source, CONSUMER)
    monkeypatch.setattr(Survey, "_with_strings", lambda self, spans: None)
    whole = CODEMOD.transform(source, CONSUMER)
    assert gated.source == whole.source != source
    assert gated.changes == whole.changes and gated.notes == whole.notes
    text = gated.source.decode()
    for rewritten in (
        'other: "Unified") -> "list[Unified]":',
        'mock.patch("app.ws.unified.Unified.send")',
        'cast("Unified", other)',
        '__all__ = ["Unified", "unrelated"]',
    ):
        assert rewritten in text

"""``ssot_migrate.pysyntax``: the one reading of Python syntax every layer shares."""

from __future__ import annotations

import ast
import textwrap

import libcst as cst
import pytest

from ssot_migrate import pysyntax
from ssot_migrate.conventions import collected_by_pytest
from ssot_migrate.interfaces import module_imports


def _expr(code: str) -> cst.BaseExpression:
    return cst.parse_expression(code)


@pytest.mark.parametrize(
    ("code", "strict", "through"),
    [
        ("a", "a", "a"),
        ("a.b.c", "a.b.c", "a.b.c"),
        ("Generic[T]", None, "Generic"),
        ("typing.Generic[T]", None, "typing.Generic"),
        ("a[0].b", None, "a.b"),
        ("f().x", None, None),  # libcst's get_full_name_for_node says "f.x"
        ("(a or b).x", None, None),  # and "None.x" here
        ("'s'", None, None),
    ],
)
def test_dotted_name_reads_name_chains_only(
    code: str, strict: str | None, through: str | None
) -> None:
    assert pysyntax.dotted_name(_expr(code)) == strict
    assert pysyntax.dotted_name(_expr(code), through_subscripts=True) == through
    tree = ast.parse(code, mode="eval").body
    assert pysyntax.ast_dotted_name(tree) == strict


def test_shortest_relative_and_relative_spelling_answer_different_questions() -> None:
    assert pysyntax.shortest_relative("app.core.f", "app.ws") == (2, "core.f")
    assert pysyntax.shortest_relative("app.ws.f", "app.ws") == (1, "f")
    assert pysyntax.shortest_relative("other.f", "app.ws") is None
    assert pysyntax.shortest_relative("app.f", "") is None
    # the same import, spelt with the dots it already had
    assert pysyntax.relative_spelling("app.core.f", 2, "app.ws") == "core.f"
    assert pysyntax.relative_spelling("app.core.f", 1, "app.ws") is None


def test_module_imports_follows_conditional_imports_and_relative_ones() -> None:
    module = cst.parse_module(
        textwrap.dedent(
            """\
            import a.b.c
            import d.e as de
            from . import sibling
            from ..up import Thing as Alias
            try:
                from fast import impl
            except ImportError:
                from slow import impl
            if TYPE_CHECKING:
                from typing import Protocol
            def f():
                from hidden import x
            from star import *
            """
        )
    )
    assert module_imports(module, "pkg.sub.mod") == {
        "a": "a",
        "de": "d.e",
        "sibling": "pkg.sub.sibling",
        "Alias": "pkg.up.Thing",
        "impl": "slow.impl",
        "Protocol": "typing.Protocol",
    }
    # without the module's name, relative imports cannot be resolved: left out
    assert "sibling" not in module_imports(module)
    # top-level lines only
    top = pysyntax.import_bindings(pysyntax.small_statements(module.body), "pkg.sub")
    assert "impl" not in top and top["Alias"] == "pkg.up.Thing"


def test_make_import_from_and_insert_top_import() -> None:
    module = cst.parse_module('"""Doc."""\nfrom __future__ import annotations\nx = 1\n')
    line = cst.SimpleStatementLine(body=[pysyntax.make_import_from("app", 1, [("f", "g")])])
    assert pysyntax.insert_top_import(module, line).code == (
        '"""Doc."""\nfrom __future__ import annotations\n\nfrom .app import f as g\n\nx = 1\n'
    )


@pytest.mark.parametrize(
    ("path", "collected"),
    [
        ("test_a.py", True),
        ("pkg/tests/test_a.py", True),
        ("pkg/a_test.py", True),
        ("tests/conftest.py", False),
        ("tests/helpers.py", False),
        ("test_a.pyc", False),
        ("Test_a.py", False),
    ],
)
def test_collected_by_pytest(path: str, collected: bool) -> None:
    assert collected_by_pytest(path) is collected

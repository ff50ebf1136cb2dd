"""Phase 3 positions: a node measured on its innermost statement alone stands where libcst's
``PositionProvider`` over the whole file puts it, in every kind of block."""

from __future__ import annotations

import ast

import libcst as cst
import pytest
from libcst.metadata import PositionProvider

from ssot_migrate.codemods.factories.positions import NodeLines
from ssot_migrate.codemods.factories.rewrite import _parents_of

BLOCKS = b'''\
"""Doc."""
import os  # comment

@decorator(Manager(1))
class Outer(Base, metaclass=Meta):
    # leading comment

    x = Manager(2); y = Manager(3)

    @property
    def method(self, m=Manager(4)) -> Manager:
        if Manager(5):
            a = Manager(6)
        elif Manager(7):
            b = Manager(
                8,
                key=Manager(9),
            )
        elif (
            Manager(10)
        ):
            pass
        else:
            c = [Manager(11)
                 for _ in range(3)]
        for item in Manager(12):
            d = Manager(13)
        else:
            e = Manager(14)
        while Manager(15):
            break
        else:
            f = Manager(16)
        with Manager(17) as g, Manager(18):
            h = Manager(19)
        try:
            i = Manager(20)
        except Manager(21) as error:
            j = Manager(22)
        except (KeyError, Manager(23)):
            k = Manager(24)
        else:
            l = Manager(25)
        finally:
            m = Manager(26)
        match Manager(27):
            case [first]:
                n = Manager(28)
            case _:
                o = Manager(29)
        if p: q = Manager(30)
        return f"{Manager(31)}" + \\
            Manager(32)

    class Inner:
        def deep(self):
            async def deeper():
                async with Manager(33):
                    async for r in Manager(34):
                        s = lambda: Manager(35)
            return deeper


try:
    t = Manager(36)
except* ValueError:
    u = Manager(37)
'''


@pytest.mark.parametrize(
    "source",
    [
        BLOCKS,
        BLOCKS.replace(b"\n", b"\r\n"),
        BLOCKS.replace(b"    ", b"\t"),
        b"if a:\n  if b:\n      v = Manager(1)\n  elif c:\n   w = Manager(2)\n",
    ],
    ids=["blocks", "crlf", "tabs", "uneven-indents"],
)
def test_every_node_where_libcst_puts_it(source: bytes) -> None:
    module = cst.parse_module(source)
    lines = NodeLines(source, module, ast.parse(source), _parents_of(module).get)
    truth = cst.MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    nodes = [n for n in truth if isinstance(n, cst.Name | cst.Attribute | cst.Call)]
    assert len(nodes) > 8
    for node in nodes:
        position = truth[node].start
        assert lines.line(node) == (position.line, position.column + 1), node
    # Measured statement by statement: never the top-level statement or the module whole.
    assert not lines._positions


def test_a_node_outside_the_parent_map_is_measured_with_its_top_statement() -> None:
    source = b"import os\n\nclass A:\n    def f(self):\n        super().__init__()\n"
    module = cst.parse_module(source)
    parents = _parents_of(module)
    call = next(n for n in parents if isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute))
    # The statement holding the call was left out of the analysis (no parents recorded).
    for node in [n for n, parent in parents.items() if isinstance(parent, cst.FunctionDef)]:
        del parents[node]
    lines = NodeLines(source, module, ast.parse(source), parents.get)
    assert lines.line(call) == (5, 9)

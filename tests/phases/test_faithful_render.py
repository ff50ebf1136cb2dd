"""Every phase prints only the statements it changed: every other byte stays as it was.

``render``/``splice_statements`` (codemods/_common.py) are checked on generated programs against
libcst's own whole-module printing, and on the inputs libcst cannot print back faithfully;
``StatementSpans.splice``, which they and phase 1's rendering share, on its edge cases.
"""

from __future__ import annotations

import codecs

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ssot_migrate.codemods._common import Splice, render, splice_statements, statement_spans
from tests.helpers.properties_phase1 import FILE, build_factories_codemod, imports_codemod


class _ReplaceStatement(cst.CSTTransformer):
    """Replace, drop or follow with a new statement the top-level statement at ``index``."""

    def __init__(self, index: int, action: str) -> None:
        self.index = index
        self.action = action

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body: list[cst.BaseStatement] = list(updated_node.body)
        marker = cst.parse_statement("zz_marker = 1\n")
        if self.action == "replace":
            body[self.index] = marker
        elif self.action == "insert":
            body.insert(self.index + 1, marker)
        elif self.action == "drop" and len(body) > 1:
            del body[self.index]
        return updated_node.with_changes(body=body)


def _parse(source: bytes) -> cst.Module | None:
    try:
        return cst.parse_module(source)
    except (cst.ParserSyntaxError, RecursionError):
        return None


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    program=hypothesmith.from_grammar(),
    pick=st.integers(min_value=0, max_value=1000),
    action=st.sampled_from(["replace", "insert", "drop"]),
)
def test_splice_equals_whole_printing_where_libcst_is_faithful(
    program: str, pick: int, action: str
) -> None:
    source = program.encode("utf-8")
    original = _parse(source)
    assume(original is not None and original.body and original.bytes == source)
    assert original is not None
    new = original.visit(_ReplaceStatement(pick % len(original.body), action))
    out = render(source, original, new)
    assert out == new.bytes


class _Rename(cst.CSTTransformer):
    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        return (
            updated_node.with_changes(value="NEW") if updated_node.value == "OLD" else updated_node
        )


@pytest.mark.parametrize(
    "source",
    [
        # libcst drops the blank lines before an indented comment that ends a file
        b"import os\nx = OLD\n\n\ndef f():\n    pass\n\n\n  # trailing\n",
        b"import os\nx = OLD\n\n\n #\n",
        # a UTF-8 BOM and CRLF line endings
        codecs.BOM_UTF8 + b"# header\r\nimport os\r\nx = OLD\r\n\r\ny = 2  # keep\r\n",
        # a form feed and tabs between statements
        b"x = OLD\n\x0c\nclass A:\n\tdef f(self):\n\t\treturn 1\n",
    ],
    ids=["eof-comment", "eof-comment-after-change", "bom-crlf", "formfeed-tabs"],
)
def test_untouched_statements_keep_their_bytes(source: bytes) -> None:
    original = cst.parse_module(source)
    new = original.visit(_Rename())
    assert render(source, original, new) == source.replace(b"OLD", b"NEW")


def test_render_refuses_what_it_cannot_prove_faithful() -> None:
    """A statement whose printing differs from the bytes it stands for is never written over."""
    source = b"import os\nx = OLD\n"
    stand_in = cst.parse_module(b"import os\nx  =  OLD\n")  # as if libcst had lost the spacing
    new = stand_in.visit(_Rename())
    assert splice_statements(source, stand_in, new) is None
    assert render(source, stand_in, new) is None
    unchanged = stand_in.visit(cst.CSTTransformer())
    assert render(source, stand_in, unchanged) == source


def test_phase3_rewrites_a_file_whose_end_libcst_cannot_print(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The construction is rewritten; the blank lines and the comment that end the file stay."""
    codemod = build_factories_codemod(tmp_path_factory)
    source = (
        b"from zznew.core import NewThing\nx = NewThing(1)\n\n\ndef g():\n    return 1\n\n\n  #\n"
    )
    assert cst.parse_module(source).bytes != source
    result = codemod.transform(source, FILE)  # type: ignore[attr-defined]
    assert result.source.endswith(b"\n\n\ndef g():\n    return 1\n\n\n  #\n")
    assert b"NewThing(1)" not in result.source
    assert [n.kind for n in result.notes if n.kind == "not-reproducible"] == []
    assert codemod.transform(result.source, FILE).source == result.source  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "source",
    [
        b"from zznew.core import NewThing\n\n\ndef g():\n    return NewThing(1)\n\n\n  #\n",
        b"from zznew.core import NewThing\nx = NewThing(1)\n\n\n #",
        b"from zznew.core import NewThing\nx = NewThing(1)",
    ],
    ids=["changed-last-statement", "no-final-newline", "no-final-newline-no-footer"],
)
def test_phase3_keeps_the_end_of_the_file(
    tmp_path_factory: pytest.TempPathFactory, source: bytes
) -> None:
    codemod = build_factories_codemod(tmp_path_factory)
    result = codemod.transform(source, FILE)  # type: ignore[attr-defined]
    tail = source[source.index(b"NewThing(1)") + len(b"NewThing(1)") :]
    assert b"NewThing(1)" not in result.source
    assert result.source.endswith(b"(1)" + tail)
    assert not [n for n in result.notes if n.kind == "not-reproducible"]


def test_statement_spans_splice_replaces_inserts_and_refuses() -> None:
    """Hunks land on statement boundaries; an unfaithful statement or end is never written over."""
    source = b"# head\nimport os\n\nx = 1  # keep\ny = 2\n"
    spans = statement_spans(source, cst.parse_module(source))
    assert spans is not None
    # The first comment is the module's header; a blank line belongs to the statement below it.
    assert spans.lines == [2, 3, 5]
    assert spans.splice([]) == source
    assert spans.splice([Splice(1, 2, b"x = 3\n")]) == b"# head\nimport os\nx = 3\ny = 2\n"
    assert spans.splice([Splice(3, 3, b"z = 0\n")]) == source + b"z = 0\n"
    dropped = spans.splice([Splice(0, 1, b""), Splice(2, 3, b"w = 4\n")])
    assert dropped == b"# head\n\nx = 1  # keep\nw = 4\n"
    stand_in = cst.parse_module(b"# head\nimport os\n\nx  =  1  # keep\ny = 2\n")
    unfaithful = statement_spans(source, stand_in)
    assert unfaithful is not None
    assert unfaithful.splice([Splice(1, 2, b"x = 3\n")]) is None
    assert unfaithful.splice([Splice(2, 3, b"y = 3\n")]) is not None


def test_phase1_rewrites_a_file_whose_end_libcst_cannot_print() -> None:
    """Phase 1 splices its import edit the same way: the end libcst would lose stays."""
    source = b"from zzold.legacy import OldThing\n\n\ndef g():\n    return OldThing(1)\n\n\n  #\n"
    assert cst.parse_module(source).bytes != source
    result = imports_codemod().transform(source, FILE)  # type: ignore[attr-defined]
    assert result.source == (
        b"from zznew.core import NewThing\n\n\ndef g():\n    return NewThing(1)\n\n\n  #\n"
    )

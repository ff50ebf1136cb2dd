"""Scan's JSON text is ``json.dumps(document, indent=2)`` byte for byte, whatever it holds."""

from __future__ import annotations

import enum
import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ssot_migrate.scan.report import _indented_json


class _Level(enum.IntEnum):
    LOW = 1


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.just(_Level.LOW)
    | st.just(-0.0)
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(_VALUES)
def test_equals_json_dumps(value: Any) -> None:
    assert _indented_json(value) == json.dumps(value, indent=2)


def test_what_it_does_not_write_itself_json_dumps_does() -> None:
    for value in [{1: "a", "b": [2.5, math.inf]}, {None: 1}, [{"k": {True: 0}}]]:
        assert _indented_json(value) == json.dumps(value, indent=2)
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    for document in (cyclic, {"set": {1}}):
        try:
            json.dumps(document, indent=2)
        except (ValueError, TypeError) as expected:
            raised: type[Exception] = type(expected)
        try:
            _indented_json(document)
        except raised:
            continue
        raise AssertionError(f"{document!r}: not {raised.__name__}")

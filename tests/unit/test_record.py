"""The phase commit record: what ``render`` writes, ``parse`` reads back unchanged."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ssot_migrate.record import (
    PhaseRecord,
    Section,
    Trailers,
    id_list,
    message_sections,
    paragraph,
)

# What a record's lines can hold: printable text on one line (``render`` escapes controls, and
# ``str.splitlines`` also splits on a few characters that are not controls).
_LINE_BREAKS = "\x1c\x1d\x1e\x85\u2028\u2029"
_TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters=_LINE_BREAKS),
    min_size=1,
    max_size=30,
)
_HEADER = _TEXT.filter(lambda s: s.strip() == s and not s.startswith("SSOT-"))
_ITEM = st.builds(
    lambda indent, s: indent + s,
    st.sampled_from(["  ", "    ", "\t"]),
    _TEXT.filter(lambda s: s.strip() == s),
)
_SECTION = st.builds(Section, _HEADER, st.lists(_ITEM, max_size=3).map(tuple))
_PARAGRAPH = st.lists(_SECTION, min_size=1, max_size=3).map(tuple)
_VALUE = st.none() | _TEXT.filter(lambda s: s.strip() == s)
_TRAILERS = st.builds(
    Trailers,
    phase=_VALUE,
    reverts=_VALUE,
    base=_VALUE,
    mainline=_VALUE,
    config=_VALUE,
    tests_before=_VALUE,
    tests_after=_VALUE,
    verified=_VALUE,
    regressions=_VALUE,
    flaky=_VALUE,
    unstable_on_base=_VALUE,
)
_RECORD = st.builds(PhaseRecord, _TEXT, st.lists(_PARAGRAPH, max_size=4).map(tuple), _TRAILERS)


@settings(max_examples=100, deadline=None)
@given(_RECORD)
def test_parse_reads_back_what_render_wrote(record: PhaseRecord) -> None:
    assert PhaseRecord.parse(record.render()) == record


@settings(max_examples=50, deadline=None)
@given(_TRAILERS)
def test_trailers_read_back_from_their_keys(trailers: Trailers) -> None:
    assert Trailers.parse(dict(trailers.items())) == trailers


def test_a_phase_record_renders_in_git_interpret_trailers_layout() -> None:
    record = PhaseRecord(
        "ssot-migrate phase1 (imports): rewrite legacy imports to their canonical paths",
        (
            paragraph(["Base: main (0123456789ab)"]),
            paragraph(
                [
                    "Files changed (1):",
                    "  app/chat.py (+1 -1)",
                    "References rewritten per target:",
                    "  manager: 2",
                ]
            ),
            paragraph(["Tests (python -m pytest):", "  before: 4 passed", "  after:  4 passed"]),
        ),
        Trailers(
            phase="phase1",
            base="a" * 40,
            mainline="refs/heads/main",
            config="-",
            tests_before="4 passed",
            tests_after="4 passed",
            verified="yes",
            regressions=id_list([f"t{i}" for i in range(22)]),
        ),
    )
    assert record.render() == (
        "ssot-migrate phase1 (imports): rewrite legacy imports to their canonical paths\n"
        "\n"
        "Base: main (0123456789ab)\n"
        "\n"
        "Files changed (1):\n"
        "  app/chat.py (+1 -1)\n"
        "References rewritten per target:\n"
        "  manager: 2\n"
        "\n"
        "Tests (python -m pytest):\n"
        "  before: 4 passed\n"
        "  after:  4 passed\n"
        "\n"
        "SSOT-Phase: phase1\n"
        f"SSOT-Base: {'a' * 40}\n"
        "SSOT-Mainline: refs/heads/main\n"
        "SSOT-Config: -\n"
        "SSOT-Tests-Before: 4 passed\n"
        "SSOT-Tests-After: 4 passed\n"
        "SSOT-Verified: yes\n"
        "SSOT-Regressions: " + ", ".join(f"t{i}" for i in range(20)) + ", ... and 2 more\n"
    )
    sections = message_sections(record.render())
    assert sections["References rewritten per target"] == [
        "References rewritten per target:",
        "  manager: 2",
    ]
    assert record.trailers.triage_lists() == (("regressions", record.trailers.regressions),)


def test_controls_from_file_names_are_escaped_and_git_trailers_win() -> None:
    record = PhaseRecord(
        "t", (paragraph(["Files changed (1):", "  a\x1b[31m.py"]),), Trailers(phase="phase1")
    )
    assert "\x1b" not in record.render() and "a\\x1b[31m.py" in record.render()
    read = PhaseRecord.parse(record.render(), {"SSOT-Phase": "phase2", "Signed-off-by": "x"})
    assert read.trailers == Trailers(phase="phase2")

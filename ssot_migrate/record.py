"""The phase commit record: the one place its message and trailers are written and read back.

A phase (or the revert of one) is one commit, and git is the only state store, so the commit
message is a record: a title, sections a reviewer reads, then ``git interpret-trailers``
trailers that ``status``, ``pr`` and ``rollback`` read back::

    ssot-migrate phase1 (imports): rewrite legacy imports to their canonical paths

    Base: main (0123456789ab)

    Files changed (1):
      app/chat.py (+1 -1)

    Tests (python -m pytest -q):
      before: 4 passed
      after:  4 passed

    SSOT-Phase: phase1
    SSOT-Verified: yes

The body is paragraphs separated by a blank line; a paragraph is sections; a section is an
unindented header line (``Tests (python -m pytest -q):``) and the indented lines below it.
``PhaseRecord.parse(record.render()) == record`` for every record that layout can hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields

from ssot_migrate.terminal import printable

TRAILER_IDS = 20  # test ids per trailer; the commit body lists up to 50 of each
PHASE_KEY = "SSOT-Phase"

# Section headers other modules look for (``pr`` carries these into the pull request).
TESTS = "Tests"
BISECT = "bisect"
NEEDS_A_DECISION = "Needs a decision"
NOTES = "Notes"
SKIPPED = "Skipped, left unchanged"


def phase_grep(phase: str) -> str:
    """The ``git log`` option that finds the commits of ``phase`` by their trailer."""
    return f"--grep=^{PHASE_KEY}: {phase}$"


@dataclass(frozen=True)
class Trailers:
    """The ``SSOT-*`` trailers of a phase commit, in the order they are written.

    Read back from git, any of them may be missing (a commit someone else wrote, an older
    version of this tool): ``None`` then, and each reader says what it assumes instead.
    """

    phase: str | None = None
    reverts: str | None = None  # a rollback: the phase commit it reverts
    base: str | None = None
    mainline: str | None = None
    config: str | None = None  # the configuration's digest, ``-`` when unknown
    tests_before: str | None = None
    tests_after: str | None = None
    verified: str | None = None  # ``yes``, ``failed``, ``no-tests`` or ``skipped``
    regressions: str | None = None
    flaky: str | None = None
    unstable_on_base: str | None = None

    def items(self) -> list[tuple[str, str]]:
        """``(SSOT-Key, value)`` for each trailer present, in writing order."""
        out = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out.append((_KEYS[f.name], value))
        return out

    def render(self) -> list[str]:
        """The trailer lines: ``SSOT-Phase: phase1`` and so on."""
        return [f"{key}: {value}" for key, value in self.items()]

    @classmethod
    def parse(cls, trailers: Mapping[str, str]) -> Trailers:
        """The ``SSOT-*`` trailers among a commit's (``CommitInfo.trailers``); others ignored."""
        return cls(**{name: trailers[key] for name, key in _KEYS.items() if key in trailers})

    def triage_lists(self) -> tuple[tuple[str, str], ...]:
        """``(what, ids)`` for each triage trailer the commit carries."""
        return tuple(
            (title, value)
            for value, title in (
                (self.regressions, "regressions"),
                (self.flaky, "flaky (not regressions)"),
                (self.unstable_on_base, "unstable on base (not regressions)"),
            )
            if value is not None
        )


_KEYS = {
    "phase": PHASE_KEY,
    "reverts": "SSOT-Reverts",
    "base": "SSOT-Base",
    "mainline": "SSOT-Mainline",
    "config": "SSOT-Config",
    "tests_before": "SSOT-Tests-Before",
    "tests_after": "SSOT-Tests-After",
    "verified": "SSOT-Verified",
    "regressions": "SSOT-Regressions",
    "flaky": "SSOT-Flaky",
    "unstable_on_base": "SSOT-Unstable-On-Base",
}


def id_list(ids: Sequence[str]) -> str | None:
    """A triage trailer's value: the first ``TRAILER_IDS`` ids and how many more; None if none."""
    if not ids:
        return None
    more = len(ids) - TRAILER_IDS
    return ", ".join(ids[:TRAILER_IDS]) + (f", ... and {more} more" if more > 0 else "")


@dataclass(frozen=True)
class Section:
    """A header line and the indented lines under it."""

    header: str
    lines: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The header's name: ``Tests`` for ``Tests (python -m pytest):``."""
        return self.header.split("(", 1)[0].split(":", 1)[0].strip()


Paragraph = tuple[Section, ...]


@dataclass(frozen=True)
class PhaseRecord:
    """A phase commit's message: title, body paragraphs, trailers."""

    title: str
    paragraphs: tuple[Paragraph, ...]
    trailers: Trailers

    def render(self) -> str:
        """Title, blank line, body, blank line, trailers (``git interpret-trailers`` layout)."""
        body: list[str] = []
        for i, paragraph in enumerate(self.paragraphs):
            if i:
                body.append("")
            for section in paragraph:
                body.append(section.header)
                body.extend(section.lines)
        # file names come from the repository: no terminal escapes in `git log`
        text = "\n".join([self.title, "", *body, "", *self.trailers.render()])
        return printable(text) + "\n"

    @classmethod
    def parse(cls, message: str, trailers: Mapping[str, str] | None = None) -> PhaseRecord:
        """Read a message ``render`` wrote (or a human edited) back into its parts.

        ``trailers``: the commit's trailers as git reads them (``CommitInfo.trailers``), which
        then win over the ``SSOT-`` lines found in the message.
        """
        lines = message.splitlines()
        title = lines[0] if lines else ""
        paragraphs: list[Paragraph] = []
        current: list[Section] = []
        found: dict[str, str] = {}
        for line in lines[1:]:
            if not line.strip():
                if current:
                    paragraphs.append(tuple(current))
                    current = []
                continue
            if line.startswith("SSOT-"):  # the trailers close the message
                key, _, value = line.partition(":")
                found[key.strip()] = value.strip()
                if current:
                    paragraphs.append(tuple(current))
                    current = []
                continue
            if line.startswith((" ", "\t")) and current:
                last = current[-1]
                current[-1] = Section(last.header, (*last.lines, line))
                continue
            current.append(Section(line))
        if current:
            paragraphs.append(tuple(current))
        return cls(
            title, tuple(paragraphs), Trailers.parse(found if trailers is None else trailers)
        )

    def sections(self) -> dict[str, list[str]]:
        """Each section by its key, header first (a repeated key: the lines are joined)."""
        out: dict[str, list[str]] = {}
        for paragraph in self.paragraphs:
            for section in paragraph:
                out.setdefault(section.key, []).extend([section.header, *section.lines])
        return out


def message_sections(message: str) -> dict[str, list[str]]:
    """Split a phase commit message into its titled sections (header line -> its lines)."""
    return PhaseRecord.parse(message).sections()


def paragraph(lines: Iterable[str]) -> Paragraph:
    """Sections out of lines in the record's layout (an indented line belongs to the header above)."""
    sections: list[Section] = []
    for line in lines:
        if line.startswith((" ", "\t")) and sections:
            last = sections[-1]
            sections[-1] = Section(last.header, (*last.lines, line))
        else:
            sections.append(Section(line))
    return tuple(sections)

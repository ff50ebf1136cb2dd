"""``status``: the phases' state, read back from branches and commit trailers only.

Git is the only state store: a phase branch is any local branch whose tip carries an
``SSOT-Phase`` trailer, and everything shown comes from that commit's trailers and the refs.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.text import Text

from ssot_migrate import phases
from ssot_migrate.gitlayer import branches as refs
from ssot_migrate.record import PHASE_KEY, Trailers, phase_grep


@dataclass(frozen=True)
class PhaseStatus:
    """One row of ``status``."""

    phase: str
    branch: str
    tip: str
    base: str
    ahead: int
    behind: int
    verified: str
    tests: str
    merged: bool
    triage: tuple[tuple[str, str], ...] = ()


def phase_branches(repo: Path) -> list[tuple[str, str, str]]:
    """``(phase, branch, tip)`` of every phase branch: named like one, tip with ``SSOT-Phase``.

    The name check matters: ``main`` fast-forwarded onto a phase has that phase's tip too.
    """
    out = refs.run_git(
        repo,
        "for-each-ref",
        "refs/heads/",
        f"--format=%(objectname)%00%(refname)%00%(trailers:key={PHASE_KEY},valueonly,separator=%x2C)",
    )
    found = []
    for line in out.splitlines():
        sha, full, phase = (line.split("\0") + ["", ""])[:3]
        # the full name: a tag named like the branch makes the short one "heads/..."
        name = full.removeprefix("refs/heads/")
        phase = phase.strip().split(",")[-1].strip()
        suffix = phases.BY_ID[phase].branch_suffix if phase in phases.BY_ID else phase
        if phase and name.endswith(suffix):
            found.append((phase, name, sha))
        elif not phase:
            # Commits the user added on top of a phase branch: still that phase's branch.
            named = [p.id for p in phases.REGISTRY if name.endswith(p.branch_suffix)]
            if named and phase_commit(repo, named[0], sha):
                found.append((named[0], name, sha))
    return sorted(found)


def phase_commit(repo: Path, phase: str, tip: str) -> str | None:
    """The newest commit with ``SSOT-Phase: <phase>`` on ``tip``'s first-parent line, if any."""
    out = refs.run_git(repo, "log", "-1", "--first-parent", "--format=%H", phase_grep(phase), tip)
    return out or None


def collect(repo: Path) -> list[PhaseStatus]:
    """The state of every phase branch (and rollback branch) in ``repo``."""
    repo = repo.resolve()
    refs.git_dir(repo)  # not a repository: the same clear error as scan's, not git's own
    rows: list[PhaseStatus] = []
    tips = {name: sha for _, name, sha in phase_branches(repo)}
    # a base that is a replaced (backed-up) phase tip: the lower phase was refreshed since
    replaced = {
        sha: ref[len(refs.BACKUP_NAMESPACE) :].rsplit("/", 1)[0] for ref, sha in refs.backups(repo)
    }
    for phase, name, tip in phase_branches(repo):
        info = refs.commit_info(repo, tip)
        on_top = 0
        if Trailers.parse(info.trailers).phase != phase:
            own = phase_commit(repo, phase, tip) or tip
            on_top = refs.ahead_behind(repo, own, tip)[0]
            info = refs.commit_info(repo, own)
        trailers = Trailers.parse(info.trailers)
        mainline = trailers.mainline or "HEAD"
        main_sha = refs.resolve(repo, mainline) or refs.resolve(repo, "HEAD") or tip
        base_sha = trailers.base or info.parent or tip
        stacked = next((n for n, s in tips.items() if s == base_sha and n != name), None)
        if stacked:
            base_label = stacked
        elif base_sha in replaced:
            base_label = f"{replaced[base_sha]} (old tip: refresh {phase})"
        else:
            base_label = f"{_short(mainline)} @ {base_sha[:10]}"
        base_ref = tips[stacked] if stacked else main_sha
        ahead, behind = refs.ahead_behind(repo, base_ref, tip)
        tests = _tests(trailers)
        rows.append(
            PhaseStatus(
                phase=phase,
                branch=f"{name} (+{on_top} commit(s) on top)" if on_top else name,
                tip=tip,
                base=base_label,
                ahead=ahead,
                behind=behind,
                verified=trailers.verified or "?",
                tests=tests,
                merged=refs.is_merged(repo, tip, main_sha),
                triage=trailers.triage_lists(),
            )
        )
    return rows + _merged_without_branch(repo, {row.phase for row in rows})


def _merged_without_branch(repo: Path, shown: set[str]) -> list[PhaseStatus]:
    # A hosting service deletes a branch once merged; its commit (and trailers) live on in HEAD.
    rows = []
    for phase in phases.IDS:
        if phase in shown:
            continue
        sha = refs.run_git(
            repo, "log", "-1", "--format=%H", phase_grep(phase), "HEAD", ok_codes=(128,)
        )
        if not sha:
            continue
        t = Trailers.parse(refs.commit_info(repo, sha).trailers)
        rows.append(
            PhaseStatus(
                phase=phase,
                branch="(branch deleted)",
                tip=sha,
                base=f"{_short(t.mainline or 'HEAD')} @ {(t.base or '?')[:10]}",
                ahead=0,
                behind=0,
                verified=t.verified or "?",
                tests=_tests(t),
                merged=True,
                triage=t.triage_lists(),
            )
        )
    return rows


def _tests(trailers: Trailers) -> str:
    return f"{trailers.tests_before or '?'} -> {trailers.tests_after or '?'}"


def _short(ref: str) -> str:
    return ref.removeprefix("refs/heads/")


def render(rows: list[PhaseStatus]) -> str:
    """A plain-text table (one header line, one line per branch)."""
    header = (
        "PHASE",
        "BRANCH",
        "BASE",
        "AHEAD/BEHIND",
        "VERIFIED",
        "TESTS (before -> after)",
        "MERGED",
    )
    table = [header] + [
        (
            r.phase,
            r.branch,
            r.base,
            f"+{r.ahead}/-{r.behind}",
            r.verified,
            r.tests,
            "yes" if r.merged else "no",
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in table
    ]
    lines += [f"{r.phase} {title}: {ids}" for r in rows for title, ids in r.triage]
    return "\n".join(lines) + "\n"


def run_status_command(repo: Path, *, console: Console) -> int:
    """The CLI body of ``status``: the table on stdout, a hint on stderr when there is none."""
    rows = collect(repo)
    if not rows:
        console.print(Text("no phase branches yet (run `ssot-migrate phase1`)"))
        return 0
    sys.stdout.write(render(rows))
    sys.stdout.flush()
    return 0

"""``ssot-migrate pr PHASE``: push a phase branch and write its pull request.

Everything in the pull request is read back from git (the branch, its commit message and
trailers) plus two scans, of the phase's base and of its tip; nothing is remembered elsewhere.
A stacked phase (its base is the previous phase's branch) targets that branch, so the pull
requests review in order. ``--open`` hands the result to the GitHub CLI::

    gh pr create --base ssot/phase1-imports --head ssot/phase2-facades \\
        --title "..." --body-file .git/ssot-pr/phase2.md
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from ssot_migrate import __version__
from ssot_migrate.diffs import FileStat, diff_stats
from ssot_migrate.errors import GitError, UsageError
from ssot_migrate.gitlayer import branches as refs
from ssot_migrate.model import Config
from ssot_migrate.phases import BY_ID, IDS, ROLLBACKS, branch_name
from ssot_migrate.record import (
    BISECT,
    NEEDS_A_DECISION,
    NOTES,
    SKIPPED,
    TESTS,
    PhaseRecord,
    Trailers,
)
from ssot_migrate.status import phase_branches

if TYPE_CHECKING:
    from ssot_migrate.scan.analysis import ScanReport


@dataclass(frozen=True)
class PullRequest:
    """Everything needed to open the pull request of one phase branch."""

    phase: str
    branch: str
    tip: str
    base_sha: str
    base_branch: str
    stacked_on: str | None
    verified: str
    title: str
    body: str
    stats: tuple[FileStat, ...]

    def gh_argv(self, body_file: Path) -> list[str]:
        """The ``gh pr create`` command line that opens this pull request."""
        return [
            "gh",
            "pr",
            "create",
            "--base",
            self.base_branch,
            "--head",
            self.branch,
            "--title",
            self.title,
            "--body-file",
            str(body_file),
        ]


def find_phase_branch(repo: Path, phase: str, preferred: str | None = None) -> tuple[str, str]:
    """``(branch, tip)`` of ``phase``'s branch: ``preferred`` (the configured name) when it exists,
    else the one local branch whose tip carries ``SSOT-Phase: <phase>``.

    The configured name wins because after a fast-forward merge the main branch's tip carries the
    same trailer.
    """
    _check_phase(phase)
    own = [(name, tip) for p, name, tip in phase_branches(repo) if p == phase]
    chosen = [(name, tip) for name, tip in own if name == preferred] or own
    if not chosen:
        raise UsageError(f"no {phase} branch in {repo}: run `ssot-migrate {phase}` first")
    if len(chosen) > 1:
        names = ", ".join(name for name, _ in chosen)
        raise UsageError(f"several branches carry {phase}: {names}; delete the extra one")
    return chosen[0]


def _check_phase(phase: str) -> None:
    if phase not in BY_ID and phase not in ROLLBACKS:
        raise UsageError(
            f"unknown phase {phase!r}; expected one of {', '.join([*IDS, *ROLLBACKS])}"
        )


def _mainline_branch(repo: Path, mainline: str) -> str:
    """The branch a non-stacked phase's pull request targets (``SSOT-Mainline``, short name).

    A phase started from a bare commit (``--base <sha>``) records no branch; the branch checked
    out now is the best guess, ``main`` the last resort.
    """
    if mainline.startswith("refs/heads/"):
        return mainline.removeprefix("refs/heads/")
    if refs.resolve(repo, f"refs/heads/{mainline}") is not None:
        return mainline
    current = refs.symbolic_name(repo, "HEAD")
    return current.removeprefix("refs/heads/") if current else "main"


def scan_pair(config: Config, base: str, tip: str) -> tuple[ScanReport, ScanReport]:
    """Scans of the phase's base and of its tip (the figures the pull request shows)."""
    from ssot_migrate.scan.analysis import scan_repository

    return scan_repository(config, base=base), scan_repository(config, base=tip)


def scan_table(before: Mapping[str, int], after: Mapping[str, int]) -> list[str]:
    """Markdown rows: each category's violations before and after, what changed, the totals."""
    lines = ["| category | before | after | change |", "| --- | ---: | ---: | --- |"]
    for category in dict.fromkeys([*before, *after]):
        old, new = before.get(category, 0), after.get(category, 0)
        if old == new:
            change = "unchanged" if old else ""
        elif new == 0:
            change = f"fixed ({old})"
        else:
            change = f"{new - old:+d}"
        lines.append(f"| {category} | {old} | {new} | {change} |")
    lines.append(f"| **total** | **{sum(before.values())}** | **{sum(after.values())}** | |")
    return lines


def _scan_section(scans: tuple[ScanReport, ScanReport] | None) -> list[str]:
    from ssot_migrate.scan.report import render_markdown

    if scans is None:
        return ["_Scan not available._"]
    before, after = scans
    out = [*scan_table(before.violations(), after.violations()), ""]
    remaining = sum(after.violations().values())
    out.append(
        "Every category is at zero on this branch."
        if not remaining
        else f"{remaining} violation(s) remain on this branch (later phases or a human take them)."
    )
    out += [
        "",
        "<details><summary>Full scan of this branch</summary>",
        "",
        render_markdown(after, max_sites=100).rstrip("\n"),
        "",
        "</details>",
    ]
    return out


def _stats_table(stats: Sequence[FileStat]) -> list[str]:
    added = sum(s.added for s in stats)
    removed = sum(s.removed for s in stats)
    lines = [
        f"{len(stats)} file(s) changed, +{added} -{removed}",
        "",
        "| file | + | - |",
        "|---|---:|---:|",
    ]
    lines += [f"| `{s.path}` | {s.added} | {s.removed} |" for s in stats]
    return lines


def _code_block(lines: Sequence[str]) -> list[str]:
    fence = "```"
    while any(fence in line for line in lines):
        fence += "`"
    return [f"{fence}text", *(line.rstrip() for line in lines), fence]


def render_body(
    *,
    phase: str,
    branch: str,
    tip: str,
    base_sha: str,
    base_branch: str,
    stacked_on: str | None,
    record: PhaseRecord,
    scans: tuple[ScanReport, ScanReport] | None,
    stats: Sequence[FileStat],
) -> str:
    """The pull request's Markdown body (see the module docstring for what goes in)."""
    trailers = record.trailers
    sections = record.sections()
    verified = trailers.verified or "unknown"
    out = [_intro(phase, branch, tip, record), ""]
    if verified == "failed":
        out += [
            (
                "> **Warning: verification failed.** Tests that passed on the base fail on this "
                "branch (listed under Tests below). It was pushed with `--force` for inspection; "
                "do not merge it as it is."
            ),
            "",
        ]
    if stacked_on:
        out.append(
            f"**Stacked on `{stacked_on}`** (`{base_sha[:12]}`): review and merge that pull "
            "request first; this one targets its branch, so the diff below is this phase only."
        )
    else:
        out.append(f"**Base:** `{base_branch}` at `{base_sha[:12]}`.")
    out += [
        "",
        (
            f"**Verified:** `{verified}` - tests before: {trailers.tests_before or '?'}; "
            f"after: {trailers.tests_after or '?'}."
        ),
        *[f"- **{title.capitalize()}:** {ids}" for title, ids in trailers.triage_lists()],
        "",
        "### Scan: violations before -> after",
        "",
        *_scan_section(scans),
        "",
        "### Files changed",
        "",
        *_stats_table(stats),
        "",
        "### Tests",
        "",
        *_tests_section(sections),
        "",
        "### Needs a decision",
        "",
        *_decisions_section(sections),
        "",
        "### Rolling back",
        "",
        *_rollback_section(phase, branch),
        "",
        (
            f"<sub>ssot-migrate {__version__} - SSOT-Config `{trailers.config or '-'}` - "
            f"`git log -1 {branch}` holds the full record.</sub>"
        ),
    ]
    return "\n".join(out) + "\n"


def _intro(phase: str, branch: str, tip: str, record: PhaseRecord) -> str:
    """The body's first paragraph: which phase (or rollback of one), which commit."""
    if phase in ROLLBACKS:
        undone = phase.removeprefix("rollback-")
        reverts = record.trailers.reverts or "?"
        return (
            f"Rollback of phase **{undone}** ({BY_ID[undone].slug}) of an `ssot-migrate` "
            f"consolidation: one commit, `{tip[:12]}` on `{branch}`, reverting `{reverts[:12]}`, "
            "verified by the same tests. The phase's fail-first tests fail again: they are "
            "listed as expected reversions, not regressions."
        )
    return (
        f"Phase **{phase}** ({BY_ID[phase].slug}) of an `ssot-migrate` consolidation, "
        f"generated and verified by the tool: one commit, `{tip[:12]}` on `{branch}`."
    )


def _tests_section(sections: Mapping[str, list[str]]) -> list[str]:
    """The commit's test comparison (and bisection, when it ran), as code blocks."""
    tests = sections.get(TESTS)
    out = _code_block(tests) if tests else ["_No test comparison recorded (verification skipped)._"]
    bisect = sections.get(BISECT)
    if bisect:
        out += ["", *_code_block(bisect)]
    return out


def _decisions_section(sections: Mapping[str, list[str]]) -> list[str]:
    """Sites left for a human, then the rewrites with a note and the files left unparsed."""
    out: list[str] = []
    decisions = sections.get(NEEDS_A_DECISION)
    if decisions:
        out.append("These sites were left as they are; each needs a human choice:")
        out.append("")
        out += [f"- {line.strip()}" for line in decisions[1:]]
    else:
        out.append("Nothing: every site this phase covers was rewritten.")
    notes = sections.get(NOTES)
    if notes:
        out += ["", "Rewritten, with a note on how:", ""]
        out += [f"- {line.strip()}" for line in notes[1:]]
    skipped = sections.get(SKIPPED)
    if skipped:
        out += ["", "Files that could not be parsed were left unchanged:", ""]
        out += [f"- {line.strip()}" for line in skipped[1:]]
    return out


def _rollback_section(phase: str, branch: str) -> list[str]:
    if phase not in ROLLBACKS:
        return _phase_rollback_lines(phase, branch)
    return [
        (
            f"- Before merging: delete `{branch}` (`git branch -D {branch}`) and close this "
            "pull request; nothing else changed."
        ),
        (
            f"- After merging: `git revert` this commit, or rerun `ssot-migrate "
            f"{phase.removeprefix('rollback-')}` to rebuild the phase from the new base."
        ),
    ]


def _phase_rollback_lines(phase: str, branch: str) -> list[str]:
    return [
        (
            f"- Before merging: `ssot-migrate rollback {phase}` deletes `{branch}` and any branch "
            "stacked on it; every tip is kept under `refs/ssot-backup/` and the command prints how "
            "to restore it."
        ),
        (
            f"- After merging: `ssot-migrate rollback {phase}` builds `<prefix>rollback-{phase}`, a "
            "revert of this commit verified by the same tests, to review like any phase "
            f"(`ssot-migrate pr rollback-{phase}` opens its pull request)."
        ),
    ]


def build_pull_request(repo: Path, config: Config, phase: str) -> PullRequest:
    """Read ``phase``'s branch and commit back from git and compose its pull request."""
    repo = repo.resolve()
    branch, tip = find_phase_branch(repo, phase, branch_name(config, phase))
    info = refs.commit_info(repo, tip)
    record = PhaseRecord.parse(info.message, info.trailers)
    trailers = record.trailers
    base_sha = trailers.base or info.parent or tip
    # A revert starts from the mainline, whose tip may be a merged phase branch's: never stacked.
    stacked_on = (
        None
        if phase in ROLLBACKS
        else next(
            (name for _, name, sha in phase_branches(repo) if sha == base_sha and name != branch),
            None,
        )
    )
    base_branch = stacked_on or _mainline_branch(repo, trailers.mainline or "main")
    diff = refs.run_git(repo, "diff", "--no-color", "--no-ext-diff", "--no-renames", base_sha, tip)
    stats = tuple(diff_stats(diff + "\n" if diff else ""))
    body = render_body(
        phase=phase,
        branch=branch,
        tip=tip,
        base_sha=base_sha,
        base_branch=base_branch,
        stacked_on=stacked_on,
        record=record,
        scans=scan_pair(config, base_sha, tip),
        stats=stats,
    )
    return PullRequest(
        phase=phase,
        branch=branch,
        tip=tip,
        base_sha=base_sha,
        base_branch=base_branch,
        stacked_on=stacked_on,
        verified=trailers.verified or "unknown",
        title=info.subject,
        body=body,
        stats=stats,
    )


def remote_tip(repo: Path, remote: str, branch: str) -> str | None:
    """The sha of ``branch`` on ``remote`` (asked over the wire), or ``None`` when absent."""
    out = refs.run_git(repo, "ls-remote", "--heads", remote, f"refs/heads/{branch}")
    for line in out.splitlines():
        sha, _, ref = line.partition("\t")
        if ref == f"refs/heads/{branch}":
            return sha
    return None


def push_branch(repo: Path, remote: str, branch: str, tip: str, *, force: bool = False) -> None:
    """Push ``tip`` to ``remote`` as ``branch``.

    What the remote holds may be replaced when it is part of ``tip`` (a fast-forward) or an
    earlier tip of this branch that ``--refresh`` regenerated (kept under ``refs/ssot-backup/``).
    Anything else was pushed by someone else: refused unless ``force``. The lease (the remote's
    tip, just read) makes sure nothing pushed meanwhile is overwritten.
    """
    current = remote_tip(repo, remote, branch)
    if current == tip:
        return
    if current is not None and not force:
        ours = {sha for _, sha in refs.backups(repo, branch)}
        if current not in ours and not refs.is_ancestor(repo, current, tip):
            raise UsageError(
                f"{remote} has {branch} at {current[:12]}, which is neither part of the local "
                f"branch nor an earlier tip of it (someone pushed to it?); fetch and look "
                f"(`git fetch {remote} {branch}`), or pass --force to replace it"
            )
    lease = f"--force-with-lease=refs/heads/{branch}:{current or ''}"
    refs.run_git(repo, "push", "--porcelain", lease, remote, f"{tip}:refs/heads/{branch}")


def _check_remote(repo: Path, remote: str) -> None:
    names = refs.run_git(repo, "remote").split()
    if remote not in names:
        known = f" (remotes: {', '.join(names)})" if names else ""
        raise UsageError(
            f"no remote {remote!r} in {repo}{known}: add it with `git remote add {remote} URL` "
            "or choose one with --remote"
        )


def body_path(repo: Path, phase: str) -> Path:
    """Where the body is saved for ``gh --body-file``: inside the git dir, never the checkout."""
    return refs.git_dir(repo) / "ssot-pr" / f"{phase}.md"


def run_pr_command(
    phase: str,
    repo: Path,
    *,
    remote: str = "origin",
    open_pr: bool = False,
    force: bool = False,
    console: Console,
) -> int:
    """The CLI body of ``pr``: refuse failed phases, push, write the body, open or print it."""
    from ssot_migrate.config import load_config

    def say(line: str) -> None:
        console.print(Text(line))

    repo = repo.resolve()
    _check_phase(phase)
    config = load_config(repo)
    branch, tip = find_phase_branch(repo, phase, branch_name(config, phase))
    trailers = Trailers.parse(refs.commit_info(repo, tip).trailers)
    verified = trailers.verified or "unknown"
    mainline = trailers.mainline or "HEAD"
    main_sha = refs.resolve(repo, mainline)
    if main_sha is not None and refs.is_merged(repo, tip, main_sha):
        raise UsageError(
            f"{branch} is already merged into {_mainline_branch(repo, mainline)}: there is nothing to "
            f"review (to undo it, `ssot-migrate rollback {phase}` builds a verified revert)"
        )
    if verified == "failed" and not force:
        raise UsageError(
            f"{branch} has SSOT-Verified: failed (its tests regressed; see `git log -1 {branch}`); "
            "fix or roll it back, or pass --force to open a pull request anyway"
        )
    _check_remote(repo, remote)
    pull = build_pull_request(repo, config, phase)
    if pull.stacked_on and remote_tip(repo, remote, pull.stacked_on) is None:
        # The pull request's base must exist on the remote, or GitHub cannot show it.
        push_branch(repo, remote, pull.stacked_on, pull.base_sha, force=force)
        below = next((p for p, name, _ in phase_branches(repo) if name == pull.stacked_on), "")
        say(
            f"pushed {pull.stacked_on} to {remote} too: this pull request stacks on it "
            f"(open its own with `ssot-migrate pr {below}`)"
        )
    push_branch(repo, remote, pull.branch, pull.tip, force=force)
    say(f"pushed {pull.branch} ({pull.tip[:12]}) to {remote}")
    if verified == "failed":
        say(f"warning: {pull.branch} failed verification; continuing because of --force")
    path = body_path(repo, phase)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(pull.body, encoding="utf-8")
    argv = pull.gh_argv(path)
    command = shlex.join(argv)
    if not open_pr:
        sys.stdout.write(pull.body)
        sys.stdout.flush()
        say(f"pull request body saved to {path}")
        say(f"title: {pull.title}")
        say(f"open it with:\n  {command}\n(or rerun with --open)")
        return 0
    gh = shutil.which("gh")
    if gh is None:
        say(f"pull request body saved to {path}")
        raise UsageError(
            "--open needs the GitHub CLI, and `gh` is not installed or not on PATH "
            "(https://cli.github.com/); the branch is pushed, so once gh is installed run:\n  "
            + command
        )
    proc = subprocess.run([gh, *argv[1:]], cwd=repo, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise GitError(f"gh pr create failed (exit {proc.returncode}): {proc.stderr.strip()}")
    sys.stdout.write(proc.stdout)
    sys.stdout.flush()
    say(f"opened the pull request for {pull.branch} -> {pull.base_branch}")
    return 0

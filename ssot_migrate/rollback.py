"""``rollback PHASE``: take a phase back by branch, never losing a commit.

Unmerged: the phase's branch and every branch stacked on it are deleted, after the user saw the
list and agreed; each tip is first saved under ``refs/ssot-backup/`` and the restore command is
printed. Merged: a ``<prefix>rollback-phaseN`` branch is built with a revert of the phase's
commit, in a worktree, verified by the tests like any phase.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.text import Text

from ssot_migrate import phases
from ssot_migrate.errors import ConfigError, UsageError
from ssot_migrate.gitlayer import branches as refs
from ssot_migrate.model import Config
from ssot_migrate.phases import branch_name
from ssot_migrate.record import PhaseRecord, Trailers, paragraph, phase_grep
from ssot_migrate.status import phase_branches

Echo = Callable[[str], None]


@dataclass(frozen=True)
class RollbackPlan:
    """What rolling ``phase`` back means: delete ``doomed`` branches, or revert ``commit``."""

    phase: str
    commit: str
    branch: str | None
    merged: bool
    mainline: str
    doomed: tuple[tuple[str, str], ...] = ()  # (branch, tip), the phase's first


@dataclass(frozen=True)
class RollbackResult:
    """What was done: backups of deleted branches, or the revert branch and its verdict."""

    plan: RollbackPlan
    backups: tuple[tuple[str, str, str], ...] = ()  # (branch, tip, backup ref)
    revert_branch: str | None = None
    revert_commit: str | None = None
    verified: str | None = None
    exit_code: int = 0


def plan(repo: Path, phase: str) -> RollbackPlan:
    """Find ``phase``'s commit (its branch, or the merged commit in HEAD) and what must go."""
    phases.get(phase)
    repo = repo.resolve()
    branches = phase_branches(repo)
    own = [(name, tip) for p, name, tip in branches if p == phase]
    if len(own) > 1:
        raise UsageError(
            f"several branches carry {phase}: {', '.join(n for n, _ in own)}; delete the extra one"
        )
    if own:
        name, tip = own[0]
        mainline = Trailers.parse(refs.commit_info(repo, tip).trailers).mainline or "HEAD"
        main_sha = refs.resolve(repo, mainline) or refs.resolve(repo, "HEAD") or tip
        if refs.is_merged(repo, tip, main_sha):
            return RollbackPlan(phase, tip, name, True, mainline)
        doomed = [(name, tip)] + [
            (n, t) for _, n, t in branches if n != name and refs.is_ancestor(repo, tip, t)
        ]
        return RollbackPlan(phase, tip, name, False, mainline, tuple(doomed))
    found = refs.run_git(
        repo, "log", "-1", "--format=%H", phase_grep(phase), "HEAD", ok_codes=(128,)
    )
    if not found:
        raise UsageError(f"nothing to roll back: no {phase} branch and no {phase} commit in HEAD")
    return RollbackPlan(phase, found, None, True, refs.symbolic_name(repo, "HEAD") or "HEAD")


def delete_branches(repo: Path, rollback: RollbackPlan) -> list[tuple[str, str, str]]:
    """Back up then delete every doomed branch; refuse if one is checked out anywhere."""
    busy = set(refs.checked_out(repo)) & {name for name, _ in rollback.doomed}
    if busy:
        raise UsageError(
            f"branch {', '.join(sorted(busy))} is checked out; switch to another branch first"
        )
    done = []
    for name, tip in rollback.doomed:
        saved = refs.backup(repo, name, tip)
        refs.delete_branch(repo, name, tip)
        done.append((name, tip, saved))
    return done


def revert_branch(
    repo: Path, config: Config, rollback: RollbackPlan, *, verify: bool, echo: Echo
) -> RollbackResult:
    """Build ``<prefix>rollback-phaseN``: the revert of the merged phase commit, verified."""
    from ssot_migrate.measurement import Verifier, measure_change, tests_section

    name = branch_name(config, f"rollback-{rollback.phase}")
    if refs.branch_tip(repo, name) is not None:
        raise UsageError(f"branch {name} already exists; review or delete it first")
    refs.identity(repo)
    base = refs.resolve(repo, rollback.mainline) or refs.resolve(repo, "HEAD")
    if base is None:
        raise UsageError(f"cannot resolve {rollback.mainline}")
    verifier = Verifier(repo, config, verify, echo)
    original = refs.commit_info(repo, rollback.commit)
    with ExitStack() as stack:
        # The phase's fail-first tests fail again: what a revert means, not a regression.
        change = measure_change(
            stack,
            repo,
            verifier,
            base,
            f"rollback-{rollback.phase}",
            "rollback",
            lambda wt: wt.revert(rollback.commit),
            revert=True,
        )
        verification = change.verification
        into = rollback.mainline.removeprefix("refs/heads/")
        record = PhaseRecord(
            f'Revert "{original.subject}"',
            (
                paragraph(
                    [
                        f"This reverts commit {rollback.commit} ({rollback.phase}), "
                        f"merged into {into}."
                    ]
                ),
                paragraph(tests_section(verification, verifier.runner)),
            ),
            Trailers(
                phase=f"rollback-{rollback.phase}",
                reverts=rollback.commit,
                base=base,
                mainline=rollback.mainline,
                config=config.digest or "-",
                tests_before=verification.before_text,
                tests_after=verification.after_text,
                verified=verification.verdict,
            ),
        )
        commit = change.wt.commit(change.tree, base, record.render())
    refs.update_branch(repo, name, commit, None, f"rollback {rollback.phase}")
    if verification.comparison is not None:
        for line in verification.comparison.lines():
            echo(f"  {line}")
    return RollbackResult(
        rollback,
        revert_branch=name,
        revert_commit=commit,
        verified=verification.verdict,
        exit_code=1 if verification.verdict == "failed" else 0,
    )


@dataclass(frozen=True)
class Leftover:
    """A deleted phase branch still on a remote, and the open pull requests whose head it is."""

    remote: str
    branch: str
    sha: str
    ours: bool  # the remote's tip is a tip this rollback deleted (or an older one of ours)
    pulls: tuple[tuple[str, str], ...] = ()  # (number, url)
    pulls_unknown: str = ""  # why open pull requests could not be listed

    def commands(self) -> list[str]:
        """What closes it by hand: ``gh pr close`` each pull request, then delete the branch."""
        closes = [f"gh pr close {number}" for number, _ in self.pulls]
        if self.pulls_unknown:
            closes = [f"gh pr close {shlex.quote(self.branch)}   (if a pull request is open)"]
        return [*closes, f"git push {shlex.quote(self.remote)} --delete {shlex.quote(self.branch)}"]


def _open_pulls(repo: Path, branch: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """Open pull requests whose head is ``branch``, asked to the GitHub CLI; ``(pulls, why not)``."""
    import json
    import shutil
    import subprocess

    gh = shutil.which("gh")
    if gh is None:
        return (), "the GitHub CLI (gh) is not installed"
    proc = subprocess.run(
        [gh, "pr", "list", "--head", branch, "--state", "open", "--json", "number,url"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        found = json.loads(proc.stdout) if proc.returncode == 0 else None
    except ValueError:
        found = None
    if not isinstance(found, list):
        return (), f"gh pr list failed: {proc.stderr.strip() or proc.stdout.strip()}"
    return tuple(
        (str(p.get("number")), str(p.get("url", ""))) for p in found if isinstance(p, dict)
    ), ""


def remote_leftovers(repo: Path, rollback: RollbackPlan, remotes: Sequence[str]) -> list[Leftover]:
    """The doomed branches ``remotes`` still hold, with their open pull requests."""
    from ssot_migrate.pr import remote_tip

    ours = {tip for _, tip in rollback.doomed}
    found: list[Leftover] = []
    for remote in remotes:
        for name, tip in rollback.doomed:
            sha = remote_tip(repo, remote, name)
            if sha is None:
                continue
            mine = (
                sha in ours
                or sha in {s for _, s in refs.backups(repo, name)}
                or (refs.resolve(repo, sha) is not None and refs.is_ancestor(repo, sha, tip))
            )
            pulls, why = _open_pulls(repo, name)
            found.append(Leftover(remote, name, sha, mine, pulls, why))
    return found


def close_leftover(repo: Path, leftover: Leftover, say: Echo) -> None:
    """Close the open pull requests (gh), then delete the remote branch, with a lease on its tip."""
    import shutil
    import subprocess

    if not leftover.ours:
        say(
            f"  left {leftover.remote}/{leftover.branch} ({leftover.sha[:12]}): someone pushed "
            "commits this rollback did not delete; look, then delete it by hand:"
        )
        for command in leftover.commands():
            say(f"    {command}")
        return
    gh = shutil.which("gh")
    for number, url in leftover.pulls:
        proc = subprocess.run(
            [gh or "gh", "pr", "close", number],
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            say(f"  could not close pull request #{number}: {proc.stderr.strip()}")
        else:
            say(f"  closed pull request #{number} {url}".rstrip())
    lease = f"--force-with-lease=refs/heads/{leftover.branch}:{leftover.sha}"
    refs.run_git(
        repo, "push", "--porcelain", lease, leftover.remote, f":refs/heads/{leftover.branch}"
    )
    say(
        f"  deleted {leftover.branch} on {leftover.remote} (was {leftover.sha[:12]}; "
        "kept locally under refs/ssot-backup/)"
    )


def confirm_on_stdin(question: str) -> bool:
    """Ask on stderr, read one answer line from stdin; no answer (EOF) is a refusal."""
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline() if sys.stdin is not None else ""
    if not answer:
        raise UsageError("no answer on stdin; rerun with --yes to delete without asking")
    return answer.strip().lower() in ("y", "yes")


def run_rollback_command(
    phase: str,
    repo: Path,
    *,
    yes: bool,
    console: Console,
    config_path: Path | None = None,
    remote: str | None = None,
    ask: Callable[[str], bool] = confirm_on_stdin,
) -> int:
    """The CLI body of ``rollback PHASE``; returns the exit code."""

    def say(line: str) -> None:
        console.print(Text(line))

    repo = repo.resolve()
    rollback = plan(repo, phase)
    if rollback.merged:
        from ssot_migrate.config import load_config

        try:
            config = load_config(repo, config_path)
        except ConfigError as exc:
            raise ConfigError(f"rollback of a merged phase runs the tests: {exc}") from exc
        say(
            f"{phase} ({rollback.commit[:12]}) is merged into "
            f"{rollback.mainline.removeprefix('refs/heads/')}: building a revert branch"
        )
        result = revert_branch(repo, config, rollback, verify=True, echo=say)
        say(
            f"created branch {result.revert_branch} at {str(result.revert_commit)[:12]} "
            f"(verified: {result.verified})"
        )
        return result.exit_code
    remotes = refs.run_git(repo, "remote").split()
    if remote is not None and remote not in remotes:
        raise UsageError(
            f"--remote {remote!r}: no such remote in {repo}"
            + (f" (remotes: {', '.join(remotes)})" if remotes else "")
        )
    say(f"{phase} is not merged; rolling it back deletes these branches:")
    for name, tip in rollback.doomed:
        say(f"  {name} ({tip[:12]})")
    leftovers = remote_leftovers(repo, rollback, [remote] if remote else remotes)
    if leftovers:
        action = f"--remote {remote}: closed and deleted too" if remote else "left as they are"
        say(f"on remotes ({action}):")
        for left in leftovers:
            say(f"  {left.remote}/{left.branch} ({left.sha[:12]})")
            for number, url in left.pulls:
                say(f"    open pull request #{number} {url}".rstrip())
            if left.pulls_unknown:
                say(f"    open pull requests not listed: {left.pulls_unknown}")
    if not yes and not ask(f"delete {len(rollback.doomed)} branch(es)?"):
        say("nothing deleted")
        return 0
    restored = delete_branches(repo, rollback)
    _say_restore(repo, restored, say)
    if remote is not None:
        for left in leftovers:
            close_leftover(repo, left, say)
    elif leftovers:
        say("still on the remote; close them with (or rerun with --remote NAME):")
        for left in leftovers:
            for command in left.commands():
                say(f"  {command}")
    return 0


def _say_restore(repo: Path, done: Sequence[tuple[str, str, str]], say: Echo) -> None:
    for name, tip, saved in done:
        say(f"deleted {name} ({tip[:12]}); kept as {saved}")
    where = "" if repo == Path.cwd().resolve() else f"-C {shlex.quote(str(repo))} "
    say("to restore:")
    for name, _tip, saved in done:
        say(f"  git {where}branch {name} {saved}")

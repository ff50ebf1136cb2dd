"""Engine and diffs: commit-tree reading, pre-filter, pool determinism, bytes-faithful diffs."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import libcst
import pytest

from ssot_migrate.diffs import diff_stats, file_diff, split_lines, unified_diff_bytes
from ssot_migrate.engine import CommitFiles, Snapshot, run_codemod
from ssot_migrate.errors import GitError
from ssot_migrate.model import CodemodResult, Config, SourceFile
from tests.helpers.repos import git, make_repo


@dataclass(frozen=True)
class RenameToken:
    """A test codemod: parses with libcst and renames one identifier; counts its parses."""

    old: str
    new: str
    phase: str = "test"

    def needles(self) -> frozenset[str]:
        return frozenset({self.old})

    def transform(self, source: bytes, file: SourceFile) -> CodemodResult:
        module = libcst.parse_module(source)
        marker = os.environ.get("PARSE_LOG")
        if marker:
            with open(marker, "a", encoding="utf-8") as log:
                log.write(file.path + "\n")
        if self.old.encode() not in source:
            return CodemodResult(source)

        class Renamer(libcst.CSTTransformer):
            def leave_Name(self, original: libcst.Name, updated: libcst.Name) -> libcst.Name:
                return updated.with_changes(value=new) if updated.value == old else updated

        old, new = self.old, self.new
        return CodemodResult(module.visit(Renamer()).bytes)


@dataclass(frozen=True)
class BreakSyntax:
    """A deliberately buggy codemod whose output does not parse."""

    phase: str = "buggy"

    def needles(self) -> frozenset[str]:
        return frozenset({"x"})

    def transform(self, source: bytes, file: SourceFile) -> CodemodResult:
        return CodemodResult(source + b"\ndef (:\n")


def config_for(repo: Path, **changes: object) -> Config:
    return Config(
        repo=repo, source=repo / "pyproject.toml", targets=(), source_roots=("",), **changes
    )  # type: ignore[arg-type]


def snapshot(repo: Path, base: str = "HEAD", **changes: object) -> Snapshot:
    return Snapshot.open(repo, config_for(repo, **changes), base)


def test_prefilter_never_parses_files_without_a_needle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {f"pkg/m{i}.py": f"value_{i} = {i}\n" for i in range(30)}
    files["pkg/hit.py"] = "old_name = 1\nprint(old_name)\n"
    repo = make_repo(tmp_path / "repo", files)
    log = tmp_path / "parses.log"
    monkeypatch.setenv("PARSE_LOG", str(log))
    with snapshot(repo) as snap:
        summary = run_codemod(snap, RenameToken("old_name", "new_name"), jobs=1)
    assert log.read_text().split() == ["pkg/hit.py"]
    assert summary.files_listed == 31
    assert summary.files_parsed == 1
    statuses = {o.path: o.status for o in summary.outcomes}
    assert statuses["pkg/hit.py"] == "changed"
    assert sum(s == "filtered" for s in statuses.values()) == 30
    assert [o.path for o in summary.outcomes] == sorted(statuses)


def test_reads_the_commit_not_the_dirty_working_tree(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": "old_name = 1\n"})
    (repo / "a.py").write_text("something_else = 2\n")
    (repo / "b.py").write_text("old_name = 3\n")  # untracked
    with snapshot(repo) as snap:
        summary = run_codemod(snap, RenameToken("old_name", "new_name"), jobs=1)
    (changed,) = summary.changed
    assert changed.path == "a.py"
    assert changed.before == b"old_name = 1\n"
    assert changed.after == b"new_name = 1\n"


def test_base_ref_selects_the_commit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": "old_name = 1\n"})
    (repo / "a.py").write_text("nothing = 1\n")
    git(repo, "commit", "-qam", "second")
    with snapshot(repo, "HEAD~1") as snap:
        assert len(run_codemod(snap, RenameToken("old_name", "n"), jobs=1).changed) == 1
    with snapshot(repo) as snap:
        assert run_codemod(snap, RenameToken("old_name", "n"), jobs=1).changed == ()


def test_pool_and_inline_give_the_same_sorted_outcomes(tmp_path: Path) -> None:
    body = "old_name = 1\nx = '" + "p" * 12000 + "'\n"
    files = {f"pkg/m{i:02}.py": body for i in range(24)}
    repo = make_repo(tmp_path / "repo", files)
    with snapshot(repo) as snap:
        pooled = run_codemod(snap, RenameToken("old_name", "new_name"), jobs=2)
        inline = run_codemod(snap, RenameToken("old_name", "new_name"), jobs=1)
    assert [(o.path, o.after) for o in pooled.outcomes] == [
        (o.path, o.after) for o in inline.outcomes
    ]
    assert len(pooled.changed) == 24


def test_unparsable_file_is_skipped_and_listed_and_the_rest_proceeds(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {"bad.py": "old_name = (\n", "good.py": "old_name = 1\n"},
    )
    with snapshot(repo) as snap:
        summary = run_codemod(snap, RenameToken("old_name", "new_name"), jobs=1)
    (skipped,) = summary.skipped
    assert skipped.path == "bad.py" and "syntax error" in skipped.reason and skipped.line >= 1
    assert [o.path for o in summary.changed] == ["good.py"]


def test_output_that_would_not_parse_is_never_produced(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": "x = 1\n"})
    with snapshot(repo) as snap:
        summary = run_codemod(snap, BreakSyntax(), jobs=1)
    (skipped,) = summary.skipped
    assert "output does not compile" in skipped.reason
    assert summary.changed == ()


def test_symlinks_and_submodules_are_not_followed_and_are_listed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("old_name = 1\n")
    sub = make_repo(tmp_path / "sub", {"s.py": "old_name = 1\n"})
    repo = make_repo(tmp_path / "repo", {"a.py": "old_name = 1\n"})
    os.symlink(outside, repo / "link.py")
    git(repo, "add", "link.py")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "vendored")
    git(repo, "commit", "-qm", "links")
    with snapshot(repo) as snap:
        summary = run_codemod(snap, RenameToken("old_name", "new_name"), jobs=1)
        excluded = dict(snap.excluded)
    assert [o.path for o in summary.changed] == ["a.py"]
    assert "symlink" in excluded["link.py"]
    assert "submodule" in excluded["vendored"]
    assert outside.read_text() == "old_name = 1\n"


def test_include_and_exclude_globs(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "repo",
        {
            "app/a.py": "old_name = 1\n",
            "app/gen/b.py": "old_name = 1\n",
            "tools/c.py": "old_name = 1\n",
        },
    )
    with snapshot(repo, include=("app/*",), exclude=("app/gen/*",)) as snap:
        assert snap.paths == ["app/a.py"]


def test_repository_errors_are_clear(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    with pytest.raises(GitError, match="no commits yet"):
        CommitFiles(empty)
    with pytest.raises(GitError, match="not a git repository"):
        CommitFiles(tmp_path)
    repo = make_repo(tmp_path / "repo", {"a.py": "x = 1\n"})
    with pytest.raises(GitError, match="may not start with '-'"):
        CommitFiles(repo, "--output=/tmp/x")


# --- patch ------------------------------------------------------------------------------------

BYTE_CASES = {
    "crlf.py": (b"import a\r\nx = a.old\r\n", b"import a\r\nx = a.new\r\n"),
    "latin1.py": (
        b"# -*- coding: latin-1 -*-\nname = 'caf\xe9'\nx = old\n",
        b"# -*- coding: latin-1 -*-\nname = 'caf\xe9'\nx = new\n",
    ),
    "bom.py": (b"\xef\xbb\xbfx = old\n", b"\xef\xbb\xbfx = new\n"),
    "no newline.py": (b"x = 1\ny = old", b"x = 1\ny = new"),
    "lone-cr.py": (b"s = 'a\rb'\nx = old\n", b"s = 'a\rb'\nx = new\n"),
    "caf\u00e9.py": (b"x = old\n", b"x = new\n"),
    "gains newline.py": (b"x = old", b"x = new\n"),
}


def test_diff_round_trips_through_git_apply_byte_for_byte(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {name: before for name, (before, _) in BYTE_CASES.items()})
    git(repo, "config", "core.autocrlf", "false")
    diff = b"".join(
        file_diff(name, before, after) for name, (before, after) in sorted(BYTE_CASES.items())
    )
    patch_file = tmp_path / "change.diff"
    patch_file.write_bytes(diff)
    check = subprocess.run(
        ["git", "-C", str(repo), "apply", "--check", str(patch_file)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    git(repo, "apply", str(patch_file))
    for name, (_, after) in BYTE_CASES.items():
        assert (repo / name).read_bytes() == after, name


def test_split_lines_splits_on_newline_only() -> None:
    assert split_lines(b"a\r\nb\rc\nd") == [b"a\r\n", b"b\rc\n", b"d"]
    assert split_lines(b"") == []


def test_identical_bytes_give_no_diff() -> None:
    assert file_diff("a.py", b"x\n", b"x\n") == b""
    assert unified_diff_bytes([]) == b""


def test_diff_stats_counts_lines_per_file() -> None:
    diff = file_diff("a.py", b"a\nb\nc\n", b"a\nB\nc\nd\n") + file_diff("b/c.py", b"x\n", b"y\n")
    stats = diff_stats(diff.decode())
    assert [(s.path, s.added, s.removed) for s in stats] == [("a.py", 2, 1), ("b/c.py", 1, 1)]

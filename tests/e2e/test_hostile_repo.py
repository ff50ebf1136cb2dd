"""Hostile and odd repositories and files, through the real CLI.

Odd files (binary, 10 MB, nested past the recursion limit, BOM, CRLF, tabs, form feeds,
non-UTF-8 with and without a cookie, names with spaces and non-ASCII characters, a symlink to a
file outside the repository, a submodule) live in ONE repository next to ordinary users of the
alias, so one ``phase1 --dry-run`` exercises them all; every file then gets its own assertion.
Odd repository states (no commits, detached HEAD, shallow clone, bare, not a repository, bad
``--base``) each get a clear exit 2 or work normally.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers.repos import git, git_env, make_repo, run_cli

CONFIG = """\
[tool.ssot-migrate]

[[tool.ssot-migrate.targets]]
name = "thing"
canonical = "pkg.new.Real"
aliases = ["pkg.old.Old"]
"""

USE = "from pkg.old import Old\n\n\ndef make():\n    return Old()\n"

ODD: dict[str, bytes] = {
    "pkg/binary.py": b"\x00\x01\x02Old\xff\xfe\x00 from pkg.old import Old\n\x00",
    "pkg/bom.py": b"\xef\xbb\xbf" + USE.encode(),
    "pkg/crlf.py": USE.replace("\n", "\r\n").encode(),
    "pkg/tabs.py": b"def make():\n\tfrom pkg.old import Old\n\treturn Old()\n",
    "pkg/formfeed.py": b"import os\n\x0c\nfrom pkg.old import Old\n\x0c\ndef make():\n    return Old()\n",
    "pkg/latin1_nocookie.py": b"# caf\xe9\nfrom pkg.old import Old\nx = Old()\n",
    "pkg/latin1_cookie.py": b"# -*- coding: latin-1 -*-\n# caf\xe9\nfrom pkg.old import Old\nx = Old()  # \xe9t\xe9\n",
    "my pkg/use me.py": USE.encode(),
    "pkg/\u00fcn\u00efc\u00f6d\u00e9.py": USE.encode(),
    "pkg/quote\"and'tab\tname.py": USE.encode(),
}
SMALL = {
    "pyproject.toml": CONFIG,
    "pkg/__init__.py": "",
    "pkg/new.py": "class Real:\n    pass\n",
    "pkg/old.py": "from pkg.new import Real as Old\n",
    "pkg/use.py": USE,
}
BIG_LINES = 10 * 1024 * 1024 // 16  # a 10 MB file without the name: must cost nothing


@pytest.fixture(scope="module")
def odd_repo(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("odd")
    outside = root / "outside"
    outside.mkdir()
    (outside / "target.py").write_text(USE)
    sub = make_repo(root / "subproject", {"inner/use.py": USE})
    files: dict[str, str | bytes] = {
        "pyproject.toml": CONFIG,
        "pkg/__init__.py": "",
        "pkg/new.py": "class Real:\n    pass\n",
        "pkg/old.py": "from pkg.new import Real as Old\n",
        "pkg/use.py": USE,
        "pkg/big.py": b"value_0000001 = 1\n" * BIG_LINES,
        **ODD,
    }
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for rel, data in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    (repo / "pkg" / "link_out.py").symlink_to(outside / "target.py")
    (repo / "pkg" / "link_in.py").symlink_to("use.py")
    subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            str(sub),
            "vendor/sub",
        ],
        env=git_env(),
        check=True,
        capture_output=True,
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "odd files")
    # bytes: the diff carries the latin-1 file's own bytes, as git apply needs them
    raw = subprocess.run(
        [sys.executable, "-m", "ssot_migrate", "phase1", "--dry-run", "--repo", str(repo)],
        env=git_env(),
        capture_output=True,
        timeout=600,
        check=False,
    )
    proc = subprocess.CompletedProcess(
        raw.args,
        raw.returncode,
        raw.stdout.decode("utf-8", "surrogateescape"),
        raw.stderr.decode("utf-8", "replace"),
    )
    return repo, outside, proc


def diff_files(diff: str) -> dict[str, str]:
    """Path -> its section of a git-style diff (paths as git quotes them, unquoted here)."""
    sections: dict[str, str] = {}
    current = None
    for line in diff.splitlines(keepends=True):
        if line.startswith("diff --git "):
            current = None
        elif line.startswith("+++ "):
            name = line[4:].rstrip("\n").split("\t")[0]
            if name.startswith('"'):
                name = (
                    name[1:-1]
                    .encode("latin-1", "backslashreplace")
                    .decode("unicode_escape")
                    .encode("latin-1")
                    .decode("utf-8")
                )
            current = name.removeprefix("b/")
            sections[current] = ""
        if current is not None:
            sections[current] += line
    return sections


def _bytes(diff: str) -> bytes:
    return diff.encode("utf-8", "surrogateescape")


def applied(repo: Path, diff: str, tmp: Path) -> Path:
    """A copy of ``repo``'s HEAD with the diff applied by ``git apply`` (bytes as git writes them)."""
    copy = tmp / "applied"
    if copy.exists():
        return copy
    subprocess.run(
        ["git", "clone", "-q", "--no-recurse-submodules", str(repo), str(copy)],
        env=git_env(),
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["git", "-C", str(copy), "apply", "--whitespace=nowarn", "-"],
        input=_bytes(diff),
        env=git_env(),
        check=True,
        capture_output=True,
    )
    return copy


def test_odd_repo_dry_run_succeeds(
    odd_repo: tuple[Path, Path, subprocess.CompletedProcess[str]],
) -> None:
    repo, _, proc = odd_repo
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    check = subprocess.run(
        ["git", "-C", str(repo), "apply", "--check", "-"],
        input=_bytes(proc.stdout),
        env=git_env(),
        capture_output=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize(
    "path",
    [
        "pkg/use.py",
        "pkg/bom.py",
        "pkg/crlf.py",
        "pkg/tabs.py",
        "pkg/formfeed.py",
        "pkg/latin1_cookie.py",
        "my pkg/use me.py",
        "pkg/\u00fcn\u00efc\u00f6d\u00e9.py",
        "pkg/quote\"and'tab\tname.py",
    ],
)
def test_odd_but_valid_files_are_rewritten_faithfully(
    odd_repo: tuple[Path, Path, subprocess.CompletedProcess[str]],
    tmp_path_factory: pytest.TempPathFactory,
    path: str,
) -> None:
    repo, _, proc = odd_repo
    copy = applied(repo, proc.stdout, tmp_path_factory.getbasetemp())
    before = _blob(repo, path)
    after = (copy / path).read_bytes()
    assert after != before, f"{path} was not rewritten"
    assert b"pkg.old" not in after and b"pkg.new import Real" in after
    compile(after, path, "exec")
    if before.startswith(b"\xef\xbb\xbf"):
        assert after.startswith(b"\xef\xbb\xbf") and after.count(b"\xef\xbb\xbf") == 1
    if b"\r\n" in before:
        assert after.count(b"\n") == after.count(b"\r\n"), "a line lost its CRLF"
    if b"\t" in before:
        assert b"\tfrom pkg.new import Real" in after
    if b"\x0c" in before:
        assert after.count(b"\x0c") == before.count(b"\x0c")
    if b"coding: latin-1" in before:
        assert b"# caf\xe9\n" in after and b"\xe9t\xe9" in after
    # nothing but the import and its uses changed
    kept = [line for line in before.splitlines() if b"Old" not in line]
    assert kept == [line for line in after.splitlines() if b"Real" not in line]


def _blob(repo: Path, path: str) -> bytes:
    return subprocess.run(
        ["git", "-C", str(repo), "cat-file", "blob", f"HEAD:{path}"],
        capture_output=True,
        check=True,
    ).stdout


@pytest.mark.parametrize(
    ("path", "why"),
    [("pkg/binary.py", ""), ("pkg/latin1_nocookie.py", "")],
)
def test_unusable_files_are_skipped_and_listed(
    odd_repo: tuple[Path, Path, subprocess.CompletedProcess[str]], path: str, why: str
) -> None:
    _, _, proc = odd_repo
    assert path not in diff_files(proc.stdout)
    assert path in proc.stderr, f"{path} not listed as skipped:\n{proc.stderr}"


def test_big_file_without_the_name_is_never_parsed(
    odd_repo: tuple[Path, Path, subprocess.CompletedProcess[str]],
) -> None:
    _, _, proc = odd_repo
    assert "pkg/big.py" not in proc.stdout and "pkg/big.py" not in proc.stderr


def test_symlinks_are_not_followed(
    odd_repo: tuple[Path, Path, subprocess.CompletedProcess[str]],
) -> None:
    _, outside, proc = odd_repo
    files = diff_files(proc.stdout)
    assert "pkg/link_out.py" not in files and "pkg/link_in.py" not in files
    assert "pkg/link_out.py" in proc.stderr  # listed as not processed
    assert (outside / "target.py").read_text() == USE


def test_submodules_are_skipped_and_listed(
    odd_repo: tuple[Path, Path, subprocess.CompletedProcess[str]],
) -> None:
    _, _, proc = odd_repo
    assert "vendor/sub" not in proc.stdout
    assert "vendor/sub" in proc.stderr and "submodule" in proc.stderr


def test_real_phase_never_writes_through_a_symlink(
    odd_repo: tuple[Path, Path, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    repo, outside, _ = odd_repo
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", str(repo), str(clone)],
        env=git_env(),
        check=True,
        capture_output=True,
    )
    proc = run_cli("phase1", "--repo", str(clone), "--no-verify", timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert (outside / "target.py").read_text() == USE
    tree = git(clone, "ls-tree", "-r", "ssot/phase1-imports")
    assert "120000 blob" in tree and "pkg/link_out.py" in tree  # still a symlink, unchanged
    assert git(clone, "rev-parse", "ssot/phase1-imports:pkg/link_out.py") == git(
        clone, "rev-parse", "HEAD:pkg/link_out.py"
    )


DEEP_FILES = {
    # brackets nested past every parser's limit (libcst's native parser segfaulted here)
    "brackets": b"x = " + b"[" * 2500 + b"Old" + b"]" * 2500 + b"\n",
    # flat text, deep tree: a left-nested chain of 30,000 additions
    "binop-chain": b"x = Old" + b" + 1" * 30000 + b"\n",
    # valid Python libcst's parser refuses (50,000 implicitly concatenated strings)
    "string-chain": b"x = Old\ny = " + b" ".join([b'"a"'] * 50000) + b"\n",
}


@pytest.mark.parametrize("kind", list(DEEP_FILES))
def test_deeply_nested_file_is_skipped_not_fatal(
    repo_factory: Callable[..., Path], kind: str
) -> None:
    """A file past the parsers' nesting limits must cost that file, not the run (no segfault)."""
    deep = b"from pkg.old import Old\n\n" + DEEP_FILES[kind]
    repo = repo_factory({**SMALL, "pkg/deep.py": deep})
    proc = run_cli("phase1", "--dry-run", "--repo", str(repo), timeout=600)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert "pkg/use.py" in proc.stdout
    assert "pkg/deep.py" not in proc.stdout and "pkg/deep.py" in proc.stderr


# --- repository states ------------------------------------------------------------------------


def _clear_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stderr.startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    for needle in needles:
        assert needle in proc.stderr.lower(), proc.stderr


@pytest.mark.parametrize("command", [["phase1", "--dry-run"], ["phase1"], ["scan"], ["status"]])
def test_repo_without_commits(tmp_path: Path, command: list[str]) -> None:
    repo = tmp_path / "empty"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "pyproject.toml").write_text(CONFIG)
    proc = run_cli(*command, "--repo", str(repo))
    if command == ["status"]:
        assert proc.returncode in (0, 2) and "Traceback" not in proc.stderr, proc.stderr
        assert "internal error" not in proc.stderr
    else:
        _clear_error(proc, "no commits")


@pytest.mark.parametrize("command", [["phase1", "--dry-run"], ["scan"]])
def test_not_a_repository(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "pyproject.toml").write_text(CONFIG)
    _clear_error(run_cli(*command, "--repo", str(tmp_path)), "not a git repository")
    _clear_error(run_cli(*command, "--repo", str(tmp_path / "missing")), "does not exist")


def test_detached_head_works_and_stays_detached(repo_factory: Callable[..., Path]) -> None:
    repo = repo_factory(SMALL)
    head = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "--detach")
    dry = run_cli("phase1", "--dry-run", "--repo", str(repo))
    assert dry.returncode == 0 and "pkg/use.py" in dry.stdout, dry.stderr
    real = run_cli("phase1", "--repo", str(repo), "--no-verify")
    assert real.returncode == 0, real.stderr
    assert git(repo, "rev-parse", "HEAD").strip() == head
    assert git(repo, "symbolic-ref", "-q", "HEAD", check=False) == ""
    assert git(repo, "rev-parse", "ssot/phase1-imports^").strip() == head


def test_shallow_clone(repo_factory: Callable[..., Path], tmp_path: Path) -> None:
    origin = repo_factory(SMALL)
    (origin / "pkg" / "more.py").write_text(USE)
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "second")
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{origin}", str(clone)],
        env=git_env(),
        check=True,
        capture_output=True,
    )
    assert (clone / ".git" / "shallow").exists()
    dry = run_cli("phase1", "--dry-run", "--repo", str(clone))
    assert dry.returncode == 0 and "pkg/more.py" in dry.stdout, dry.stderr
    real = run_cli("phase1", "--repo", str(clone), "--no-verify")
    assert real.returncode == 0, real.stderr
    assert "pkg/more.py" in git(clone, "diff", "--name-only", "HEAD", "ssot/phase1-imports")


def test_bare_repository(repo_factory: Callable[..., Path], tmp_path: Path) -> None:
    origin = repo_factory(SMALL)
    bare = tmp_path / "bare.git"
    subprocess.run(
        ["git", "clone", "-q", "--bare", str(origin), str(bare)],
        env=git_env(),
        check=True,
        capture_output=True,
    )
    config = tmp_path / "ssot.toml"
    config.write_text(CONFIG)
    dry = run_cli("phase1", "--dry-run", "--repo", str(bare), "--config", str(config))
    # reading a commit needs no checkout: the dry run may work; if not, it must say why
    if dry.returncode == 0:
        assert "pkg/use.py" in dry.stdout
    else:
        _clear_error(dry, "bare")
    real = run_cli("phase1", "--repo", str(bare), "--config", str(config), "--no-verify")
    if real.returncode != 0:
        _clear_error(real, "bare")


@pytest.mark.parametrize("base", ["-x", "nope", "a..b", "@{", "HEAD~5", ""])
def test_bad_base_revision(repo_factory: Callable[..., Path], base: str) -> None:
    repo = repo_factory(SMALL)
    before = git(repo, "for-each-ref")
    proc = run_cli("phase1", "--dry-run", "--repo", str(repo), f"--base={base}")
    assert proc.returncode == 2, (proc.returncode, proc.stdout[:200], proc.stderr)
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert git(repo, "for-each-ref") == before

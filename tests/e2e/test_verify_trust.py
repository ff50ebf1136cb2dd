"""Verification a team can trust, end to end through the real CLI and real git.

Hermetic runs (a test leaking state through the temporary directory), triage of pass -> fail
tests (flaky, unstable on base, real regressions), before and after at the same time with their
own logs, progress lines, and what a base-tree timeout says. Every suite here is a real pytest
(or plain Python) suite of our own making, run by the tool in its worktrees.
"""

from __future__ import annotations

import re
import shlex
import sys
import textwrap
from pathlib import Path

from ssot_migrate.config import load_config
from ssot_migrate.pr import build_pull_request
from tests.helpers.repos import git, run_cli
from tests.helpers.trust import BRANCH, message, project


# The false regression: the base run extracts a file into the shared temporary
# directory, and the phase run finds that stale copy and compares it with the changed file.
def leaky_test(record: Path) -> str:
    return textwrap.dedent(f"""\
        import pathlib, sys, tempfile


        def test_extracted_copy_is_current():
            src = pathlib.Path('app/use.py').read_text()
            copy = pathlib.Path(tempfile.gettempdir()) / 'extracted-use.py'
            if not copy.exists():
                copy.write_text(src)
            with open({str(record)!r}, 'a') as out:
                out.write(tempfile.gettempdir() + '\\t' + str(sys.pycache_prefix) + '\\n')
            assert copy.read_text() == src
        """)


def test_a_test_leaking_through_the_temp_dir_is_green_with_isolation(tmp_path: Path) -> None:
    record = tmp_path / "record.txt"
    repo = project(tmp_path, {"tests/test_leak.py": leaky_test(record)}, extra="test-jobs = 1")
    proc = run_cli("phase1", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    assert "SSOT-Verified: yes" in message(repo)
    runs = [line.split("\t") for line in record.read_text().splitlines()]
    assert len(runs) == 2
    (tmp_a, _), (tmp_b, _) = runs
    assert tmp_a != tmp_b  # a fresh temporary directory per run ...
    for tmp, cache in runs:
        scratch = Path(tmp).parent
        assert scratch.name.startswith("ssot-run-") and Path(cache).parent == scratch
        assert not scratch.exists()  # ... removed once the run ended, bytecode cache with it
    # What is kept between runs: the project's modules by content, libraries by path, and
    # never a path inside a worktree or a run's scratch area.
    kept = repo / ".git" / "ssot-cache" / "bytecode"
    assert list((kept / "trees").rglob("*.pyc"))
    # pytest's assertion-rewritten test module too, under pytest's own tag
    assert any("-pytest-" in p.parent.name for p in (kept / "trees").rglob("*.pyc"))
    assert list((kept / "libraries").rglob("*.pyc"))
    paths = [str(p) for p in (kept / "libraries").rglob("*")]
    assert not [p for p in paths if "ssot-worktrees" in p or "ssot-run-" in p]


def test_the_same_leak_is_red_when_test_env_shares_the_temp_dir(tmp_path: Path) -> None:
    record = tmp_path / "record.txt"
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    repo = project(
        tmp_path,
        {"tests/test_leak.py": leaky_test(record)},
        extra=f"test-jobs = 1\ntest-env = {{ TMPDIR = {str(shared)!r} }}",
    )
    proc = run_cli("phase1", "--repo", str(repo))
    assert proc.returncode == 1, proc.stderr
    assert "tests/test_leak.py::test_extracted_copy_is_current" in proc.stderr
    body = message(repo)
    assert "SSOT-Verified: failed" in body
    assert "SSOT-Regressions: tests/test_leak.py::test_extracted_copy_is_current" in body
    assert all(line.startswith(str(shared)) for line in record.read_text().splitlines())


def flaky_test(mark: Path) -> str:
    # fails the first time it runs on the phase tree only
    return textwrap.dedent(f"""\
        import pathlib


        def test_flaky():
            on_phase = 'unified' in pathlib.Path('app/use.py').read_text()
            mark = pathlib.Path({str(mark)!r})
            if on_phase and not mark.exists():
                mark.write_text('failed once')
                raise AssertionError('first run on the phase tree')
        """)


def unstable_test(mark: Path) -> str:
    # passes the first time on the base tree, then fails there; fails on the phase tree always
    return textwrap.dedent(f"""\
        import pathlib


        def test_unstable():
            on_phase = 'unified' in pathlib.Path('app/use.py').read_text()
            mark = pathlib.Path({str(mark)!r})
            if on_phase:
                raise AssertionError('broken')
            first = not mark.exists()
            mark.write_text('ran on base')
            assert first, 'broken on the base tree too, from its second run on'
        """)


REGRESSION_TEST = (
    "from app.use import make\n\n\ndef test_still_legacy():\n    assert make().ping() == 'legacy'\n"
)


def test_flaky_and_unstable_listed_and_not_regressions_exit_0(tmp_path: Path) -> None:
    repo = project(
        tmp_path,
        {
            "tests/test_flaky.py": flaky_test(tmp_path / "flaky.mark"),
            "tests/test_unstable.py": unstable_test(tmp_path / "unstable.mark"),
        },
    )
    proc = run_cli("phase1", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    assert "triage: 2 pass -> fail test(s) re-run by id" in proc.stderr
    assert "0 regression(s), 1 flaky, 1 unstable on base" in proc.stderr
    body = message(repo)
    assert "SSOT-Verified: yes" in body
    assert "SSOT-Flaky: tests/test_flaky.py::test_flaky" in body
    assert "SSOT-Unstable-On-Base: tests/test_unstable.py::test_unstable" in body
    assert "SSOT-Regressions" not in body
    assert "flaky (failed, then passed when re-run; not regressions): 1" in body


def test_a_real_regression_still_exits_1_and_status_and_pr_carry_the_lists(tmp_path: Path) -> None:
    repo = project(
        tmp_path,
        {
            "tests/test_flaky.py": flaky_test(tmp_path / "flaky.mark"),
            "tests/test_unstable.py": unstable_test(tmp_path / "unstable.mark"),
            "tests/test_regress.py": REGRESSION_TEST,
        },
    )
    proc = run_cli("phase1", "--repo", str(repo))
    assert proc.returncode == 1, proc.stderr
    assert "1 regression(s), 1 flaky, 1 unstable on base" in proc.stderr
    body = message(repo)
    assert "SSOT-Verified: failed" in body
    assert "SSOT-Regressions: tests/test_regress.py::test_still_legacy" in body
    assert "SSOT-Flaky: tests/test_flaky.py::test_flaky" in body
    assert "SSOT-Unstable-On-Base: tests/test_unstable.py::test_unstable" in body
    status = run_cli("status", "--repo", str(repo))
    assert status.returncode == 0, status.stderr
    assert "phase1 regressions: tests/test_regress.py::test_still_legacy" in status.stdout
    assert "phase1 flaky (not regressions): tests/test_flaky.py::test_flaky" in status.stdout
    assert (
        "phase1 unstable on base (not regressions): tests/test_unstable.py::test_unstable"
        in status.stdout
    )
    pr_body = build_pull_request(repo, load_config(repo), "phase1").body
    assert "- **Flaky (not regressions):** tests/test_flaky.py::test_flaky" in pr_body
    assert (
        "- **Unstable on base (not regressions):** tests/test_unstable.py::test_unstable" in pr_body
    )
    assert "- **Regressions:** tests/test_regress.py::test_still_legacy" in pr_body


def test_a_non_pytest_suite_is_run_again_before_a_failure_counts(tmp_path: Path) -> None:
    mark = tmp_path / "check.mark"
    check = textwrap.dedent(f"""\
        import pathlib, sys
        on_phase = 'unified' in pathlib.Path('app/use.py').read_text()
        mark = pathlib.Path({str(mark)!r})
        if on_phase and not mark.exists():
            mark.write_text('failed once')
            sys.exit(3)
        """)
    command = f"{shlex.quote(sys.executable)} check.py"
    repo = project(tmp_path, {"check.py": check}, command=command)
    proc = run_cli("phase1", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    assert "running it once more on the phase tree" in proc.stderr
    assert "SSOT-Flaky: the whole suite (exit 0 -> exit 3, then exit 0 when re-run)" in message(
        repo
    )
    # a suite that fails again is a regression
    mark.unlink()
    always = check.replace("and not mark.exists()", "")
    repo2 = project(tmp_path / "again", {"check.py": always}, command=command)
    proc = run_cli("phase1", "--repo", str(repo2))
    assert proc.returncode == 1, proc.stderr
    assert "SSOT-Verified: failed" in git(repo2, "log", "-1", "--format=%B", BRANCH)


def test_before_and_after_run_at_the_same_time_with_their_own_logs(tmp_path: Path) -> None:
    spans = tmp_path / "spans.txt"
    timed = textwrap.dedent(f"""\
        import os, time


        def test_takes_a_while():
            start = time.time()
            time.sleep(1.5)
            with open({str(spans)!r}, 'a') as out:
                out.write(f'{{start}} {{time.time()}} {{os.getcwd()}}\\n')
        """)
    repo = project(tmp_path, {"tests/test_timed.py": timed}, extra="test-jobs = 2")
    proc = run_cli("phase1", "--repo", str(repo), env={"SSOT_MIGRATE_PROGRESS_SECONDS": "0.5"})
    assert proc.returncode == 0, proc.stderr
    # the base suite starts first, while the phase is computed; the phase's joins it
    assert "running tests on the base tree (" in proc.stderr
    assert "running tests on the phase tree too, at the same time as the base tree's" in proc.stderr
    (s1, e1, cwd1), (s2, e2, cwd2) = [line.split(" ", 2) for line in spans.read_text().splitlines()]
    assert cwd1 != cwd2  # two worktrees
    assert float(s1) < float(e2) and float(s2) < float(e1)  # the runs overlapped
    logs = re.findall(r"^test log: (\S+)$", proc.stderr, re.MULTILINE)
    assert len(logs) == 2 and "-base-" in logs[0] and "-phase-" in logs[1]
    texts = [Path(log).read_text() for log in logs]
    assert all(re.fullmatch(r"[A-Za-z0-9._/-]+", log) for log in logs)
    cwds = [re.findall(r"^# cwd: (.*)$", t, re.MULTILINE) for t in texts]
    assert cwds[0] and cwds[1] and cwds[0] != cwds[1]
    # plain progress lines (stderr is not a terminal): elapsed time, both runs on one line
    assert re.search(r"^tests: base: .*\| phase: ", proc.stderr, re.MULTILINE), proc.stderr


def test_progress_counts_tests_done(tmp_path: Path) -> None:
    many = "import time\n\n" + "".join(
        f"def test_{i}():\n    time.sleep(0.15)\n\n" for i in range(30)
    )
    repo = project(tmp_path, {"tests/test_many.py": many}, extra="test-jobs = 1")
    proc = run_cli("phase1", "--repo", str(repo), env={"SSOT_MIGRATE_PROGRESS_SECONDS": "1"})
    assert proc.returncode == 0, proc.stderr
    done = [
        int(n) for n in re.findall(r"^tests: base: (\d+) tests done", proc.stderr, re.MULTILINE)
    ]
    assert done and done == sorted(done) and 0 < done[-1] <= 31


def test_a_base_tree_timeout_says_so_and_suggests_test_timeout(tmp_path: Path) -> None:
    hang = textwrap.dedent("""\
        import pathlib, time


        def test_hangs_on_base():
            if 'legacy' in pathlib.Path('app/use.py').read_text():
                time.sleep(60)
        """)
    repo = project(tmp_path, {"tests/test_hang.py": hang}, extra="test-jobs = 1")
    text = (repo / "pyproject.toml").read_text().replace("test-timeout = 120", "test-timeout = 3")
    (repo / "pyproject.toml").write_text(text)
    git(repo, "commit", "-qam", "short timeout")
    proc = run_cli("phase1", "--repo", str(repo))
    assert proc.returncode == 1, proc.stderr
    assert "the tests timed out on the base tree" in proc.stderr
    assert "raise `test-timeout`" in proc.stderr
    assert "--bisect finds" not in proc.stderr


def test_the_codemod_step_says_files_done_and_to_do_on_long_runs(tmp_path: Path) -> None:
    users = {
        f"app/user{i}.py": f"from app.core.legacy import Manager\n\n\ndef make{i}():\n    return Manager()\n"
        for i in range(6)
    }
    repo = project(tmp_path, users)
    # interval 0: every file is a "long run"; the default (30 s) prints nothing on short ones
    proc = run_cli(
        "phase1",
        "--repo",
        str(repo),
        "--dry-run",
        "--jobs",
        "1",
        env={"SSOT_MIGRATE_PROGRESS_SECONDS": "0"},
    )
    assert proc.returncode == 0, proc.stderr
    lines = re.findall(
        r"^rewriting: (\d+)/(\d+) files done, (\d+) to do$", proc.stderr, re.MULTILINE
    )
    assert lines, proc.stderr
    assert all(int(done) + int(todo) == int(total) for done, total, todo in lines)
    assert lines[-1][0] == lines[-1][1]  # the last line: every file done
    quiet = run_cli("phase1", "--repo", str(repo), "--dry-run", "--jobs", "1")
    assert "rewriting:" not in quiet.stderr and quiet.stdout == proc.stdout


def test_triage_refuses_to_run_where_the_suite_replaced_its_worktree(tmp_path: Path) -> None:
    # The base run passes after putting a link to the user's checkout where its worktree was;
    # the phase run fails. The triage's re-run on the base tree must stop there (exit 2), not
    # run the suite (and whatever git it calls) in the checkout.
    checkout = tmp_path / "repo"
    replace = textwrap.dedent(f"""\
        import os, pathlib, shutil

        CHECKOUT = pathlib.Path({str(checkout)!r})


        def test_replaces_its_worktree():
            here = pathlib.Path.cwd()
            if here.resolve() == CHECKOUT.resolve():
                (CHECKOUT / 'RAN-IN-CHECKOUT').write_text('the triage ran in the checkout')
                return
            assert 'unified' not in pathlib.Path('app/use.py').read_text()
            shutil.rmtree(here)
            os.symlink(CHECKOUT, here)
        """)
    repo = project(tmp_path, {"tests/test_zz_replace.py": replace}, extra="test-jobs = 2")
    proc = run_cli("phase1", "--repo", str(repo))
    assert proc.returncode == 2, proc.stderr
    assert "gone or was replaced" in proc.stderr and "run the test command" in proc.stderr
    assert not (repo / "RAN-IN-CHECKOUT").exists()
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "branch", "--list", "ssot/*") == ""

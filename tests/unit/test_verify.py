"""Verification: per-test comparison, expected flips, timeouts, the tree-hash cache, bisection."""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

from ssot_migrate.comparison import compare, marked_expected_fixes
from ssot_migrate.test_command import pytest_position
from ssot_migrate.verify import (
    PASSED,
    TestRun,
    parse_junit,
)
from tests.helpers.workflow import (
    MarkerCodemod,
    git,
    git_identity,  # noqa: F401  (autouse fixture)
    make_config,
    phase,
    project,
    pytest_command,
    trailers,
)

BREAKING_TEST = (
    "from pkg import mod_a\n\n"
    "def test_value_is_old():\n    assert mod_a.VALUE == 'OLD_MARKER' + ''\n\n"
    "def test_still_fine():\n    assert True\n"
)


def test_regression_detected_branch_kept_exit_1(tmp_path: Path) -> None:
    repo = project(
        tmp_path,
        extra={
            "tests/test_break.py": BREAKING_TEST.replace("'OLD_MARKER' + ''", "'OLD_' + 'MARKER'")
        },
    )
    result = phase(repo, make_config(repo, pytest_command()))
    assert result.exit_code == 1
    assert result.commit is not None
    assert git(repo, "rev-parse", result.branch).strip() == result.commit
    t = trailers(repo, result.branch)
    assert t["SSOT-Verified"] == "failed"
    assert t["SSOT-Tests-Before"] == "4 passed"
    assert t["SSOT-Tests-After"] == "3 passed, 1 failed"
    comparison = result.verification.comparison
    assert comparison is not None
    assert comparison.regressions == ("tests/test_break.py::test_value_is_old",)
    assert "tests/test_break.py::test_value_is_old" in git(
        repo, "log", "-1", "--format=%B", result.branch
    )
    assert result.logs and all(Path(log).is_file() for log in result.logs)


def test_expected_flips_from_config_and_marker(tmp_path: Path) -> None:
    fail_first = (
        "import pytest\nfrom pkg import mod_a\n\n"
        "@pytest.mark.ssot_expected_fix\n"
        "def test_marked():\n    assert mod_a.VALUE.startswith('NEW')\n\n"
        "def test_configured():\n    assert 'NEW' in mod_a.VALUE\n\n"
        "class TestGroup:\n    pytestmark = [pytest.mark.ssot_expected_fix]\n\n"
        "    def test_in_class(self):\n        assert 'NEW' in mod_a.VALUE\n\n"
        "def test_never_flips():\n    assert False\n"
    )
    repo = project(
        tmp_path,
        extra={
            "tests/test_fail_first.py": fail_first,
            "pytest.ini": "[pytest]\nmarkers =\n    ssot_expected_fix: fail-first\n",
        },
    )
    config = make_config(
        repo,
        pytest_command(),
        expected_fixes=(
            "tests/test_fail_first.py::test_configured",
            "tests/test_fail_first.py::test_never_flips",
            "tests/test_gone.py::test_missing",
        ),
    )
    result = phase(repo, config)
    comparison = result.verification.comparison
    assert comparison is not None and result.verification.verdict == "yes"
    assert comparison.expected_flips == (
        "tests/test_fail_first.py::TestGroup::test_in_class",
        "tests/test_fail_first.py::test_configured",
        "tests/test_fail_first.py::test_marked",
    )
    assert comparison.fixes == ()
    assert comparison.missed_flips == (
        "tests/test_fail_first.py::test_never_flips",
        "tests/test_gone.py::test_missing",
    )


def test_hung_test_command_killed_at_timeout(tmp_path: Path) -> None:
    hang = "import time\n\ndef test_hang():\n    time.sleep(60)\n"
    repo = project(tmp_path, extra={"tests/test_hang.py": hang})
    marker = tmp_path / "child.pid"
    # a child process in the group must die too, not just the runner
    script = (
        "import subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(marker)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(60)\n"
    )
    command = (sys.executable, "-c", script)
    started = time.monotonic()
    result = phase(repo, make_config(repo, command, timeout=2.0))
    assert time.monotonic() - started < 20
    assert result.exit_code == 1
    assert result.verification.before is not None and result.verification.before.timed_out
    assert trailers(repo, result.branch)["SSOT-Tests-Before"].startswith("timed out after")
    child = int(marker.read_text())
    deadline = time.monotonic() + 5
    while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
        status = (
            Path(f"/proc/{child}/status").read_text()
            if Path(f"/proc/{child}/status").exists()
            else ""
        )
        if "zombie" in status or "State:\tZ" in status:
            break
        time.sleep(0.1)
    status = Path(f"/proc/{child}/status")
    assert not status.exists() or "State:\tZ" in status.read_text()
    assert "killed after the 2s test-timeout" in Path(result.logs[0]).read_text()


def test_cache_hit_on_stacked_phase(tmp_path: Path) -> None:
    counter = tmp_path / "runs.txt"
    repo = project(tmp_path, counter=counter, extra={"pkg/mod_b.py": "OTHER = 'SECOND_MARKER'\n"})
    config = make_config(repo, pytest_command())
    p1 = phase(repo, config)
    assert counter.read_text().count("run") == 2  # base tree, then the phase tree
    p2 = phase(
        repo,
        config,
        phase="phase2",
        codemod=MarkerCodemod("phase2", "SECOND_MARKER", "DONE_MARKER"),
    )
    assert p2.base == p1.commit
    # phase 2's base tree is phase 1's tree: measured already, so only phase 2's tree runs
    assert counter.read_text().count("run") == 3
    assert p2.verification.before is not None and p2.verification.before.cached
    cache = repo / ".git" / "ssot-cache" / "tests"
    assert len(list(cache.glob("*.json"))) == 3


def test_string_command_with_env_prefix_split_like_a_shell(tmp_path: Path) -> None:
    repo = project(
        tmp_path,
        extra={
            "src/helper_mod.py": "X = 1\n",
            "tests/test_src.py": "import helper_mod\n\ndef test_x():\n    assert helper_mod.X == 1\n",
            "tests/test_slow.py": "def test_slow():\n    assert False\n",
        },
    )
    command = (
        f"env PYTHONPATH=src PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {shlex.quote(sys.executable)}"
        ' -m pytest -q tests -k "not slow"'
    )
    result = phase(repo, make_config(repo, command))
    assert result.verification.verdict == "yes"
    assert trailers(repo, result.branch)["SSOT-Tests-After"] == "3 passed"


def test_non_pytest_runner_compares_exit_codes(tmp_path: Path) -> None:
    check = "import sys, pathlib\nsys.exit(0 if 'OLD_' + 'MARKER' in pathlib.Path('pkg/mod_a.py').read_text() else 3)\n"
    repo = project(tmp_path, extra={"check.py": check})
    result = phase(repo, make_config(repo, (sys.executable, "check.py")))
    assert result.verification.verdict == "failed"
    assert trailers(repo, result.branch)["SSOT-Tests-After"] == "exit 3"


def test_bisect_names_the_one_bad_file_and_quarantines_it(tmp_path: Path) -> None:
    modules = {f"pkg/m{i:02d}.py": f"V{i} = 'OLD_MARKER'\n" for i in range(8)}
    bad_test = "from pkg import m07\n\ndef test_m07():\n    assert m07.V7 == 'OLD_' + 'MARKER'\n"
    repo = project(tmp_path, extra={**modules, "tests/test_m07.py": bad_test})
    result = phase(repo, make_config(repo, pytest_command()), bisect=True, quarantine=True)
    assert result.bisect is not None
    assert result.bisect.culprits == ("pkg/m07.py",)
    assert result.bisect.tests == ("tests/test_m07.py::test_m07",)
    assert 0 < result.bisect.runs <= result.bisect.budget
    assert result.quarantined == ("pkg/m07.py",)
    assert result.verification.verdict == "yes" and result.exit_code == 0
    files = git(repo, "diff", "--name-only", "main", result.branch).split()
    assert "pkg/m07.py" not in files and len(files) == 8  # 7 modules + the test file
    message = git(repo, "log", "-1", "--format=%B", result.branch)
    assert "Needs a decision" in message and "pkg/m07.py" in message and "bisect:" in message


def test_bisect_without_quarantine_keeps_all_files(tmp_path: Path) -> None:
    bad_test = (
        "from pkg import mod_a\n\ndef test_a():\n    assert mod_a.VALUE == 'OLD_' + 'MARKER'\n"
    )
    repo = project(
        tmp_path, extra={"pkg/mod_c.py": "C = 'OLD_MARKER'\n", "tests/test_a.py": bad_test}
    )
    result = phase(repo, make_config(repo, pytest_command()), bisect=True)
    assert result.bisect is not None and result.bisect.culprits == ("pkg/mod_a.py",)
    assert result.exit_code == 1
    assert "pkg/mod_a.py" in git(repo, "diff", "--name-only", "main", result.branch).split()


def _run(results: dict[str, str] | None, code: int | None = 0) -> TestRun:
    return TestRun("t", ("pytest",), code, 0.1, "log", results, timed_out=code is None)


def test_compare_table() -> None:
    before = _run({"a::t1": PASSED, "a::t2": "failed", "a::t3": PASSED, "a::t4": PASSED})
    after = _run(
        {"a::t1": "error", "a::t2": PASSED, "a::t4": PASSED, "b::new": PASSED, "c.py": "error"}, 1
    )
    result = compare(before, after)
    assert result.verdict == "failed"
    assert result.regressions == ("a::t1", "c.py")
    assert result.fixes == ("a::t2",)
    assert result.gone == ("a::t3",)
    assert result.added == ("b::new",)
    assert compare(_run({}, 5), _run({}, 5)).verdict == "no-tests"
    assert compare(_run(None, 1), _run(None, 1)).verdict == "yes"
    assert compare(_run(None, 0), _run(None, None)).verdict == "failed"


def test_junit_ids_and_marker_scan(tmp_path: Path) -> None:
    xml = (
        b"<testsuites><testsuite>"
        b'<testcase classname="tests.test_a.TestX" name="test_p[1]" file="tests/test_a.py"/>'
        b'<testcase classname="tests.test_a" name="test_f" file="tests/test_a.py"><failure/></testcase>'
        b'<testcase classname="tests.test_a" name="test_f" file="tests/test_a.py"><error/></testcase>'
        b'<testcase classname="" name="tests.test_bad" file="tests/test_bad.py"><error/></testcase>'
        b"</testsuite></testsuites>"
    )
    assert parse_junit(xml) == {
        "tests/test_a.py::TestX::test_p[1]": PASSED,
        "tests/test_a.py::test_f": "error",
        "tests/test_bad.py": "error",
    }
    (tmp_path / "t.py").write_text(
        "import pytest\nfrom pytest import mark\npytestmark = mark.ssot_expected_fix\n"
    )
    (tmp_path / "u.py").write_text("@pytest.mark.ssot_expected_fix()\ndef test_x(): pass\n")
    assert marked_expected_fixes(tmp_path, ["t.py", "u.py", "missing.py"]) == (
        "t.py",
        "u.py::test_x",
    )
    assert pytest_position(["env", "A=1", "python", "-m", "pytest", "-q"]) == 5
    assert pytest_position(["/venv/bin/pytest", "-q"]) == 1
    assert pytest_position(["make", "test"]) is None


@pytest.mark.parametrize("bad", ["unbalanced 'quote", ""])
def test_bad_test_command_refused(tmp_path: Path, bad: str) -> None:
    from ssot_migrate.errors import ConfigError

    repo = project(tmp_path)
    with pytest.raises(ConfigError, match="test-command"):
        phase(repo, make_config(repo, bad))
    assert git(repo, "branch", "--list", "ssot/*") == ""


def test_broken_command_is_not_a_pass(tmp_path: Path) -> None:
    repo = project(tmp_path)
    result = phase(repo, make_config(repo, "env PYTHONPATH=src no-such-python-xyz -m pytest -q"))
    assert result.verification.verdict == "failed" and result.exit_code == 1
    comparison = result.verification.comparison
    assert (
        comparison is not None
        and "could not run on the base tree (exit 127)" in comparison.reasons[0]
    )
    assert compare(_run(None, 4), _run(None, 4)).verdict == "failed"


def test_subset_selection_replaces_paths_keeps_option_values(tmp_path: Path) -> None:
    from ssot_migrate.test_command import select_only

    (tmp_path / "tests").mkdir()
    (tmp_path / "pytest.ini").write_text("")
    args = [
        "-q",
        "tests",
        "-k",
        "not slow",
        "-c",
        "pytest.ini",
        "tests/test_x.py::test_y",
        "--maxfail=1",
    ]
    assert select_only(args, tmp_path, ["tests/test_a.py::test_b"]) == [
        "-q",
        "-k",
        "not slow",
        "-c",
        "pytest.ini",
        "--maxfail=1",
        "tests/test_a.py::test_b",
    ]


def test_bisect_refuses_to_guess_when_the_regression_needs_the_full_suite(tmp_path: Path) -> None:
    # test_b fails only after test_a ran on the phase tree: order-dependent, not reproducible alone
    order_dependent = (
        "from pkg import mod_a\nSEEN = []\n\n"
        "def test_a():\n    SEEN.append(mod_a.VALUE)\n\n"
        "def test_b():\n    assert SEEN != ['NEW_' + 'MARKER']\n"
    )
    repo = project(tmp_path, extra={"tests/test_order.py": order_dependent})
    result = phase(repo, make_config(repo, pytest_command()), bisect=True, quarantine=True)
    assert result.bisect is not None and result.bisect.culprits == ()
    assert "did not reproduce" in result.bisect.lines()[0]
    assert result.quarantined == () and result.exit_code == 1


def test_a_killed_suite_is_reaped_even_when_a_ctrl_c_left_popens_wait_lock_held() -> None:
    """Found as a hang of the Ctrl-C test in CI: a signal landing inside Popen.wait(timeout=...)
    right after it took its lock leaves the lock held, and the clean-up's wait() never returned."""
    import subprocess as sp
    import threading

    from ssot_migrate.verify import _reap

    proc = sp.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    proc._waitpid_lock.acquire()  # type: ignore[attr-defined]  # what the interrupted wait left
    os.killpg(proc.pid, signal.SIGKILL)
    done = threading.Event()
    worker = threading.Thread(target=lambda: (_reap(proc, grace=0.2), done.set()), daemon=True)
    worker.start()
    assert done.wait(10), "reaping blocked on the leaked lock"
    with pytest.raises(ChildProcessError):  # collected: no zombie left behind
        os.waitpid(proc.pid, os.WNOHANG)


def test_bisect_reuses_the_triaged_full_change_one_line_per_step_safe_log_names(
    tmp_path: Path,
) -> None:
    modules = {f"pkg/m{i:02d}.py": f"V{i} = 'OLD_MARKER'\n" for i in range(8)}
    bad_test = "from pkg import m07\n\ndef test_m07():\n    assert m07.V7 == 'OLD_' + 'MARKER'\n"
    repo = project(tmp_path, extra={**modules, "tests/test_m07.py": bad_test})
    lines: list[str] = []
    result = phase(
        repo,
        make_config(repo, pytest_command(), test_jobs=1),
        bisect=True,
        quarantine=True,
        echo=lines.append,
    )
    assert result.bisect is not None and result.bisect.culprits == ("pkg/m07.py",)
    steps = [line for line in lines if line.startswith("bisect run ")]
    assert len(steps) == result.bisect.runs
    # the triage already ran the regressed test alone on the whole change (9 files): no step
    # measures it again
    assert steps and not any(" 9 file(s) " in line for line in steps)
    assert not any(line.startswith("tests: ") for line in lines)  # no progress between steps
    names = [Path(log).name for log in result.logs]
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", name) for name in names), names
    assert sum("-bisect-" in name for name in names) == 1  # every step appends to one log
    assert any("-phase-quarantined-" in name for name in names)


def test_bytecode_is_kept_between_runs_libraries_by_path_and_trees_by_content(
    tmp_path: Path,
) -> None:
    from ssot_migrate.verify import TestRunner

    # A library in a site-packages directory, and a tree whose check imports it and its own module.
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (site / "somelib.py").write_text("VALUE = 1\n")
    tree = tmp_path / "tree"
    tree.mkdir()
    own = tree / "own.py"
    own.write_text("VALUE = 2\n")
    (tree / "check.py").write_text(
        "import os, sys\n"
        "def seeded(stem):\n"
        "    walk = os.walk(sys.pycache_prefix)\n"
        "    return len([f for _, _, fs in walk for f in fs if f.startswith(stem + '.')])\n"
        "print('seeded', seeded('somelib'), seeded('own'))\n"
        "print('dont-write', sys.flags.dont_write_bytecode)\n"
        "import own, somelib, textwrap\n"
        "print('own', own.VALUE, own.__file__)\n"
    )
    cache = tmp_path / "cache"
    runner = TestRunner(
        (sys.executable, "check.py"),
        60,
        tmp_path / "results",
        tmp_path / "logs",
        env=(("PYTHONPATH", str(site)),),
        bytecode_dir=cache,
    )
    old = os.environ.get("PYTHONDONTWRITEBYTECODE")
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"  # dropped: bytecode goes to the private prefix
    try:
        first = runner.run(tree, "t1", "first")
        # Another tree at another path with the same source (as the phase tree beside the base).
        other = tmp_path / "other"
        shutil.copytree(tree, other)
        second = runner.run(other, "t2", "second")
    finally:
        if old is None:
            del os.environ["PYTHONDONTWRITEBYTECODE"]
        else:
            os.environ["PYTHONDONTWRITEBYTECODE"] = old
    assert first.exit_code == second.exit_code == 0
    assert "seeded 0 0" in Path(first.log).read_text()
    assert "dont-write 0" in Path(first.log).read_text()
    second_log = Path(second.log).read_text()
    assert "seeded 1 1" in second_log  # compiled once, reused by path and by content
    assert f"own 2 {other / 'own.py'}" in second_log  # the module knows where it was loaded
    tag = sys.implementation.cache_tag
    libraries = {p.name for p in (cache / "libraries").rglob("*.pyc")}
    assert f"somelib.{tag}.pyc" in libraries and f"textwrap.{tag}.pyc" in libraries
    assert not {f"own.{tag}.pyc", f"check.{tag}.pyc"} & libraries  # the tree's: never by path
    assert len(list((cache / "trees" / tag).glob("*.pyc"))) == 1  # own.py (check.py is run)
    # Same size, same modification time, other content: a time-checked cache would load the old
    # code; the content-checked one compiles the new source.
    stat = own.stat()
    own.write_text("VALUE = 3\n")
    os.utime(own, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert "own 3" in Path(runner.run(tree, "t3", "third").log).read_text()
    # A test-env of its own for the prefix is the user's directory: nothing seeded into it.
    runner.env = (("PYTHONPATH", str(site)), ("PYTHONPYCACHEPREFIX", str(tmp_path / "theirs")))
    assert "seeded 0 0" in Path(runner.run(tree, "t4", "fourth").log).read_text()


def test_a_trees_bytecode_is_seeded_from_what_the_users_own_runs_compiled(
    tmp_path: Path,
) -> None:
    """The first run already has the checkout's own ``__pycache__`` files for the modules whose
    source is the same there, and only those; the checkout is only read."""
    import py_compile

    from ssot_migrate.verify import TestRunner

    tag = sys.implementation.cache_tag
    tree, checkout = tmp_path / "tree", tmp_path / "checkout"
    sources = {"same.py": "A = 1\n", "changed.py": "B = 1\n", "retimed.py": "C = 1\n"}
    for root in (tree, checkout):
        root.mkdir()
        for name, text in sources.items():
            (root / name).write_text(text)
    for name in sources:
        py_compile.compile(
            str(checkout / name), cfile=str(checkout / "__pycache__" / f"{name[:-3]}.{tag}.pyc")
        )
    (tree / "changed.py").write_text("B = 2\n")  # the phase changed it: the checkout's is stale
    retimed = checkout / "retimed.py"  # edited since it was compiled: Python would not load it
    os.utime(retimed, ns=(retimed.stat().st_atime_ns, retimed.stat().st_mtime_ns + 10**10))
    (tree / "check.py").write_text(
        "import os, sys\n"
        "mirror = sys.pycache_prefix + os.getcwd()\n"
        "names = [f for _, _, fs in os.walk(mirror) for f in fs]\n"
        "print('seeded', sorted(n.split('.')[0] for n in names))\n"
        "import same, changed, retimed\n"
        "print('values', same.A, changed.B, retimed.C)\n"
    )
    before = {p: p.stat().st_mtime_ns for p in checkout.rglob("*")}
    runner = TestRunner(
        (sys.executable, "check.py"),
        60,
        tmp_path / "results",
        tmp_path / "logs",
        bytecode_dir=tmp_path / "cache",
        checkout=checkout,
    )
    log = Path(runner.run(tree, "t1", "first").log).read_text()
    assert "seeded ['same']" in log
    assert "values 1 2 1" in log
    assert {p: p.stat().st_mtime_ns for p in checkout.rglob("*")} == before
    kept = list((tmp_path / "cache" / "trees" / tag).glob("*.pyc"))
    assert len(kept) == 3  # same.py from the checkout; changed.py and retimed.py from the run


def test_pytests_rewritten_test_modules_are_kept_by_content_and_name_their_new_place(
    tmp_path: Path,
) -> None:
    """pytest rewrites every test module's asserts and writes its own pyc (seconds of CPU on a
    large suite): a later run on the same source starts with it, at its own path."""
    from ssot_migrate.verify import TestRunner

    record = tmp_path / "record.txt"
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "conftest.py").write_text(
        "import os, sys\n"
        "mirror = sys.pycache_prefix + os.path.dirname(os.path.abspath(__file__))\n"
        "names = os.listdir(mirror) if os.path.isdir(mirror) else []\n"
        f"with open({str(record)!r}, 'a') as out:\n"
        "    print('seeded', [n.split('.')[0] for n in names if n.startswith('test_')], file=out)\n"
    )
    (tree / "test_a.py").write_text(
        "import inspect\n\n\ndef test_where():\n"
        f"    with open({str(record)!r}, 'a') as out:\n"
        "        print('file', inspect.getsourcefile(test_where), file=out)\n"
        "    assert 1 == 2\n"
    )
    runner = TestRunner(
        (sys.executable, "-m", "pytest", "-q", "-p", "no:randomly"),
        60,
        tmp_path / "results",
        tmp_path / "logs",
        env=(("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1"),),
        bytecode_dir=tmp_path / "cache",
    )
    first = runner.run(tree, "t1", "first")
    other = tmp_path / "other"
    shutil.copytree(tree, other)
    second = runner.run(other, "t2", "second")
    assert first.results == second.results == {"test_a.py::test_where": "failed"}
    assert record.read_text().splitlines() == [
        "seeded []",
        f"file {tree / 'test_a.py'}",
        "seeded ['test_a']",  # rewritten once, by the first run
        f"file {other / 'test_a.py'}",  # and it knows where it now is
    ]
    assert str(tree) not in Path(second.log).read_text()


def test_an_older_pytests_timestamp_pyc_is_re_dated_and_relabelled_where_it_is_seeded(
    tmp_path: Path,
) -> None:
    import marshal

    from ssot_migrate import bytecode

    tag = f"{sys.implementation.cache_tag}-pytest-8.3.2"
    checkout, tree = tmp_path / "checkout", tmp_path / "tree"
    for root in (checkout, tree):
        root.mkdir()
        (root / "test_b.py").write_text("def test_b():\n    assert True\n")
    source = checkout / "test_b.py"
    code = compile(source.read_text(), str(source), "exec")
    stat = source.stat()
    header = importlib.util.MAGIC_NUMBER + bytes(4)
    header += (int(stat.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
    header += stat.st_size.to_bytes(4, "little")
    (checkout / "__pycache__").mkdir()
    (checkout / "__pycache__" / f"test_b.{tag}.pyc").write_bytes(header + marshal.dumps(code))
    os.utime(tree / "test_b.py", ns=(0, 10**18))  # the worktree's file: another time
    prefix = tmp_path / "prefix"
    bytecode.seed_tree(tmp_path / "cache", prefix, tree, checkout)
    placed = prefix / str(tree).lstrip("/") / f"test_b.{tag}.pyc"
    data = placed.read_bytes()
    mine = (tree / "test_b.py").stat()
    assert data[4:8] == bytes(4)  # still the timestamp format such a pytest reads
    assert data[8:12] == (int(mine.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
    loaded = marshal.loads(data[16:])
    inner = [c for c in loaded.co_consts if hasattr(c, "co_filename")]
    assert loaded.co_filename == str(tree / "test_b.py")
    assert inner and all(c.co_filename == str(tree / "test_b.py") for c in inner)


def test_hermetic_env_scratch_test_env_and_pytest_cache(tmp_path: Path) -> None:
    from ssot_migrate.verify import hermetic_env

    base = {"HOME": "/home/u", "GIT_DIR": "/elsewhere/.git", "PYTEST_ADDOPTS": "-x"}
    env = hermetic_env(base, tmp_path, [("DB", "sqlite:///{tmpdir}/db"), ("HOME", "/h")], False)
    tmp = str(tmp_path / "tmp")
    assert env["TMPDIR"] == env["TMP"] == env["TEMP"] == tmp and Path(tmp).is_dir()
    assert env["PYTHONPYCACHEPREFIX"] == str(tmp_path / "pycache")
    assert env["DB"] == f"sqlite:///{tmp}/db" and env["HOME"] == "/h"  # test-env wins
    assert "GIT_DIR" not in env
    assert env["PYTEST_ADDOPTS"] == f"-x -o cache_dir={tmp_path / 'pytest-cache'}"
    # a pytest command gets -p no:cacheprovider on its command line instead
    assert hermetic_env(base, tmp_path, [], True)["PYTEST_ADDOPTS"] == "-x"

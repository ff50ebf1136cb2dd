"""Affected-test selection (``tests = "affected"``, ``--tests affected``), through the real CLI.

One small repository: phase 1 rewrites ``app/use.py``. Its test files reach it by an import, by
a package ``__init__`` re-export, by a ``mock.patch`` string, or not at all; each holds one
test, so the run's count says which files ran. Then a ``conftest.py`` that the phase rewrites
too makes the selection fall back to the whole suite.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from ssot_migrate.config import load_config
from ssot_migrate.pr import build_pull_request
from ssot_migrate.selection import select_tests
from tests.helpers.repos import git, run_cli
from tests.helpers.trust import BRANCH, message, project

TESTS = {
    "app/other.py": "def other():\n    return 1\n",
    "app/facade/__init__.py": "from app.use import make\n",
    "tests/test_use.py": "from app.use import make\n\n\ndef test_use():\n    assert make().ping()\n",
    "tests/test_reexport.py": (
        "from app.facade import make\n\n\ndef test_reexport():\n    assert make()\n"
    ),
    "tests/test_patched.py": textwrap.dedent("""\
        from unittest import mock


        def test_patched():
            with mock.patch("app.use.Manager") as fake:
                assert fake is not None
        """),
    "tests/test_other.py": "from app import other\n\n\ndef test_other():\n    assert other.other()\n",
}


def trailers(repo: Path) -> dict[str, str]:
    out = git(repo, "log", "-1", "--format=%(trailers:only,unfold)", BRANCH)
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def test_affected_runs_only_the_tests_that_reach_the_change_and_falls_back_on_conftest(
    tmp_path: Path,
) -> None:
    repo = project(tmp_path, TESTS, extra='tests = "affected"')
    proc = run_cli("phase1", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    line = "tests: affected selection: 3 of 5 test file(s): 3 use the 1 changed file(s)"
    assert line in proc.stderr
    assert trailers(repo)["SSOT-Tests-After"] == "3 passed"  # test_ok and test_other did not run
    assert trailers(repo)["SSOT-Tests-Before"] == "3 passed"  # nor on the base tree
    assert line in message(repo)
    assert line in build_pull_request(repo, load_config(repo), "phase1").body
    # a conftest.py the phase rewrites reaches every test under it: the whole suite runs
    (repo / "tests/conftest.py").write_text("from app.core.legacy import Manager\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "conftest")
    proc = run_cli("phase1", "--repo", str(repo), "--refresh")
    assert proc.returncode == 0, proc.stderr
    assert (
        "tests: affected selection fell back to the whole suite: tests/conftest.py changed"
        in proc.stderr
    )
    assert trailers(repo)["SSOT-Tests-After"] == "5 passed"
    # --tests all overrides the key; a bad value is a usage error naming the option
    bad = run_cli("phase1", "--repo", str(repo), "--refresh", "--tests", "some")
    assert bad.returncode == 2 and "--tests: must be one of all, affected, got 'some'" in bad.stderr


def _select(files: dict[str, str], changed: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    data = {p: s.encode() for p, s in files.items()}
    argv = ["python", "-m", "pytest", "-q", *args]
    return select_tests(
        sorted(data),
        data.__getitem__,
        {p: s.encode() for p, s in changed.items()},
        ("",),
        argv,
        pytest_args_at=3,
        jobs=1,
    )


def test_dynamic_imports_plugins_and_everywhere_inits_fall_back() -> None:
    base = {
        "pkg/__init__.py": "",
        "pkg/a.py": "X = 1\n",
        "pkg/b.py": "Y = 2\n",
        "tests/test_a.py": "from pkg.a import X\n\ndef test_a():\n    assert X\n",
        "tests/test_b.py": "from pkg.b import Y\n\ndef test_b():\n    assert Y\n",
    }
    only_a = _select(base, {"pkg/a.py": "X = 3\n"})
    assert not only_a.everything and only_a.files == ("tests/test_a.py",)
    dynamic = {**base, "pkg/b.py": "import importlib\nY = importlib.import_module(name)\n"}
    found = _select(dynamic, {"pkg/a.py": "X = 3\n"})
    assert found.everything and "pkg/b.py:2 imports a module whose name is not a literal" in (
        found.reason
    )
    # a literal name is an edge like an import; a wrapper's callers' literals too
    wrapped = {
        **base,
        "pkg/lazy.py": (
            "from importlib import import_module\n"
            "def load(module):\n    return import_module(module)\n"
        ),
        "pkg/b.py": "from pkg.lazy import load\nY = load('pkg.a')\n",
    }
    both = _select(wrapped, {"pkg/a.py": "X = 3\n"})
    assert not both.everything and both.files == ("tests/test_a.py", "tests/test_b.py")
    plugin = _select(
        {**base, "conftest.py": "pytest_plugins = ['pkg.b']\n"}, {"pkg/b.py": "Y = 3\n"}
    )
    assert plugin.everything and "pytest plugin (pkg.b)" in plugin.reason
    everywhere = {**base, "pkg/__init__.py": "from pkg.a import X\n"}
    init = _select(everywhere, {"pkg/__init__.py": "X = 4\n"})
    assert init.everything and "a package __init__ loaded by 2 of 2 test files" in init.reason
    # the command's own paths bound the candidates
    narrow = _select(base, {"pkg/b.py": "Y = 3\n"}, "tests/test_a.py")
    assert not narrow.everything and narrow.files == () and narrow.candidates == 1


def test_reexports_patch_strings_and_import_time_loads() -> None:
    files = {
        "pkg/__init__.py": "from pkg.a import X\nfrom pkg import c\n",
        "pkg/a.py": "X = 1\n",
        "pkg/b.py": "Y = 2\n",
        "pkg/c.py": "Z = 3\n",
        "tests/test_x.py": "from pkg import X\n\ndef test_x():\n    assert X\n",
        "tests/test_p.py": (
            "from unittest import mock\n\ndef test_p():\n"
            "    with mock.patch('pkg.b.Y', 5):\n        pass\n"
        ),
        "tests/test_none.py": "def test_none():\n    pass\n",
    }
    # `from pkg import X` follows the re-export to pkg/a.py, not to everything pkg imports
    assert _select(files, {"pkg/a.py": "X = 0\n"}).files == ("tests/test_x.py",)
    # a mock.patch string imports the module it names
    assert _select(files, {"pkg/b.py": "Y = 0\n"}).files == ("tests/test_p.py",)
    # pkg/c.py is used by no test, but pkg/__init__ imports it whenever test_x imports pkg:
    # an import-time failure there would break test_x
    loaded = _select(files, {"pkg/c.py": "Z = 0\n"})
    assert loaded.files == ("tests/test_x.py",) and "(import-time effects)" in loaded.reason
    # a test file the phase changes runs; a file no test reaches selects nothing
    assert _select(files, {"tests/test_none.py": "def test_none():\n    pass\n"}).files == (
        "tests/test_none.py",
    )
    alone = {**files, "pkg/d.py": "W = 1\n"}
    nothing = _select(alone, {"pkg/d.py": "W = 2\n"})
    assert nothing.files == () and "1 changed file(s) reached by no test" in nothing.reason

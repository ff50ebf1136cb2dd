"""The rename shapes that come with library targets, run: each fixture's code before and after.

The byte-for-byte fixtures (``tests/fixtures/phase1/<case>``) pin what phase 1 writes; this module
runs the code each one produces, in a fresh interpreter, and checks it does what the code before
did (before the rewrite, legacy paths exist in these fixtures, so both sides can run).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.fixture_harness import FIXTURES, read_tree

# case -> a program printing what the fixture's code computes
PROGRAMS = {
    "same_external_module_keeps_import": (
        "import logging, warnings\n"
        "warnings.simplefilter('ignore')\n"
        "logging.basicConfig(format='%(levelname)s %(message)s', stream=__import__('sys').stdout)\n"
        "from app.log import old_spelling, imported_name\n"
        "old_spelling(); imported_name()\n"
    ),
    "builtin_canonical_bare_name": (
        "from app.types import f\nimport app.shadowed\nprint(f([1]), app.shadowed.f(None))\n"
    ),
    "star_import_whole_module_alias": "import app.use\nimport old.relative\nprint(old.relative.thing())\n",
    "module_rename_same_leaf_other_parent": "from app.use import make\nprint(type(make()).__module__)\n",
    "module_moved_under_package": "from app.use import run\nprint(run())\n",
    "package_and_submodule_aliases": "from app.use import go\nprint(go())\n",
    "module_alias_names_the_canonical_lacks": (
        "import sys, types, json\n"
        "sys.modules['simplejson'] = types.SimpleNamespace(\n"  # an installed simplejson, faked
        "    JSONDecodeError=json.JSONDecodeError, dumps=json.dumps, OrderedDict=dict)\n"
        "from app.use import go\nfrom app.jsonish import go as go2\n"
        "print([type(x).__name__ for x in go()], go2()[1])\n"
    ),
    "patch_multiple_object_form": (
        "import tests.test_multi as t\n"
        "for name in ('test_renamed_keyword', 'test_two_keywords_one_module',\n"
        "             'test_other_keyword_stays', 'test_default_returned_by_name'):\n"
        "    getattr(t, name)(); print(name)\n"
    ),
    "patch_object_left_listed": (
        "import app.oldmod2, app.newmod2, tests.test_patches as t\n"
        "t.test_module_canonical(); print('patched')\n"
    ),
}

# What the rewritten code must now reach, where that differs from the legacy code.
AFTER_ONLY = {
    "module_rename_same_leaf_other_parent": "c.b\n",
    "module_moved_under_package": "('new', 'new')\n",
}


def _run(tree: Path, program: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", program],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"},
        check=False,
    )


@pytest.mark.parametrize("case", sorted(PROGRAMS))
def test_rewritten_code_runs_as_before(case: str, tmp_path: Path) -> None:
    if case == "same_external_module_keeps_import" and not hasattr(logging, "warn"):
        pytest.skip("logging.warn is gone from this Python (3.13+): the legacy side cannot run")
    case_dir = FIXTURES / "phase1" / case
    before = tmp_path / "before"
    after = tmp_path / "after"
    shutil.copytree(case_dir / "before", before)
    shutil.copytree(case_dir / "before", after)
    shutil.copytree(case_dir / "after", after, dirs_exist_ok=True)
    old = _run(before, PROGRAMS[case])
    new = _run(after, PROGRAMS[case])
    assert old.returncode == 0, old.stderr
    assert new.returncode == 0, new.stderr
    assert new.stdout == AFTER_ONLY.get(case, old.stdout)
    assert new.stdout.strip()


# --- a canonical found nowhere: the same rewrite must run whatever its kind turns out to be ---

# The installed packages ssot-migrate could not see, in two worlds: ``tools`` a submodule (which
# ``newpkg`` does not import itself, so ``import newpkg; newpkg.tools`` would fail) or a class.
WORLDS = {
    "module": {
        "oldpkg/__init__.py": "from . import tools\n",
        "oldpkg/tools.py": "def f():\n    return 'old f'\n\n\ndef g():\n    return 'old g'\n",
        "newpkg/__init__.py": "",
        "newpkg/tools.py": "def f():\n    return 'new f'\n\n\ndef g():\n    return 'new g'\n",
    },
    "class": {
        "oldpkg/__init__.py": "class tools:\n    f = staticmethod(lambda: 'old f')\n",
        "newpkg/__init__.py": "class tools:\n    f = staticmethod(lambda: 'new f')\n",
    },
}
UNPROVEN = {
    "module": "from app import either, as_module\nprint(either.run(), either.patched(), as_module.run())\n",
    # ``as_module.py`` proves a module: it cannot run in the class world, before or after.
    "class": "from app import either\nprint(either.run(), either.typed(1), either.patched())\n",
}


@pytest.mark.parametrize("world", sorted(WORLDS))
@pytest.mark.parametrize("case", ["unproven_kind_module_evidence", "unproven_kind_symbol_evidence"])
def test_unproven_kind_rewrite_runs_in_either_world(case: str, world: str, tmp_path: Path) -> None:
    case_dir = FIXTURES / "phase1" / case
    installed = tmp_path / "site"
    for path, text in WORLDS[world].items():
        (installed / path).parent.mkdir(parents=True, exist_ok=True)
        (installed / path).write_text(text)
    before, after = tmp_path / "before", tmp_path / "after"
    shutil.copytree(case_dir / "before", before)
    shutil.copytree(case_dir / "before", after)
    shutil.copytree(case_dir / "after", after, dirs_exist_ok=True)
    outputs = []
    for tree in (before, after):
        # The world's packages are the installed ones (the current folder comes first on sys.path).
        for package in {path.partition("/")[0] for path in WORLDS[world]}:
            shutil.rmtree(tree / package, ignore_errors=True)
        done = subprocess.run(
            [sys.executable, "-c", UNPROVEN[world]],
            cwd=tree,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={"PYTHONPATH": f"{installed}{os.pathsep}{tree}", "PYTHONDONTWRITEBYTECODE": "1"},
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert "old f" in outputs[0]
    assert outputs[1] == outputs[0].replace("old", "new")


def test_unproven_kind_rewrite_does_not_depend_on_the_assumed_kind() -> None:
    # Same consumers, one case assuming a module and one a symbol: the same rewrite.
    trees = [
        read_tree(FIXTURES / "phase1" / case / "after")
        for case in ("unproven_kind_module_evidence", "unproven_kind_symbol_evidence")
    ]
    assert trees[0] == trees[1] and trees[0]

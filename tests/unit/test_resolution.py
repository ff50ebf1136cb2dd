"""Where configured names are looked up: each source of the order, on fake environments on disk.

Every environment here is a folder tree written by the test (``pyvenv.cfg``, ``lib/python3.X/
site-packages``, ``.pth`` files, an editable finder); nothing is installed, imported or run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ssot_migrate.config import load_config
from ssot_migrate.errors import ConfigError
from ssot_migrate.model import NameKind
from ssot_migrate.resolution import Resolver
from ssot_migrate.resolution_places import environment_at, find_environment, places_for
from tests.helpers.repos import make_repo, write_tree

PY = f"python{sys.version_info.major}.{sys.version_info.minor}"
SITE = f"lib/{PY}/site-packages"

TABLE = """
[tool.ssot-migrate]
{top}
[[tool.ssot-migrate.targets]]
name = "t"
canonical = "{canonical}"
aliases = ["app.compat.Thing"]
"""

REPO_FILES = {
    "app/__init__.py": "",
    "app/compat.py": "from depkg.things import Thing\n",
    "app/use.py": "from app.compat import Thing\n\nThing()\n",
}


def fake_venv(root: Path, files: dict[str, str], cfg: str | None = None) -> Path:
    """A venv-shaped folder: ``pyvenv.cfg`` and ``files`` under its site-packages."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}.0"
    write_tree(
        root,
        {"pyvenv.cfg": cfg if cfg is not None else f"home = /nowhere/bin\nversion = {version}\n"},
    )
    (root / SITE).mkdir(parents=True, exist_ok=True)
    write_tree(root / SITE, files)
    (root / "bin").mkdir(exist_ok=True)
    (root / "bin" / "python").write_text("#!/bin/sh\n", encoding="utf-8")
    return root


DEP = {"depkg/__init__.py": "", "depkg/things.py": "class Thing:\n    pass\n"}


def repo_with(tmp_path: Path, canonical: str, top: str = "") -> Path:
    table = TABLE.format(top=top, canonical=canonical)
    return make_repo(tmp_path / "repo", {**REPO_FILES, "pyproject.toml": table})


def resolve(
    config_repo: Path, **kwargs: object
) -> tuple[NameKind, tuple[str, ...], tuple[str, ...]]:
    config = load_config(config_repo, environ={}, **kwargs)  # type: ignore[arg-type]
    return config.targets[0].canonical_kind, config.warnings, config.lookup_notes


@pytest.mark.parametrize("folder", [".venv", "venv", "env"])
def test_venv_folder_in_the_repository(tmp_path: Path, folder: str) -> None:
    repo = repo_with(tmp_path, "depkg.things.Thing")
    kind, warnings, _ = resolve(repo)
    assert "found nowhere" in warnings[0]  # not installed anywhere yet
    fake_venv(repo / folder, DEP)  # untracked, as a gitignored venv is
    kind, warnings, _ = resolve(repo)
    assert (kind, warnings) == (NameKind.SYMBOL, ())


def test_python_key_names_a_venv_or_an_interpreter(tmp_path: Path) -> None:
    venv = fake_venv(tmp_path / "elsewhere" / "proj-env", DEP)
    for value in (str(venv), str(venv / "bin" / "python"), "../elsewhere/proj-env"):
        repo = repo_with(
            tmp_path / value.replace("/", "_"), "depkg.things.Thing", top=f'python = "{value}"'
        )
        if value.startswith(".."):
            fake_venv(repo.parent / "elsewhere" / "proj-env", DEP)
        assert resolve(repo)[:2] == (NameKind.SYMBOL, ())


def test_python_option_overrides_the_key_and_a_bad_one_is_exit_2(tmp_path: Path) -> None:
    venv = fake_venv(tmp_path / "proj-env", DEP)
    repo = repo_with(tmp_path, "depkg.things.Thing", top='python = "no/such/python"')
    assert resolve(repo, python=venv)[:2] == (NameKind.SYMBOL, ())
    with pytest.raises(ConfigError) as info:
        load_config(repo)
    assert "tool.ssot-migrate.python: " in str(info.value)
    with pytest.raises(ConfigError) as info:
        load_config(repo, python=tmp_path / "empty-dir-that-is-missing")
    assert "--python: " in str(info.value)
    (tmp_path / "not-a-venv").mkdir()
    with pytest.raises(ConfigError) as info:
        load_config(repo, python=tmp_path / "not-a-venv")
    assert "neither a virtual environment" in str(info.value)


def test_virtual_env_variable_then_test_command_interpreter(tmp_path: Path) -> None:
    venv = fake_venv(tmp_path / "active", DEP)
    repo = repo_with(tmp_path, "depkg.things.Thing")
    config = load_config(repo, environ={"VIRTUAL_ENV": str(venv)})
    assert config.warnings == ()
    command_repo = repo_with(
        tmp_path / "cmd",
        "depkg.things.Thing",
        top='test-command = "env PYTHONPATH=. tools/py/bin/python -m pytest -q"',
    )
    fake_venv(command_repo / "tools" / "py", DEP)
    assert resolve(command_repo)[:2] == (NameKind.SYMBOL, ())


def test_repository_venv_comes_before_virtual_env(tmp_path: Path) -> None:
    # the active venv has a depkg without Thing; the repository's .venv has the real one
    active = fake_venv(tmp_path / "active", {"depkg/__init__.py": "", "depkg/things.py": "X = 1\n"})
    repo = repo_with(tmp_path, "depkg.things.Thing")
    fake_venv(repo / ".venv", DEP)
    assert load_config(repo, environ={"VIRTUAL_ENV": str(active)}).warnings == ()
    env = find_environment(repo, None, "", None, {"VIRTUAL_ENV": str(active)})
    assert env is not None and ".venv" in env.label


def test_pth_folders_are_read_and_code_lines_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    venv = fake_venv(tmp_path / "v", {})
    site = venv / SITE
    write_tree(
        tmp_path / "src-checkout", {"depkg/__init__.py": "", "depkg/things.py": "Thing = object\n"}
    )
    (site / "dev.pth").write_text(
        f"# a comment\n\n{tmp_path / 'src-checkout'}\n"
        f"import os; open({str(marker)!r}, 'w').write('executed')\n",
        encoding="utf-8",
    )
    repo = repo_with(tmp_path, "depkg.things.Thing")
    assert resolve(repo, python=venv)[:2] == (NameKind.SYMBOL, ())
    assert not marker.exists()


def test_editable_finder_mapping_is_read_as_a_literal(tmp_path: Path) -> None:
    venv = fake_venv(tmp_path / "v", {})
    site = venv / SITE
    write_tree(
        tmp_path / "mono" / "libs" / "depkg", {"__init__.py": "", "things.py": "class Thing: ...\n"}
    )
    (site / "__editable__.depkg-1.0.pth").write_text(
        "import __editable___depkg_1_0_finder; __editable___depkg_1_0_finder.install()\n",
        encoding="utf-8",
    )
    (site / "__editable___depkg_1_0_finder.py").write_text(
        f"raise SystemExit('never run')\nMAPPING: dict[str, str] = {{'depkg': {str(tmp_path / 'mono' / 'libs' / 'depkg')!r}}}\n",
        encoding="utf-8",
    )
    repo = repo_with(tmp_path, "depkg.things.Thing")
    assert resolve(repo, python=venv)[:2] == (NameKind.SYMBOL, ())


def test_standard_library_of_the_target_python(tmp_path: Path) -> None:
    # A venv made from another Python: its stdlib is read at pyvenv.cfg's home, not ours.
    base = tmp_path / "py399"
    write_tree(base, {"lib/python3.99/onlyhere.py": "def new_api(): ...\n", "bin/python3.99": ""})
    venv = fake_venv(tmp_path / "v", {}, cfg=f"home = {base / 'bin'}\nversion = 3.99.1\n")
    (venv / "lib" / PY).rename(venv / "lib" / "python3.99")
    env = environment_at(venv, "test")
    assert env.version == (3, 99) and env.stdlib == base / "lib" / "python3.99"
    repo = repo_with(tmp_path, "onlyhere.new_api")
    kind, warnings, _ = resolve(repo, python=venv)
    assert (kind, warnings) == (NameKind.SYMBOL, ())
    missing = resolve(repo_with(tmp_path / "m", "onlyhere.new_aip"), python=venv)[1]
    assert "the standard library of Python 3.99" in missing[0]
    assert "did you mean 'onlyhere.new_api'" in missing[0]


def test_own_environment_is_last(tmp_path: Path) -> None:
    # libcst is installed where ssot-migrate runs: found there...
    repo = repo_with(tmp_path, "libcst.Module")
    assert resolve(repo)[:2] == (NameKind.SYMBOL, ())
    # ...unless the project's environment has its own libcst, which then decides.
    fake_venv(repo / ".venv", {"libcst/__init__.py": "class Modul: ...\n"})
    warnings = resolve(repo)[1]
    assert "module 'libcst' (" in warnings[0] and "did you mean 'libcst.Modul'" in warnings[0]


def test_what_cannot_be_checked_is_accepted_with_a_note(tmp_path: Path) -> None:
    venv = fake_venv(
        tmp_path / "v",
        {
            "star/__init__.py": "from star._impl import *\n",
            "lazy/__init__.py": "def __getattr__(name):\n    raise AttributeError(name)\n",
            f"fast.cpython-{sys.version_info.major}{sys.version_info.minor}-x86_64-linux-gnu.so": "",
        },
    )
    for canonical, note in [
        ("star.Anything", "through a star import"),
        ("lazy.Anything", "through a module __getattr__"),
        ("fast.Anything", "is a compiled or builtin module"),
        ("math.sqrt", "is a compiled or builtin module"),
    ]:
        repo = repo_with(tmp_path / canonical, canonical)
        kind, warnings, notes = resolve(repo, python=venv)
        assert (kind, warnings) == (NameKind.SYMBOL, ())
        assert note in notes[0], notes


def test_a_star_import_that_can_be_followed_needs_no_note(tmp_path: Path) -> None:
    venv = fake_venv(
        tmp_path / "v",
        {
            "star/__init__.py": "from star._impl import *\n",
            "star/_impl.py": "class Thing: ...\n",
        },
    )
    repo = repo_with(tmp_path, "star.Thing")
    kind, warnings, notes = resolve(repo, python=venv)
    assert (kind, warnings) == (NameKind.SYMBOL, ())
    assert "through `from star._impl import *`" in notes[0]
    missing = resolve(repo_with(tmp_path / "x", "star.Thnig"), python=venv)
    assert missing[1] == ()  # a star import of an unparsed module could bind it: accepted


def test_repository_shadows_installed_packages(tmp_path: Path) -> None:
    # The repository's own ``depkg`` decides even when the venv has one that defines Thing.
    repo = make_repo(
        tmp_path / "repo",
        {
            **REPO_FILES,
            "depkg/__init__.py": "",
            "depkg/things.py": "class Other: ...\n",
            "pyproject.toml": TABLE.format(top="", canonical="depkg.things.Thing"),
        },
    )
    fake_venv(repo / ".venv", DEP)
    warning = resolve(repo)[1][0]
    assert "module 'depkg.things' (depkg/things.py) does not define 'Thing'" in warning


def test_resolver_places_are_in_the_documented_order(tmp_path: Path) -> None:
    venv = environment_at(fake_venv(tmp_path / "v", DEP), "test")
    places = places_for(tmp_path, ("",), frozenset(), None, venv)
    labels = [p.label for p in places]
    assert labels[0].startswith("the repository's sources")
    assert labels[1].startswith("the project's environment")
    assert labels[2].startswith("the standard library of Python")
    assert labels[3].startswith("ssot-migrate's own environment")
    found = Resolver(places).resolve("depkg.things.Thing")
    assert found.place == labels[1]


@pytest.mark.parametrize(
    ("files", "canonical", "aliases", "kind", "why"),
    [
        pytest.param(
            {"legacy/__init__.py": "", "legacy/mod.py": "X = 1\n"},
            "gone.mod",
            '["legacy.mod"]',
            NameKind.MODULE,
            "the alias 'legacy.mod' is a module",
            id="alias-found-as-module",
        ),
        pytest.param(
            {},
            "gone.mod",
            '["legacy.mod"]',
            NameKind.MODULE,
            "app/use.py imports 'legacy.mod' as a module",
            id="usage-import-a-module",
        ),
        pytest.param(
            {},
            "collections.Missing",
            '["legacy.Missing"]',
            NameKind.SYMBOL,
            "its parent 'collections' is a module",
            id="parent-is-a-module",
        ),
        pytest.param(
            {},
            "gone.Thing",
            '["legacy.Thing"]',
            NameKind.SYMBOL,
            "nothing shows it is a module",
            id="no-evidence",
        ),
    ],
)
def test_kind_of_a_name_found_nowhere_is_inferred_and_explained(
    tmp_path: Path, files: dict[str, str], canonical: str, aliases: str, kind: NameKind, why: str
) -> None:
    table = f'[tool.ssot-migrate]\n[[tool.ssot-migrate.targets]]\nname = "t"\ncanonical = "{canonical}"\naliases = {aliases}\n'
    use = (
        "import legacy.mod\n\nlegacy.mod.X\n"
        if "legacy.mod" in aliases
        else "from legacy import Thing\n"
    )
    repo = make_repo(
        tmp_path / "repo",
        {"app/__init__.py": "", "app/use.py": use, **files, "pyproject.toml": table},
    )
    config = load_config(repo, environ={})
    (warning,) = config.warnings
    assert config.targets[0].canonical_kind is kind
    assert f"assumed a {kind.value}: {why}" in warning
    # only an assumption: phase 1 then lets each site's own shape decide
    assert why in config.targets[0].kind_assumed


@pytest.mark.parametrize(
    ("canonical", "aliases"),
    [
        pytest.param("gonepkg", '["legacy.mod"]', id="top-level-canonical"),
        pytest.param("gone.mod", '["legacy"]', id="top-level-alias"),
    ],
)
def test_a_top_level_name_proves_a_module(tmp_path: Path, canonical: str, aliases: str) -> None:
    table = f'[tool.ssot-migrate]\n[[tool.ssot-migrate.targets]]\nname = "t"\ncanonical = "{canonical}"\naliases = {aliases}\n'
    repo = make_repo(tmp_path / "repo", {"app/__init__.py": "", "pyproject.toml": table})
    config = load_config(repo, environ={})
    (warning,) = config.warnings
    assert "assumed a module: " in warning and "top-level" in warning
    assert config.targets[0].canonical_kind is NameKind.MODULE
    assert config.targets[0].kind_assumed == ""


@pytest.mark.parametrize(
    ("files", "canonical", "owner"),
    [
        pytest.param(
            {
                "pkg/__init__.py": "",
                "pkg/core.py": "class Outer:\n    class Inner:\n        pass\n",
            },
            "pkg.core.Outer.Inner",
            "'pkg.core' (pkg/core.py) defines",
            id="nested-class-in-the-repo",
        ),
        pytest.param({}, "textwrap.TextWrapper.wrap", "'textwrap' (/", id="method-in-the-stdlib"),
        pytest.param(
            {}, "json.JSONDecoder.decode", "'json' (/", id="method-of-a-re-exported-class"
        ),
    ],
)
def test_an_attribute_of_an_object_is_refused_with_the_way_out(
    tmp_path: Path, files: dict[str, str], canonical: str, owner: str
) -> None:
    # Found before as "nowhere" (with itself as the did-you-mean), then rewritten into
    # `from pkg.core.Outer import Inner`, an import of a module that does not exist.
    table = (
        f'[tool.ssot-migrate]\n[[tool.ssot-migrate.targets]]\nname = "t"\n'
        f'canonical = "{canonical}"\naliases = ["legacy.Old"]\n'
    )
    repo = make_repo(tmp_path / "repo", {**files, "pyproject.toml": table})
    with pytest.raises(ConfigError) as refused:
        load_config(repo, environ={})
    (problem,) = refused.value.problems
    parent, _, leaf = canonical.rpartition(".")
    assert problem.startswith("tool.ssot-migrate.targets[0] ('t').canonical: ")
    assert f"{canonical!r} is an attribute of {parent!r}" in problem
    assert f"is not a module but a name module {owner}" in problem
    assert f"`{leaf} = {parent.rpartition('.')[2]}.{leaf}`" in problem
    assert "did you mean" not in problem

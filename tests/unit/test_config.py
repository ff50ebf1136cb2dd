"""Configuration: every bad key is refused before any work, named with its reason, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssot_migrate.config import load_config, module_for_path, ref_prefix_problem
from ssot_migrate.errors import ConfigError
from ssot_migrate.model import NameKind
from tests.helpers.repos import make_repo, run_cli

SOURCES = {
    "app/__init__.py": "",
    "app/core/__init__.py": "",
    "app/core/unified.py": "class Unified:\n    pass\n",
    "app/core/manager.py": "from app.core.unified import Unified as Manager\n",
    "app/legacy/__init__.py": "",
    "app/legacy/mod.py": "X = 1\n",
    "app/modern/__init__.py": "",
    "app/modern/mod.py": "X = 1\n",
}

GOOD = """
[tool.ssot-migrate]
test-command = "python -m pytest -q"
[[tool.ssot-migrate.targets]]
name = "manager"
canonical = "app.core.unified.Unified"
aliases = ["app.core.manager.Manager"]
"""


def config_repo(tmp_path: Path, table: str, extra: dict[str, str] | None = None) -> Path:
    files: dict[str, str] = {**SOURCES, "pyproject.toml": table, **(extra or {})}
    return make_repo(tmp_path / "repo", files)


def problems_of(tmp_path: Path, table: str) -> str:
    repo = config_repo(tmp_path, table)
    with pytest.raises(ConfigError) as info:
        load_config(repo)
    return str(info.value)


def test_valid_config_resolves_kinds_and_defaults(tmp_path: Path) -> None:
    config = load_config(config_repo(tmp_path, GOOD))
    (target,) = config.targets
    assert target.canonical_kind is NameKind.SYMBOL
    assert target.aliases == ("app.core.manager.Manager",)
    assert target.discover_aliases is True
    assert config.branch_prefix == "ssot/"
    assert config.test_timeout == 1800
    assert config.source_roots == ("",)
    assert len(config.digest) == 16


def test_module_canonical_is_a_module(tmp_path: Path) -> None:
    table = GOOD.replace('"app.core.unified.Unified"', '"app.modern.mod"').replace(
        '["app.core.manager.Manager"]', '["app.legacy.mod"]'
    )
    config = load_config(config_repo(tmp_path, table))
    assert config.targets[0].canonical_kind is NameKind.MODULE


def test_external_module_canonical_is_found_without_importing_the_repo(tmp_path: Path) -> None:
    table = GOOD.replace('"app.core.unified.Unified"', '"urllib.parse"').replace(
        '["app.core.manager.Manager"]', '["app.legacy.mod"]'
    )
    config = load_config(config_repo(tmp_path, table))
    assert config.targets[0].canonical_kind is NameKind.MODULE
    assert config.warnings == ()


@pytest.mark.parametrize(
    ("canonical", "kind"),
    [
        ("collections.OrderedDict", NameKind.SYMBOL),  # a symbol of an external module
        ("urllib.parse.urlparse", NameKind.SYMBOL),
        ("os.path.join", NameKind.SYMBOL),  # os.path is `import posixpath as path` in os
        ("unittest.mock", NameKind.MODULE),
        ("typing.List", NameKind.SYMBOL),
        ("builtins.list", NameKind.SYMBOL),
        ("collections.abc.Mapping", NameKind.SYMBOL),  # through `from _collections_abc import *`
    ],
)
def test_standard_library_names_resolve_without_warning(
    tmp_path: Path, canonical: str, kind: NameKind
) -> None:
    table = GOOD.replace('"app.core.unified.Unified"', f'"{canonical}"')
    config = load_config(config_repo(tmp_path, table))
    assert config.targets[0].canonical_kind is kind
    assert config.warnings == ()


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        pytest.param(
            GOOD.replace("test-command", "test-comand"),
            "tool.ssot-migrate.test-comand: unknown key (did you mean 'test-command'?)",
            id="unknown-top-level-key",
        ),
        pytest.param(
            GOOD.replace("aliases = [", "alias = [").replace(
                'name = "manager"', 'name = "manager"\naliases = []'
            ),
            ".alias: unknown key (did you mean 'aliases'?)",
            id="unknown-target-key",
        ),
        pytest.param(
            GOOD.replace('"python -m pytest -q"', "42"),
            "tool.ssot-migrate.test-command: must be a non-empty string or a non-empty array",
            id="wrong-type-test-command",
        ),
        pytest.param(
            GOOD.replace('"app.core.unified.Unified"', '"app.core..Unified"'),
            "'app.core..Unified' is not a valid dotted name",
            id="malformed-canonical",
        ),
        pytest.param(
            GOOD.replace('["app.core.manager.Manager"]', '["app.core.manager.Man ager"]'),
            "'app.core.manager.Man ager' is not a valid dotted name",
            id="alias-with-space",
        ),
        pytest.param(
            GOOD.replace('["app.core.manager.Manager"]', '["app.class.Manager"]'),
            "'app.class.Manager' is not a valid dotted name",
            id="alias-with-keyword",
        ),
        pytest.param(
            GOOD.replace('["app.core.manager.Manager"]', '["app.core.unified.Unified"]'),
            "'app.core.unified.Unified' is the canonical itself",
            id="alias-equals-canonical",
        ),
        pytest.param(
            GOOD + '[[tool.ssot-migrate.targets]]\nname = "other"\ncanonical = "app.modern.mod"\n'
            'aliases = ["app.core.manager.Manager"]\n',
            "is also an alias in",
            id="alias-in-two-targets",
        ),
        pytest.param(
            '[tool.ssot-migrate]\ntest-command = "pytest"\n',
            "tool.ssot-migrate.targets: required",
            id="missing-targets",
        ),
        pytest.param(
            "[tool.ssot-migrate]\ntargets = []\n",
            "tool.ssot-migrate.targets: is empty",
            id="empty-targets",
        ),
        pytest.param(
            '[tool.ssot-migrate]\nguard = "flake8"\n' + GOOD.split("\n", 2)[2],
            "tool.ssot-migrate.guard: must be one of ruff, import-linter",
            id="bad-guard",
        ),
        pytest.param(
            GOOD + 'discover-aliases = "yes"\n',
            "discover-aliases: must be true or false, not a string",
            id="bool-as-string",
        ),
    ],
)
def test_bad_config_is_named(tmp_path: Path, table: str, expected: str) -> None:
    message = problems_of(tmp_path, table)
    assert expected in message
    assert "pyproject.toml" in message


@pytest.mark.parametrize(
    ("canonical", "expected"),
    [
        pytest.param(
            "app.core.unified.Unifeid",
            "module 'app.core.unified' (app/core/unified.py) does not define 'Unifeid'",
            id="symbol-misspelt",
        ),
        pytest.param(
            "app.core.unifed.Unified", "no module 'app.core.unifed.Unified'", id="module-misspelt"
        ),
        pytest.param(
            "collections.OrderedDcit", "module 'collections' (", id="stdlib-symbol-misspelt"
        ),
        pytest.param(
            "colections.OrderedDict", "no module 'colections.OrderedDict'", id="stdlib-top-misspelt"
        ),
    ],
)
def test_name_found_nowhere_is_a_warning_unless_strict(
    tmp_path: Path, canonical: str, expected: str
) -> None:
    table = GOOD.replace('"app.core.unified.Unified"', f'"{canonical}"')
    repo = config_repo(tmp_path, table)
    config = load_config(repo)
    (warning,) = config.warnings
    good = canonical.replace("Unifeid", "Unified").replace("unifed", "unified")
    good = good.replace("Dcit", "Dict").replace("colections", "collections")
    assert warning.startswith("tool.ssot-migrate.targets[0] ('manager').canonical: ")
    assert expected in warning
    assert f"did you mean '{good}'" in warning
    # every place looked in is named, in order
    places = ["the repository's sources", "the standard library of Python", "ssot-migrate's own"]
    assert all(p in warning for p in places)
    assert [warning.index(p) for p in places] == sorted(warning.index(p) for p in places)
    assert "assumed a symbol" in warning
    for strict_config in (
        lambda: load_config(repo, strict=True),
        lambda: load_config(
            config_repo(
                tmp_path / "k",
                table.replace("[tool.ssot-migrate]", "[tool.ssot-migrate]\nstrict = true"),
            )
        ),
    ):
        with pytest.raises(ConfigError) as info:
            strict_config()
        assert expected in str(info.value) and "pyproject.toml" in str(info.value)


def test_strict_and_python_keys_are_checked(tmp_path: Path) -> None:
    table = GOOD.replace(
        "[tool.ssot-migrate]", '[tool.ssot-migrate]\nstrict = "yes"\npython = "nowhere/bin/python"'
    )
    message = problems_of(tmp_path, table)
    assert "tool.ssot-migrate.strict: must be true or false, not a string" in message
    assert "tool.ssot-migrate.python: " in message and "does not exist" in message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    table = GOOD.replace("test-command", "tset-command").replace(
        '"app.core.unified.Unified"', '"app..Unified"'
    )
    message = problems_of(tmp_path, table)
    assert "2 configuration errors" in message
    assert "tset-command" in message and "app..Unified" in message


def test_timeout_must_be_positive(tmp_path: Path) -> None:
    table = GOOD.replace('test-command = "python -m pytest -q"', "test-timeout = 0")
    assert "test-timeout: must be a positive number" in problems_of(tmp_path, table)


@pytest.mark.parametrize("prefix", ["-x", "a..b", "x@{y", "has space/", ".hidden/", "a/b.lock/"])
def test_branch_prefix_refused(tmp_path: Path, prefix: str) -> None:
    table = GOOD.replace('test-command = "python -m pytest -q"', f'branch-prefix = "{prefix}"')
    assert "branch-prefix" in problems_of(tmp_path, table)
    assert ref_prefix_problem(prefix) is not None


def test_alias_chain_is_followed_to_its_end(tmp_path: Path) -> None:
    table = (
        GOOD
        + '[[tool.ssot-migrate.targets]]\nname = "chained"\ncanonical = "app.core.manager.Manager"\n'
        'aliases = ["app.legacy.mod.Manager"]\n'
    )
    repo = config_repo(tmp_path, table, {"app/legacy/mod.py": "Manager = 1\n"})
    config = load_config(repo)
    chained = next(t for t in config.targets if t.name == "chained")
    assert chained.canonical == "app.core.unified.Unified"


def test_alias_cycle_is_refused(tmp_path: Path) -> None:
    table = """
[tool.ssot-migrate]
[[tool.ssot-migrate.targets]]
name = "a"
canonical = "app.legacy.mod"
aliases = ["app.modern.mod"]
[[tool.ssot-migrate.targets]]
name = "b"
canonical = "app.modern.mod"
aliases = ["app.legacy.mod"]
"""
    assert "alias cycle" in problems_of(tmp_path, table)


def test_invalid_toml_names_the_file_and_line(tmp_path: Path) -> None:
    message = problems_of(tmp_path, GOOD + "\n[[tool.ssot-migrate.targets\n")
    assert "invalid TOML" in message and "line" in message


def test_separate_config_file(tmp_path: Path) -> None:
    repo = config_repo(tmp_path, "[project]\nname = 'x'\n")
    other = tmp_path / "ssot.toml"
    other.write_text(GOOD)
    assert load_config(repo, other).source == other


def test_missing_table(tmp_path: Path) -> None:
    message = problems_of(tmp_path, "[project]\nname = 'x'\n")
    assert "no [tool.ssot-migrate] table" in message


@pytest.mark.parametrize(
    ("path", "roots", "module", "package"),
    [
        ("app/core/unified.py", ("",), "app.core.unified", False),
        ("app/core/__init__.py", ("",), "app.core", True),
        ("src/pkg/mod.py", ("", "src"), "pkg.mod", False),
        ("scripts/my-tool.py", ("",), None, False),
        ("README.md", ("",), None, False),
    ],
)
def test_module_names_from_source_roots(
    path: str, roots: tuple[str, ...], module: str | None, package: bool
) -> None:
    source = module_for_path(path, roots)
    assert source.module == module
    assert source.is_package is package


def test_src_layout_is_a_default_root(tmp_path: Path) -> None:
    files = {
        "src/app/__init__.py": "",
        "src/app/unified.py": "class Unified: ...\n",
        "src/app/old.py": "Old = 1\n",
        "pyproject.toml": GOOD.replace("app.core.unified.Unified", "app.unified.Unified").replace(
            "app.core.manager.Manager", "app.old.Old"
        ),
    }
    config = load_config(make_repo(tmp_path / "repo", files))
    assert config.source_roots == ("", "src")


def test_cli_reports_config_errors_with_exit_2(tmp_path: Path) -> None:
    repo = config_repo(tmp_path, GOOD.replace("canonical", "canonicall"))
    proc = run_cli("phase1", "--dry-run", "--repo", str(repo))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "error:" in proc.stderr
    assert "canonicall: unknown key (did you mean 'canonical'?)" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_missing_config_file_exit_2(tmp_path: Path) -> None:
    repo = config_repo(tmp_path, GOOD)
    proc = run_cli(
        "phase1", "--dry-run", "--repo", str(repo), "--config", str(tmp_path / "no.toml")
    )
    assert proc.returncode == 2
    assert "config file not found" in proc.stderr


def test_cli_not_a_repository_exit_2(tmp_path: Path) -> None:
    proc = run_cli("phase1", "--dry-run", "--repo", str(tmp_path))
    assert proc.returncode == 2
    assert "not a git repository" in proc.stderr


def test_cli_unknown_base_exit_2(tmp_path: Path) -> None:
    repo = config_repo(tmp_path, GOOD)
    proc = run_cli("phase1", "--dry-run", "--repo", str(repo), "--base", "no-such-branch")
    assert proc.returncode == 2
    assert "unknown revision 'no-such-branch'" in proc.stderr


def test_duplicate_overlap_is_a_percentage(tmp_path: Path) -> None:
    assert "duplicate-overlap: must be a percentage" in problems_of(
        tmp_path, GOOD + "duplicate-overlap = 150\n"
    )
    repo = config_repo(tmp_path / "ok", GOOD + "duplicate-overlap = 40\n")
    assert load_config(repo).targets[0].duplicate_overlap == 40.0


def test_config_path_that_is_a_directory(tmp_path: Path) -> None:
    repo = config_repo(tmp_path, GOOD)
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(repo, tmp_path)


def test_replace_facade_logic_names_configured_facades(tmp_path: Path) -> None:
    table = GOOD + (
        'facades = ["app.core.manager.Manager"]\n'
        'replace-facade-logic = ["app.core.manager.Manager"]\n'
    )
    (target,) = load_config(config_repo(tmp_path, table)).targets
    assert target.replace_facade_logic == ("app.core.manager.Manager",)
    assert (
        load_config(config_repo(tmp_path / "default", GOOD)).targets[0].replace_facade_logic == ()
    )


def test_replace_facade_logic_outside_facades_is_refused(tmp_path: Path) -> None:
    table = GOOD + 'facades = []\nreplace-facade-logic = ["app.legacy.mod.Old", "not a name"]\n'
    message = problems_of(tmp_path, table)
    assert ".replace-facade-logic: " in message
    assert "'app.legacy.mod.Old' is not listed in facades" in message
    assert "not a name" in message


def test_verification_keys_defaults_and_values(tmp_path: Path) -> None:
    default = load_config(config_repo(tmp_path / "a", GOOD))
    assert (default.test_env, default.test_jobs, default.rerun, default.tests) == (
        (),
        None,
        1,
        "all",
    )
    table = GOOD.replace(
        'test-command = "python -m pytest -q"',
        'test-command = "python -m pytest -q"\nrerun = 0\ntest-jobs = 1\n'
        'test-env = { DATABASE_URL = "sqlite:///{tmpdir}/db", A = "1" }',
    )
    config = load_config(config_repo(tmp_path / "b", table))
    assert config.test_env == (("A", "1"), ("DATABASE_URL", "sqlite:///{tmpdir}/db"))
    assert (config.test_jobs, config.rerun) == (1, 0)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("rerun = -1", "rerun: must be an integer >= 0, got -1"),
        ("rerun = true", "rerun: must be an integer >= 0, got True"),
        ("test-jobs = 0", "test-jobs: must be an integer >= 1, got 0"),
        ('test-jobs = "2"', "test-jobs: must be an integer >= 1, got '2'"),
        ('test-env = "A=1"', "test-env: must be a table"),
        ("test-env = { A = 1 }", "test-env.A: must be a string, not an integer"),
        ('test-env = { "A=B" = "1" }', "'A=B' is not an environment variable name"),
        ('tests = "changed"', "tests: must be one of 'all', 'affected', got 'changed'"),
        ("tests = 1", "tests: must be one of 'all', 'affected', got 1"),
    ],
)
def test_bad_verification_keys_are_named(tmp_path: Path, line: str, expected: str) -> None:
    table = GOOD.replace(
        'test-command = "python -m pytest -q"', f'test-command = "python -m pytest -q"\n{line}'
    )
    assert expected in problems_of(tmp_path, table)

"""``guard --write``: the configuration it writes is accepted and enforced by ruff and import-linter."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.helpers.repos import git, git_env, make_repo, run_cli
from tests.helpers.scan import fixture_files

BIN = Path(sys.executable).parent


def tool(repo: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run a linter the way a user would, in the repo, with the repo importable (import-linter)."""
    return subprocess.run(
        list(argv),
        cwd=repo,
        env=git_env({"PYTHONPATH": str(repo)}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def clean_repo(root: Path) -> Path:
    """The consolidated fixture plus the legacy alias module, which nothing imports any more."""
    files = fixture_files("consolidated")
    files["app/legacy/__init__.py"] = ""
    files["app/legacy/manager.py"] = (
        "from app.core.unified import UnifiedWebSocketManager\n\n"
        "WebSocketManager = UnifiedWebSocketManager\n"
    )
    return make_repo(root, files)


def test_ruff_guard(tmp_path: Path) -> None:
    bad = make_repo(tmp_path / "bad", fixture_files("violating"))
    good = clean_repo(tmp_path / "good")
    pyproject = bad / "pyproject.toml"
    pyproject.write_text("# keep me\n" + pyproject.read_text())
    for repo in (bad, good):
        result = run_cli("guard", "--write", "ruff", "--repo", str(repo))
        assert result.returncode == 0, result.stderr
    text = pyproject.read_text()
    assert text.startswith("# keep me\n[tool.ssot-migrate]")  # the rest of the file is kept
    assert (
        '"app.legacy.manager.WebSocketManager" = {msg = "use '
        'app.core.unified.UnifiedWebSocketManager instead (ssot-migrate)"}'
    ) in text
    # Running it again changes nothing.
    again = run_cli("guard", "--write", "ruff", "--repo", str(bad))
    assert again.returncode == 0 and "nothing to do" in again.stderr
    assert pyproject.read_text() == text

    # ruff accepts the configuration (a bad key would exit 2) and enforces it.
    violations = tool(
        bad,
        str(BIN / "ruff"),
        "check",
        "--no-cache",
        "--select",
        "TID251",
        "--output-format",
        "concise",
        ".",
    )
    assert violations.returncode == 1, violations.stderr
    flagged = sorted(
        line.split(":")[0] for line in violations.stdout.splitlines() if "TID251" in line
    )
    assert flagged == [
        "app/compat.py",
        "app/services/chat.py",
        "app/services/notify.py",
        "app/services/rooms.py",
        "app/services/rooms.py",
    ]
    assert "use app.core.unified.UnifiedWebSocketManager instead" in violations.stdout
    clean = tool(good, str(BIN / "ruff"), "check", "--no-cache", "--select", "TID251", ".")
    assert clean.returncode == 0, clean.stdout + clean.stderr


def test_import_linter_guard(tmp_path: Path) -> None:
    bad = make_repo(tmp_path / "bad", fixture_files("violating"))
    good = clean_repo(tmp_path / "good")
    for repo in (bad, good):
        result = run_cli("guard", "--write", "import-linter", "--repo", str(repo))
        assert result.returncode == 0, result.stderr
    text = (bad / "pyproject.toml").read_text()
    # The shims (the alias modules and the re-exporting compat module), not the facade's.
    assert 'forbidden_modules = ["app.compat", "app.legacy.manager", "app.legacy.old"]' in text
    assert (
        "ssot-migrate: use app.core.unified.UnifiedWebSocketManager, not its legacy modules" in text
    )
    assert '"app.legacy.facade"' not in text  # facade modules stay allowed

    broken = tool(bad, str(BIN / "lint-imports"), "--no-cache")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "app.compat is not allowed to import app.legacy.manager" in broken.stdout
    assert "app.services.chat -> app.legacy.manager" in broken.stdout
    kept = tool(good, str(BIN / "lint-imports"), "--no-cache")
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "KEPT" in kept.stdout and "BROKEN" not in kept.stdout


def test_guard_refuses_unknown_kind(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", fixture_files("consolidated"))
    result = run_cli("guard", "--write", "flake8", "--repo", str(repo))
    assert result.returncode == 2
    assert "--write 'flake8'" in result.stderr


# --- the guards on a repository of our own, checked by the real linters ----------------------

OWN_PYPROJECT = """\
[tool.ssot-migrate]
test-command = "python -m pytest -q"

[[tool.ssot-migrate.targets]]
name = "manager"
canonical = "app.core.unified.UnifiedManager"
aliases = ["app.legacy.manager.Manager", "app.legacy.mixed.MixedManager"]

[[tool.ssot-migrate.targets]]
name = "codec"
canonical = "app.core.codec"
aliases = ["app.legacy.codec"]
"""

# Consolidated (scan says so): the legacy modules are still there, one of them (``mixed``)
# still defines a name consumers use, and the legacy package re-exports its shim with a star.
OWN_FILES: dict[str, str | bytes] = {
    "pyproject.toml": OWN_PYPROJECT,
    "app/__init__.py": "",
    "app/core/__init__.py": "",
    "app/core/unified.py": "class UnifiedManager:\n    pass\n",
    "app/core/codec.py": "def encode(x):\n    return x\n",
    "app/legacy/__init__.py": '"""Old home, kept for plugins."""\nfrom app.legacy.manager import *\n',
    "app/legacy/manager.py": (
        '"""Deprecated."""\nfrom app.core.unified import UnifiedManager as Manager\n\n'
        '__all__ = ["Manager"]\n'
    ),
    "app/legacy/mixed.py": (
        "from app.core.unified import UnifiedManager\n\nMixedManager = UnifiedManager\n\n\n"
        "class Config:\n    debug = False\n"
    ),
    "app/legacy/codec.py": "from app.core.codec import *\n",
    "app/services/__init__.py": "",
    "app/services/chat.py": (
        "from app.core.unified import UnifiedManager\nfrom app.legacy.mixed import Config\n\n\n"
        "def chat():\n    return UnifiedManager(), Config\n"
    ),
    "app/services/coding.py": "from app.core import codec\n\n\ndef run():\n    return codec.encode(1)\n",
    "tests/__init__.py": "",
    "tests/test_chat.py": "from app.services.chat import chat\n\n\ndef test_chat():\n    assert chat()\n",
}

# Every shape of legacy import, each used (ruff resolves what a name is bound to).
SHAPES = {
    "from_symbol": "from app.legacy.manager import Manager\n\nVALUE = Manager\n",
    "import_module": "import app.legacy.manager\n\nVALUE = app.legacy.manager.Manager\n",
    "from_package": "from app.legacy import manager\n\nVALUE = manager.Manager\n",
    "relative": "from {legacy}manager import Manager\n\nVALUE = Manager\n",
    "mixed_symbol": "from app.legacy.mixed import MixedManager\n\nVALUE = MixedManager\n",
    "reexport": "from app.legacy import Manager\n\nVALUE = Manager\n",
    "module_alias": "from app.legacy.codec import encode\n\nVALUE = encode\n",
    "module_alias_import": "import app.legacy.codec as codec\n\nVALUE = codec.encode\n",
}
# An old package, a package that did not exist when the guard was written, and the legacy
# package itself (next to the legacy module).
PLACES = {"app/services": "..legacy.", "app/jobs": "..legacy.", "app/legacy": "."}
# What import-linter can forbid: imports of the shim module and of the whole-module alias.
MODULE_SHAPES = {
    "from_symbol",
    "import_module",
    "from_package",
    "relative",
    "module_alias",
    "module_alias_import",
}


def own_repo(root: Path, extra: dict[str, str | bytes] | None = None) -> Path:
    return make_repo(root, {**OWN_FILES, **(extra or {})})


def add_legacy_imports(repo: Path) -> set[str]:
    """Write every shape in every place; returns the dotted modules written."""
    written = set()
    for place, legacy in PLACES.items():
        (repo / place).mkdir(exist_ok=True)
        (repo / place / "__init__.py").touch()
        for shape, text in SHAPES.items():
            path = repo / place / f"added_{shape}.py"
            path.write_text(text.replace("{legacy}", legacy), encoding="utf-8")
            written.add(f"{place.replace('/', '.')}.added_{shape}")
    return written


def ruff_flagged(repo: Path) -> set[str]:
    """Modules ruff reports TID251 in, run as a user would: ``ruff check`` and its config."""
    proc = tool(repo, str(BIN / "ruff"), "check", "--no-cache", "--output-format", "concise", ".")
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    return {
        line.split(":")[0].removesuffix(".py").replace("/", ".")
        for line in proc.stdout.splitlines()
        if "TID251" in line
    }


def lint_imports_broken(repo: Path) -> set[str]:
    """Modules import-linter reports as importing a forbidden module."""
    proc = tool(repo, str(BIN / "lint-imports"), "--no-cache")
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    if proc.returncode == 0:
        assert "BROKEN" not in proc.stdout
        return set()
    return set(re.findall(r"^(\S+) is not allowed to import", proc.stdout, re.MULTILINE))


def test_own_repository_is_consolidated(tmp_path: Path) -> None:
    repo = own_repo(tmp_path / "r")
    proc = run_cli("scan", "--repo", str(repo))
    assert proc.returncode == 0 and "verdict: consolidated" in proc.stderr, proc.stderr


def test_import_linter_guard_keeps_a_consolidated_repo_and_breaks_on_every_legacy_import(
    tmp_path: Path,
) -> None:
    repo = own_repo(tmp_path / "r")
    proc = run_cli("guard", "--write", "import-linter", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    # Which ban went where, said by the command.
    assert "import-linter (pyproject.toml) forbids 2 legacy path(s)" in proc.stderr
    assert "app.legacy.manager (app.legacy.manager.Manager: pure shim" in proc.stderr
    assert "app.legacy.codec (app.legacy.codec: whole-module alias)" in proc.stderr
    assert "ruff (pyproject.toml) bans 2 path(s) (import-linter cannot express them)" in proc.stderr
    assert (
        "app.legacy.mixed.MixedManager (app.legacy.mixed cannot be forbidden whole: "
        "it defines Config)" in proc.stderr
    )
    assert "app.legacy -> app.legacy.manager" in proc.stderr  # the star re-export, kept
    text = (repo / "pyproject.toml").read_text(encoding="utf-8")
    assert 'source_modules = ["app", "app.**", "tests", "tests.**"]' in text
    assert 'ignore_imports = ["app.legacy -> app.legacy.manager"]' in text
    # Consolidated: every contract kept, ruff clean.
    kept = tool(repo, str(BIN / "lint-imports"), "--no-cache")
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "Contracts: 2 kept, 0 broken." in kept.stdout
    assert ruff_flagged(repo) == set()
    # A legacy import anywhere, in any shape, is rejected by one of the two.
    added = add_legacy_imports(repo)
    broken = lint_imports_broken(repo)
    flagged = ruff_flagged(repo)
    assert broken == {m for m in added if m.rsplit("added_", 1)[1] in MODULE_SHAPES}
    assert flagged == {m for m in added if m.rsplit("added_", 1)[1] not in MODULE_SHAPES}
    assert broken | flagged == added


def test_ruff_guard_in_ruff_toml_rejects_every_legacy_import(tmp_path: Path) -> None:
    ruff_toml = '# team settings\nline-length = 100\n\n[lint]\nextend-select = ["I"]  # isort\n'
    repo = own_repo(tmp_path / "r", {"ruff.toml": ruff_toml})
    pyproject = (repo / "pyproject.toml").read_bytes()
    proc = run_cli("guard", "--write", "ruff", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    assert "ruff (ruff.toml) bans 4 path(s)" in proc.stderr
    assert (repo / "pyproject.toml").read_bytes() == pyproject  # ruff would not read it
    text = (repo / "ruff.toml").read_text(encoding="utf-8")
    assert text.startswith(ruff_toml.replace('["I"]', '["I", "TID251"]'))  # comments kept
    assert "[lint.flake8-tidy-imports.banned-api]" in text and "[tool" not in text
    again = run_cli("guard", "--write", "ruff", "--repo", str(repo))
    assert again.returncode == 0 and "nothing to do" in again.stderr
    assert (repo / "ruff.toml").read_text(encoding="utf-8") == text
    assert ruff_flagged(repo) == set()
    added = add_legacy_imports(repo)
    assert ruff_flagged(repo) == added


def test_ruff_guard_follows_ruffs_own_precedence(tmp_path: Path) -> None:
    # .ruff.toml wins over ruff.toml, which wins over pyproject.toml's [tool.ruff].
    repo = own_repo(
        tmp_path / "r",
        {
            ".ruff.toml": "line-length = 90\n",
            "ruff.toml": "line-length = 80\n",
        },
    )
    with (repo / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n[tool.ruff]\nline-length = 70\n")
    before = {n: (repo / n).read_bytes() for n in ("ruff.toml", "pyproject.toml")}
    proc = run_cli("guard", "--write", "ruff", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    assert {n: (repo / n).read_bytes() for n in before} == before
    assert "banned-api" in (repo / ".ruff.toml").read_text(encoding="utf-8")
    assert ruff_flagged(repo) == set()
    added = add_legacy_imports(repo)
    assert ruff_flagged(repo) == added


def test_ruff_guard_refuses_when_banned_api_lives_up_the_extend_chain(tmp_path: Path) -> None:
    base = '[lint.flake8-tidy-imports.banned-api]\n"requests".msg = "use httpx"\n'
    repo = own_repo(
        tmp_path / "r", {"config/base.toml": base, "ruff.toml": 'extend = "config/base.toml"\n'}
    )
    proc = run_cli("guard", "--write", "ruff", "--repo", str(repo))
    assert proc.returncode == 2
    assert "ruff reads banned-api from config/base.toml (ruff.toml extends it" in proc.stderr
    assert (repo / "ruff.toml").read_text(encoding="utf-8") == 'extend = "config/base.toml"\n'
    assert git(repo, "status", "--porcelain") == ""


def test_ruff_guard_extends_per_file_ignores_of_an_extended_file(tmp_path: Path) -> None:
    base = '[lint.per-file-ignores]\n"scripts/*" = ["T201"]\n'
    repo = own_repo(tmp_path / "r", {"base.toml": base, "ruff.toml": 'extend = "base.toml"\n'})
    proc = run_cli("guard", "--write", "ruff", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    text = (repo / "ruff.toml").read_text(encoding="utf-8")
    # per-file-ignores here would replace base.toml's; the extend- form adds to them.
    assert "[lint.extend-per-file-ignores]" in text and "[lint.per-file-ignores]" not in text
    assert (repo / "base.toml").read_text(encoding="utf-8") == base
    assert ruff_flagged(repo) == set()
    added = add_legacy_imports(repo)
    assert ruff_flagged(repo) == added


def test_import_linter_guard_refuses_an_ini_configuration(tmp_path: Path) -> None:
    ini = "[importlinter]\nroot_package = app\n"
    repo = own_repo(tmp_path / "r", {".importlinter": ini})
    proc = run_cli("guard", "--write", "import-linter", "--repo", str(repo))
    assert proc.returncode == 2
    assert ".importlinter has an [importlinter] section" in proc.stderr
    assert git(repo, "status", "--porcelain") == ""


def test_import_linter_guard_leaves_out_what_import_linter_cannot_read(tmp_path: Path) -> None:
    # A package with a file that does not parse (Django's tests hold one on purpose) would stop
    # lint-imports altogether; a top-level module cannot be a root package.
    repo = own_repo(
        tmp_path / "r",
        {
            "scripts/ok.py": "from app.core.unified import UnifiedManager\n",
            "scripts/broken.py": "def (:\n",
            "manage.py": "import app\n",
        },
    )
    proc = run_cli("guard", "--write", "import-linter", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    assert (
        "import-linter cannot build the graph of scripts (scripts/broken.py does not parse): "
        "left out of its contracts; `guard --write ruff` covers it"
    ) in proc.stderr
    assert (
        "import-linter cannot check top-level modules (not packages): manage; "
        "`guard --write ruff` covers them"
    ) in proc.stderr
    assert 'root_packages = ["app", "tests"]' in (repo / "pyproject.toml").read_text(
        encoding="utf-8"
    )
    # scripts.ok re-exports the canonical (an import it does not use): a shim outside the graph,
    # banned by ruff instead.
    assert "scripts.ok.UnifiedManager (scripts is not in import-linter's graph)" in proc.stderr
    kept = tool(repo, str(BIN / "lint-imports"), "--no-cache")
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "Contracts: 2 kept, 0 broken." in kept.stdout


def test_ruff_guard_with_dotted_lint_keys(tmp_path: Path) -> None:
    # SymPy's pyproject.toml sets `lint.select = [...]` under [tool.ruff]: a [lint...] table added
    # under that dotted key would land at the top of the file, where ruff never looks.
    ruff_table = (
        '\n[tool.ruff]\nlint.select = ["E", "F"]\nline-length = 100\n\n'
        '[tool.ruff.lint.per-file-ignores]\n"app/services/chat.py" = ["F401"]\n'
    )
    repo = own_repo(
        tmp_path / "r",
        {
            "pyproject.toml": OWN_PYPROJECT + ruff_table,
            # A path that is also a module's name (sympy.core.sympify): banning it would ban the module.
            "app/legacy/shims/__init__.py": "from .manager import manager\n",
            "app/legacy/shims/manager.py": "from app.core.unified import UnifiedManager as manager\n",
        },
    )
    proc = run_cli("guard", "--write", "ruff", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    assert (
        "not banned (each is also a module's name; a ban would forbid every import from that "
        "module): app.legacy.shims.manager" in proc.stderr
    )
    text = (repo / "pyproject.toml").read_text(encoding="utf-8")
    assert 'lint.extend-select = ["TID251"]' in text and "\n[lint" not in text
    assert (
        'lint.flake8-tidy-imports.banned-api."app.legacy.manager.Manager".msg = '
        '"use app.core.unified.UnifiedManager instead (ssot-migrate)"'
    ) in text
    again = run_cli("guard", "--write", "ruff", "--repo", str(repo))
    assert again.returncode == 0 and "nothing to do" in again.stderr
    # The package's re-export of its module's name is a legacy import scan counts too.
    scan = run_cli("scan", "--repo", str(repo))
    assert "app/legacy/shims/__init__.py" in scan.stdout and "legacy-import" in scan.stdout
    assert ruff_flagged(repo) == {"app.legacy.shims.__init__"}
    added = add_legacy_imports(repo)
    assert ruff_flagged(repo) == added | {"app.legacy.shims.__init__"}

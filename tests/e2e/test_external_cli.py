"""Canonicals outside the repository, end to end through the real CLI and real git.

(a) a package whose ``compat.py`` re-exports ten standard-library names, used across the package
and its tests: ``phase1`` makes a verified branch, no legacy site is left, the suite is the same;
(b) ssot-migrate runs in its own environment, the project and its dependency live in another one
(a real venv, the dependency installed by pip from a local folder): the canonical is found there,
through ``.venv/`` and through ``--python``;
(c) a misspelt canonical: a warning with a did-you-mean (dry-run summary, scan, commit, pull
request), exit 0; ``--strict`` makes it exit 2.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.repos import git, make_repo, run_cli

STDLIB = {
    "OrderedDict": "collections.OrderedDict",
    "lru_cache": "functools.lru_cache",
    "SimpleCookie": "http.cookies.SimpleCookie",
    "StringIO": "io.StringIO",
    "chain": "itertools.chain",
    "json_dumps": "json.dumps",
    "List": "typing.List",
    "quote": "urllib.parse.quote",
    "urlencode": "urllib.parse.urlencode",
    "urlparse": "urllib.parse.urlparse",
}

COMPAT_FILES = {
    ".gitignore": "__pycache__/\n.venv/\n",
    "pkg/__init__.py": "",
    "pkg/compat.py": (
        '"""Compatibility layer: every name now comes from the standard library."""\n'
        "from collections import OrderedDict\n"
        "from functools import lru_cache\n"
        "from http.cookies import SimpleCookie\n"
        "from io import StringIO\n"
        "from itertools import chain\n"
        "from json import dumps as json_dumps\n"
        "from typing import List\n"
        "from urllib.parse import quote, urlencode, urlparse\n\n"
        '__all__ = ["OrderedDict", "lru_cache", "SimpleCookie", "StringIO", "chain", "json_dumps",\n'
        '           "List", "quote", "urlencode", "urlparse"]\n'
    ),
    "pkg/web.py": (
        "from pkg.compat import OrderedDict, urlparse, urlencode, quote\n"
        "from pkg.compat import json_dumps\n\n\n"
        'def split(url: str) -> "OrderedDict[str, str]":\n'
        "    parts = urlparse(url)\n"
        "    return OrderedDict(scheme=parts.scheme, host=parts.netloc, path=quote(parts.path))\n\n\n"
        "def query(params: dict) -> str:\n"
        "    return urlencode(sorted(params.items()))\n\n\n"
        "def as_json(obj: object) -> str:\n"
        "    return json_dumps(obj, sort_keys=True)\n"
    ),
    "pkg/util.py": (
        "from . import compat\n"
        "from .compat import StringIO, lru_cache\n"
        "import pkg.compat\n\n\n"
        "@lru_cache(maxsize=None)\n"
        'def squares(n: int) -> "compat.List[int]":\n'
        "    return list(pkg.compat.chain(range(n), [n * n]))\n\n\n"
        "def buffer(text: str) -> StringIO:\n"
        "    return StringIO(text)\n\n\n"
        "def cookie(header: str) -> str:\n"
        "    jar = compat.SimpleCookie()\n"
        "    jar.load(header)\n"
        "    return jar.output()\n"
    ),
    "tests/test_pkg.py": (
        "from pkg import util, web\n"
        "from pkg.compat import OrderedDict, StringIO, json_dumps\n\n\n"
        "def test_split():\n"
        '    assert web.split("http://h/a b") == OrderedDict(scheme="http", host="h", path="/a%20b")\n\n\n'
        "def test_query():\n"
        '    assert web.query({"b": 1, "a": 2}) == "a=2&b=1"\n\n\n'
        "def test_json():\n"
        '    assert web.as_json({"b": 1, "a": 2}) == json_dumps({"a": 2, "b": 1})\n\n\n'
        "def test_util():\n"
        "    assert util.squares(3) == [0, 1, 2, 9]\n"
        '    assert isinstance(util.buffer("x"), StringIO)\n'
        '    assert "a=1" in util.cookie("a=1")\n'
    ),
}


def compat_pyproject(targets: dict[str, str], extra: str = "") -> str:
    lines = [
        "[tool.pytest.ini_options]",
        'pythonpath = ["."]',
        'addopts = "-p no:cacheprovider"',
        "",
        "[tool.ssot-migrate]",
        f"test-command = {json.dumps([sys.executable, '-m', 'pytest', '-q'])}",
        extra,
        "",
    ]
    for name, canonical in targets.items():
        lines += [
            "[[tool.ssot-migrate.targets]]",
            f'name = "{name}"',
            f'canonical = "{canonical}"',
            f'aliases = ["pkg.compat.{name}"]',
            "",
        ]
    return "\n".join(lines)


def test_compat_layer_onto_the_standard_library(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "repo", {**COMPAT_FILES, "pyproject.toml": compat_pyproject(STDLIB)}
    )
    before = run_cli("scan", "--repo", str(repo), "--format", "json")
    assert before.returncode == 0, before.stderr
    assert json.loads(before.stdout)["counts"]["legacy-import"] > 10
    assert "warning" not in before.stderr

    proc = run_cli("phase1", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr
    message = git(repo, "log", "-1", "--format=%B", "ssot/phase1-imports")
    assert "SSOT-Verified: yes" in message
    assert "SSOT-Tests-Before: 4 passed" in message and "SSOT-Tests-After: 4 passed" in message

    after = run_cli(
        "scan", "--repo", str(repo), "--base", "ssot/phase1-imports", "--format", "json"
    )
    data = json.loads(after.stdout)
    assert data["counts"]["legacy-import"] == 0 and data["counts"]["dual-import"] == 0
    assert data["warnings"] == []
    changed = git(repo, "diff", "--name-only", "main", "ssot/phase1-imports").split()
    assert changed == ["pkg/util.py", "pkg/web.py", "tests/test_pkg.py"]
    for path in changed:
        text = git(repo, "show", f"ssot/phase1-imports:{path}")
        assert "compat" not in text, text
    util = git(repo, "show", "ssot/phase1-imports:pkg/util.py")
    assert 'def squares(n: int) -> "typing.List[int]":' in util and "import typing\n" in util


# --------------------------------------------------------------------------- (b) another venv

# A PEP 517 backend small enough to read, so ``pip install`` builds the dependency offline.
TINY_BACKEND = '"""A PEP 517 backend small enough to read: builds a wheel of acme_client with zipfile, offline."""\nimport base64, hashlib, os, zipfile\n\nNAME, VERSION = "acme_client", "2.0"\nDIST = f"{NAME}-{VERSION}.dist-info"\n\n\ndef _record(files):\n    lines = []\n    for path, data in files.items():\n        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()\n        lines.append(f"{path},sha256={digest},{len(data)}")\n    return "\\n".join(lines + [f"{DIST}/RECORD,,"]) + "\\n"\n\n\ndef _wheel(directory, files):\n    files[f"{DIST}/METADATA"] = f"Metadata-Version: 2.1\\nName: acme-client\\nVersion: {VERSION}\\n".encode()\n    files[f"{DIST}/WHEEL"] = b"Wheel-Version: 1.0\\nGenerator: tiny\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"\n    name = f"{NAME}-{VERSION}-py3-none-any.whl"\n    with zipfile.ZipFile(os.path.join(directory, name), "w") as archive:\n        for path, data in files.items():\n            archive.writestr(path, data)\n        archive.writestr(f"{DIST}/RECORD", _record(files))\n    return name\n\n\ndef build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n    files = {}\n    for entry in sorted(os.listdir(NAME)):\n        if entry.endswith(".py"):\n            with open(os.path.join(NAME, entry), "rb") as handle:\n                files[f"{NAME}/{entry}"] = handle.read()\n    return _wheel(wheel_directory, files)\n\n\ndef build_editable(wheel_directory, config_settings=None, metadata_directory=None):\n    # An editable install is a .pth line naming this folder: site-packages gets no copy.\n    return _wheel(wheel_directory, {f"_{NAME}_editable.pth": (os.path.abspath(".") + "\\n").encode()})\n'

DEP_FILES = {
    "pyproject.toml": (
        '[build-system]\nrequires = []\nbuild-backend = "tiny_backend"\nbackend-path = ["."]\n'
    ),
    "tiny_backend.py": TINY_BACKEND,
    "acme_client/__init__.py": "from acme_client.session import Session\n",
    "acme_client/session.py": "class Session:\n    def get(self, url):\n        return url\n",
}

PROJECT_FILES = {
    ".gitignore": ".venv/\n__pycache__/\n",
    "app/__init__.py": "",
    "app/http.py": "class Session:  # the project's old copy\n    def get(self, url):\n        return url\n",
    "app/use.py": "from app.http import Session\n\n\ndef fetch(url):\n    return Session().get(url)\n",
}

PROJECT_TABLE = """
[tool.ssot-migrate]
[[tool.ssot-migrate.targets]]
name = "session"
canonical = "{canonical}"
aliases = ["app.http.Session"]
"""


def _venv_with_dependency(root: Path, dep: Path, editable: bool) -> Path:
    venv = root / ("editable-venv" if editable else "venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    pip = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--disable-pip-version-check",
            *(["-e"] if editable else []),
            str(dep),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PIP_NO_INPUT": "1"},
    )
    if pip.returncode != 0:  # pragma: no cover - a broken host Python, not a product failure
        pytest.fail(f"could not install the dependency into {venv}:\n{pip.stderr}")
    return venv


@pytest.fixture(scope="module")
def project_venvs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two real venvs apart from ssot-migrate's, the dependency pip-installed from a folder:
    a regular install, and an editable one (a ``.pth`` line naming the source folder)."""
    root = tmp_path_factory.mktemp("projectenv")
    dep = root / "acme-client"
    for rel, text in DEP_FILES.items():
        (dep / rel).parent.mkdir(parents=True, exist_ok=True)
        (dep / rel).write_text(text, encoding="utf-8")
    return _venv_with_dependency(root, dep, False), _venv_with_dependency(root, dep, True)


def test_canonical_in_the_projects_own_venv(
    tmp_path: Path, project_venvs: tuple[Path, Path]
) -> None:
    project_venv, editable_venv = project_venvs
    table = PROJECT_TABLE.format(canonical="acme_client.session.Session")
    repo = make_repo(tmp_path / "repo", {**PROJECT_FILES, "pyproject.toml": table})
    # ssot-migrate's interpreter has no acme_client: without the project's venv, a warning.
    alone = run_cli("phase1", "--dry-run", "--repo", str(repo), env={"VIRTUAL_ENV": ""})
    assert alone.returncode == 0, alone.stderr
    assert "'acme_client.session.Session' was found nowhere" in alone.stderr

    shutil.copytree(project_venv, repo / ".venv", symlinks=True)  # untracked (.gitignore)
    proc = run_cli("phase1", "--dry-run", "--repo", str(repo), env={"VIRTUAL_ENV": ""})
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr
    assert "+from acme_client.session import Session" in proc.stdout
    shutil.rmtree(repo / ".venv")

    for python in (project_venv, project_venv / "bin" / "python", editable_venv):
        proc = run_cli(
            "phase1",
            "--dry-run",
            "--repo",
            str(repo),
            "--python",
            str(python),
            env={"VIRTUAL_ENV": ""},
        )
        assert proc.returncode == 0, proc.stderr
        assert "warning" not in proc.stderr, proc.stderr
        assert "+from acme_client.session import Session" in proc.stdout


# --------------------------------------------------------------------------- (c) misspelt


def test_misspelt_canonical_warns_everywhere_and_strict_refuses(tmp_path: Path) -> None:
    targets = {"urlparse": "urllib.parse.urlprase"}
    repo = make_repo(
        tmp_path / "repo", {**COMPAT_FILES, "pyproject.toml": compat_pyproject(targets)}
    )
    expected = "'urllib.parse.urlprase' was found nowhere"
    hint = "did you mean 'urllib.parse.urlparse'"

    dry = run_cli("phase1", "--dry-run", "--repo", str(repo))
    assert dry.returncode == 0, dry.stderr
    assert dry.stderr.count(expected) == 1 and hint in dry.stderr
    assert "the standard library of Python" in dry.stderr
    assert "+from urllib.parse import urlprase" in dry.stdout  # the phase goes on
    # the module was found without the name: listed as needing a decision, not only warned
    decision = "module 'urllib.parse' was found but does not define 'urlprase'"
    assert (
        f"needs a decision: tool.ssot-migrate.targets[0] ('urlparse').canonical: {decision}"
        in dry.stderr
    )

    strict = run_cli("phase1", "--dry-run", "--strict", "--repo", str(repo))
    assert strict.returncode == 2 and strict.stdout == ""
    assert strict.stderr.startswith("error: ") and hint in strict.stderr
    assert "tool.ssot-migrate.targets[0] ('urlparse').canonical" in strict.stderr

    keyed = tmp_path / "strict.toml"
    keyed.write_text(compat_pyproject(targets, "strict = true"), encoding="utf-8")
    refused = run_cli("scan", "--repo", str(repo), "--config", str(keyed))
    assert refused.returncode == 2 and hint in refused.stderr

    scan = run_cli("scan", "--repo", str(repo), "--format", "json")
    assert scan.returncode == 0
    assert scan.stderr.count(expected) == 1
    (warning,) = json.loads(scan.stdout)["warnings"]
    assert hint in warning
    markdown = run_cli("scan", "--repo", str(repo), "--format", "markdown")
    assert "> **Warning:** " in markdown.stdout and hint in markdown.stdout

    # The branch is made; its verification shows the wrong path as a failing import.
    proc = run_cli("phase1", "--repo", str(repo))
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count(expected) == 1
    message = git(repo, "log", "-1", "--format=%B", "ssot/phase1-imports")
    assert "Notes (" in message and expected in message and hint in message
    listed = message.split("Needs a decision (", 1)[1].split("\n\n", 1)[0]
    assert decision in listed
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    pr = run_cli("pr", "phase1", "--repo", str(repo), "--force")
    assert pr.returncode == 0, pr.stderr
    assert expected in pr.stdout and hint in pr.stdout
    assert decision in pr.stdout.split("### Needs a decision", 1)[1].split("###", 1)[0]


# --------------------------------------------------------------------------- (d) inside an object


def test_a_canonical_inside_a_class_is_refused_before_any_rewrite(tmp_path: Path) -> None:
    # It was "found nowhere" with itself as the did-you-mean, and phase 1 then wrote
    # `from pkg.core.Outer import Inner`, an import of a module that does not exist.
    table = (
        '[tool.ssot-migrate]\n[[tool.ssot-migrate.targets]]\nname = "inner"\n'
        'canonical = "pkg.core.Outer.Inner"\naliases = ["pkg.old.Legacy"]\n'
    )
    repo = make_repo(
        tmp_path / "repo",
        {
            "pkg/__init__.py": "",
            "pkg/core.py": "class Outer:\n    class Inner:\n        pass\n",
            "pkg/old.py": "from pkg.core import Outer\nLegacy = Outer.Inner\n",
            "pkg/use.py": "from pkg.old import Legacy\n\nx = Legacy()\n",
            "pyproject.toml": table,
        },
    )
    proc = run_cli("phase1", "--dry-run", "--repo", str(repo))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("error: ") and "pyproject.toml" in proc.stderr
    assert "tool.ssot-migrate.targets[0] ('inner').canonical" in proc.stderr
    assert "'pkg.core.Outer.Inner' is an attribute of 'pkg.core.Outer'" in proc.stderr
    assert "`Inner = Outer.Inner` in 'pkg.core'" in proc.stderr
    assert git(repo, "status", "--porcelain") == ""

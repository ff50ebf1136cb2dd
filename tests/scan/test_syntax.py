"""Files the running ``ast`` cannot parse (issue 13, item 4).

PEP 695 (``type X = ...``, ``def f[T]``) and PEP 701 f-strings are rewritten by the phases
(libcst reads them) but were skipped by ``scan``, which parsed with Python 3.11's ``ast``. They
are now analysed through libcst. A file that neither parser reads is counted as skipped in every
output: the table, JSON, Markdown, SARIF (as a tool notification), ``--check`` (which says it
could not check it), the baseline, and a phase commit's scan figures.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from ssot_migrate.config import load_config
from ssot_migrate.scan.analysis import scan_repository
from tests.helpers import paths
from tests.helpers.repos import git, make_repo, run_cli
from tests.helpers.scan import BASE, agreement

SCHEMA = paths.SCHEMAS / "scan-report.schema.json"
SARIF_SCHEMA = paths.FIXTURES / "scan" / "sarif-schema-2.1.0.json"

NEW_SYNTAX = (
    "import app.legacy\n"
    "from app.legacy import X\n"
    "\n"
    "type Alias[T] = list[T] | X\n"
    "\n"
    "\n"
    "def make[T](value: T) -> T:\n"
    '    label = f"{app.legacy.X(value)["k"]}"\n'
    "    return X(value)\n"
    "\n"
    "\n"
    "class Box[T]:\n"
    '    item: "app.legacy.X"\n'
)


def test_new_syntax_is_analysed_like_any_file(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {**BASE, "app/typed.py": NEW_SYNTAX})
    report = scan_repository(load_config(repo), jobs=1)
    assert report.skipped == ()
    legacy = sorted((s.path, s.line) for s in report.sites if s.category == "legacy-import")
    # the import of X, the chain inside the PEP 701 f-string, the string annotation
    assert legacy == [("app/typed.py", 2), ("app/typed.py", 8), ("app/typed.py", 13)]
    direct = sorted((s.path, s.line) for s in report.sites if s.category == "direct-instantiation")
    assert direct == [("app/typed.py", 8), ("app/typed.py", 9)]
    # and exactly what phase 1 and phase 3 change there
    changed, legacy_sites, built, direct_sites = agreement(repo)
    assert legacy_sites == changed
    assert direct_sites == built


BROKEN = (
    "from app.legacy import X\n\n\ndef broken(:\n    return X()\n"  # names the alias, so it is read
)


def test_a_file_neither_parser_reads_is_skipped_in_every_output(tmp_path: Path) -> None:
    files = {**BASE, "app/use.py": "from app.legacy import X\n", "app/broken.py": BROKEN}
    repo = make_repo(tmp_path / "repo", files)

    table = run_cli("scan", "--repo", str(repo))
    assert table.returncode == 0, table.stderr
    assert "skipped app/broken.py:4" in table.stdout
    assert "1 skipped" in table.stderr

    check = run_cli("scan", "--check", "--repo", str(repo))
    assert check.returncode == 1  # the legacy import
    assert (
        "scan --check: could not check 1 file(s) (app/broken.py): they do not parse" in check.stderr
    )

    data = json.loads(run_cli("scan", "--format", "json", "--repo", str(repo)).stdout)
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(data)
    assert data["files"]["skipped"] == 1
    assert [s["path"] for s in data["skipped"]] == ["app/broken.py"]

    markdown = run_cli("scan", "--format", "markdown", "--repo", str(repo)).stdout
    assert "1 skipped" in markdown and "skipped `app/broken.py:4`" in markdown

    sarif = json.loads(run_cli("scan", "--format", "sarif", "--repo", str(repo)).stdout)
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(sarif)
    (notification,) = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    location = notification["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "app/broken.py"
    assert notification["message"]["text"].startswith("not analysed: syntax error")

    baseline = tmp_path / "baseline.json"
    assert run_cli("scan", "--repo", str(repo), "--write-baseline", str(baseline)).returncode == 0
    assert json.loads(baseline.read_text())["skipped"] == ["app/broken.py"]

    phase = run_cli("phase1", "--repo", str(repo), "--no-verify")
    assert phase.returncode == 0, phase.stderr
    message = git(repo, "log", "-1", "--format=%B", "ssot/phase1-imports")
    assert "files-skipped: 1 -> 1" in message

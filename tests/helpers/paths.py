"""Where the tests find the repository, its fixture trees and its bundled files."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
SCHEMAS = ROOT / "ssot_migrate" / "schemas"

"""What phase 2's logic property asserts: an old and a new generated program, run and traced,
behave alike (shared with ``tests/stress``).
"""

from __future__ import annotations

import importlib
import inspect
import logging
import sys
import types
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ssot_migrate.codemods.facades import OUTCOME_KINDS
from ssot_migrate.model import SourceFile
from tests.helpers.repos import make_repo
from tests.helpers.strategies import (
    Facade,
)

FILE = SourceFile(path="pkg/gen.py", module="pkg.gen")


CONFIG = """\
[tool.ssot-migrate]

[[tool.ssot-migrate.targets]]
name = "store"
canonical = "zzcanon.core.ZzStore"
aliases = []
facades = ["pkg.gen.ZzFacade"]
"""


CANONICAL = """\
ZZCALLS = []


class ZzStore:
    def __init__(self, zzpath="mem"):
        ZZCALLS.append(("__init__", zzpath))
        self.zzdata = {}

    def zzget(self, zzkey, zzdefault=None):
        ZZCALLS.append(("zzget", zzkey, zzdefault))
        return self.zzdata.get(zzkey, zzdefault)

    def zzput(self, zzkey, zzvalue):
        ZZCALLS.append(("zzput", zzkey, zzvalue))
        self.zzdata[zzkey] = zzvalue
        return zzvalue

    def zzdrop(self, *zzkeys):
        ZZCALLS.append(("zzdrop", zzkeys))
        for zzkey in zzkeys:
            self.zzdata.pop(zzkey, None)

    def zzclose(self):
        ZZCALLS.append(("zzclose",))
        self.zzdata.clear()

    async def zzflush(self, zztimeout=1.0):
        ZZCALLS.append(("zzflush", zztimeout))
        return len(self.zzdata)
"""


COUNTS: Counter[str] = Counter()


_counter = iter(range(10**9))


def _drive(value: object) -> object:
    if not inspect.iscoroutine(value):
        return value
    try:
        value.send(None)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("coroutine suspended")


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.getMessage())


def trace(
    root: Path, source: bytes, init_args: tuple[Any, ...], script: list[tuple[str, tuple[Any, ...]]]
) -> list[object]:
    """Everything observable of running ``script`` on ``ZzFacade(*init_args)`` from ``source``."""
    for name in ("zzcanon.core", "zzcanon"):
        sys.modules.pop(name, None)
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    handler = _Records()
    logger = logging.getLogger("zzfacade")
    logger.addHandler(handler)
    logger.propagate = False
    seen: list[object] = []
    try:
        canonical = importlib.import_module("zzcanon.core")
        module = types.ModuleType("pkg.gen")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            exec(compile(source, "pkg/gen.py", "exec", dont_inherit=True), module.__dict__)  # noqa: S102
            instance = module.ZzFacade(*init_args)
            for name, args in script:
                try:
                    seen.append(("ok", name, _drive(getattr(instance, name)(*args))))
                except Exception as error:  # noqa: BLE001 - the exception is the observation
                    seen.append(("raised", name, type(error).__name__, str(error)))
                seen.append(("count", getattr(instance, "zzcount", "absent")))
        # The facade's own deprecation warnings go with the facade; every other warning stays.
        seen.append(
            (
                "warnings",
                [str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)],
            )
        )
        seen += [
            ("canonical", list(canonical.ZZCALLS)),
            ("events", list(module.ZZEVENTS)),
            ("log", list(handler.seen)),
        ]
    finally:
        logger.removeHandler(handler)
        sys.path.remove(str(root))
        for name in ("zzcanon.core", "zzcanon"):
            sys.modules.pop(name, None)
    return seen


def check_facade(
    tmp_path_factory: pytest.TempPathFactory,
    facade: Facade,
    init_args: tuple[Any, ...],
    script: list[tuple[str, tuple[Any, ...]]],
) -> None:
    from ssot_migrate.engine import open_config_and_snapshot
    from ssot_migrate.phases import build_codemod

    source = facade.source()
    root = tmp_path_factory.mktemp(f"logic-{next(_counter)}")
    repo = make_repo(
        root / "repo",
        {
            "pyproject.toml": CONFIG,
            "zzcanon/__init__.py": "",
            "zzcanon/core.py": CANONICAL,
            "pkg/__init__.py": "",
            "pkg/gen.py": source,
        },
    )
    config, snapshot = open_config_and_snapshot(repo, None)
    with snapshot:
        codemod = build_codemod("phase2", config, snapshot)
    data = source.encode("utf-8")
    result = codemod.transform(data, FILE)
    outcomes = [n for n in result.notes if n.kind in OUTCOME_KINDS]
    assert len(outcomes) == 1, f"not one outcome: {result.notes}\n{source}"
    COUNTS["phase2_logic_examples"] += 1
    if facade.alias:
        assert outcomes[0].kind == "facade-aliased", f"{outcomes}\n{source}"
        assert "ZzFacade = ZzStore" in result.source.decode("utf-8")
        COUNTS["phase2_logic_aliased"] += 1
    else:
        assert outcomes[0].kind != "facade-aliased", f"aliased with logic:\n{source}"
        assert result.source == data, (
            f"a facade with logic was rewritten:\n{result.source.decode()}"
        )
        listed = {
            n.message.split("()")[0].removeprefix("ZzFacade.")
            for n in result.notes
            if n.kind == "facade-logic"
        }
        for method in facade.methods:
            if not method.forward:
                assert method.name in listed, f"{method} not listed: {result.notes}\n{source}"
                COUNTS[f"phase2_logic_kept:{method.variant}"] += 1
        COUNTS[f"phase2_logic_outcome:{outcomes[0].kind}"] += 1
    runtime = root / "run"
    (runtime / "zzcanon").mkdir(parents=True)
    (runtime / "zzcanon" / "__init__.py").write_text("")
    (runtime / "zzcanon" / "core.py").write_text(CANONICAL)
    before = trace(runtime, data, init_args, script)
    after = trace(runtime, result.source, init_args, script)
    assert after == before, f"observable difference:\n{source}\n---\n{result.source.decode()}"
    COUNTS["phase2_logic_executed"] += 1

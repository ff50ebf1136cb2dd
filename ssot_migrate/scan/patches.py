"""Scan's patch categories: ``stale-patch-target`` and ``patch-seam``.

A ``mock.patch``/``monkeypatch`` string (a ``patch-target`` note of ``facts.py``) naming an alias
that code still reads is stale; one naming a path nothing reads any more intercepts nothing (a
seam). A string naming nothing that exists statically is stale too, or a seam when its module
now binds the canonical under another name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ssot_migrate import discovery
from ssot_migrate.conventions import is_test_path
from ssot_migrate.discovery import parse_source
from ssot_migrate.model import Note, Target
from ssot_migrate.scan.sites import SiteRecorder
from ssot_migrate.scan.spec import TargetSpec, matches


class PatchFindings:
    """The patch findings of every target, sharing the module lookups of one snapshot."""

    def __init__(self, snapshot: Any, recorder: SiteRecorder) -> None:
        self.snapshot = snapshot
        self.recorder = recorder
        self._facts: dict[str, discovery.ModuleFacts | None] = {}
        self._modules: set[str] | None = None

    def _module_facts(self, module: str) -> tuple[str | None, discovery.ModuleFacts | None]:
        path = self.snapshot.path_for_module(module)
        if path is None:
            return None, None
        if path not in self._facts:
            tree = parse_source(self.snapshot.read(path))
            file = self.snapshot.source_file(path)
            self._facts[path] = discovery.module_facts(tree, file) if tree is not None else None
        return path, self._facts[path]

    def check(
        self,
        target: Target,
        spec: TargetSpec,
        notes: Sequence[Note],
        uses: Sequence[Note],
        counts: dict[str, int],
    ) -> None:
        """Add the target's ``stale-patch-target`` and ``patch-seam`` findings."""
        live = {n.message for n in uses if not is_test_path(n.path)}
        bound = set(spec.paths)
        for n in (n for n in notes if n.kind == "patch-target"):
            string = n.message
            alias = matches(string, spec.legacy, True)
            if alias is not None:
                if alias in live:
                    self.recorder.add(
                        "stale-patch-target",
                        target.name,
                        n.path,
                        n.line,
                        n.column,
                        f"patches legacy path {string!r}; patch the canonical "
                        f"{_rebase(string, alias, target.canonical)!r}",
                    )
                    counts["stale-patch-target"] += 1
                else:
                    self.recorder.add(
                        "patch-seam",
                        target.name,
                        n.path,
                        n.line,
                        n.column,
                        f"patches {string!r} but no code reads {alias} any more: "
                        f"it intercepts nothing (consumers use {target.canonical})",
                    )
                    counts["patch-seam"] += 1
                continue
            problem, binds_canonical = self._resolve_patch(string, bound)
            if problem is None:
                continue
            if binds_canonical:
                self.recorder.add(
                    "patch-seam",
                    target.name,
                    n.path,
                    n.line,
                    n.column,
                    f"patches {string!r} but {problem}: that module now binds the "
                    f"canonical as {binds_canonical} (patch that name instead)",
                )
                counts["patch-seam"] += 1
            else:
                self.recorder.add(
                    "stale-patch-target",
                    target.name,
                    n.path,
                    n.line,
                    n.column,
                    f"patch target {string!r} does not resolve: {problem}",
                )
                counts["stale-patch-target"] += 1

    def _packages(self) -> set[str]:
        """Every module and package name of the snapshot, namespace packages included."""
        if self._modules is None:
            self._modules = set()
            for path in self.snapshot.paths:
                module = self.snapshot.source_file(path).module
                parts = module.split(".") if module else []
                for cut in range(1, len(parts) + 1):
                    self._modules.add(".".join(parts[:cut]))
        return self._modules

    def _resolve_patch(self, string: str, bound: set[str]) -> tuple[str | None, str]:
        """Why ``string`` does not exist statically (None: it does, or is not ours to judge).

        The second value names the canonical binding of the patched module, when it has one:
        the patch then misses a rename (a seam), not just a typo.
        """
        parts = string.split(".")
        modules = self._packages()
        for cut in range(len(parts), 0, -1):
            module = ".".join(parts[:cut])
            if module not in modules:
                continue
            if cut == len(parts):
                return None, ""
            name = parts[cut]
            if f"{module}.{name}" in modules:
                return None, ""
            path, facts = self._module_facts(module)
            if path is not None and facts is None:
                return None, ""  # does not parse: reported as skipped elsewhere
            if facts is not None:
                names = facts.defined | {b.name for b in facts.bindings}
                if name in names or facts.stars or "__getattr__" in facts.defined:
                    return None, ""
            where = f"{module} ({path})" if path else f"namespace package {module}"
            canonical_here = sorted(
                f"{module}.{b.name}" for b in (facts.bindings if facts else []) if b.value in bound
            )
            return f"{where} has no {name!r}", canonical_here[0] if canonical_here else ""
        return None, ""  # outside the repository: not ours to judge


def _rebase(string: str, alias: str, canonical: str) -> str:
    return canonical + string[len(alias) :]

"""Scan's class categories: ``duplicate-implementation``, ``facade`` and ``interface-drift``.

The per-file ``class`` notes of ``facts.py`` name each candidate class and its roles (listed
facade, alias class, named after the component, holder of the canonical, test double); this
module loads the interfaces (``interfaces``) and decides which are findings, with evidence.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ssot_migrate.interfaces import (
    ClassInterface,
    InterfaceComparison,
    LocatedClass,
    compare,
    compare_double,
    extract_interface,
    find_class,
    load_class,
    module_imports,
    parse_file,
)
from ssot_migrate.model import Note, Target
from ssot_migrate.scan.sites import SiteRecorder
from ssot_migrate.scan.spec import TargetSpec


class Interfaces:
    """Class interfaces for the main process, each file parsed once and each class read once.

    ``interfaces.load_class`` re-parses a file (and computes positions for all of it) per class;
    with dozens of candidate classes that is most of a scan. Re-exports and anything unusual are
    still handed to ``load_class``.
    """

    def __init__(self, snapshot: Any) -> None:
        self.snapshot = snapshot
        self._modules: dict[str, Any] = {}
        self._classes: dict[str, ClassInterface | None] = {}
        self._loading: set[str] = set()

    def _module(self, path: str) -> Any:
        if path not in self._modules:
            self._modules[path] = parse_file(self.snapshot, path)
        return self._modules[path]

    def load(self, dotted_name: str) -> ClassInterface | None:
        """The interface of class ``dotted_name`` (``None``: not a class of the repository)."""
        if dotted_name in self._classes:
            return self._classes[dotted_name]
        if dotted_name in self._loading:
            return None  # a base-class cycle: unknown, not infinite
        self._loading.add(dotted_name)
        try:
            found = self._load(dotted_name)
        finally:
            self._loading.discard(dotted_name)
        self._classes[dotted_name] = found
        return found

    def _load(self, dotted_name: str) -> ClassInterface | None:
        parts = dotted_name.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module_name = ".".join(parts[:cut])
            path = self.snapshot.path_for_module(module_name)
            if path is None:
                continue
            module = self._module(path)
            qualname = ".".join(parts[cut:])
            node = find_class(module, qualname) if module is not None else None
            if node is None:
                return load_class(self.snapshot, dotted_name)  # re-exports, aliases
            imports = module_imports(module, module_name, path.endswith("__init__.py"))
            return extract_interface(
                node, module, resolve_base=self.load, imports=imports, qualname=dotted_name
            )
        return None


class ClassFindings:
    """The class findings of every target, sharing one :class:`Interfaces` cache."""

    def __init__(
        self,
        snapshot: Any,
        recorder: SiteRecorder,
        canonicals: dict[str, LocatedClass | None],
    ) -> None:
        self.snapshot = snapshot
        self.recorder = recorder
        self.canonicals = canonicals
        self.interfaces = Interfaces(snapshot)

    def check(
        self, target: Target, spec: TargetSpec, notes: Sequence[Note], counts: dict[str, int]
    ) -> tuple[list[InterfaceComparison], int]:
        """Add the target's class findings; the drifts found and the implementation files."""
        located = self.canonicals.get(target.name)
        classes = sorted((n for n in notes if n.kind == "class"), key=lambda n: (n.path, n.line))
        canonical = located.interface(self.snapshot) if located is not None and classes else None
        files: set[str] = set()
        if located is not None:
            canonical_path = self.snapshot.path_for_module(target.canonical.rpartition(".")[0])
            if canonical_path:
                files.add(canonical_path)
        drifts: list[InterfaceComparison] = []
        for n in classes:
            info = json.loads(n.message)
            qual, roles = info["class"], set(info["roles"])
            listed_double = "listed-double" in roles
            # A double stands in for the canonical: it must accept every call the canonical
            # does (the reverse of a facade, which the canonical must be able to replace). Doubles
            # found by name live in test code, where only a listed facade is a duplicate.
            as_double = listed_double or (
                "double" in roles and not roles & {"listed-facade", "facade"}
            )
            interface = self.interfaces.load(qual) if canonical is not None else None
            comparison = None
            if interface is not None and canonical is not None:
                comparison = (compare_double if as_double else compare)(interface, canonical)
            why = self._duplicate_evidence(target, spec, qual, roles, interface, canonical)
            duplicate = not listed_double and not info["test"] and why is not None
            if "listed-facade" in roles and info["test"]:
                why, duplicate = "listed facade", True
            if "facade" in roles and not listed_double:
                self.recorder.add(
                    "facade",
                    target.name,
                    n.path,
                    n.line,
                    n.column,
                    f"{qual} holds a {target.canonical.rpartition('.')[2]} in "
                    f"self.{info['held']} and forwards calls to it",
                )
                counts["facade"] += 1
            if duplicate:
                self.recorder.add(
                    "duplicate-implementation",
                    target.name,
                    n.path,
                    n.line,
                    n.column,
                    f"{qual} competes with {target.canonical} ({why})",
                )
                counts["duplicate-implementation"] += 1
                files.add(n.path)
            checked = duplicate or as_double or "facade" in roles
            if checked and comparison is not None and (comparison.missing or comparison.mismatches):
                drifts.append(comparison)
                self.recorder.add(
                    "interface-drift",
                    target.name,
                    n.path,
                    n.line,
                    n.column,
                    drift_message(comparison, as_double),
                    (
                        ("overlap", f"{comparison.overlap:g}"),
                        ("missing", ",".join(comparison.missing)),
                        ("extra", ",".join(comparison.extra)),
                        *(("mismatch", m.message) for m in comparison.mismatches),
                    ),
                )
                counts["interface-drift"] += 1
        return drifts, len(files)

    def _duplicate_evidence(
        self,
        target: Target,
        spec: TargetSpec,
        qual: str,
        roles: set[str],
        interface: ClassInterface | None,
        canonical: ClassInterface | None,
    ) -> str | None:
        """Why ``qual`` duplicates the canonical, or ``None`` when nothing shows it does.

        Configured classes (a listed facade, a class at an alias path) are duplicates by
        declaration. Otherwise a class must be named after the component *and* implement itself
        at least ``duplicate-overlap`` % of the methods the canonical implements itself, two or
        more (all, when the canonical implements one): inherited methods and empty sets are no
        evidence, and a base or a subclass of the canonical specialises it, it does not compete.
        """
        configured = sorted(roles & {"listed-facade", "alias-class"})
        if configured:
            return ", ".join(r.replace("-", " ") for r in configured)
        if "stem" not in roles or interface is None or canonical is None:
            return None
        wanted = canonical.implemented_methods
        shared = sorted(interface.implemented_methods & wanted)
        if not shared or len(shared) < min(2, len(wanted)):
            return None
        if 100.0 * len(shared) / len(wanted) < spec.overlap:
            return None
        names = {target.canonical, canonical.qualname}
        if names & self._ancestors(qual) or {qual, interface.qualname} & self._ancestors(
            target.canonical
        ):
            return None
        return (
            f"named after {spec.stem}, implements {len(shared)} of its {len(wanted)} "
            f"methods: {', '.join(shared)}"
        )

    def _ancestors(self, qual: str) -> set[str]:
        """Every base class of ``qual``, transitively, under each name it was reached by."""
        found: set[str] = set()
        pending = [qual]
        while pending:
            current = pending.pop()
            interface = self.interfaces.load(current)
            if interface is None:
                continue
            module = current.rpartition(".")[0]
            for base in interface.bases:
                # A base written as a bare name is a class of the same module.
                names = [base] if "." in base else [f"{module}.{base}", base]
                name = next((n for n in names if self.interfaces.load(n) is not None), None)
                loaded = self.interfaces.load(name) if name is not None else None
                if name is None or loaded is None:
                    found.add(base)
                    continue
                reached = {name, loaded.qualname} - {""}
                pending.extend(reached - found)
                found |= reached
        return found


def drift_message(comparison: InterfaceComparison, double: bool = False) -> str:
    shared = len(comparison.common)
    total = shared + len(comparison.missing)
    parts = [
        f"{comparison.candidate}: shares {shared} of the {total} public methods of "
        f"{comparison.canonical}" + (f" ({', '.join(comparison.common)})" if shared else "")
    ]
    if comparison.missing:
        parts.append("missing " + ", ".join(f"{m}()" for m in comparison.missing))
    if comparison.extra and not double:  # a double's extras are its tests' helpers
        parts.append("extra " + ", ".join(f"{m}()" for m in comparison.extra))
    listed = set(comparison.extra) | set(comparison.missing)
    parts += [m.message for m in comparison.mismatches if m.member not in listed]
    return "; ".join(parts)

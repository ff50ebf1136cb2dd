"""What phase 3 knows before reading a file: each target's factory (``analyze_factory``), its
class methods and legacy factories (``TargetPlan``, picklable), and whether the factory shares
one instance (``shared_instance_reason``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ssot_migrate.codemods.factory_info import FactoryInfo, analyze_factory
from ssot_migrate.interfaces import (
    MethodSignature,
    SnapshotLike,
    compare,
    load_class,
    module_imports,
    parse_file,
)
from ssot_migrate.model import (
    Target,
)

_PARTIAL = frozenset({"functools.partial", "functools.partialmethod"})


@dataclass(frozen=True)
class TargetPlan:
    """Everything the pure transform needs for one target."""

    target: str
    factory: FactoryInfo
    constructors: tuple[str, ...]
    blocked: tuple[tuple[str, str], ...] = ()
    legacy: tuple[tuple[str, str | None], ...] = ()
    exempt: tuple[str, ...] = ()
    skip_modules: tuple[tuple[str, str], ...] = ()
    renames: tuple[tuple[str, str], ...] = ()
    allow_shared: bool = False
    constructor: MethodSignature | None = None
    # Class methods of each constructible class (``Manager.from_config``): they build instances
    # without the factory, so their calls are listed.
    class_methods: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def class_methods_of(self, qname: str) -> tuple[str, ...]:
        """The class methods of constructor or facade ``qname`` (empty when unknown)."""
        return dict(self.class_methods).get(qname, ())

    def kind_of(self, qname: str) -> str | None:
        """``constructor``, ``blocked`` or ``legacy`` for a qualified name this plan handles."""
        if qname in self.constructors:
            return "constructor"
        if any(name == qname for name, _ in self.blocked):
            return "blocked"
        if any(name == qname for name, _ in self.legacy):
            return "legacy"
        return None


def _names_only_plan(target: Target) -> TargetPlan:
    """The plan of a target no file can hold a site of (``build_codemod`` decides): the names it
    handles and its factory's name, nothing read. ``handled_names`` gives the same names as
    :func:`_plan_target`'s plan, so the needles and the pre-filters are the same either way."""
    assert target.factory is not None
    return TargetPlan(
        target=target.name,
        factory=FactoryInfo(target.factory, None),
        constructors=tuple(dict.fromkeys([target.canonical, *target.all_aliases, *target.facades])),
        legacy=tuple((name, None) for name in target.legacy_factories),
        exempt=target.factory_exempt,
        renames=target.factory_args,
        allow_shared=target.allow_shared,
    )


def _plan_target(target: Target, snapshot: SnapshotLike, facades_done: bool = False) -> TargetPlan:
    assert target.factory is not None
    factory = analyze_factory(snapshot, target.factory)
    constructors = [target.canonical, *target.all_aliases]
    blocked: list[tuple[str, str]] = []
    canonical = load_class(snapshot, target.canonical)
    for facade in target.facades:
        if facade in constructors:
            constructors.remove(facade)
        interface = load_class(snapshot, facade)
        if interface is None or canonical is None:
            # Phase 2 made it an alias of the canonical, or it cannot be read: an alias when
            # it resolves to the canonical, otherwise unknown.
            if interface is None:
                blocked.append((facade, "facade class could not be read statically"))
            else:
                blocked.append((facade, "the canonical class could not be read statically"))
            continue
        if interface.qualname == canonical.qualname:
            constructors.append(facade)  # already an alias of the canonical
            continue
        comparison = compare(interface, canonical)
        if comparison.is_compatible:
            constructors.append(facade)
        else:
            members = ", ".join(sorted(comparison.incompatible_members()))
            advice = (
                "phase 2 kept it, see its 'Needs a decision'; decide per site"
                if facades_done
                else "run phase 2 first, or decide per site"
            )
            reason = (
                f"{facade} is still a separate class with members the canonical lacks or "
                f"takes differently ({members}); the factory returns a canonical instance "
                f"({advice})"
            )
            blocked.append((facade, reason))
    legacy = tuple(
        (name, analyze_factory(snapshot, name).shared) for name in target.legacy_factories
    )
    class_methods: list[tuple[str, tuple[str, ...]]] = []
    for name in dict.fromkeys([*constructors, *(facade for facade, _ in blocked)]):
        interface = canonical if name in (target.canonical, *target.all_aliases) else None
        interface = interface or load_class(snapshot, name)
        if interface is not None:
            methods = sorted(m.name for m in interface.methods.values() if m.kind == "classmethod")
            class_methods.append((name, tuple(methods)))
    skip: list[tuple[str, str]] = []
    canonical_module = target.canonical.rpartition(".")[0]
    skip.append(
        (
            canonical_module,
            "site in the canonical class's own module: importing the factory here would be circular",
        )
    )
    for imported in _modules_imported_by(snapshot, factory.module):
        if imported != canonical_module:
            reason = (
                f"the factory's module {factory.module} imports this module: importing the "
                "factory here would create an import cycle"
            )
            skip.append((imported, reason))
    return TargetPlan(
        target=target.name,
        factory=factory,
        constructors=tuple(dict.fromkeys(constructors)),
        blocked=tuple(blocked),
        legacy=legacy,
        exempt=target.factory_exempt,
        skip_modules=tuple(skip),
        renames=target.factory_args,
        allow_shared=target.allow_shared,
        constructor=canonical.constructor if canonical is not None else None,
        class_methods=tuple(class_methods),
    )


def _modules_imported_by(snapshot: SnapshotLike, module_name: str) -> set[str]:
    path = snapshot.path_for_module(module_name)
    if path is None:
        return set()
    module = parse_file(snapshot, path)
    if module is None:
        return set()
    found: set[str] = set()
    for dotted in module_imports(module, module_name, path.endswith("__init__.py")).values():
        # ``from pkg.mod import Name`` imports pkg.mod; ``import pkg.mod`` imports it too.
        found.add(dotted)
        found.add(dotted.rpartition(".")[0])
    return {m for m in found if m and snapshot.path_for_module(m) is not None}

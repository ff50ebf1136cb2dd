"""What phase 2 decides per facade, read from the repository: alias, delegate or skip, per method."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import libcst as cst

from ssot_migrate.codemods.facades.bodies import method_bodies
from ssot_migrate.codemods.facades.copies import identical_copy, module_names
from ssot_migrate.codemods.facades.forwards import alias_blockers, analyse
from ssot_migrate.codemods.facades.verdict import FacadeAnalysis
from ssot_migrate.codemods.factory_info import FactoryInfo, analyze_factory
from ssot_migrate.interfaces import (
    ClassInterface,
    MethodSignature,
    SnapshotLike,
    class_level_values,
    class_source,
    compare,
    compare_signatures,
    is_public,
    load_class,
)
from ssot_migrate.model import Note, NoteKind, Severity, SourceFile, Target
from ssot_migrate.pysyntax import import_bindings, small_statements

# --------------------------------------------------------------------------- plan (picklable)


@dataclass(frozen=True)
class MethodPlan:
    """What happens to one method of a delegating facade.

    ``action`` is ``forward`` (rewritten as a one-line forward to the canonical instance, or to
    the canonical class for static/class methods when ``on_class``), ``as-is`` (already a pure
    forward: counted, left untouched) or ``keep`` (with ``reason``, listed as ``kind``).
    ``logic`` says what the facade's body does that the canonical's does not (``forwards``).
    """

    name: str
    action: str
    reason: str = ""
    on_class: bool = False
    kind: str = "facade-method-kept"
    logic: tuple[str, ...] = ()


@dataclass(frozen=True)
class FacadePlan:
    """One configured facade: where it lives, and the decision taken for it."""

    target: str
    facade: str
    module: str
    class_name: str
    canonical: str
    mode: str  # alias | delegate | skip
    reason: str = ""
    deprecate: bool = False
    factory: FactoryInfo | None = None
    factory_note: str = ""
    canonical_init: MethodSignature | None = None
    methods: tuple[MethodPlan, ...] = ()
    used_elsewhere: frozenset[str] = frozenset()
    incompatibilities: tuple[str, ...] = ()
    replace_logic: bool = False  # the target's replace-facade-logic names this facade
    not_alias: tuple[str, ...] = ()  # why a delegation is not an alias (method bodies)

    @property
    def canonical_module(self) -> str:
        return self.canonical.rpartition(".")[0]

    @property
    def canonical_name(self) -> str:
        return self.canonical.rpartition(".")[2]


# --------------------------------------------------------------------------- repository reads


def _plan_facade(target: Target, facade: str, snapshot: SnapshotLike) -> FacadePlan | str:
    """The decision for one facade, or, when there is no class to rewrite (its module is not in
    the repository, it is already an alias or gone), the line saying it is left as it is."""
    module, _, class_name = facade.rpartition(".")
    base = FacadePlan(
        target=target.name,
        facade=facade,
        module=module,
        class_name=class_name,
        canonical=target.canonical,
        mode="skip",
        deprecate=target.deprecate,
        replace_logic=facade in target.replace_facade_logic,
    )
    path = snapshot.path_for_module(module)
    if path is None:
        return f"{facade} left as it is: its module {module} is not in the repository"
    canonical = load_class(snapshot, target.canonical)
    interface = load_class(snapshot, facade)
    if interface is None:
        return f"{facade} left as it is: there is no class {class_name} in {module} (already an alias, or deprecated away)"
    if canonical is None:
        return _replace(base, reason=f"the canonical class {target.canonical} could not be read")
    if interface.qualname == canonical.qualname:
        return f"{facade} left as it is: it is already an alias of {target.canonical}"
    located = class_source(snapshot, facade)
    if located is None or interface.qualname != facade:
        return f"{facade} left as it is: it is a re-export of {interface.qualname}, not a class defined there"
    analysis, identical = _analyse(located, canonical, target, snapshot)
    comparison = compare(interface, canonical)
    overrides = _overridden_values(snapshot, facade, canonical)
    incompatible = tuple(m.message for m in comparison.mismatches if m.breaking) + overrides
    private = {
        name for name in interface.attributes | set(interface.methods) if not is_public(name)
    }
    used = _used_in_other_files(snapshot, private, path)
    # Every method the alias would drop: the public ones and every dunder (``__repr__``,
    # ``__new__``, ``__del__``...), which behave even where callers do not name them.
    public = sorted(
        n
        for n in interface.own_methods
        if n != "__init__" and (is_public(n) or n.startswith("__") and n.endswith("__"))
    )
    not_alias = tuple(
        alias_blockers(analysis, canonical.methods, canonical.constructor, public)
    ) + tuple(
        f"{name} is used by other files"
        for name in sorted(used)
        if name in interface.own_methods and not name.startswith("__")
    )
    methods = tuple(_method_plans(interface, canonical, analysis, base.replace_logic))
    if identical and comparison.is_compatible and not overrides:
        # A copy of the canonical, statement for statement: its logic is the canonical's.
        return _replace(base, mode="alias", reason="an identical copy of it")
    if comparison.is_compatible and not overrides and (base.replace_logic or not not_alias):
        return _replace(base, mode="alias", methods=methods)
    # A base in the same module is recorded as written (``HttpResponse``), others as dotted names.
    same_module = module == canonical.qualname.rpartition(".")[0]
    if canonical.qualname in interface.bases or (same_module and canonical.name in interface.bases):
        # Already a canonical instance: holding another one to delegate to makes no sense.
        differs = incompatible + (() if base.replace_logic else not_alias)
        return _replace(
            base,
            reason="it subclasses the canonical and differs from it ("
            + "; ".join(differs)
            + "): a specialisation, not a copy",
            incompatibilities=incompatible,
            methods=methods,
        )
    factory, factory_note = _usable_factory(target, snapshot)
    return _replace(
        base,
        mode="delegate",
        factory=factory,
        factory_note=factory_note,
        canonical_init=canonical.constructor,
        methods=methods,
        used_elsewhere=used,
        incompatibilities=incompatible,
        not_alias=() if base.replace_logic else not_alias,
    )


def _analyse(
    located: tuple[str, str, cst.Module, cst.ClassDef],
    canonical: ClassInterface,
    target: Target,
    snapshot: SnapshotLike,
) -> tuple[FacadeAnalysis, bool]:
    """Which of the facade's methods are pure forwards to the canonical (``forwards``), and
    whether the whole class is an identical copy of the canonical's."""
    module_name, path, module, node = located
    bindings = import_bindings(small_statements(module.body), _package_of(module_name, path))
    theirs = class_source(snapshot, canonical.qualname)
    analysis = analyse(
        node,
        bindings,
        canonical.qualname,
        target.factory,
        module_name == canonical.qualname.rpartition(".")[0],
        method_bodies(theirs[3] if theirs is not None else None),
    )
    identical = False
    if theirs is not None:
        their_module_name, their_path, their_module, their_node = theirs
        their_bindings = import_bindings(
            small_statements(their_module.body), _package_of(their_module_name, their_path)
        )
        identical = identical_copy(
            node,
            module_names(module, module_name, bindings),
            their_node,
            module_names(their_module, their_module_name, their_bindings),
        )
    return analysis, identical


def _package_of(module_name: str, path: str) -> str:
    return module_name if path.endswith("__init__.py") else module_name.rpartition(".")[0]


def _overridden_values(
    snapshot: SnapshotLike, facade: str, canonical: ClassInterface
) -> tuple[str, ...]:
    """Class attributes the facade sets to something else than the canonical does.

    ``class NotFound(Response): status_code = 404`` has the canonical's interface, but an alias
    would answer 200: a value the facade sets is behaviour, unless the canonical's own body sets
    the same name to the same code.
    """
    mine = class_source(snapshot, facade)
    theirs = class_source(snapshot, canonical.qualname) if canonical.qualname else None
    if mine is None:
        return ()
    own = class_level_values(mine[3])
    base_values = class_level_values(theirs[3]) if theirs is not None else {}
    known = canonical.attributes | set(canonical.methods)
    return tuple(
        f"attribute '{name}': set to {value} here"
        + (
            f" but {base_values[name]} on the canonical"
            if name in base_values
            else ", which the canonical inherits or sets elsewhere"
        )
        + "; an alias would change it"
        for name, value in sorted(own.items())
        if name in known and is_public(name) and base_values.get(name) != value
    )


def _replace(plan: FacadePlan, **changes: object) -> FacadePlan:
    return replace(plan, **changes)  # type: ignore[arg-type]


def _used_in_other_files(snapshot: SnapshotLike, names: set[str], own_path: str) -> frozenset[str]:
    """Which of ``names`` appear in any other file (one git grep, then byte tests)."""
    grep = getattr(snapshot, "grep", None)
    if grep is None:
        return frozenset(names)  # cannot tell: keep every member
    found: set[str] = set()
    for other in grep(sorted(names)) if names else ():
        if other == own_path:
            continue
        try:
            data = snapshot.read(other)
        except (KeyError, OSError, ValueError):
            return frozenset(names)
        found.update(name for name in names if name.encode() in data)
    return frozenset(found)


def _usable_factory(target: Target, snapshot: SnapshotLike) -> tuple[FactoryInfo | None, str]:
    if target.factory is None:
        return None, ""
    info = analyze_factory(snapshot, target.factory)
    if info.signature is None:
        return (
            None,
            f"the factory {target.factory} could not be read; the canonical is built directly",
        )
    if info.shared is not None and not target.allow_shared:
        return None, (
            f"the factory {target.factory} returns a shared instance "
            f"({info.shared}); the facade builds its own canonical instance directly "
            "(set allow-shared = true to use the factory)"
        )
    return info, ""


def _method_plans(
    facade: ClassInterface,
    canonical: ClassInterface,
    analysis: FacadeAnalysis,
    replace_logic: bool,
) -> Iterable[MethodPlan]:
    for name in sorted(facade.own_methods):
        if not is_public(name) or name == "__init__":
            continue  # private helpers stay (and go if nothing uses them any more)
        verdict = analysis.verdict(name)
        logic = verdict.logic if verdict is not None and not verdict.forward else ()
        plan = _signature_plan(name, facade.methods[name], canonical)
        if replace_logic:
            # The user decided the canonical's behaviour replaces the facade's: forward by
            # signature as before, and say what is replaced.
            yield MethodPlan(plan.name, plan.action, plan.reason, plan.on_class, plan.kind, logic)
        elif verdict is not None and verdict.forward:
            yield MethodPlan(name, "as-is", on_class=plan.on_class)
        elif plan.action == "keep":
            yield MethodPlan(name, "keep", plan.reason, logic=logic)
        else:
            yield MethodPlan(
                name,
                "keep",
                f"{name}() has logic of its own: "
                f"{verdict.what if verdict is not None else 'a body the canonical does not have'}",
                kind="facade-logic",
                logic=logic,
            )


def _signature_plan(name: str, signature: MethodSignature, canonical: ClassInterface) -> MethodPlan:
    """Forward or keep, judged by the signatures alone (``replace-facade-logic`` facades)."""
    other = canonical.methods.get(name)
    if other is None:
        if signature.kind == "property" and name in canonical.attributes:
            return MethodPlan(name, "forward")
        return MethodPlan(name, "keep", f"{name}(): no counterpart on the canonical class")
    problems = [m.message for m in compare_signatures(signature, other) if m.breaking]
    if problems:
        return MethodPlan(name, "keep", "; ".join(problems))
    if name in ("__enter__", "__aenter__"):
        return MethodPlan(
            name, "keep", f"{name}(): forwarding would hand out the canonical instance"
        )
    if signature.kind == "classmethod":
        return MethodPlan(
            name,
            "keep",
            f"{name}(): a classmethod may build the facade itself; forwarding it would "
            "return a canonical instance instead",
        )
    on_class = signature.kind == "staticmethod"
    if on_class and other.kind == "method":
        return MethodPlan(name, "keep", f"{name}(): the canonical's is an instance method")
    return MethodPlan(name, "forward", on_class=on_class)


def _outcome(
    file: SourceFile,
    line: int,
    plan: FacadePlan,
    kind: NoteKind,
    text: str,
    severity: Severity = "needs-decision",
) -> Note:
    return Note(file.path, line, 1, plan.target, kind, f"{plan.facade} {text}", severity)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _short_reason(method: MethodPlan) -> str:
    """A kept method's reason without its leading ``name():``."""
    if method.kind == "facade-logic" and method.logic:
        return ", ".join(method.logic)
    return method.reason.removeprefix(f"{method.name}():").strip()

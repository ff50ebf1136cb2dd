"""Phase 2: collapse facade classes into aliases of the canonical class, or thin delegations.

Only what is provably a forward collapses (``forwards``): a method whose body, a docstring and a
deprecation warning aside, calls the canonical's same-named method with its own arguments,
through the wrapped instance, ``super()`` or the canonical class. Alias mode, when every public
method is such a forward, ``__init__`` only builds the canonical from its own parameters, and the
interfaces are compatible (``interfaces.compare``)::

    class WebSocketManager:                          from app.core.unified import UnifiedManager
        def __init__(self, user):                    WebSocketManager = UnifiedManager
            self._impl = UnifiedManager(user)  →
        def send(self, msg):
            return self._impl.send(msg)

With ``deprecate = true`` the class goes and a module ``__getattr__`` returns the canonical with a
``DeprecationWarning`` naming its path. Otherwise the class stays: its forwards already delegate,
and every method with logic of its own is kept verbatim and listed (``facade-logic``, with what it
does). For the facades in ``replace-facade-logic`` the user decided the canonical's behaviour
replaces theirs: methods are judged by signature, each compatible one becomes a one-line forward
to one canonical instance (built through the target's factory when one is configured and can
take the arguments, and only when a forward uses it), the private state no remaining code uses is
dropped, and every replaced piece of logic is listed (``facade-logic-replaced``)::

    class WebSocketManager:                          class WebSocketManager:
        def __init__(self, user):                        def __init__(self, user):
            self._conns = {}                                 self._impl = create_manager(user=user)
            self._impl = UnifiedManager(user)            def send(self, msg):
        def send(self, msg):                   →             return self._impl.send(msg)
            self._conns[msg.id] = msg                    def legacy_only(self): ...   # kept, listed
            return self._impl.send(msg)
        def legacy_only(self): ...

Methods with no canonical counterpart or an incompatible signature are kept as they are and
listed as "needs a decision" with the reason. Every facade ends with exactly one outcome note
(``OUTCOME_KINDS``), or a plan-time line when there is no class left to rewrite. Repository reads
(both interfaces, the factory, which private names other files use) happen in
:func:`build_codemod`; ``transform`` is pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

import libcst as cst
from libcst.metadata import Access, GlobalScope, PositionProvider, ScopeProvider

from ssot_migrate.codemods import forwards
from ssot_migrate.codemods._common import faithful_result
from ssot_migrate.codemods.doubles import DoublePlan, build_plans, rewrite_double
from ssot_migrate.codemods.factories import FactoryInfo, analyze_factory
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
from ssot_migrate.model import (
    Change,
    ChangeKind,
    CodemodResult,
    Config,
    NameKind,
    Note,
    NoteKind,
    PhaseId,
    Severity,
    SourceFile,
    Target,
)
from ssot_migrate.pysyntax import (
    alias_local_name,
    class_index,
    dotted_name,
    drop_aliases,
    free_name,
    import_bindings,
    insert_top_import,
    is_docstring,
    is_import_line,
    make_import_from,
    small_statements,
    top_level_names,
)

# Initialisers that only build a fresh container/lock/value: dropping them has no side effect.
_PURE_CALLS = frozenset(
    {
        "dict",
        "list",
        "set",
        "frozenset",
        "tuple",
        "object",
        "int",
        "float",
        "str",
        "bool",
        "defaultdict",
        "OrderedDict",
        "Counter",
        "deque",
        "Lock",
        "RLock",
        "Event",
        "Condition",
        "Semaphore",
        "WeakValueDictionary",
        "WeakKeyDictionary",
        "WeakSet",
        "time",
        "monotonic",
        "getLogger",
    }
)


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


@dataclass(frozen=True)
class FacadesCodemod:
    """The phase-2 codemod: picklable, pure; built by :func:`build_codemod`."""

    plans: tuple[FacadePlan, ...]
    nothing_to_do: tuple[str, ...] = ()
    phase: str = field(default=PhaseId.FACADES.value)
    doubles: tuple[DoublePlan, ...] = ()

    def needles(self) -> frozenset[str]:
        """The facade and test-double class names (a module names the classes it defines)."""
        return frozenset(p.class_name for p in self.plans) | frozenset(
            d.class_name for d in self.doubles
        )

    def transform(self, source: bytes, file: SourceFile) -> CodemodResult:
        """Rewrite the facade and test-double classes defined in ``source`` (module docstrings)."""
        plans = [p for p in self.plans if p.module == file.module]
        doubles = [d for d in self.doubles if d.module == file.module]
        if not plans and not doubles:
            return CodemodResult(source)
        original = module = cst.parse_module(source)
        changes: list[Change] = []
        notes: list[Note] = []
        for plan in plans:
            module = _rewrite_facade(module, plan, file, changes, notes)
        for double in doubles:
            module = rewrite_double(module, double, file, changes, notes)
        target = plans[0].target if plans else doubles[0].target
        return faithful_result(source, original, module, file, target, changes, notes)


# --------------------------------------------------------------------------- repository reads


def build_codemod(config: Config, snapshot: SnapshotLike) -> FacadesCodemod:
    """Compare every facade with its canonical, decide alias or delegation, return the codemod.

    Targets without ``facades`` do nothing and are named in ``nothing_to_do``.
    """
    plans: list[FacadePlan] = []
    idle: list[str] = []
    for target in config.targets:
        if not target.facades:
            if not target.test_doubles:
                idle.append(
                    f"nothing to do for target {target.name}: no facades or test doubles configured"
                )
            continue
        if target.canonical_kind == NameKind.MODULE:
            idle.append(
                f"nothing to do for target {target.name}: its canonical is a module, "
                "so there is no class to alias or delegate to"
            )
            continue
        for facade in target.facades:
            plan = _plan_facade(target, facade, snapshot)
            if isinstance(plan, str):
                idle.append(plan)  # no file to put the outcome at
            else:
                plans.append(plan)
    doubles, idle_doubles = build_plans(config, snapshot)
    return FacadesCodemod(tuple(plans), (*idle, *idle_doubles), doubles=doubles)


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
        forwards.alias_blockers(analysis, canonical.methods, canonical.constructor, public)
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
) -> tuple[forwards.FacadeAnalysis, bool]:
    """Which of the facade's methods are pure forwards to the canonical (``forwards``), and
    whether the whole class is an identical copy of the canonical's."""
    module_name, path, module, node = located
    bindings = import_bindings(small_statements(module.body), _package_of(module_name, path))
    theirs = class_source(snapshot, canonical.qualname)
    analysis = forwards.analyse(
        node,
        bindings,
        canonical.qualname,
        target.factory,
        module_name == canonical.qualname.rpartition(".")[0],
        forwards.method_bodies(theirs[3] if theirs is not None else None),
    )
    identical = False
    if theirs is not None:
        their_module_name, their_path, their_module, their_node = theirs
        their_bindings = import_bindings(
            small_statements(their_module.body), _package_of(their_module_name, their_path)
        )
        identical = forwards.identical_copy(
            node,
            forwards.module_names(module, module_name, bindings),
            their_node,
            forwards.module_names(their_module, their_module_name, their_bindings),
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
    analysis: forwards.FacadeAnalysis,
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


# --------------------------------------------------------------------------- the pure rewrite


OUTCOME_KINDS = ("facade-aliased", "facade-delegated", "facade-left-alone")


def _rewrite_facade(
    module: cst.Module,
    plan: FacadePlan,
    file: SourceFile,
    changes: list[Change],
    notes: list[Note],
) -> cst.Module:
    """Rewrite one facade; ``notes`` gets exactly one outcome line for it (``OUTCOME_KINDS``)."""
    index = class_index(module, plan.class_name)
    if index is None:
        return module  # planned from this very file: only a different source lacks the class
    positions = cst.MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    position = positions.get(module.body[index])
    line = position.start.line if position is not None else 0
    lines = {
        id(node): p.start.line for node, p in positions.items() if isinstance(node, cst.FunctionDef)
    }
    cls = module.body[index]
    assert isinstance(cls, cst.ClassDef)

    def method_line(name: str) -> int:
        statements = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
        at = _method_index(statements, name)
        return lines.get(id(statements[at]), line) if at is not None else line

    def note(kind: NoteKind, message: str, at: int = line) -> None:
        notes.append(Note(file.path, at, 1, plan.target, kind, message, "needs-decision"))

    if plan.mode == "skip":
        _logic_notes(plan, method_line, note)
        notes.append(
            _outcome(file, line, plan, "facade-left-alone", f"left as it is: {plan.reason}")
        )
        return module
    if plan.mode == "alias":
        new_module, refused = _to_alias(module, index, plan, file, changes, notes, line)
        if refused is not None:
            _logic_notes(plan, method_line, note)
            notes.append(
                _outcome(file, line, plan, "facade-left-alone", f"left as it is: {refused}")
            )
            return module
        for method in plan.methods:
            if method.logic:
                notes.append(
                    Note(
                        file.path,
                        method_line(method.name),
                        1,
                        plan.target,
                        "facade-logic-replaced",
                        f"{plan.class_name}.{method.name}(): {', '.join(method.logic)}; replaced by "
                        f"the canonical's {method.name}() (replace-facade-logic)",
                        "warning",
                    )
                )
        count = len(plan.methods)
        replaced = [f"{m.name}()" for m in plan.methods if m.logic]
        how = (
            f" ({plan.reason}: the same statements, every name meaning the same)"
            if plan.reason
            else f"; the logic of its own in {', '.join(replaced)} is replaced by the canonical's "
            "(replace-facade-logic, listed)"
            if replaced
            else f" ({_plural(count, 'method')}, each a pure forward)"
            if count
            else " (no methods of its own)"
        )
        notes.append(
            _outcome(
                file, line, plan, "facade-aliased", f"aliased to {plan.canonical}{how}", "note"
            )
        )
        return new_module
    delegation = _Delegation(module, index, plan, file, changes, note, line, lines)
    new_module = delegation.run()
    notes.extend(delegation.notes_extra)
    notes.append(delegation.outcome(file))
    return new_module


def _logic_notes(
    plan: FacadePlan, method_line: Callable[[str], int], note: Callable[..., None]
) -> None:
    """A ``facade-logic`` note at every method whose body does more than forward."""
    for method in plan.methods:
        if method.logic and not plan.replace_logic:
            note(
                "facade-logic",
                f"{plan.class_name}.{method.name}() has logic of its own: "
                f"{', '.join(method.logic)} (kept as it is)",
                method_line(method.name),
            )


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


def _ensure_canonical_import(
    module: cst.Module, plan: FacadePlan, file: SourceFile, avoid: str | None = None
) -> tuple[cst.Module, str]:
    """The module with the canonical imported at top level, and the local name bound to it.

    In the canonical's own module the class is already there by its name: importing the module
    from itself would fail while it is still being initialised.
    """
    if (
        file.module == plan.canonical_module
        and class_index(module, plan.canonical_name) is not None
    ):
        return module, plan.canonical_name
    for local, qname in import_bindings(small_statements(module.body), file.package).items():
        if qname == plan.canonical and local != avoid:
            return module, local
    taken = top_level_names(module) - ({avoid} if avoid == plan.canonical_name else set())
    local = free_name(plan.canonical_name, taken)
    statement = cst.SimpleStatementLine(
        body=[make_import_from(plan.canonical_module, 0, [(plan.canonical_name, local)])]
    )
    return insert_top_import(module, statement), local


# ---- alias mode -------------------------------------------------------------------------------


def _to_alias(
    module: cst.Module,
    index: int,
    plan: FacadePlan,
    file: SourceFile,
    changes: list[Change],
    notes: list[Note],
    line: int,
) -> tuple[cst.Module, str | None]:
    """The module with the facade aliased, or the unchanged module and why it was not."""
    old_class = module.body[index]
    assert isinstance(old_class, cst.ClassDef)
    if old_class.decorators:
        # A decorator may register the class or change it: aliasing would drop that silently.
        shown = ", ".join(
            dotted_name(d.decorator, through_subscripts=True) or "<expr>"
            for d in old_class.decorators
        )
        return module, (
            f"it is decorated ({shown}); aliasing would drop the decorator's effect, "
            "so the class is kept"
        )
    defined_at = (
        class_index(module, plan.canonical_name) if file.module == plan.canonical_module else None
    )
    if defined_at is not None and defined_at > index:
        return module, (
            f"it is defined before {plan.canonical_name} in the same module; an alias there "
            "would name the class before it exists, so the facade is kept"
        )
    used_before = _imports_read_in(module, old_class)
    leading = old_class.leading_lines
    orphans = _footer_comments(old_class, module)
    if plan.deprecate:
        body = list(module.body)
        del body[index]
        if index == 0 and body:
            # The file now starts with what followed the class: no blank lines above it.
            first = body[0]
            lines = list(getattr(first, "leading_lines", ()))
            while lines and lines[0].comment is None:
                lines.pop(0)
            body[0] = first.with_changes(leading_lines=lines)
        new_module = _adopt_comments(module.with_changes(body=body), index, orphans)
        if _references_name(new_module, plan.class_name):
            new_module, local = _ensure_canonical_import(new_module, plan, file)
            new_module = new_module.visit(_RenameName(plan.class_name, local))
        else:
            local = ""
        new_module = _add_deprecation_getattr(new_module, plan, local)
        new_text = f"module __getattr__ returning {plan.canonical} with a DeprecationWarning"
    else:
        same_name = plan.class_name == plan.canonical_name
        module_without = module.with_changes(body=[*module.body[:index], *module.body[index + 1 :]])
        new_module, local = _ensure_canonical_import(
            module_without, plan, file, avoid=None if same_name else plan.class_name
        )
        body = list(new_module.body)
        position = _class_index_after(module, new_module, index)
        if local != plan.class_name:
            assign = cst.SimpleStatementLine(
                body=[
                    cst.Assign(
                        targets=[cst.AssignTarget(cst.Name(plan.class_name))],
                        value=cst.Name(local),
                    )
                ],
                leading_lines=leading,
            )
            if position > 0 and not leading and is_import_line(body[position - 1]):
                # The class came first and the canonical's import now stands right above.
                assign = assign.with_changes(leading_lines=[cst.EmptyLine()])
            body.insert(position, assign)
            position += 1
        new_module = _adopt_comments(new_module.with_changes(body=body), position, orphans)
        new_text = (
            f"{plan.class_name} = {local}"
            if local != plan.class_name
            else (f"from {plan.canonical_module} import {plan.canonical_name}")
        )
    new_module = _drop_unused_imports(new_module, used_before - {local, plan.class_name})
    changes.append(
        Change(
            file.path, line, 1, plan.target, "facade-alias", f"class {plan.class_name}", new_text
        )
    )
    return new_module, None


def _footer_comments(cls: cst.ClassDef, module: cst.Module) -> list[cst.EmptyLine]:
    """The lines after the class's last statement, when there is a comment among them.

    libcst gives them to the class body, but they may well be about what follows the class;
    removing the class must not remove them. Each keeps its exact text (the body's indentation
    included), blank lines around them too.
    """
    body = cls.body
    if not isinstance(body, cst.IndentedBlock):
        return []
    indent = body.indent if body.indent is not None else module.default_indent
    footer = list(body.footer)
    if all(line.comment is None for line in footer):
        return []
    kept: list[cst.EmptyLine] = []
    for line in footer:
        whitespace = (indent if line.indent and line.comment else "") + line.whitespace.value
        kept.append(line.with_changes(indent=False, whitespace=cst.SimpleWhitespace(whitespace)))
    return kept


def _adopt_comments(
    module: cst.Module, index: int, comments: Sequence[cst.EmptyLine]
) -> cst.Module:
    """Put ``comments`` above the statement now at ``index`` (or at the end of the module)."""
    if not comments:
        return module
    body = list(module.body)
    if index < len(body):
        statement = body[index]
        lines = [*comments, *getattr(statement, "leading_lines", ())]
        body[index] = statement.with_changes(leading_lines=lines)
        return module.with_changes(body=body)
    return module.with_changes(footer=[*comments, *module.footer])


def _class_index_after(before: cst.Module, after: cst.Module, index: int) -> int:
    """Where the removed class stood, in ``after`` (an import may have been added above it)."""
    return index + (len(after.body) - (len(before.body) - 1))


def _references_name(module: cst.Module, name: str) -> bool:
    finder = _NameFinder(name)
    module.visit(finder)
    return finder.found


class _NameFinder(cst.CSTVisitor):
    def __init__(self, name: str) -> None:
        self.name = name
        self.found = False

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == self.name:
            self.found = True

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_ImportAlias(self, node: cst.ImportAlias) -> bool:
        return False


class _RenameName(cst.CSTTransformer):
    """Renames a global name's loads (not attributes, imports or definitions)."""

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        return True

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.Attribute:
        return updated_node.with_changes(attr=original_node.attr)

    def visit_ImportAlias(self, node: cst.ImportAlias) -> bool:
        return False

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        return (
            updated_node.with_changes(value=self.new)
            if original_node.value == self.old
            else updated_node
        )


def _add_deprecation_getattr(module: cst.Module, plan: FacadePlan, local: str) -> cst.Module:
    message = f"{plan.facade} is deprecated; use {plan.canonical} instead"
    if local:
        fetch = f"        return {local}\n"
    else:
        fetch = (
            f"        from {plan.canonical_module} import {plan.canonical_name}\n\n"
            f"        return {plan.canonical_name}\n"
        )
    branch = (
        f'    if name == "{plan.class_name}":\n'
        "        import warnings\n\n"
        f'        warnings.warn(\n            "{message}",\n            DeprecationWarning,\n'
        "            stacklevel=2,\n        )\n" + fetch
    )
    existing = _class_or_function_index(module, "__getattr__")
    if existing is not None:
        function = module.body[existing]
        assert isinstance(function, cst.FunctionDef)
        params = function.params.params
        param = params[0].name.value if params else "name"
        parsed = cst.parse_module(f"def _f({param}):\n" + branch.replace("name ==", f"{param} =="))
        new_if = parsed.body[0]
        assert isinstance(new_if, cst.FunctionDef)
        assert isinstance(function.body, cst.IndentedBlock)
        body = [*new_if.body.body, *function.body.body]
        new_function = function.with_changes(body=function.body.with_changes(body=body))
        statements = list(module.body)
        statements[existing] = new_function
        return module.with_changes(body=statements)
    text = (
        "def __getattr__(name: str) -> object:\n"
        + branch
        + '    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")\n'
    )
    function_def = cst.parse_module(text).body[0]
    function_def = function_def.with_changes(
        leading_lines=[cst.EmptyLine(), cst.EmptyLine()] if module.body else []
    )
    return module.with_changes(body=[*module.body, function_def])


def _class_or_function_index(module: cst.Module, name: str) -> int | None:
    for index, statement in enumerate(module.body):
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)) and statement.name.value == name:
            return index
    return None


# ---- import clean-up ----------------------------------------------------------------------------


def _names_used(node: cst.CSTNode) -> set[str]:
    collector = _UsedNames()
    node.visit(collector)
    return collector.names


class _UsedNames(cst.CSTVisitor):
    """Every Name a piece of code loads, plus identifier words of its strings."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        word = ""
        for ch in node.value:
            if ch.isalnum() or ch == "_":
                word += ch
            else:
                if word:
                    self.names.add(word)
                word = ""
        if word:
            self.names.add(word)


def _imports_read_in(module: cst.Module, cls: cst.ClassDef) -> set[str]:
    """Names of ``module``'s top-level imports that code inside ``cls`` reads (scope analysis).

    Only these may become unused by rewriting the class; a parameter or local of the class
    that happens to share an import's name says nothing about the import.
    """
    inside: set[int] = set()

    class _Ids(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            inside.add(id(node))
            return True

    cls.visit(_Ids())
    scopes = cst.MetadataWrapper(module, unsafe_skip_copy=True).resolve(ScopeProvider)
    scope = scopes.get(module)
    if not isinstance(scope, GlobalScope):
        return set()
    read: set[str] = set()
    for assignment in scope.assignments:
        node = getattr(assignment, "node", None)
        if not isinstance(node, (cst.Import, cst.ImportFrom)):
            continue
        references: Iterable[Access] = assignment.references
        if any(id(access.node) in inside for access in references):
            read.add(assignment.name)
    return read


def _drop_unused_imports(module: cst.Module, candidates: set[str]) -> cst.Module:
    """Drop top-level ``from`` imports of ``candidates`` nothing in ``module`` uses any more."""
    used = _names_used(module)
    body: list[cst.BaseStatement] = []
    carried: Sequence[cst.EmptyLine] = ()
    for statement in module.body:
        if carried and not getattr(statement, "leading_lines", ()):
            # A removed import line's blank lines and comments stay where they were.
            statement = statement.with_changes(leading_lines=carried)
        carried = ()
        if isinstance(statement, cst.SimpleStatementLine) and is_import_line(statement):
            smalls: list[cst.BaseSmallStatement] = []
            for small in statement.body:
                if (
                    isinstance(small, cst.ImportFrom)
                    and not isinstance(small.names, cst.ImportStar)
                    and dotted_name(small.module or cst.Name("_")) != "__future__"
                ):
                    drop = [
                        a
                        for a in small.names
                        if (alias_local_name(a) or "") in candidates
                        and (alias_local_name(a) or "") not in used
                    ]
                    remaining = drop_aliases(small, drop) if drop else small
                    if remaining is not None:
                        smalls.append(remaining)
                elif isinstance(small, cst.Import):
                    keep = [
                        a
                        for a in small.names
                        if not (
                            a.asname is None
                            and (alias_local_name(a) or "") in candidates
                            and (alias_local_name(a) or "") not in used
                        )
                    ]
                    if keep:
                        if len(keep) != len(small.names):
                            keep[-1] = keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                        smalls.append(small.with_changes(names=keep))
                else:
                    smalls.append(small)
            if not smalls:
                carried = statement.leading_lines
                continue
            body.append(statement.with_changes(body=smalls))
        else:
            body.append(statement)
    return module.with_changes(body=body)


# ---- delegation mode --------------------------------------------------------------------------


class _Delegation:
    """Rewrites one facade class into a delegation to a canonical instance."""

    def __init__(
        self,
        module: cst.Module,
        index: int,
        plan: FacadePlan,
        file: SourceFile,
        changes: list[Change],
        note: Callable[..., None],
        line: int,
        lines: dict[int, int] | None = None,
    ) -> None:
        self.lines = lines or {}
        self.module = module
        self.index = index
        self.plan = plan
        self.file = file
        self.changes = changes
        self.note = note
        self.line = line
        node = module.body[index]
        assert isinstance(node, cst.ClassDef)
        self.cls = node
        self.bindings = import_bindings(small_statements(module.body), file.package)
        self.forwarded: list[str] = []
        self.kept: list[MethodPlan] = []
        self.left_alone: str | None = None
        self.changed = False
        self.notes_extra: list[Note] = []

    def change(self, kind: ChangeKind, old: str, new: str, line: int | None = None) -> None:
        self.changes.append(
            Change(self.file.path, line or self.line, 1, self.plan.target, kind, old, new)
        )

    def run(self) -> cst.Module:
        """The module with the facade delegating; ``outcome`` then says what happened."""
        plan = self.plan
        if not isinstance(self.cls.body, cst.IndentedBlock):
            self.left_alone = "a one-line class body is left as it is"
            return self.module
        module = self.module
        statements = list(self.cls.body.body)
        init_index = _method_index(statements, "__init__")
        impl = self._find_impl(statements[init_index]) if init_index is not None else None
        # 1. What happens to each method; forwards that would leave shared state stale, async
        # generators and properties with a setter stay as they are.
        attribute = impl or free_name("_impl", _class_attributes(self.cls))
        demoted = _state_sharing(
            statements, plan, attribute, _attribute_names_outside(module, self.index)
        )
        decided: list[MethodPlan] = []
        for method in plan.methods:
            position = _method_index(statements, method.name)
            if position is None:
                continue
            function = statements[position]
            assert isinstance(function, cst.FunctionDef)
            if method.name in demoted:
                method = replace(method, action="keep", reason=demoted[method.name])
            elif method.action == "forward" and _is_async_generator(function):
                method = replace(
                    method,
                    action="keep",
                    reason=f"{method.name}(): an async generator cannot be forwarded in one line",
                )
            decided.append(method)
        instance_needed = any(m.action == "forward" and not m.on_class for m in decided)
        needs_canonical_local = any(m.on_class and m.action == "forward" for m in decided)
        # 2. The canonical instance, only when a forward uses it: nothing unused is added.
        new_imports: list[tuple[str, str]] = []  # (qualified name, local)
        taken = top_level_names(module)
        canonical_local = (
            self._local_for(plan.canonical, taken, new_imports) if needs_canonical_local else ""
        )
        if impl is None and instance_needed:
            if plan.factory_note:
                self.note("facade-factory", f"{plan.facade}: {plan.factory_note}")
            blocker = _cannot_add_instance(self.cls, init_index is not None)
            if blocker is not None:
                self.left_alone = f"{blocker}; add the canonical instance by hand"
                return self.module
            built = self._construction(
                statements, init_index, plan.factory, canonical_local, taken, new_imports
            )
            if built is None:
                return self.module
            call_text, kind = built
            statement = cst.parse_statement(f"self.{attribute} = {call_text}\n")
            if init_index is None:
                init = cst.parse_statement(
                    f"def __init__(self) -> None:\n    self.{attribute} = {call_text}\n"
                )
                insert_at = 1 if statements and is_docstring(statements[0]) else 0
                statements.insert(insert_at, init)
            else:
                init_node = statements[init_index]
                assert isinstance(init_node, cst.FunctionDef)
                statements[init_index] = _prepend_statement(init_node, statement)
            self.change(
                kind, f"class {plan.class_name} (own state)", f"self.{attribute} = {call_text}"
            )
        # 3. Forwards.
        rewritten = False
        for method in decided:
            position = _method_index(statements, method.name)
            assert position is not None
            function = statements[position]
            assert isinstance(function, cst.FunctionDef)
            if method.action == "keep":
                self.kept.append(method)
                self.note(
                    method.kind,
                    f"{plan.class_name}.{method.reason} (kept as it is)",
                    self._line(function),
                )
                continue
            self.forwarded.append(method.name)
            if method.action == "as-is":
                continue
            if method.logic:
                self.notes_extra.append(
                    Note(
                        self.file.path,
                        self._line(function),
                        1,
                        plan.target,
                        "facade-logic-replaced",
                        f"{plan.class_name}.{method.name}(): {', '.join(method.logic)}; replaced by "
                        f"the canonical's {method.name}() (replace-facade-logic)",
                        "warning",
                    )
                )
            forwarded = _forward(function, attribute, canonical_local if method.on_class else None)
            assert forwarded is not None
            if _code(forwarded) != _code(function):
                statements[position] = forwarded
                rewritten = True
                self.change(
                    "facade-forward",
                    f"def {method.name}",
                    _code(forwarded.body).strip().splitlines()[-1].strip(),
                    self._line(function),
                )
        if not rewritten:
            # Nothing was collapsed: the class stays exactly as it was, no instance added, no
            # clean-up of its own (its dead code was dead before phase 2).
            return self.module
        # 4. Private state and helpers nothing uses any more.
        statements = self._drop_dead_members(statements, attribute)
        new_cls = self.cls.with_changes(body=self.cls.body.with_changes(body=statements))
        body = list(module.body)
        body[self.index] = new_cls
        new_module = module.with_changes(body=body)
        used_before = _imports_read_in(self.module, self.cls)
        for qname, local in new_imports:
            new_module = _add_top_import(new_module, qname, local)
        self.changed = True
        return _drop_unused_imports(new_module, used_before)

    def outcome(self, file: SourceFile) -> Note:
        """The facade's one outcome line: delegated (n forwarded, m kept), or left as it is."""
        plan = self.plan
        if self.left_alone is not None:
            return _outcome(
                file, self.line, plan, "facade-left-alone", f"left as it is: {self.left_alone}"
            )
        kept = "; ".join(f"{m.name}: {_short_reason(m)}" for m in self.kept)
        if not self.forwarded:
            every = len(self.kept)
            what = (
                f"none of its methods is a pure forward to {plan.canonical} ({every} kept: {kept})"
                if every
                else "it has no public methods to forward"
            )
            return _outcome(file, self.line, plan, "facade-left-alone", f"left as it is: {what}")
        already = "" if self.changed else "; already pure forwards, left as they are"
        text = (
            f"delegated to {plan.canonical}: {_plural(len(self.forwarded), 'method')} forwarded "
            f"({', '.join(self.forwarded)}{already}), {len(self.kept)} kept"
            + (f" ({kept})" if kept else "")
        )
        why = [*plan.incompatibilities, *plan.not_alias]
        if why:
            text += "; not an alias: " + "; ".join(why)
        return _outcome(file, self.line, plan, "facade-delegated", text, "note")

    def _line(self, node: cst.CSTNode) -> int:
        return self.lines.get(id(node), self.line)

    def _local_for(self, qname: str, taken: set[str], new_imports: list[tuple[str, str]]) -> str:
        for local, bound in self.bindings.items():
            if bound == qname:
                return local
        for bound_qname, local in new_imports:
            if bound_qname == qname:
                return local
        local = free_name(qname.rpartition(".")[2], taken)
        taken.add(local)
        new_imports.append((qname, local))
        return local

    def _resolves_to(self, func: cst.BaseExpression, qname: str) -> bool:
        text = dotted_name(func, through_subscripts=True)
        if text is None:
            return False
        head, _, rest = text.partition(".")
        bound = self.bindings.get(head)
        if bound is None:
            return False
        return (f"{bound}.{rest}" if rest else bound) == qname

    def _find_impl(self, init: cst.BaseStatement) -> str | None:
        """The attribute ``__init__`` stores a canonical instance in (built directly or by factory)."""
        if not isinstance(init, cst.FunctionDef):
            return None
        for statement in _body_smalls(init):
            if isinstance(statement, (cst.Assign, cst.AnnAssign)) and isinstance(
                statement.value, cst.Call
            ):
                targets = (
                    [t.target for t in statement.targets]
                    if isinstance(statement, cst.Assign)
                    else [statement.target]
                )
                func = statement.value.func
                builds = (
                    self._resolves_to(func, self.plan.canonical)
                    or (
                        self.plan.factory is not None
                        and self._resolves_to(func, self.plan.factory.dotted)
                    )
                    or (
                        self._factory_dotted() is not None
                        and self._resolves_to(func, self._factory_dotted() or "")
                    )
                )
                if not builds:
                    continue
                for target in targets:
                    if (
                        isinstance(target, cst.Attribute)
                        and isinstance(target.value, cst.Name)
                        and target.value.value == "self"
                    ):
                        return target.attr.value
        return None

    def _factory_dotted(self) -> str | None:
        return self.plan.factory.dotted if self.plan.factory is not None else None

    def _construction(
        self,
        statements: list[cst.BaseStatement],
        init_index: int | None,
        factory: FactoryInfo | None,
        canonical_local: str,
        taken: set[str],
        new_imports: list[tuple[str, str]],
    ) -> tuple[str, ChangeKind] | None:
        """``(call text, change kind)`` building the canonical from the facade's parameters."""
        params: list[str] = []
        if init_index is not None:
            init = statements[init_index]
            assert isinstance(init, cst.FunctionDef)
            every = [*init.params.posonly_params, *init.params.params, *init.params.kwonly_params]
            params = [p.name.value for p in every[1:]] if every else []
        options: list[tuple[str, MethodSignature | None, ChangeKind]] = []
        if factory is not None:
            options.append((factory.dotted, factory.signature, "facade-factory-instance"))
        options.append((self.plan.canonical, self.plan.canonical_init, "facade-canonical-instance"))
        problems: list[str] = []
        for dotted, signature, kind in options:
            if signature is None:
                problems.append(f"the signature of {dotted} could not be read")
                continue
            arguments, problem = _arguments_for(signature, params, dotted)
            if problem is not None:
                problems.append(problem)
                continue
            local = self._local_for(dotted, taken, new_imports)
            return f"{local}({', '.join(arguments)})", kind
        self.left_alone = (
            "it cannot build a canonical instance from its constructor's parameters "
            f"({'; '.join(problems)})"
        )
        return None

    def _drop_dead_members(
        self, statements: list[cst.BaseStatement], impl: str
    ) -> list[cst.BaseStatement]:
        protected = set(self.plan.used_elsewhere) | {impl}
        outside = _attribute_names_outside(self.module, self.index)
        protected |= outside
        # Fixed point: dropping a helper can free the state only it used.
        changed = True
        while changed:
            changed = False
            used = _self_attribute_uses(statements)
            kept: list[cst.BaseStatement] = []
            for statement in statements:
                if (
                    isinstance(statement, cst.FunctionDef)
                    and not is_public(statement.name.value)
                    and not statement.name.value.startswith("__")
                    and statement.name.value not in protected
                    and used.get(statement.name.value, 0) == 0
                    and not statement.decorators
                ):
                    self.change(
                        "facade-dead-method",
                        f"def {statement.name.value}",
                        "(removed)",
                        self._line(statement),
                    )
                    changed = True
                    continue
                kept.append(statement)
            statements = kept
            init_index = _method_index(statements, "__init__")
            if init_index is None:
                continue
            init = statements[init_index]
            assert isinstance(init, cst.FunctionDef)
            used = _self_attribute_uses(statements)
            new_init, removed = _drop_state(init, used, protected)
            if removed:
                statements[init_index] = new_init
                for name in removed:
                    self.change("facade-state-removed", f"self.{name}", "(removed)")
                changed = True
        return statements


_MUTATORS = frozenset(
    {
        "append",
        "appendleft",
        "extend",
        "insert",
        "pop",
        "popitem",
        "popleft",
        "remove",
        "clear",
        "update",
        "setdefault",
        "add",
        "discard",
        "__setitem__",
        "__delitem__",
    }
)


class _StateAccess(cst.CSTVisitor):
    """``self.<name>`` attributes a method touches, and those it changes."""

    def __init__(self) -> None:
        self.touched: set[str] = set()
        self.mutated: set[str] = set()

    @staticmethod
    def _own(node: cst.BaseExpression) -> str | None:
        while isinstance(node, cst.Subscript):
            node = node.value
        if (
            isinstance(node, cst.Attribute)
            and isinstance(node.value, cst.Name)
            and node.value.value == "self"
        ):
            return node.attr.value
        return None

    def visit_Attribute(self, node: cst.Attribute) -> None:
        name = self._own(node)
        if name is not None:
            self.touched.add(name)

    def _store(self, target: cst.BaseExpression) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._store(element.value)
            return
        name = self._own(target)
        if name is not None:
            self.mutated.add(name)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._store(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._store(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._store(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self._store(node.target)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _MUTATORS:
            name = self._own(func.value)
            if name is not None:
                self.mutated.add(name)


def _state_sharing(
    statements: Sequence[cst.BaseStatement],
    plan: FacadePlan,
    impl: str,
    outside: set[str],
) -> dict[str, str]:
    """Methods that must not be forwarded: they share changing state with code that stays.

    Forwarding ``add_connection`` while a kept ``snapshot`` still reads ``self._connections``
    (which only ``add_connection`` filled) would silently break ``snapshot``. So a forwardable
    method touching an attribute that some method changes after construction, and that a kept
    method, another file or other code in the module also touches, is kept (to a fixed point).
    """
    every = {s.name.value: s for s in statements if isinstance(s, cst.FunctionDef)}
    access: dict[str, _StateAccess] = {}
    for name, function in every.items():
        visitor = _StateAccess()
        function.visit(visitor)
        access[name] = visitor
    functions = {name for name in every if name != "__init__"}
    changing: set[str] = set()
    for name in functions:
        changing |= access[name].mutated
    changing -= set(every) | {impl}
    protected = set(plan.used_elsewhere) | outside
    forwards = {m.name for m in plan.methods if m.action == "forward"}
    demoted: dict[str, str] = {}
    changed = True
    while changed:
        changed = False
        # Methods that stay and can run: public ones not forwarded, dunders, and the private
        # helpers they (or __init__) reach; dead helpers are dropped later, so they do not count.
        live = {
            name
            for name in every
            if name not in forwards
            and (is_public(name) or name.startswith("__") or name in protected)
        }
        frontier = list(live)
        while frontier:
            for reached in access[frontier.pop()].touched & set(every):
                if reached not in live and reached not in forwards:
                    live.add(reached)
                    frontier.append(reached)
        kept_touch: dict[str, list[str]] = {}
        for name in sorted(live - {"__init__"}):
            for attribute in access[name].touched:
                kept_touch.setdefault(attribute, []).append(f"{name}()")
        for attribute in protected & changing:
            kept_touch.setdefault(attribute, []).append("code outside the class")
        for name in sorted(forwards):
            if name not in access:
                continue
            shared = sorted(access[name].touched & changing & set(kept_touch))
            if shared:
                users = sorted({user for a in shared for user in kept_touch[a]})
                state = ", ".join(f"self.{a}" for a in shared)
                demoted[name] = (
                    f"{name}(): shares changing state ({state}) with {', '.join(users)}, "
                    "which stay; forwarding it would leave that state stale"
                )
                forwards.discard(name)
                changed = True
    return demoted


def _cannot_add_instance(cls: cst.ClassDef, has_init: bool) -> str | None:
    """Why a new ``self._impl`` cannot be added to ``cls`` safely, or ``None``."""
    body = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                targets = small.targets if isinstance(small, cst.Assign) else ()
                if any(
                    isinstance(t.target, cst.Name) and t.target.value == "__slots__"
                    for t in targets
                ):
                    return "it declares __slots__, which has no room for a new attribute"
    if has_init:
        return None
    if cls.decorators:
        return "it is decorated and has no __init__ of its own (a generated constructor?)"
    bases = [
        dotted_name(arg.value, through_subscripts=True) for arg in cls.bases if arg.keyword is None
    ]
    inherited = [b or "<expr>" for b in bases if b not in ("object", None) or b is None]
    if inherited:
        return f"its constructor is inherited from {', '.join(inherited)}"
    if any(arg.keyword is not None for arg in cls.bases):
        return "it has a metaclass or class keywords"
    return None


def _arguments_for(
    signature: MethodSignature, params: Sequence[str], dotted: str
) -> tuple[list[str], str | None]:
    """Keyword arguments passing the facade's same-named parameters to ``signature``."""
    available = set(params)
    arguments: list[str] = []
    for index, name in enumerate(signature.positional):
        if name in available:
            if index < signature.posonly:
                if len(arguments) != index:
                    return [], f"{dotted}() takes '{name}' by position only"
                arguments.append(name)
            else:
                arguments.append(f"{name}={name}")
        elif index < signature.required_positional:
            return [], f"{dotted}() requires '{name}', which the facade's constructor does not take"
    for name in signature.keyword_only:
        if name in available:
            arguments.append(f"{name}={name}")
        elif name in signature.required_keyword_only:
            return [], f"{dotted}() requires '{name}', which the facade's constructor does not take"
    return arguments, None


def _method_index(statements: Sequence[cst.BaseStatement], name: str) -> int | None:
    found = None
    for index, statement in enumerate(statements):
        if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
            if any(
                (dotted_name(d.decorator, through_subscripts=True) or "").endswith(
                    (".setter", ".deleter")
                )
                for d in statement.decorators
            ):
                continue
            found = index
    return found


def _body_smalls(function: cst.FunctionDef) -> Iterable[cst.BaseSmallStatement]:
    if not isinstance(function.body, cst.IndentedBlock):
        return
    for statement in function.body.body:
        if isinstance(statement, cst.SimpleStatementLine):
            yield from statement.body


def _class_attributes(cls: cst.ClassDef) -> set[str]:
    names: set[str] = set()
    collector = _SelfAttributeUses()
    cls.visit(collector)
    names.update(collector.counts)
    for statement in cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ():
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            names.add(statement.name.value)
    return names


def _prepend_statement(function: cst.FunctionDef, statement: cst.BaseStatement) -> cst.FunctionDef:
    assert isinstance(function.body, cst.IndentedBlock)
    body = list(function.body.body)
    index = 1 if body and is_docstring(body[0]) else 0
    # After ``super().__init__(...)``: the base class must be initialised first.
    for position in range(index, len(body)):
        if "super().__init__" in _code(body[position]) or "__init__(self" in _code(body[position]):
            index = position + 1
            break
    body.insert(index, statement)
    return function.with_changes(body=function.body.with_changes(body=body))


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _is_async_generator(function: cst.FunctionDef) -> bool:
    if function.asynchronous is None:
        return False
    finder = _YieldFinder()
    function.body.visit(finder)
    return finder.found


class _YieldFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_Yield(self, node: cst.Yield) -> None:
        self.found = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def _forward(
    function: cst.FunctionDef, attribute: str, class_local: str | None
) -> cst.FunctionDef | None:
    """``function`` with its body replaced by a one-line forward (docstring kept)."""
    decorators = [
        dotted_name(d.decorator, through_subscripts=True) or "" for d in function.decorators
    ]
    is_property = any(d.rpartition(".")[2] in ("property", "cached_property") for d in decorators)
    params = function.params
    every = [*params.posonly_params, *params.params]
    if (
        class_local is None
        and every
        or class_local is not None
        and not any(d.endswith("staticmethod") for d in decorators)
    ):
        every = every[1:]
    receiver = class_local if class_local is not None else f"self.{attribute}"
    name = function.name.value
    if is_property:
        call = f"{receiver}.{name}"
    else:
        arguments = [p.name.value for p in every]
        if isinstance(params.star_arg, cst.Param):
            arguments.append(f"*{params.star_arg.name.value}")
        arguments.extend(f"{p.name.value}={p.name.value}" for p in params.kwonly_params)
        if params.star_kwarg is not None:
            arguments.append(f"**{params.star_kwarg.name.value}")
        call = f"{receiver}.{name}({', '.join(arguments)})"
    if function.asynchronous is not None:
        call = f"await {call}"
    if not isinstance(function.body, cst.IndentedBlock):
        return function
    body = list(function.body.body)
    kept = [body[0]] if body and is_docstring(body[0]) else []
    line = cst.parse_statement(f"return {call}\n")
    return function.with_changes(body=function.body.with_changes(body=[*kept, line]))


class _SelfAttributeUses(cst.CSTVisitor):
    """How often each ``self.<name>`` / ``cls.<name>`` is used (stores of dropped state aside)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name) and node.value.value in ("self", "cls"):
            self.counts[node.attr.value] = self.counts.get(node.attr.value, 0) + 1


def _self_attribute_uses(statements: Sequence[cst.BaseStatement]) -> dict[str, int]:
    """Uses of ``self.x`` in the class, not counting ``__init__``'s own removable stores."""
    counter = _SelfAttributeUses()
    for statement in statements:
        if isinstance(statement, cst.FunctionDef) and statement.name.value == "__init__":
            for small_line in (
                statement.body.body if isinstance(statement.body, cst.IndentedBlock) else ()
            ):
                if _removable_store(small_line) is not None:
                    value = _store_value(small_line)
                    if value is not None:
                        value.visit(counter)
                    continue
                small_line.visit(counter)
        elif isinstance(statement, cst.FunctionDef):
            # Count the method itself (a call via self.name) separately from its body.
            statement.body.visit(counter)
            for decorator in statement.decorators:
                decorator.visit(counter)
        else:
            statement.visit(counter)
    return counter.counts


def _removable_store(statement: cst.BaseStatement) -> str | None:
    """The attribute of a ``self.x = <pure value>`` line, or ``None``."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        target: cst.BaseExpression = small.targets[0].target
        value: cst.BaseExpression | None = small.value
    elif isinstance(small, cst.AnnAssign):
        target, value = small.target, small.value
    else:
        return None
    if not (
        isinstance(target, cst.Attribute)
        and isinstance(target.value, cst.Name)
        and target.value.value == "self"
    ):
        return None
    if value is not None and not _is_pure(value):
        return None
    return target.attr.value


def _store_value(statement: cst.BaseStatement) -> cst.BaseExpression | None:
    if isinstance(statement, cst.SimpleStatementLine) and statement.body:
        small = statement.body[0]
        if isinstance(small, (cst.Assign, cst.AnnAssign)):
            return small.value
    return None


def _is_pure(value: cst.BaseExpression) -> bool:
    """Whether evaluating ``value`` can have no side effect worth keeping."""
    if isinstance(
        value,
        (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.ConcatenatedString, cst.Name),
    ):
        return True
    if isinstance(value, cst.Attribute):
        return _is_pure(value.value)
    if isinstance(value, (cst.List, cst.Tuple, cst.Set)):
        return all(_is_pure(e.value) for e in value.elements)
    if isinstance(value, cst.Dict):
        return all(
            isinstance(e, cst.DictElement) and _is_pure(e.key) and _is_pure(e.value)
            for e in value.elements
        )
    if isinstance(value, cst.UnaryOperation):
        return _is_pure(value.expression)
    if isinstance(value, cst.Call):
        name = (dotted_name(value.func, through_subscripts=True) or "").rpartition(".")[2]
        return name in _PURE_CALLS and all(_is_pure(a.value) for a in value.args)
    return False


def _drop_state(
    init: cst.FunctionDef, used: dict[str, int], protected: set[str]
) -> tuple[cst.FunctionDef, list[str]]:
    if not isinstance(init.body, cst.IndentedBlock):
        return init, []
    kept: list[cst.BaseStatement] = []
    removed: list[str] = []
    for statement in init.body.body:
        name = _removable_store(statement)
        if (
            name is not None
            and not is_public(name)
            and name not in protected
            and used.get(name, 0) == 0
        ):
            removed.append(name)
            continue
        kept.append(statement)
    if not removed:
        return init, []
    if not kept:
        kept = [cst.SimpleStatementLine(body=[cst.Pass()])]
    return init.with_changes(body=init.body.with_changes(body=kept)), removed


def _attribute_names_outside(module: cst.Module, index: int) -> set[str]:
    """Attribute names used anywhere in the module except the facade class itself."""
    names: set[str] = set()

    class _Visitor(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> None:
            names.add(node.attr.value)

    for position, statement in enumerate(module.body):
        if position != index:
            statement.visit(_Visitor())
    return names


def _add_top_import(module: cst.Module, qname: str, local: str) -> cst.Module:
    module_name, _, name = qname.rpartition(".")
    statement = cst.SimpleStatementLine(body=[make_import_from(module_name, 0, [(name, local)])])
    return insert_top_import(module, statement)

"""Phase 2, test doubles: make a hand-written double accept every call the canonical accepts.

A double written against an older interface keeps passing its tests while production code calls
the canonical in ways the double rejects (a renamed keyword, a parameter added since). For each
class listed in a target's ``test-doubles``, the edits below are made to its own methods, and
only these, because each keeps every call that worked before working the same way::

    class MockManager:                                class MockManager:
        async def send_event(self, event, data):   →      async def send_event(self, event_type, payload):
            self.sent.append((event, data))                   self.sent.append((event_type, payload))
        async def add(self, conn):                        async def add(self, conn, thread_id: str | None = None):

* a positional parameter named differently from the canonical's at the same position is renamed
  (with every read and write of it in the method), unless some call in the repository passes the
  old name as a keyword, or the new name is already used in the method;
* an optional parameter of the canonical the double lacks is added with the canonical's default
  (a literal) and its annotation when that annotation means the same in the double's module.

Nothing else is guessed: a method that is sync where the canonical's is async, a missing method
or attribute, a parameter the canonical requires and the double lacks, or a double that requires
more than the canonical does is listed as "needs a decision", with the remaining drift measured
again on the rewritten class. What the double adds for its tests (``events``, ``event_types()``)
and how it is constructed are left alone. Repository reads happen in :func:`build_plans`;
:func:`rewrite_double` is pure.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m
from libcst.metadata import Assignment, CodeRange, PositionProvider, Scope, ScopeProvider

from ssot_migrate.interfaces import (
    ClassInterface,
    MethodSignature,
    SnapshotLike,
    class_source,
    compare_double,
    extract_interface,
    load_class,
    module_imports,
    parse_file,
)
from ssot_migrate.model import Change, Config, NameKind, Note, NoteKind, SourceFile, Target
from ssot_migrate.pysyntax import class_index, dotted_name, top_level_names

_BUILTIN_NAMES = frozenset(dir(builtins))


@dataclass(frozen=True)
class ParamAdd:
    """A canonical parameter the double gains: its name, default and (portable) annotation."""

    name: str
    keyword_only: bool
    default: str
    annotation: str | None = None


@dataclass(frozen=True)
class MethodEdit:
    """The edits planned for one method of the double."""

    name: str
    renames: tuple[tuple[str, str], ...] = ()
    additions: tuple[ParamAdd, ...] = ()


@dataclass(frozen=True)
class DoublePlan:
    """One configured test double and what phase 2 does to it."""

    target: str
    double: str
    module: str
    class_name: str
    canonical: str
    edits: tuple[MethodEdit, ...] = ()
    held_back: tuple[tuple[str, str], ...] = ()  # (method, why an edit was not planned)
    double_interface: ClassInterface | None = None
    canonical_interface: ClassInterface | None = None
    skip_reason: str = ""


# --------------------------------------------------------------------------- repository reads


def build_plans(
    config: Config, snapshot: SnapshotLike
) -> tuple[tuple[DoublePlan, ...], tuple[str, ...]]:
    """Plan every configured test double; the second value says why a target has nothing to do."""
    plans: list[DoublePlan] = []
    idle: list[str] = []
    for target in config.targets:
        if not target.test_doubles:
            continue
        if target.canonical_kind == NameKind.MODULE:
            idle.append(
                f"test doubles of target {target.name} left alone: its canonical is a module"
            )
            continue
        for double in target.test_doubles:
            plan = _plan_double(target, double, snapshot)
            if plan is None:
                idle.append(f"test double {double} not found: nothing to conform")
            else:
                plans.append(plan)
    return tuple(plans), tuple(idle)


def _plan_double(target: Target, double: str, snapshot: SnapshotLike) -> DoublePlan | None:
    module, _, class_name = double.rpartition(".")
    if snapshot.path_for_module(module) is None:
        return None
    interface = load_class(snapshot, double)
    if interface is None or interface.qualname != double:
        return None  # not a class defined there (an alias, a re-export): nothing of ours to edit
    base = DoublePlan(
        target.name, double, module, class_name, target.canonical, double_interface=interface
    )
    canonical = load_class(snapshot, target.canonical)
    if canonical is None:
        return dataclasses.replace(
            base, skip_reason=f"the canonical class {target.canonical} could not be read"
        )
    declared = _canonical_declarations(snapshot, canonical.qualname or target.canonical)
    double_names = _names_of(snapshot, module)
    edits: list[MethodEdit] = []
    held: list[tuple[str, str]] = []
    for name in sorted(interface.own_methods & set(canonical.methods)):
        mine, theirs = interface.methods[name], canonical.methods[name]
        if (
            mine.kind != theirs.kind
            or mine.kind == "property"
            or mine.is_async != theirs.is_async
            or mine.required_positional > theirs.required_positional
        ):
            continue  # a different call shape, not a drifted name: listed after the rewrite
        renames, additions, reasons = _method_edit(theirs, mine, declared.get(name), double_names)
        held.extend((name, reason) for reason in reasons)
        if renames or additions:
            edits.append(MethodEdit(name, tuple(renames), tuple(additions)))
    edits, blocked = _drop_renames_passed_by_keyword(edits, snapshot)
    held.extend(blocked)
    return dataclasses.replace(
        base,
        edits=tuple(edits),
        held_back=tuple(held),
        canonical_interface=canonical,
    )


@dataclass(frozen=True)
class _Declared:
    """A canonical method's parameters as written (annotation and default source per name)."""

    annotations: dict[str, cst.BaseExpression]
    defaults: dict[str, cst.BaseExpression]
    imports: dict[str, str]
    postponed: bool  # ``from __future__ import annotations``: annotations are never evaluated


def _canonical_declarations(snapshot: SnapshotLike, qualname: str) -> dict[str, _Declared]:
    found_class = class_source(snapshot, qualname)
    if found_class is None:
        return {}
    module_name, path, module, node = found_class
    imports = module_imports(module, module_name, path.endswith("__init__.py"))
    postponed = _postpones_annotations(module)
    found: dict[str, _Declared] = {}
    for statement in node.body.body:
        if not isinstance(statement, cst.FunctionDef):
            continue
        params = statement.params
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        found[statement.name.value] = _Declared(
            {p.name.value: p.annotation.annotation for p in every if p.annotation is not None},
            {p.name.value: p.default for p in every if p.default is not None},
            imports,
            postponed,
        )
    return found


@dataclass(frozen=True)
class _ModuleNames:
    """What names mean in the double's module, and whether its annotations are evaluated."""

    imports: dict[str, str]
    postponed: bool


def _names_of(snapshot: SnapshotLike, module_name: str) -> _ModuleNames | None:
    path = snapshot.path_for_module(module_name)
    module = parse_file(snapshot, path) if path else None
    if module is None or path is None:
        return None
    imports = module_imports(module, module_name, path.endswith("__init__.py"))
    for name in top_level_names(module):
        imports.setdefault(name, f"{module_name}.{name}")  # defined here: means this module's
    return _ModuleNames(imports, _postpones_annotations(module))


def _postpones_annotations(module: cst.Module) -> bool:
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if (
                    isinstance(small, cst.ImportFrom)
                    and isinstance(small.module, cst.Name)
                    and small.module.value == "__future__"
                    and not isinstance(small.names, cst.ImportStar)
                    and any(alias.evaluated_name == "annotations" for alias in small.names)
                ):
                    return True
    return False


def _method_edit(
    canonical: MethodSignature,
    double: MethodSignature,
    declared: _Declared | None,
    double_names: _ModuleNames | None,
) -> tuple[list[tuple[str, str]], list[ParamAdd], list[str]]:
    """Renames and additions that make ``double`` accept the canonical's calls, and what is held.

    A parameter order that differs from the canonical's is a different call shape, not a
    drifted name: nothing of the method is then renamed.
    """
    renames: list[tuple[str, str]] = []
    additions: list[ParamAdd] = []
    reasons: list[str] = []
    names = set(double.positional) | set(double.keyword_only)
    for index in range(min(len(canonical.positional), len(double.positional))):
        mine, theirs = double.positional[index], canonical.positional[index]
        if mine == theirs or index < canonical.posonly:
            continue  # a positional-only slot is never named by a caller
        if theirs in names:
            reasons.append(
                f"parameters '{mine}' and '{theirs}' are in another order than the "
                "canonical's; nothing renamed"
            )
            renames = []
            break
        renames.append((mine, theirs))
    taken = names | {new for _, new in renames}
    defaults = dict(canonical.defaults)
    wanted = [(p, False) for p in canonical.positional[len(double.positional) :]]
    if double.varargs:
        wanted = []
    renamed_keywords = (
        {new for _, new in renames} | set(double.positional) | set(double.keyword_only)
    )
    wanted += [(p, True) for p in canonical.keyword_only if p not in renamed_keywords]
    if double.varkw:
        wanted = [(p, kw) for p, kw in wanted if not kw]
    for name, keyword_only in wanted:
        if name in taken:
            continue
        if name not in defaults:
            continue  # the canonical requires it: listed as remaining drift
        default = declared.defaults.get(name) if declared else None
        if default is None or not _is_literal(default):
            reasons.append(
                f"'{name}' not added: the canonical's default {defaults[name]} "
                "is not a literal that means the same here"
            )
            continue
        annotation = declared.annotations.get(name) if declared else None
        portable = (
            _code(annotation)
            if annotation is not None
            and declared is not None
            and _means_the_same(annotation, declared, double_names)
            else None
        )
        additions.append(ParamAdd(name, keyword_only, _code(default), portable))
        taken.add(name)
    return renames, additions, reasons


def _is_literal(node: cst.BaseExpression) -> bool:
    try:
        ast.literal_eval(_code(node))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return True


def _means_the_same(
    annotation: cst.BaseExpression, declared: _Declared, double: _ModuleNames | None
) -> bool:
    """Whether ``annotation`` refers to the same things in the double's module, and is as safe.

    An annotation the canonical's module never evaluates (``from __future__ import annotations``)
    may not run on the project's Python (``str | None`` before 3.10) where it would be evaluated.
    """
    if double is None or m.findall(annotation, m.SimpleString() | m.ConcatenatedString()):
        return False  # a forward reference: what it names cannot be checked here
    if declared.postponed and not double.postponed:
        return False
    for head in _names_in(annotation):
        theirs, mine = declared.imports.get(head), double.imports.get(head)
        if theirs is None and mine is None and head in _BUILTIN_NAMES:
            continue
        if theirs is None or theirs != mine:
            return False
    return True


def _names_in(node: cst.CSTNode) -> set[str]:
    heads: set[str] = set()

    class Visitor(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> bool:
            dotted = dotted_name(node, through_subscripts=True)
            if dotted is None:
                return True
            heads.add(dotted.partition(".")[0])
            return False

        def visit_Name(self, node: cst.Name) -> None:
            heads.add(node.value)

    node.visit(Visitor())
    return heads


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _drop_renames_passed_by_keyword(
    edits: Sequence[MethodEdit], snapshot: SnapshotLike
) -> tuple[list[MethodEdit], list[tuple[str, str]]]:
    """Renames are safe only if no call passes the old name as a keyword (receivers are unknown)."""
    wanted = {(e.name, old) for e in edits for old, _ in e.renames}
    if not wanted:
        return list(edits), []
    calls = _keyword_calls(snapshot, {method for method, _ in wanted})
    if calls is None:
        kept = [dataclasses.replace(e, renames=()) for e in edits]
        return [e for e in kept if e.additions], [
            (e.name, "parameters not renamed: the repository's files could not be searched")
            for e in edits
            if e.renames
        ]
    kept_edits: list[MethodEdit] = []
    reasons: list[tuple[str, str]] = []
    for edit in edits:
        renames: list[tuple[str, str]] = []
        for old, new in edit.renames:
            sites = calls.get((edit.name, old), [])
            if sites:
                where = ", ".join(sites[:3]) + (
                    f" and {len(sites) - 3} more" if len(sites) > 3 else ""
                )
                verb = "passes" if len(sites) == 1 else "pass"
                why = (
                    f"'{old}' not renamed to '{new}': {where} {verb} {old}= to a {edit.name}() call"
                )
                reasons.append((edit.name, why))
            else:
                renames.append((old, new))
        if renames or edit.additions:
            kept_edits.append(dataclasses.replace(edit, renames=tuple(renames)))
    return kept_edits, reasons


def _keyword_calls(
    snapshot: SnapshotLike, methods: set[str]
) -> dict[tuple[str, str], list[str]] | None:
    """``(method, keyword)`` → ``path:line`` of every ``<x>.method(keyword=...)`` call."""
    grep = getattr(snapshot, "grep", None)
    if grep is None:
        return None
    found: dict[tuple[str, str], list[str]] = {}
    for path in grep(sorted(methods)):
        try:
            tree = ast.parse(snapshot.read(path))
        except (SyntaxError, ValueError, KeyError, OSError):
            continue  # listed as skipped by the engine; such a file cannot call anything
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in methods
            ):
                for keyword in node.keywords:
                    if keyword.arg is not None:
                        found.setdefault((node.func.attr, keyword.arg), []).append(
                            f"{path}:{node.lineno}"
                        )
    return found


# --------------------------------------------------------------------------- the pure rewrite


def rewrite_double(
    module: cst.Module,
    plan: DoublePlan,
    file: SourceFile,
    changes: list[Change],
    notes: list[Note],
) -> cst.Module:
    """Apply ``plan`` to the double's class in ``module``; record changes and what remains."""
    index = class_index(module, plan.class_name)
    if index is None:
        return module
    wrapper = cst.MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    cls = module.body[index]
    assert isinstance(cls, cst.ClassDef)
    class_line = _line(positions, cls)

    def note(kind: NoteKind, message: str, line: int = class_line) -> None:
        notes.append(Note(file.path, line, 1, plan.target, kind, message, "needs-decision"))

    if plan.skip_reason:
        note("test-double-left-alone", f"{plan.double} left as it is: {plan.skip_reason}")
        return module
    # Scope analysis is the costly part, and only renames need it.
    renaming = any(edit.renames for edit in plan.edits)
    scopes: Mapping[cst.CSTNode, Scope | None] = wrapper.resolve(ScopeProvider) if renaming else {}
    edits = {edit.name: edit for edit in plan.edits}
    unfixed: dict[str, list[str]] = {}
    for member, reason in plan.held_back:
        unfixed.setdefault(member, []).append(reason)
    method_lines: dict[str, int] = {}
    new_body: list[cst.BaseStatement | cst.BaseSmallStatement] = []
    for statement in cls.body.body:
        if not isinstance(statement, cst.FunctionDef):
            new_body.append(statement)
            continue
        name = statement.name.value
        line = method_lines.setdefault(name, _line(positions, statement))
        if name not in edits:
            new_body.append(statement)
            continue
        edited, refused = _edit_method(statement, edits.pop(name), scopes)
        unfixed.setdefault(name, []).extend(refused)
        old, new = _signature_text(statement), _signature_text(edited)
        if old != new:
            changes.append(
                Change(file.path, line, 1, plan.target, "test-double-signature", old, new)
            )
        new_body.append(edited)
    updated = cls.with_changes(body=cls.body.with_changes(body=new_body))
    result = module.with_changes(body=[*module.body[:index], updated, *module.body[index + 1 :]])
    remaining = _remaining_drift(updated, plan)
    for member in sorted(remaining, key=lambda name: (method_lines.get(name, class_line), name)):
        text = "; ".join(remaining[member])
        if unfixed.get(member):
            text += " (not fixed: " + "; ".join(unfixed[member]) + ")"
        note(
            "test-double-drift",
            f"{plan.class_name}.{member}{'()' if member in method_lines else ''}: {text}; "
            "production code calling it as the canonical's fails against this double",
            method_lines.get(member, class_line),
        )
    return result


def _edit_method(
    node: cst.FunctionDef, edit: MethodEdit, scopes: Mapping[cst.CSTNode, Scope | None]
) -> tuple[cst.FunctionDef, list[str]]:
    refused: list[str] = []
    renames: dict[cst.CSTNode, str] = {}
    function_scope = scopes.get(node.params)
    for old, new in edit.renames:
        why = _rename_problem(node, function_scope, old, new)
        if why is not None:
            refused.append(f"'{old}' not renamed to '{new}': {why}")
            continue
        assert function_scope is not None
        for assignment in function_scope.assignments[old]:
            assert isinstance(assignment, Assignment)
            bound = assignment.node
            renames[bound.name if isinstance(bound, cst.Param) else bound] = new
            for access in assignment.references:
                renames[access.node] = new
    params = node.params
    if renames:
        node = node.visit(_Renamer(renames))  # type: ignore[assignment]
        params = node.params
    for add in edit.additions:
        # PEP 8: spaces around "=" only when the parameter is annotated.
        equal = (
            cst.AssignEqual()
            if add.annotation
            else cst.AssignEqual(
                whitespace_before=cst.SimpleWhitespace(""),
                whitespace_after=cst.SimpleWhitespace(""),
            )
        )
        param = cst.Param(
            cst.Name(add.name),
            cst.Annotation(cst.parse_expression(add.annotation)) if add.annotation else None,
            equal=equal,
            default=cst.parse_expression(add.default),
        )
        if add.keyword_only:
            star = params.star_arg
            params = params.with_changes(
                kwonly_params=[*params.kwonly_params, param],
                star_arg=cst.ParamStar() if isinstance(star, cst.MaybeSentinel) else star,
            )
        else:
            params = params.with_changes(params=[*params.params, param])
    return node.with_changes(params=params), refused


def _rename_problem(node: cst.FunctionDef, scope: Scope | None, old: str, new: str) -> str | None:
    if scope is None:
        return "its scope could not be analysed"
    if any(
        not isinstance(a, Assignment) or not isinstance(a.node, cst.Param | cst.Name)
        for a in scope.assignments[old]
    ):
        return f"'{old}' is bound here by more than plain assignments"
    if any(
        not isinstance(access.node, cst.Name)
        for a in scope.assignments[old]
        for access in a.references
    ):
        return f"'{old}' is named in a string annotation"
    if _name_used(node, new):
        return f"'{new}' is already used in the method"
    return None


def _name_used(node: cst.FunctionDef, name: str) -> bool:
    """Whether ``name`` is read, bound or declared anywhere in the method (attributes aside)."""
    found = False

    class Visitor(cst.CSTVisitor):
        def visit_Attribute(self, attribute: cst.Attribute) -> bool:
            attribute.value.visit(self)
            return False

        def visit_Arg(self, arg: cst.Arg) -> bool:
            arg.value.visit(self)
            return False

        def visit_Name(self, candidate: cst.Name) -> None:
            nonlocal found
            found = found or candidate.value == name

    node.visit(Visitor())
    return found


class _Renamer(cst.CSTTransformer):
    def __init__(self, renames: dict[cst.CSTNode, str]) -> None:
        self._renames = renames

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        new = self._renames.get(original_node)
        return updated_node.with_changes(value=new) if new else updated_node


def _signature_text(node: cst.FunctionDef) -> str:
    return f"{node.name.value}({_code(node.params)})"


def _remaining_drift(updated: cst.ClassDef, plan: DoublePlan) -> dict[str, list[str]]:
    """The drift measured on the rewritten class (inherited members as they were), per member."""
    before, canonical = plan.double_interface, plan.canonical_interface
    if before is None or canonical is None:
        return {}
    own = extract_interface(updated)
    methods = dict(before.methods)
    methods.update({name: own.methods[name] for name in before.own_methods if name in own.methods})
    after = dataclasses.replace(before, methods=methods)
    found: dict[str, list[str]] = {}
    for mismatch in compare_double(after, canonical).mismatches:
        if mismatch.breaking:
            text = mismatch.message.removeprefix(f"{mismatch.member}(): ")
            found.setdefault(mismatch.member, []).append(text)
    return found


def _line(positions: Mapping[cst.CSTNode, CodeRange], node: cst.CSTNode) -> int:
    position = positions.get(node)
    return position.start.line if position is not None else 0

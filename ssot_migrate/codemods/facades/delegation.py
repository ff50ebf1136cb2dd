"""Delegation mode: the facade keeps its class, its forwards go to one canonical instance."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

import libcst as cst

from ssot_migrate.codemods.facades.cleanup import _drop_unused_imports, _imports_read_in
from ssot_migrate.codemods.facades.plan import (
    FacadePlan,
    MethodPlan,
    _outcome,
    _plural,
    _short_reason,
)
from ssot_migrate.codemods.facades.state import (
    _add_top_import,
    _arguments_for,
    _attribute_names_outside,
    _body_smalls,
    _cannot_add_instance,
    _class_attributes,
    _code,
    _drop_state,
    _forward,
    _is_async_generator,
    _method_index,
    _prepend_statement,
    _self_attribute_uses,
    _state_sharing,
)
from ssot_migrate.codemods.factory_info import FactoryInfo
from ssot_migrate.interfaces import MethodSignature, is_public
from ssot_migrate.model import Change, ChangeKind, Note, SourceFile
from ssot_migrate.pysyntax import (
    dotted_name,
    free_name,
    import_bindings,
    is_docstring,
    small_statements,
    top_level_names,
)

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
        """The module with the facade delegating; :func:`delegation_outcome` then says what happened."""
        if not isinstance(self.cls.body, cst.IndentedBlock):
            self.left_alone = "a one-line class body is left as it is"
            return self.module
        statements = list(self.cls.body.body)
        init_index = _method_index(statements, "__init__")
        impl = (
            _find_impl(statements[init_index], self.plan, self.bindings)
            if init_index is not None
            else None
        )
        attribute = impl or free_name("_impl", _class_attributes(self.cls))
        decided = self._decide(statements, attribute)
        instance_needed = any(m.action == "forward" and not m.on_class for m in decided)
        needs_canonical_local = any(m.on_class and m.action == "forward" for m in decided)
        # 2. The canonical instance, only when a forward uses it: nothing unused is added.
        new_imports: list[tuple[str, str]] = []  # (qualified name, local)
        taken = top_level_names(self.module)
        canonical_local = (
            _local_for(self.bindings, self.plan.canonical, taken, new_imports)
            if needs_canonical_local
            else ""
        )
        if impl is None and instance_needed:
            added = self._add_instance(
                statements, init_index, attribute, canonical_local, taken, new_imports
            )
            if not added:
                return self.module
        # 3. Forwards.
        if not self._forward_methods(statements, decided, attribute, canonical_local):
            # Nothing was collapsed: the class stays exactly as it was, no instance added, no
            # clean-up of its own (its dead code was dead before phase 2).
            return self.module
        # 4. Private state and helpers nothing uses any more.
        return self._finish(statements, attribute, new_imports)

    def _decide(self, statements: list[cst.BaseStatement], attribute: str) -> list[MethodPlan]:
        """What happens to each method; forwards that would leave shared state stale, async
        generators and properties with a setter stay as they are."""
        plan = self.plan
        demoted = _state_sharing(
            statements, plan, attribute, _attribute_names_outside(self.module, self.index)
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
        return decided

    def _add_instance(
        self,
        statements: list[cst.BaseStatement],
        init_index: int | None,
        attribute: str,
        canonical_local: str,
        taken: set[str],
        new_imports: list[tuple[str, str]],
    ) -> bool:
        """``self.<attribute> = <canonical or factory>(...)`` added to ``__init__`` (in place);
        ``False``, with ``left_alone`` said, when it cannot be."""
        plan = self.plan
        if plan.factory_note:
            self.note("facade-factory", f"{plan.facade}: {plan.factory_note}")
        blocker = _cannot_add_instance(self.cls, init_index is not None)
        if blocker is not None:
            self.left_alone = f"{blocker}; add the canonical instance by hand"
            return False
        built = self._construction(
            statements, init_index, plan.factory, canonical_local, taken, new_imports
        )
        if built is None:
            return False
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
        self.change(kind, f"class {plan.class_name} (own state)", f"self.{attribute} = {call_text}")
        return True

    def _forward_methods(
        self,
        statements: list[cst.BaseStatement],
        decided: list[MethodPlan],
        attribute: str,
        canonical_local: str,
    ) -> bool:
        """Each forward rewritten in place, each kept method listed; whether any was rewritten."""
        plan = self.plan
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
        return rewritten

    def _finish(
        self,
        statements: list[cst.BaseStatement],
        attribute: str,
        new_imports: list[tuple[str, str]],
    ) -> cst.Module:
        """The module with the rewritten class, its dead members gone and its imports settled."""
        assert isinstance(self.cls.body, cst.IndentedBlock)
        statements = self._drop_dead_members(statements, attribute)
        new_cls = self.cls.with_changes(body=self.cls.body.with_changes(body=statements))
        body = list(self.module.body)
        body[self.index] = new_cls
        new_module = self.module.with_changes(body=body)
        used_before = _imports_read_in(self.module, self.cls)
        for qname, local in new_imports:
            new_module = _add_top_import(new_module, qname, local)
        self.changed = True
        return _drop_unused_imports(new_module, used_before)

    def _line(self, node: cst.CSTNode) -> int:
        return self.lines.get(id(node), self.line)

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
            local = _local_for(self.bindings, dotted, taken, new_imports)
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


def _resolves_to(func: cst.BaseExpression, qname: str, bindings: Mapping[str, str]) -> bool:
    """Whether ``func`` names ``qname`` through the module's import ``bindings``."""
    text = dotted_name(func, through_subscripts=True)
    if text is None:
        return False
    head, _, rest = text.partition(".")
    bound = bindings.get(head)
    if bound is None:
        return False
    return (f"{bound}.{rest}" if rest else bound) == qname


def _find_impl(
    init: cst.BaseStatement, plan: FacadePlan, bindings: Mapping[str, str]
) -> str | None:
    """The attribute ``__init__`` stores a canonical instance in (built directly or by factory)."""
    if not isinstance(init, cst.FunctionDef):
        return None
    factory_dotted = plan.factory.dotted if plan.factory is not None else None
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
                _resolves_to(func, plan.canonical, bindings)
                or (plan.factory is not None and _resolves_to(func, plan.factory.dotted, bindings))
                or (
                    factory_dotted is not None
                    and _resolves_to(func, factory_dotted or "", bindings)
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


def delegation_outcome(delegation: _Delegation, file: SourceFile) -> Note:
    """The facade's one outcome line: delegated (n forwarded, m kept), or left as it is."""
    plan = delegation.plan
    if delegation.left_alone is not None:
        return _outcome(
            file,
            delegation.line,
            plan,
            "facade-left-alone",
            f"left as it is: {delegation.left_alone}",
        )
    kept = "; ".join(f"{m.name}: {_short_reason(m)}" for m in delegation.kept)
    if not delegation.forwarded:
        every = len(delegation.kept)
        what = (
            f"none of its methods is a pure forward to {plan.canonical} ({every} kept: {kept})"
            if every
            else "it has no public methods to forward"
        )
        return _outcome(file, delegation.line, plan, "facade-left-alone", f"left as it is: {what}")
    already = "" if delegation.changed else "; already pure forwards, left as they are"
    text = (
        f"delegated to {plan.canonical}: {_plural(len(delegation.forwarded), 'method')} forwarded "
        f"({', '.join(delegation.forwarded)}{already}), {len(delegation.kept)} kept"
        + (f" ({kept})" if kept else "")
    )
    why = [*plan.incompatibilities, *plan.not_alias]
    if why:
        text += "; not an alias: " + "; ".join(why)
    return _outcome(file, delegation.line, plan, "facade-delegated", text, "note")


def _local_for(
    bindings: Mapping[str, str], qname: str, taken: set[str], new_imports: list[tuple[str, str]]
) -> str:
    """The local name ``qname`` is (or will be, by a new import) bound to at top level."""
    for local, bound in bindings.items():
        if bound == qname:
            return local
    for bound_qname, local in new_imports:
        if bound_qname == qname:
            return local
    local = free_name(qname.rpartition(".")[2], taken)
    taken.add(local)
    new_imports.append((qname, local))
    return local

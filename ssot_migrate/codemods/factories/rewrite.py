"""The first pass of phase 3 over one file (``_FileRewrite``): where the class is constructed,
which sites can be rewritten and why the others are left (notes).
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Mapping

import libcst as cst
from libcst.metadata import (
    BaseAssignment,
    QualifiedName,
    QualifiedNameSource,
    ScopeProvider,
)

from ssot_migrate.codemods._common import faithful_result
from ssot_migrate.codemods.factories.edits import _Rewriter, _Site
from ssot_migrate.codemods.factories.plan import _PARTIAL, TargetPlan
from ssot_migrate.codemods.factories.positions import NodeLines
from ssot_migrate.codemods.factories.prefilter import (
    _as_names,
    _as_names_ast,
    _statements_for_metadata,
)
from ssot_migrate.model import (
    Change,
    CodemodResult,
    Note,
    NoteKind,
    SourceFile,
)
from ssot_migrate.pysyntax import (
    dotted_name,
    resolve_relative,
)


class _ParentMap(cst.CSTVisitor):
    """Each node's parent, from one walk of the tree.

    libcst's ``ParentNodeProvider`` asks every node for its ``children`` (a walk of its own per
    node) inside a batched pass of the whole tree: about as much time as scope analysis itself.
    The parents are the same: a node's parent is the node whose visit it is reached from.
    """

    def __init__(self) -> None:
        super().__init__()
        self.parents: dict[cst.CSTNode, cst.CSTNode] = {}
        self._stack: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self._stack:
            self.parents[node] = self._stack[-1]
        self._stack.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self._stack.pop()


def _parents_of(module: cst.Module) -> dict[cst.CSTNode, cst.CSTNode]:
    walk = _ParentMap()
    module.visit(walk)
    return walk.parents


class _FileRewrite:
    """One file's analysis and rewrite; instantiated per ``transform`` call.

    Over 300 lines on purpose: every method reads the same per-file state (scopes and parents
    computed over the statements that matter only, positions measured per top-level statement,
    module aliases), and splitting the steps into classes would hand that state around whole.
    The second pass (``edits._Rewriter``) reads it through the narrow ``edits._Owner``.
    """

    def __init__(
        self,
        module: cst.Module,
        source: bytes,
        file: SourceFile,
        plans: list[TargetPlan],
        named_elsewhere: frozenset[str] = frozenset(),
        tree: ast.Module | None = None,
    ) -> None:
        self.file = file
        self.source = source
        self.tree = tree
        self.named_elsewhere = named_elsewhere
        self.plans = plans
        self.module = module
        self.last_segments = {
            name.rpartition(".")[2]
            for plan in plans
            for name in (
                *plan.constructors,
                *(n for n, _ in plan.blocked),
                *(n for n, _ in plan.legacy),
            )
        }
        # ``from m import Manager as M``: the local name ``M`` is a candidate too.
        self.last_segments |= (
            _as_names_ast(tree, self.last_segments)
            if tree is not None
            else _as_names(self.module, self.last_segments)
        )
        # Scope and parent metadata cost a pass over every node: they are computed over the
        # statements that can matter only (see ``_statements_for_metadata``); the rest of the
        # module is still what positions, the rewrite and the output are made of.
        kept = (
            _statements_for_metadata(
                module, tree, self.last_segments, {plan.factory.name for plan in plans}
            )
            if tree is not None
            else None
        )
        self.meta_module = module if kept is None else module.with_changes(body=kept[0])
        self.wrapper = cst.MetadataWrapper(self.meta_module, unsafe_skip_copy=True)
        # Qualified names are asked of the scopes for candidate nodes only: libcst's provider
        # would make a pass over every node of the file to hand out lazy values.
        self.scopes = self.wrapper.resolve(ScopeProvider)
        self.parents: Mapping[cst.CSTNode, cst.CSTNode] = _parents_of(self.meta_module)
        if kept is not None and kept[1]:
            # Parents as in the file itself: a class or function that lost statements for the
            # analysis is its original (``_note_super_inits`` reads the whole class body).
            originals = kept[1]
            self.parents = {
                originals.get(id(child), child): originals.get(id(parent), parent)
                for child, parent in self.parents.items()
            }
        # Positions cost a full pass: only measured, statement by statement, where a site or
        # note needs a line (see ``_line``).
        self._lines = NodeLines(source, module, tree, self._parent)
        self.changes: list[Change] = []
        self.notes: list[Note] = []
        self.module_aliases: dict[str, tuple[BaseAssignment, tuple[TargetPlan, str, str]]] = {}
        self.alias_targets: set[int] = set()

    # -- resolution ------------------------------------------------------------------------

    def _absolute(self, qname: QualifiedName) -> str | None:
        name = qname.name
        if qname.source == QualifiedNameSource.LOCAL:
            return None
        if name.startswith("."):
            level = len(name) - len(name.lstrip("."))
            rest = name[level:]
            head, _, tail = rest.rpartition(".")
            base = resolve_relative(level, head or None, self.file.package)
            if base is None:
                return None
            return f"{base}.{tail}" if tail else base
        return name

    def _qualified(self, node: cst.CSTNode) -> Collection[QualifiedName]:
        scope = self.scopes.get(node)
        return scope.get_qualified_names_for(node) if scope is not None else ()

    def _resolve(self, node: cst.CSTNode) -> tuple[TargetPlan, str, str] | None:
        last = node.attr.value if isinstance(node, cst.Attribute) else getattr(node, "value", "")
        if last not in self.last_segments:
            return None
        if isinstance(node, cst.Name) and last in self.module_aliases:
            return self._through_module_alias(node)
        for qname in self._qualified(node):
            absolute = self._absolute(qname)
            if absolute is None:
                continue
            for plan in self.plans:
                kind = plan.kind_of(absolute)
                if kind is not None:
                    return plan, kind, absolute
        return None

    def _through_module_alias(self, node: cst.Name) -> tuple[TargetPlan, str, str] | None:
        assignment, resolved = self.module_aliases[node.value]
        scope = self.scopes.get(node)
        if scope is None:
            return None
        for access in scope.accesses[node.value]:
            if access.node is node:
                return resolved if set(access.referents) == {assignment} else None
        return None

    def _line(self, node: cst.CSTNode) -> tuple[int, int]:
        """Line and 1-based column of ``node`` (see ``positions.NodeLines``)."""
        return self._lines.line(node)

    def _note(self, node: cst.CSTNode, plan: TargetPlan, kind: NoteKind, message: str) -> None:
        line, column = self._line(node)
        self.notes.append(
            Note(
                self.file.path,
                line,
                column,
                plan.target,
                kind,
                message,
                severity="needs-decision",
            )
        )

    def _parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.parents.get(node)

    # -- classification ----------------------------------------------------------------------

    def run(self) -> CodemodResult:
        source = self.source
        sites = self._collect()
        if not sites:
            return CodemodResult(source, (), tuple(self.notes))
        rewriter = _Rewriter(self, sites)
        new_module = self.module.visit(rewriter)
        new_module = rewriter.finish(new_module)
        return faithful_result(
            source,
            self.module,
            new_module,
            self.file,
            self.plans[0].target,
            self.changes,
            self.notes,
            self.tree,
        )

    def _collect(self) -> list[_Site]:
        sites: list[_Site] = []
        subclasses: list[tuple[cst.ClassDef, TargetPlan, str]] = []
        self._find_module_aliases()
        for node in list(self.scopes):
            if not isinstance(node, (cst.Name, cst.Attribute)):
                continue
            if id(node) in self.alias_targets:
                continue
            parent = self._parent(node)
            if parent is None:
                # Parsed from a string annotation (``-> "list[Manager]"``): a type, never a
                # construction, and with no position in the file.
                continue
            if isinstance(parent, cst.Attribute) and parent.value is node:
                self._note_class_method(node, parent)
                continue  # a prefix of a longer chain, or ``Class.attribute``
            if self._inside(node, (cst.Import, cst.ImportFrom)):
                continue
            if isinstance(node, cst.Name) and isinstance(parent, cst.Attribute):
                continue  # the ``attr`` part of an attribute, handled with the whole chain
            resolved = self._resolve(node)
            if resolved is None:
                continue
            plan, kind, qname = resolved
            if isinstance(parent, cst.Call) and parent.func is node:
                site = self._call_site(parent, plan, kind, qname)
                if site is not None:
                    sites.append(site)
                continue
            if kind == "constructor" or kind == "blocked":
                owner = self._base_of(node)
                if owner is not None:
                    subclasses.append((owner, plan, qname))
                    continue
            self._classify_reference(node, parent, plan, kind, qname)
        for owner, plan, qname in subclasses:
            self._note_super_inits(owner, plan, qname)
        sites.sort(key=lambda s: self._line(s.call))
        return sites

    def _find_module_aliases(self) -> None:
        """``M = Manager`` at module level, ``M`` bound nowhere else: calls of ``M`` are sites."""
        module_scope = self.scopes.get(self.meta_module)
        if module_scope is None:
            return
        for statement in self.module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if not (isinstance(small, cst.Assign) and len(small.targets) == 1):
                    continue
                target = small.targets[0].target
                if not isinstance(target, cst.Name) or not isinstance(
                    small.value, (cst.Name, cst.Attribute)
                ):
                    continue
                resolved = self._resolve(small.value)
                if resolved is None or len(module_scope.assignments[target.value]) != 1:
                    continue
                assignment = next(iter(module_scope.assignments[target.value]))
                self.module_aliases[target.value] = (assignment, resolved)
                self.alias_targets.add(id(target))
        self.last_segments |= set(self.module_aliases)

    def _note_class_method(self, node: cst.CSTNode, attribute: cst.Attribute) -> None:
        resolved = self._resolve(node)
        if resolved is None:
            return
        plan, kind, qname = resolved
        if kind == "legacy" or attribute.attr.value not in plan.class_methods_of(qname):
            return
        method = f"{qname.rpartition('.')[2]}.{attribute.attr.value}"
        called = isinstance(call := self._parent(attribute), cst.Call) and call.func is attribute
        self._note(
            attribute,
            plan,
            "alternative-constructor",
            f"{method}{'()' if called else ''} is a class method of {qname} that may build an "
            f"instance without {plan.factory.dotted}(); not rewritten: route it through the "
            "factory or decide by hand",
        )

    def _inside(self, node: cst.CSTNode, kinds: tuple[type[cst.CSTNode], ...]) -> bool:
        current = self._parent(node)
        while current is not None:
            if isinstance(current, kinds):
                return True
            if isinstance(current, cst.BaseStatement):
                return False
            current = self._parent(current)
        return False

    def _base_of(self, node: cst.CSTNode) -> cst.ClassDef | None:
        parent = self._parent(node)
        if isinstance(parent, cst.Arg):
            owner = self._parent(parent)
            if isinstance(owner, cst.ClassDef) and parent.keyword is None:
                return owner
        return None

    def _classify_reference(
        self,
        node: cst.BaseExpression,
        parent: cst.CSTNode | None,
        plan: TargetPlan,
        kind: str,
        qname: str,
    ) -> None:
        if self._inside(node, (cst.Annotation,)):
            return
        if isinstance(parent, (cst.Comparison, cst.ComparisonTarget, cst.SubscriptElement)):
            return  # ``type(x) is Manager``, ``Manager[int]``
        if isinstance(parent, cst.Subscript):
            return
        call = self._enclosing_call_of_arg(node)
        if call is not None:
            func = dotted_name(call.func) or ""
            if func in ("isinstance", "issubclass"):
                return
            if any(self._absolute(q) in _PARTIAL for q in self._qualified(call.func)):
                self._note(
                    node,
                    plan,
                    "partial",
                    f"functools.partial over {qname}: not rewritten (the factory may need "
                    "different arguments); decide by hand",
                )
                return
        what = "legacy factory" if kind == "legacy" else "constructor"
        # ``Old = Canonical``: a re-export (phase 1/2 alias). Calls through it in this file are
        # sites when ``Old`` is bound once; otherwise they cannot be followed, so it is listed.
        if (
            isinstance(parent, (cst.Assign, cst.AnnAssign))
            and self._module_level(parent)
            and not self._rebound_and_used(parent)
        ):
            return
        if isinstance(parent, cst.Return) and self._in_module_getattr(parent):
            return  # a deprecation ``__getattr__`` handing out the class
        if isinstance(parent, (cst.AssignTarget, cst.Assign, cst.AnnAssign)):
            message = (
                f"dynamic construction: the {what} {qname} is assigned to a name and "
                "may be called through it; not rewritten"
            )
            self._note(node, plan, "dynamic-construction", message)
            return
        self._note(
            node,
            plan,
            "constructor-reference",
            f"the {what} {qname} is passed as a value; calls through it are not rewritten",
        )

    def _rebound_and_used(self, statement: cst.Assign | cst.AnnAssign) -> bool:
        targets = (
            [t.target for t in statement.targets]
            if isinstance(statement, cst.Assign)
            else [statement.target]
        )
        module_scope = self.scopes.get(self.meta_module)
        for target in targets:
            if not isinstance(target, cst.Name) or module_scope is None:
                return True
            if target.value in self.module_aliases:
                continue
            if any(a.references for a in module_scope.assignments[target.value]):
                return True
        return False

    def _module_level(self, statement: cst.CSTNode) -> bool:
        line = self._parent(statement)
        return isinstance(line, cst.SimpleStatementLine) and isinstance(
            self._parent(line), cst.Module
        )

    def _in_module_getattr(self, node: cst.CSTNode) -> bool:
        current = self._parent(node)
        while current is not None and not isinstance(current, cst.FunctionDef):
            current = self._parent(current)
        return (
            isinstance(current, cst.FunctionDef)
            and current.name.value == "__getattr__"
            and isinstance(self._parent(current), cst.Module)
        )

    def _enclosing_call_of_arg(self, node: cst.CSTNode) -> cst.Call | None:
        current = self._parent(node)
        while isinstance(current, (cst.Tuple, cst.Element, cst.Arg)):
            parent = self._parent(current)
            if isinstance(current, cst.Arg) and isinstance(parent, cst.Call):
                return parent
            current = parent
        return None

    def _note_super_inits(self, owner: cst.ClassDef, plan: TargetPlan, qname: str) -> None:
        finder = _SuperInitFinder()
        owner.body.visit(finder)
        for call in finder.calls:
            self._note(
                call,
                plan,
                "super-init",
                f"subclass {owner.name.value} of {qname} initialises it through "
                "super().__init__: not rewritten (instances of the subclass bypass the factory)",
            )

    def _call_site(self, call: cst.Call, plan: TargetPlan, kind: str, qname: str) -> _Site | None:
        if kind == "blocked":
            reason = dict(plan.blocked)[qname]
            self._note(call, plan, "facade-construction", f"not rewritten: {reason}")
            return None
        for module_name, reason in plan.skip_modules:
            if self.file.module == module_name:
                self._note(call, plan, "factory-cycle", f"not rewritten: {reason}")
                return None
        if (
            isinstance(call.func, cst.Name)
            and f"{self.file.module}.{call.func.value}" in self.named_elsewhere
        ):
            self._note(
                call,
                plan,
                "patched-construction",
                f"not rewritten: '{self.file.module}.{call.func.value}' is named in a string "
                "elsewhere (a mock.patch target?) that intercepts this call; a factory call "
                f"would bypass it: patch {plan.factory.dotted} there instead, then rerun",
            )
            return None
        problem = self._argument_problem(call, plan, kind)
        if problem is not None:
            self._note(call, plan, "factory-arguments", f"not rewritten: {problem}")
            return None
        shared = plan.factory.shared
        if shared is not None and not plan.allow_shared:
            legacy_shared = dict(plan.legacy).get(qname) if kind == "legacy" else None
            if legacy_shared is None:
                self._note(
                    call,
                    plan,
                    "shared-instance",
                    f"factory returns a shared instance ({shared}) while this "
                    "site built a fresh one; set allow-shared = true on the target to rewrite",
                )
                return None
        return _Site(call, plan, "legacy" if kind == "legacy" else "constructor", qname)

    def _argument_problem(self, call: cst.Call, plan: TargetPlan, kind: str) -> str | None:
        signature = plan.factory.signature
        factory = plan.factory.dotted
        if signature is None:
            return f"the signature of the factory {factory} could not be read statically"
        renames = dict(plan.renames)
        positional = 0
        keywords: list[str] = []
        for arg in call.args:
            if arg.star == "*":
                if not signature.varargs:
                    return f"*-unpacked arguments cannot be checked against {factory}()"
                continue
            if arg.star == "**":
                if not signature.varkw:
                    return f"**-unpacked arguments cannot be checked against {factory}()"
                continue
            if arg.keyword is None:
                positional += 1
            else:
                keywords.append(renames.get(arg.keyword.value, arg.keyword.value))
        constructor = plan.constructor if kind == "constructor" else None
        if constructor is not None:
            # Same position, different parameter that the factory also has elsewhere: the
            # arguments would land in the wrong parameters.
            for index in range(
                min(positional, len(constructor.positional), len(signature.positional))
            ):
                mine, theirs = constructor.positional[index], signature.positional[index]
                if mine != theirs and mine in signature.keyword_names:
                    return (
                        f"positional argument {index + 1} is '{mine}' for the constructor but "
                        f"'{theirs}' for {factory}(); pass it by keyword"
                    )
        limit = signature.max_positional
        if limit is not None and positional > limit:
            return (
                f"{factory}() takes {limit} positional argument{'s' if limit != 1 else ''} "
                f"but this call passes {positional}"
            )
        accepted = signature.keyword_names
        for keyword in keywords:
            if keyword not in accepted and not signature.varkw:
                return f"{factory}() takes no keyword '{keyword}'"
        has_star = any(arg.star for arg in call.args)
        if not has_star:
            passed = set(keywords) | set(signature.positional[:positional])
            for name in signature.positional[: signature.required_positional]:
                if name not in passed:
                    return f"{factory}() requires '{name}', which this call does not pass"
            for name in signature.required_keyword_only:
                if name not in passed:
                    return f"{factory}() requires keyword '{name}', which this call does not pass"
        return None


class _SuperInitFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.calls: list[cst.Call] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "__init__"):
            return
        value = func.value
        if isinstance(value, cst.Call) and dotted_name(value.func) == "super":
            self.calls.append(node)
        elif dotted_name(value) is not None:
            self.calls.append(node)  # ``Base.__init__(self, ...)``

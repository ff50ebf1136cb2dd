"""Facade members and state: who reads what, which stores can go, forwards written."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import libcst as cst

from ssot_migrate.codemods.facades.bodies import StoreVisitor
from ssot_migrate.codemods.facades.plan import FacadePlan
from ssot_migrate.codemods.facades.verdict import _MUTATORS
from ssot_migrate.interfaces import MethodSignature, is_public
from ssot_migrate.pysyntax import dotted_name, insert_top_import, is_docstring, make_import_from

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


class _StateAccess(StoreVisitor):
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

    def _stored(self, target: cst.BaseExpression) -> None:
        name = self._own(target)
        if name is not None:
            self.mutated.add(name)

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

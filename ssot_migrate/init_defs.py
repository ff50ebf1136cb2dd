"""``init``'s facts of one class or function definition: what it holds, forwards and builds.

``class_facts`` reads a class (its methods' spans, the classes it holds in ``self`` attributes,
the methods that forward to them, a thin ``__init__``, alternative constructors);
``function_facts`` a module-level function whose every return is a call (a factory candidate).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

from ssot_migrate.init_facts import (
    DEPRECATED,
    ClassFacts,
    FileFacts,
    FunctionFacts,
    MethodSpan,
    docstring,
    docstring_span,
    is_deprecation_warning,
    statements,
)
from ssot_migrate.pysyntax import ast_dotted_name


def class_facts(node: ast.ClassDef, facts: FileFacts) -> ClassFacts:
    """What ``init`` reads of one class: methods, holdings, forwards, deprecation, shape."""
    bases = tuple(
        facts.resolve(ast_dotted_name(b) or "") or (ast_dotted_name(b) or "") for b in node.bases
    )
    methods: list[MethodSpan] = []
    attributes = False
    deprecated = bool(DEPRECATED.search(docstring(node.body)))
    class_factories: list[tuple[str, str]] = []
    held: dict[str, str] = {}
    forwards: list[tuple[str, str]] = []
    init: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    for index, statement in enumerate(node.body):
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            methods.append(
                MethodSpan(
                    statement.name, statement.lineno, statement.end_lineno or statement.lineno
                )
            )
            if statement.name == "__init__":
                init = statement
            decorators = {ast_dotted_name(d) for d in statement.decorator_list}
            if "classmethod" in decorators:
                product = _classmethod_product(statement, node.name, facts)
                if product is not None:
                    class_factories.append((statement.name, product))
            _method_holdings(statement, facts, held)
        elif isinstance(statement, ast.Assign | ast.AnnAssign | ast.AugAssign):
            attributes = True
            if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                annotated = facts.resolve(ast_dotted_name(statement.annotation) or "")
                if annotated:
                    held.setdefault(statement.target.id, annotated)
        elif is_deprecation_warning(statement):
            deprecated = True
        elif (
            not (index == 0 and docstring_span([statement]))
            and not isinstance(statement, ast.Pass)
            and not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant))
        ):
            attributes = True  # nested classes, ifs: more than a plain copy
    if held:
        forwards = _forwards(node, held)
    if init is not None and any(is_deprecation_warning(s) for s in init.body):
        deprecated = True
    thin = init is not None and {m.name for m in methods} == {"__init__"} and _passes_through(init)
    protocol = any(b.rpartition(".")[2] in ("Protocol", "ABC") for b in bases)
    return ClassFacts(
        name=node.name,
        line=node.lineno,
        bases=bases,
        methods=tuple(methods),
        decorated=bool(node.decorator_list),
        attributes=attributes,
        held=tuple(sorted(held.items())),
        forwards=tuple(forwards),
        thin_init=thin,
        deprecated=deprecated,
        protocol=protocol,
        factories=tuple(class_factories),
        init_shape=signature_shape(init.args, bound=True) if init is not None else None,
    )


def _method_holdings(
    method: ast.FunctionDef | ast.AsyncFunctionDef, facts: FileFacts, held: dict[str, str]
) -> None:
    """``self.x = Cls(...)`` / ``self.x = param`` (param annotated with a class) anywhere."""
    typed: dict[str, str] = {}
    for argument in [*method.args.args, *method.args.kwonlyargs]:
        if argument.annotation is not None:
            name = ast_dotted_name(argument.annotation)
            resolved = facts.resolve(name) if name else None
            if resolved:
                typed[argument.arg] = resolved
    if method.name not in ("__init__", "__post_init__", "setup", "setUp"):
        return  # holding is set up at construction
    for statement in method.body:
        if isinstance(statement, ast.Assign):
            targets, value = statement.targets, statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets, value = [statement.target], statement.value
        else:
            continue
        source: str | None = None
        if isinstance(value, ast.Call):
            name = ast_dotted_name(value.func)
            source = facts.resolve(name) if name else None
        elif isinstance(value, ast.Name):
            source = typed.get(value.id)
        if source is None:
            continue
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
            ):
                held.setdefault(target.attr, source)


def _forwards(node: ast.ClassDef, held: dict[str, str]) -> list[tuple[str, str]]:
    """Methods whose top statements call ``self.<held>.<same name>(...)``."""
    found: list[tuple[str, str]] = []
    for method in node.body:
        if not isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if method.name.startswith("__") and method.name != "__getattr__":
            continue
        for statement in method.body:
            value: ast.expr | None = None
            if isinstance(statement, ast.Return | ast.Expr | ast.Assign):
                value = statement.value
            if isinstance(value, ast.Await):
                value = value.value
            if not isinstance(value, ast.Call):
                continue
            func = value.func
            owner: ast.expr | None = None
            if isinstance(func, ast.Attribute) and func.attr == method.name:
                owner = func.value
            elif method.name == "__getattr__" and ast_dotted_name(func) == "getattr" and value.args:
                owner = value.args[0]
            if (
                isinstance(owner, ast.Attribute)
                and isinstance(owner.value, ast.Name)
                and owner.value.id == "self"
                and owner.attr in held
            ):
                found.append((method.name, owner.attr))
                break
    return found


def _classmethod_product(
    method: ast.FunctionDef | ast.AsyncFunctionDef, class_name: str, facts: FileFacts
) -> str | None:
    """The class every return of an alternative constructor builds (``cls(...)``)."""
    receiver = method.args.args[0].arg if method.args.args else "cls"
    products = set()
    for value in _returns(method):
        if not isinstance(value, ast.Call):
            return None
        name = ast_dotted_name(value.func)
        if name == receiver or name == class_name:
            products.add(f"{facts.module}.{class_name}")
        elif name is not None and (resolved := facts.resolve(name)) is not None:
            products.add(resolved)
        else:
            return None
    return products.pop() if len(products) == 1 else None


def function_facts(
    node: ast.FunctionDef | ast.AsyncFunctionDef, facts: FileFacts
) -> FunctionFacts | None:
    """A module-level function whose every return is a call (of a class or a factory)."""
    if node.name.startswith("__") or isinstance(node, ast.AsyncFunctionDef):
        return None
    if any(ast_dotted_name(d) not in (None, "functools.wraps") for d in node.decorator_list):
        return None  # caches, properties, registrations: not a plain factory
    built: dict[str, str] = {}  # local = Cls(...) inside the body
    for statement, _ in statements(node.body):
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and isinstance(statement.value, ast.Call)
        ):
            name = ast_dotted_name(statement.value.func)
            if name is not None:
                built[statement.targets[0].id] = name
    products: list[str] = []
    values = list(_returns(node))
    if not values:
        return None
    for value in values:
        callee: str | None = None
        if isinstance(value, ast.Call):
            callee = ast_dotted_name(value.func)
        elif isinstance(value, ast.Name):
            callee = built.get(value.id)
        resolved = facts.resolve(callee) if callee else None
        if resolved is None:
            return None
        products.append(resolved)
    calls: set[str] = set()
    for statement, _ in statements(node.body):
        for sub in ast.walk(statement) if isinstance(statement, ast.Return | ast.Assign) else ():
            if isinstance(sub, ast.Call) and (name := ast_dotted_name(sub.func)) is not None:
                resolved = facts.resolve(name)
                if resolved:
                    calls.add(resolved)
    deprecated = bool(DEPRECATED.search(docstring(node.body))) or any(
        is_deprecation_warning(s) for s, _ in statements(node.body)
    )
    return FunctionFacts(
        node.name,
        node.lineno,
        tuple(products),
        frozenset(calls),
        deprecated,
        signature_shape(node.args, bound=False),
    )


def _returns(node: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.expr]:
    """The value of every ``return`` of the function itself (``None`` for a bare ``return``)."""
    for statement, _ in _statements_no_defs(node.body):
        if isinstance(statement, ast.Return):
            yield statement.value if statement.value is not None else ast.Constant(None)


def _statements_no_defs(body: Sequence[ast.stmt]) -> Iterator[tuple[ast.stmt, bool]]:
    """Statements of a function body, not descending into nested defs or classes."""
    for statement in body:
        yield statement, True
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for name in ("body", "orelse", "finalbody"):
            block = getattr(statement, name, None)
            if isinstance(block, list):
                yield from _statements_no_defs(block)
        if isinstance(statement, ast.Try | ast.TryStar):
            for handler in statement.handlers:
                yield from _statements_no_defs(handler.body)
        elif isinstance(statement, ast.Match):
            for case in statement.cases:
                yield from _statements_no_defs(case.body)


def _passes_through(init: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """``__init__`` does nothing but warn and hand its own parameters to ``super().__init__``."""
    params = {a.arg for a in [*init.args.posonlyargs, *init.args.args, *init.args.kwonlyargs]}
    params |= {a.arg for a in (init.args.vararg, init.args.kwarg) if a is not None}
    called_super = False
    for index, statement in enumerate(init.body):
        if index == 0 and docstring_span([statement]):
            continue
        if isinstance(statement, ast.Pass) or is_deprecation_warning(statement):
            continue
        if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
            return False
        call = statement.value
        func = call.func
        if not (
            isinstance(func, ast.Attribute)
            and func.attr == "__init__"
            and isinstance(func.value, ast.Call)
            and ast_dotted_name(func.value.func) == "super"
        ):
            return False
        if not _same_arguments(init.args, call):
            return False  # a fixed, repeated or reordered argument: a specialisation
        called_super = True
    return called_super


def signature_shape(params: ast.arguments, *, bound: bool) -> str:
    """The parameters a caller passes, as text: ``user_context, *, timeout=, **`` (names with
    ``=`` have a default; ``*args`` and ``**`` stand for any further arguments).

    A factory with its class's shape takes every call of the constructor unchanged, so phase 3
    can route the constructions through it.
    """
    positional = [*params.posonlyargs, *params.args][1 if bound else 0 :]
    defaults = len(params.defaults)
    parts = [
        a.arg + ("=" if i >= len(positional) - defaults else "") for i, a in enumerate(positional)
    ]
    if params.vararg is not None:
        parts.append("*args")
    elif params.kwonlyargs:
        parts.append("*")
    parts += [
        a.arg + ("=" if d is not None else "")
        for a, d in zip(params.kwonlyargs, params.kw_defaults)
    ]
    if params.kwarg is not None:
        parts.append("**")
    return ", ".join(parts)


def _same_arguments(params: ast.arguments, call: ast.Call) -> bool:
    """The call passes the parameters on as received: positionals in order, keywords by name."""
    positional = [a.arg for a in [*params.posonlyargs, *params.args][1:]]
    passed: list[str] = []
    for argument in call.args:
        if isinstance(argument, ast.Starred):
            if not (
                isinstance(argument.value, ast.Name)
                and params.vararg is not None
                and argument.value.id == params.vararg.arg
            ):
                return False
        elif isinstance(argument, ast.Name):
            passed.append(argument.id)
        else:
            return False
    keywords = {a.arg for a in params.kwonlyargs} | set(positional[len(passed) :])
    for keyword in call.keywords:
        value = keyword.value
        if keyword.arg is None:
            if not (
                isinstance(value, ast.Name)
                and params.kwarg is not None
                and value.id == params.kwarg.arg
            ):
                return False
        elif not (
            isinstance(value, ast.Name) and value.id == keyword.arg and keyword.arg in keywords
        ):
            return False
    return passed == positional[: len(passed)]

"""Alias mode: the facade class becomes ``Facade = Canonical`` (or a deprecating ``__getattr__``)."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from ssot_migrate.codemods.facades.cleanup import _drop_unused_imports, _imports_read_in
from ssot_migrate.codemods.facades.plan import FacadePlan
from ssot_migrate.model import Change, Note, SourceFile
from ssot_migrate.pysyntax import (
    class_index,
    dotted_name,
    free_name,
    import_bindings,
    insert_top_import,
    is_import_line,
    make_import_from,
    small_statements,
    top_level_names,
)


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

"""One file's facts for ``scan``, whatever the target: its imports, classes and aliases.

:func:`parse_for_scan` reads a file with ``ast`` (through libcst, lowered, when the running
``ast`` cannot); :class:`FileFacts` is what every target's analysis of that file shares, worked
out once per file however many targets it concerns.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import libcst as cst

from ssot_migrate.conventions import (
    CallArg,
    PatchTarget,
    patch_function,
    patch_targets,
    type_string_arguments,
)
from ssot_migrate.model import SourceFile
from ssot_migrate.pysyntax import ast_dotted_name, resolve_relative
from ssot_migrate.scan.spec import word_runs


class _Lower(cst.CSTTransformer):
    """Newer syntax spelled as the running ``ast`` reads it, every line where it was.

    ``type X[T] = V`` becomes ``X = V``, type parameters of functions and classes go (they bind
    nothing scan looks for), and an f-string becomes a tuple of its expressions, so references
    inside ``f"{x["k"]}"`` (PEP 701) are still seen; a string of its newlines keeps the lines.
    """

    def leave_TypeAlias(
        self, original_node: cst.TypeAlias, updated_node: cst.TypeAlias
    ) -> cst.Assign:
        return cst.Assign(targets=[cst.AssignTarget(updated_node.name)], value=updated_node.value)

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        return updated_node.with_changes(type_parameters=None)

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        return updated_node.with_changes(type_parameters=None)

    def leave_FormattedString(
        self, original_node: cst.FormattedString, updated_node: cst.FormattedString
    ) -> cst.BaseExpression:
        newlines = sum(
            p.value.count("\n")
            for p in updated_node.parts
            if isinstance(p, cst.FormattedStringText)
        )
        elements = [
            cst.Element(p.expression)
            for p in updated_node.parts
            if isinstance(p, cst.FormattedStringExpression)
        ]
        elements.append(cst.Element(cst.SimpleString('"""' + "\n" * newlines + '"""')))
        return cst.Tuple(elements)


def parse_for_scan(source: bytes) -> ast.Module:
    """``ast`` of ``source``; through libcst when the running interpreter's ``ast`` cannot read
    it (``type X = ...`` on Python 3.11). Raises ``SyntaxError`` when neither can."""
    try:
        return ast.parse(source)
    except SyntaxError as exc:
        if "nest" in (exc.msg or ""):
            raise  # pathological nesting: libcst's native parser could overflow the C stack
        try:
            lowered = cst.parse_module(source).visit(_Lower())
        except (cst.ParserSyntaxError, RecursionError, MemoryError):
            raise exc from None
        try:
            return ast.parse(lowered.bytes)
        except SyntaxError:
            raise exc from None


@dataclass(frozen=True)
class ClassFacts:
    """What ``facts._class_notes`` reads of a top-level class whatever the target (once per file)."""

    node: ast.ClassDef
    qual: str
    bases: list[str]
    own: set[str]  # public methods defined in the class itself
    word_runs: frozenset[str]  # runs of its name's words, joined: what ``shares_stem`` compares
    forwards: bool  # a method calls ``self.<attr>.<same name>`` (or ``__getattr__`` delegates)


def forwarded_attributes(node: ast.ClassDef) -> Iterator[str]:
    """``self`` attributes the class's methods forward calls to, in order: a method calling the
    same-named method of ``self.<attr>`` (``def send(...): return self._impl.send(...)``), or
    ``__getattr__`` delegating to it."""
    for method in node.body:
        if not isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for sub in ast.walk(method):
            if not isinstance(sub, ast.Call):
                continue
            owner: ast.expr | None = None
            if isinstance(sub.func, ast.Attribute) and sub.func.attr == method.name:
                owner = sub.func.value
            elif (
                method.name == "__getattr__" and ast_dotted_name(sub.func) == "getattr" and sub.args
            ):
                owner = sub.args[0]
            if (
                isinstance(owner, ast.Attribute)
                and isinstance(owner.value, ast.Name)
                and owner.value.id == "self"
            ):
                yield owner.attr


@dataclass(frozen=True)
class CallFacts:
    """A call as the analysis of every target reads it: the patcher it is (``mock.patch``...)
    and what it patches, else the dotted name it calls; the arguments read as type strings."""

    patcher: str | None
    patched: tuple[PatchTarget, ...]
    resolved: str | None
    type_strings: tuple[CallArg, ...]


def _string_annotation(node: ast.AST) -> bool:
    """Whether ``node`` (an ``arg``, ``AnnAssign`` or function) is annotated with a string: the
    only annotation ``facts._string_annotation_uses`` reads paths in."""
    if isinstance(node, ast.arg | ast.AnnAssign):
        annotation = node.annotation
    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        annotation = node.returns
    else:
        return False
    return isinstance(annotation, ast.Constant) and isinstance(annotation.value, str)


class FileFacts:
    """Names a file binds by import (anywhere in it: scan counts, it does not rewrite)."""

    def __init__(self, tree: ast.Module, file: SourceFile) -> None:
        self.local: dict[str, str] = {}
        # One entry per import statement: the ``from`` module (None for ``import``), the dotted
        # names it imports with their positions, and its own position.
        self.imports: list[tuple[str | None, list[tuple[str, int, int]], int, int]] = []
        self.stars: list[tuple[str, int, int]] = []  # ``from m import *``: (m, line, column)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = resolve_relative(node.level, node.module, file.package)
                if source is None:
                    continue
                names = []
                for alias in node.names:
                    if alias.name == "*":
                        self.stars.append((source, node.lineno, node.col_offset))
                        continue
                    full = f"{source}.{alias.name}"
                    self.local[alias.asname or alias.name] = full
                    names.append((full, alias.lineno, alias.col_offset))
                self.imports.append((source, names, node.lineno, node.col_offset))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    self.imports.append(
                        (
                            None,
                            [(alias.name, alias.lineno, alias.col_offset)],
                            node.lineno,
                            node.col_offset,
                        )
                    )
                    if alias.asname:
                        self.local[alias.asname] = alias.name
                    else:
                        head = alias.name.split(".")[0]
                        self.local.setdefault(head, head)
        self.defined: set[str] = {
            n.name for n in tree.body if isinstance(n, ast.ClassDef | ast.FunctionDef)
        }
        self.module = file.module
        self._referencing: list[ast.AST] | None = None
        self._always: list[int] = []
        self._by_callee: dict[str, list[int]] | None = None
        self._class_index: tuple[dict[str, list[int]], dict[str, list[int]], list[int]] | None = (
            None
        )
        self._calls: dict[int, CallFacts] = {}
        self._tree = tree
        self._classes: list[ClassFacts] | None = None
        self.module_aliases = self._module_aliases(tree)
        # Calls of such a name inside a function that binds it itself (a parameter ``Manager``)
        # call something else.
        self.shadowed: set[int] = set()
        for function in ast.walk(tree) if self.module_aliases else ():
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            params = function.args
            local = {
                a.arg
                for a in [
                    *params.posonlyargs,
                    *params.args,
                    *params.kwonlyargs,
                    *filter(None, [params.vararg, params.kwarg]),
                ]
            }
            local |= {
                n.id
                for n in ast.walk(function)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
            }
            shadowing = local & set(self.module_aliases)
            self.shadowed |= {
                id(c)
                for c in ast.walk(function)
                if isinstance(c, ast.Call)
                and isinstance(c.func, ast.Name)
                and c.func.id in shadowing
            }

    def classes(self) -> list[ClassFacts]:
        """Top-level classes that are not protocols, in order (worked out once per file)."""
        if self._classes is None:
            self._classes = []
            for node in self._tree.body:
                if not isinstance(node, ast.ClassDef):
                    continue
                qual = f"{self.module}.{node.name}" if self.module else node.name
                bases = [self.resolve(b) or (ast_dotted_name(b) or "") for b in node.bases]
                if any(b.rpartition(".")[2] == "Protocol" for b in bases):
                    continue  # an interface description, not an implementation
                own = {
                    n.name
                    for n in node.body
                    if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                    and not n.name.startswith("_")
                }
                forwards = next(forwarded_attributes(node), None) is not None
                self._classes.append(
                    ClassFacts(node, qual, bases, own, word_runs(node.name), forwards)
                )
        return self._classes

    def referencing_nodes(self, tree: ast.Module) -> list[ast.AST]:
        """The nodes that can reference a target (attributes, calls, annotated names), in
        ``ast.walk`` order: walked once per file, however many targets it concerns."""
        if self._referencing is None:
            self._referencing = [
                node
                for node in ast.walk(tree)
                if isinstance(
                    node,
                    ast.Attribute
                    | ast.Call
                    | ast.arg
                    | ast.AnnAssign
                    | ast.FunctionDef
                    | ast.AsyncFunctionDef,
                )
            ]
        return self._referencing

    def nodes_for(self, tree: ast.Module, called: AbstractSet[str]) -> list[ast.AST]:
        """The :meth:`referencing_nodes` a target's analysis can find something at, in order:
        every attribute, every call that patches or takes a type string, every annotation that
        is a string, and the other calls only when they call one of ``called`` (the target's
        constructors and legacy factories). The rest give any target nothing: looked up, not
        walked, per target."""
        if self._by_callee is None:
            always: list[int] = []
            by_callee: dict[str, list[int]] = {}
            for position, node in enumerate(self.referencing_nodes(tree)):
                if isinstance(node, ast.Call):
                    call = self.call(node)
                    if call.patcher is not None or call.type_strings:
                        always.append(position)
                    elif call.resolved is not None:
                        by_callee.setdefault(call.resolved, []).append(position)
                elif isinstance(node, ast.Attribute) or _string_annotation(node):
                    always.append(position)
            self._always, self._by_callee = always, by_callee
        positions = set(self._always)
        for name in called & self._by_callee.keys():
            positions.update(self._by_callee[name])
        nodes = self.referencing_nodes(tree)
        return [nodes[position] for position in sorted(positions)]

    def classes_for(self, quals: AbstractSet[str], word_run: str) -> list[ClassFacts]:
        """The :meth:`classes` that can stand in for, compete with or wrap a target, in order:
        those named one of ``quals`` (its facades, aliases, doubles), those whose name has
        ``word_run`` (its stem's words) among its word runs, and those that forward calls to an
        attribute. Any other class has no role for the target."""
        classes = self.classes()
        if self._class_index is None:
            by_qual: dict[str, list[int]] = {}
            by_run: dict[str, list[int]] = {}
            forwarding: list[int] = []
            for position, info in enumerate(classes):
                by_qual.setdefault(info.qual, []).append(position)
                for run in info.word_runs:
                    by_run.setdefault(run, []).append(position)
                if info.forwards:
                    forwarding.append(position)
            self._class_index = (by_qual, by_run, forwarding)
        by_qual, by_run, forwarding = self._class_index
        positions = set(forwarding).union(by_run.get(word_run, ()))
        for qual in quals & by_qual.keys():
            positions.update(by_qual[qual])
        return [classes[position] for position in sorted(positions)]

    def call(self, node: ast.Call) -> CallFacts:
        """What a call is, whatever the target: worked out once per call however many targets
        the file concerns (the analysis of each target asks the same of every call)."""
        found = self._calls.get(id(node))
        if found is None:
            func = ast_dotted_name(node.func)
            patcher = patch_function(func, self.local.get) if func else None
            args = call_args(node)
            resolved = None
            if patcher is None:
                resolved = self.resolve(node.func)
                if (
                    resolved is None
                    and isinstance(node.func, ast.Name)
                    and id(node) not in self.shadowed
                ):
                    resolved = self.module_aliases.get(node.func.id)
            called = (
                node.func.attr
                if isinstance(node.func, ast.Attribute)
                else getattr(node.func, "id", "")
            )
            found = CallFacts(
                patcher,
                patch_targets(patcher, args) if patcher is not None else (),
                resolved,
                tuple(type_string_arguments(called, args)),
            )
            self._calls[id(node)] = found
        return found

    def _module_aliases(self, tree: ast.Module) -> dict[str, str]:
        """``M = Manager`` at module level with ``M`` bound nowhere else in the module: what
        ``M`` is. A call of ``M`` constructs ``Manager``, as phase 3 reads it too."""
        bound: dict[str, int] = {}
        pending: list[ast.AST] = list(tree.body)
        while pending:  # module-scope bindings; functions and classes have their own scopes
            node = pending.pop()
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                bound[node.name] = bound.get(node.name, 0) + 1
                # Their own scopes, except that ``global M`` inside rebinds the module's ``M``.
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Global):
                        for name in inner.names:
                            bound[name] = bound.get(name, 0) + 2
                continue
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
                bound[node.id] = bound.get(node.id, 0) + 1
            elif isinstance(node, ast.alias):
                local = node.asname or node.name.partition(".")[0]
                bound[local] = bound.get(local, 0) + 1
            pending.extend(ast.iter_child_nodes(node))
        aliases: dict[str, str] = {}
        for statement in tree.body:
            if (
                isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
                and isinstance(statement.value, ast.Name | ast.Attribute)
            ):
                name = statement.targets[0].id
                # ``Older = Old`` after ``Old = Manager``: an alias of an alias (phase 3 follows it).
                head, dot, rest = (ast_dotted_name(statement.value) or "").partition(".")
                value = (
                    aliases[head] + dot + rest if head in aliases else self.resolve(statement.value)
                )
                if value is not None and bound.get(name) == 1:
                    aliases[name] = value
        return aliases

    def resolve(self, node: ast.expr) -> str | None:
        """The dotted name an expression refers to, through this file's imports and definitions."""
        name = ast_dotted_name(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        if head in self.local:
            base = self.local[head]
        elif head in self.defined and self.module:
            base = f"{self.module}.{head}"
        else:
            return None
        return f"{base}.{rest}" if rest else base

    def head_value(self, name: str) -> str | None:
        """What the first segment of ``name`` is bound to in this file."""
        head = name.partition(".")[0]
        if head in self.local:
            return self.local[head]
        if head in self.defined and self.module:
            return f"{self.module}.{head}"
        return None


def call_args(node: ast.Call) -> list[CallArg]:
    """A call's arguments in the conventions' neutral shape, indexed as ``args + keywords``."""

    def arg(index: int, keyword: str | None, value: ast.expr) -> CallArg:
        string = (
            value.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str)
            else None
        )
        return CallArg(index, keyword, string, ast_dotted_name(value))

    found: list[CallArg] = []
    for index, value in enumerate(node.args):
        if isinstance(value, ast.Starred):
            break  # later positions are unknown
        found.append(arg(index, None, value))
    found += [arg(len(node.args) + i, k.arg, k.value) for i, k in enumerate(node.keywords) if k.arg]
    return found

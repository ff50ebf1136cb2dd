"""Step 1, the survey: one cheap pass over a file's import statements (and candidate strings),
and the collector of attribute chains and names whose root is of interest (step 3's input)."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from ssot_migrate.codemods._common import StatementSpans
from ssot_migrate.conventions import CallArg, type_string_arguments
from ssot_migrate.pysyntax import ImportNode, dotted_name, dotted_parts

Block = cst.Module | cst.IndentedBlock | cst.SimpleStatementSuite

Line = cst.SimpleStatementLine | cst.SimpleStatementSuite


def call_args(call: cst.Call) -> list[CallArg]:
    """A call's arguments in the conventions' neutral shape, indexed by position in ``call.args``."""
    found: list[CallArg] = []
    for index, arg in enumerate(call.args):
        if arg.star:
            if arg.star == "**":
                continue
            break  # later positions are unknown
        string = arg.value.evaluated_value if isinstance(arg.value, cst.SimpleString) else None
        keyword = arg.keyword.value if arg.keyword is not None else None
        found.append(
            CallArg(
                index, keyword, string if isinstance(string, str) else None, dotted_name(arg.value)
            )
        )
    return found


def call_arg_value(call: cst.Call, index: int) -> cst.BaseExpression:
    """The value of argument ``index`` of :func:`call_args`."""
    return call.args[index].value


def _type_strings(call: cst.Call) -> list[cst.SimpleString]:
    """The string arguments of ``call`` that typing reads as type expressions."""
    func = call.func
    name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
    if not isinstance(name, str):
        return []
    found = [call_arg_value(call, a.index) for a in type_string_arguments(name, call_args(call))]
    return [string for string in found if isinstance(string, cst.SimpleString)]


@dataclass(frozen=True)
class ImportSite:
    """An import statement with the line and block holding it."""

    statement: ImportNode
    line: Line
    block: Block
    depth: int  # function/class nesting: 0 for module-level code, conditional or not
    top: int  # index of the enclosing top-level statement in the module body


@dataclass(frozen=True)
class Chain:
    """A pure ``a.b.c`` chain (or a bare name) in load position: its top node and its names."""

    top: cst.BaseExpression
    parts: tuple[cst.Name, ...]


@dataclass(frozen=True)
class SurveyedCall:
    """A call with a needle among its arguments, and its callee spelled as a dotted name."""

    func: str
    call: cst.Call


# Nodes that can hold statements: the survey's fast mode descends through these only.
_STATEMENT_CONTAINERS = (
    cst.Module,
    cst.IndentedBlock,
    cst.SimpleStatementSuite,
    cst.SimpleStatementLine,
    cst.BaseCompoundStatement,
    cst.Else,
    cst.ExceptHandler,
    cst.ExceptStarHandler,
    cst.Finally,
    cst.MatchCase,
    cst.Import,
    cst.ImportFrom,
)


class Survey(cst.CSTVisitor):
    """One cheap pass: import statements with their line and block, and candidate strings.

    With ``strings=False`` (no needle inside a quote anywhere in the file) it walks statements
    only, never expressions: that is most of a file's nodes, and the pass the common case pays.
    ``ancestors`` collects the ids of every node on the path to something a rewrite may touch,
    so the final transform can skip every other subtree.
    """

    def __init__(self, needles: frozenset[str], strings: bool) -> None:
        super().__init__()
        self.needles = needles
        self.strings = strings
        self.ancestors: set[int] = set()
        self.subtrees: set[int] = set()
        self.top_of: dict[int, int] = {}  # node id -> index of its top-level statement
        self._path: list[int] = []
        self.imports: list[ImportSite] = []
        self.stars: list[cst.ImportFrom] = []
        self.annotation_strings: list[cst.SimpleString] = []
        # Calls with a needle in a string argument: what ``conventions`` says patches a path.
        self.patch_calls: list[SurveyedCall] = []
        self.all_strings: list[cst.SimpleString] = []
        self._blocks: list[Block] = []
        self._lines: list[Line] = []
        self._annotation_depth = 0
        self._depth = 0  # function/class nesting, for module-level __all__
        self._top_index: dict[int, int] = {}
        self.top_index = self._top_index
        self._top = -1

    def on_visit(self, node: cst.CSTNode) -> bool:
        self._path.append(id(node))
        index = self._top_index.get(id(node))
        if index is not None:
            self._top = index
        if not self.strings and not isinstance(node, _STATEMENT_CONTAINERS):
            return False
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        super().on_leave(original_node)
        self._path.pop()

    def walk(self, module: cst.Module, spans: StatementSpans | None = None) -> None:
        """Survey ``module``: every node when strings matter, else statements only, by hand.

        libcst's visitor machinery rebuilds every node it passes through; walking the statement
        tree directly is what keeps this pass cheap on large files. When strings matter, only
        the top-level statements whose text could hold what the visitor looks for (``spans``:
        see ``_with_strings``) are visited whole.
        """
        whole = self._with_strings(spans) if self.strings else set()
        if whole is None:
            module.visit(self)
            return
        self._top_index = {id(statement): i for i, statement in enumerate(module.body)}
        self.top_index = self._top_index
        self._blocks.append(module)
        self._path.append(id(module))
        for index, statement in enumerate(module.body):
            self._top = index
            if index in whole:
                statement.visit(self)
            else:
                self._walk_statement(statement)

    def _with_strings(self, spans: StatementSpans | None) -> set[int] | None:
        """The top-level statements whose expressions must be visited (by index), or ``None``
        for all of them.

        Every string, keyword or ``__all__`` the visitor collects spells a needle or
        ``__all__`` in the statement's own bytes (it reads the literal as written); a statement
        spelling none of them is walked like any other. Without the statement table, or where
        the needles are not plain ASCII (a file's declared encoding could spell them
        otherwise), every statement is visited.
        """
        if spans is None or spans.encoding != "utf-8" or not all(n.isascii() for n in self.needles):
            return None
        source, bounds = spans.source, spans.bounds
        found: set[int] = set()
        for word in [needle.encode() for needle in self.needles] + [b"__all__"]:
            at = source.find(word)
            while at >= 0:
                found.add(max(0, bisect.bisect_right(bounds, at) - 1))
                at = source.find(word, at + 1)
        return found

    def _walk_statement(self, statement: cst.CSTNode) -> None:
        self._path.append(id(statement))
        if isinstance(statement, cst.SimpleStatementLine):
            self._lines.append(statement)
            self._walk_small(statement.body)
            self._lines.pop()
        else:
            scoped = isinstance(statement, (cst.FunctionDef, cst.ClassDef))
            self._depth += scoped
            for between, suite in _suites(statement):
                self._path.extend(id(node) for node in between)
                self._walk_suite(suite)
                del self._path[len(self._path) - len(between) :]
            orelse = getattr(statement, "orelse", None)
            if isinstance(orelse, cst.If):  # elif
                self._walk_statement(orelse)
            self._depth -= scoped
        self._path.pop()

    def _walk_suite(self, suite: cst.BaseSuite) -> None:
        self._path.append(id(suite))
        if isinstance(suite, cst.IndentedBlock):
            self._blocks.append(suite)
            for statement in suite.body:
                self._walk_statement(statement)
            self._blocks.pop()
        elif isinstance(suite, cst.SimpleStatementSuite):
            self._blocks.append(suite)
            self._lines.append(suite)
            self._walk_small(suite.body)
            self._lines.pop()
            self._blocks.pop()
        self._path.pop()

    def _walk_small(self, body: Sequence[cst.BaseSmallStatement]) -> None:
        for small in body:
            if isinstance(small, cst.Import):
                self._path.append(id(small))
                self.visit_Import(small)
                self._path.pop()
            elif isinstance(small, cst.ImportFrom):
                self._path.append(id(small))
                self.visit_ImportFrom(small)
                self._path.pop()

    def _mark(self, subtree: bool = False) -> None:
        """Remember the path to the node being visited (and, if asked, all of its subtree)."""
        self.ancestors.update(self._path)
        if subtree:
            self.subtrees.add(self._path[-1])

    def _site(self, node: ImportNode) -> ImportSite:
        self._mark()
        self.top_of[id(node)] = self._top
        if not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                self.top_of[id(alias)] = self._top
        return ImportSite(node, self._lines[-1], self._blocks[-1], self._depth, self._top)

    def _has_needle(self, text: str) -> bool:
        return any(needle in text for needle in self.needles)

    def visit_Module(self, node: cst.Module) -> None:
        self._blocks.append(node)
        self._top_index = {id(statement): i for i, statement in enumerate(node.body)}
        self.top_index = self._top_index

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._blocks.append(node)

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock) -> None:
        self._blocks.pop()

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> None:
        self._blocks.append(node)
        self._lines.append(node)

    def leave_SimpleStatementSuite(self, original_node: cst.SimpleStatementSuite) -> None:
        self._blocks.pop()
        self._lines.pop()

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._lines.append(node)

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine) -> None:
        self._lines.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._depth += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._depth -= 1

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._depth += 1

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._depth -= 1

    def visit_Import(self, node: cst.Import) -> bool:
        self.imports.append(self._site(node))
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if isinstance(node.names, cst.ImportStar):
            self._mark()  # a whole-module alias retargets it
            self.top_of[id(node)] = self._top
            self.stars.append(node)
        else:
            self.imports.append(self._site(node))
        return False

    def visit_Annotation(self, node: cst.Annotation) -> None:
        self._annotation_depth += 1

    def leave_Annotation(self, original_node: cst.Annotation) -> None:
        self._annotation_depth -= 1

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if self._annotation_depth and self._has_needle(node.value):
            self._mark()
            self.top_of[id(node)] = self._top
            self.annotation_strings.append(node)

    def visit_Call(self, node: cst.Call) -> None:
        if not node.args:
            return
        for string in _type_strings(node):
            if self._has_needle(string.value):
                self._mark(subtree=True)
                self.top_of[id(string)] = self._top
                self.annotation_strings.append(string)
        func = dotted_name(node.func)
        if (
            func is not None
            and func.endswith("multiple")
            and any(a.keyword is not None and a.keyword.value in self.needles for a in node.args)
        ):
            # ``patch.multiple(legacy_module, Name=...)``: the alias is a keyword, not a string.
            self._mark(subtree=True)
            self.patch_calls.append(SurveyedCall(func, node))
            return
        strings = [a.value for a in node.args if isinstance(a.value, cst.SimpleString)]
        needled = [string for string in strings if self._has_needle(string.value)]
        if func is None or not needled:
            return
        self._mark(subtree=True)
        for string in needled:
            self.top_of[id(string)] = self._top
        self.patch_calls.append(SurveyedCall(func, node))
        if (func == "__all__.extend" or func == "__all__.append") and any(
            node.args[0].value is string for string in needled
        ):
            self._collect_all(node.args[0].value)

    def visit_Assign(self, node: cst.Assign) -> None:
        if self._depth == 0 and any(
            isinstance(t.target, cst.Name) and t.target.value == "__all__" for t in node.targets
        ):
            self._collect_all(node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if (
            self._depth == 0
            and isinstance(node.target, cst.Name)
            and node.target.value == "__all__"
        ):
            self._collect_all(node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        target, value = node.target, node.value
        if (
            self._depth == 0
            and isinstance(target, cst.Name)
            and target.value == "__all__"
            and value is not None
        ):
            self._collect_all(value)

    def _collect_all(self, value: cst.BaseExpression) -> None:
        self._mark(subtree=True)
        if isinstance(value, cst.SimpleString):
            self.top_of[id(value)] = self._top
            self.all_strings.append(value)
        elif isinstance(value, (cst.List, cst.Tuple, cst.Set)):
            for element in value.elements:
                if isinstance(element.value, cst.SimpleString):
                    self.top_of[id(element.value)] = self._top
                    self.all_strings.append(element.value)
        elif isinstance(value, cst.Call):
            if value.args:
                self._collect_all(value.args[0].value)
        elif isinstance(value, cst.BinaryOperation):
            self._collect_all(value.left)
            self._collect_all(value.right)


def _suites(statement: cst.CSTNode) -> list[tuple[list[cst.CSTNode], cst.BaseSuite]]:
    """The suites directly under a compound statement, each with the nodes in between."""
    found: list[tuple[list[cst.CSTNode], cst.BaseSuite]] = []
    body = getattr(statement, "body", None)
    if isinstance(body, cst.BaseSuite):
        found.append(([], body))
    for handler in getattr(statement, "handlers", ()):
        found.append(([handler], handler.body))
    for case in getattr(statement, "cases", ()):
        found.append(([case], case.body))
    orelse = getattr(statement, "orelse", None)
    if isinstance(orelse, cst.Else):
        found.append(([orelse], orelse.body))
    final = getattr(statement, "finalbody", None)
    if isinstance(final, cst.Finally):
        found.append(([final], final.body))
    return found


class Chains(cst.CSTVisitor):
    """Every pure ``a.b.c`` chain and bare name in load position whose root is of interest."""

    def __init__(self, roots: set[str], top_index: dict[int, int] | None = None) -> None:
        super().__init__()
        self.roots = roots
        self.top_of: dict[int, int] = {}
        self._top_index = top_index or {}
        self._top = -1
        self.chains: list[Chain] = []
        self.ancestors: set[int] = set()
        self.subtrees: set[int] = set()
        self._path: list[int] = []
        # Names whose scope metadata lives on an enclosing statement (``global``/``nonlocal``).
        self.scope_owner: dict[int, cst.CSTNode] = {}
        self._attrs: set[int] = set()

    def on_visit(self, node: cst.CSTNode) -> bool:
        self._path.append(id(node))
        self._top = self._top_index.get(id(node), self._top)
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        super().on_leave(original_node)
        self._path.pop()

    def _record(self, top: cst.BaseExpression, parts: list[cst.Name]) -> None:
        self.chains.append(Chain(top, tuple(parts)))
        self.ancestors.update(self._path)
        self.subtrees.add(id(top))
        node: cst.BaseExpression = top
        while True:
            self.top_of[id(node)] = self._top
            if not isinstance(node, cst.Attribute):
                break
            node = node.value

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        parts = dotted_parts(node)
        if parts is not None:
            if parts[0].value in self.roots:
                self._record(node, parts)
            return False
        self._attrs.add(id(node.attr))
        return True

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self._attrs and node.value in self.roots:
            self._record(node, [node])

    def visit_Global(self, node: cst.Global) -> bool:
        for item in node.names:
            if item.name.value in self.roots:
                self._record(item.name, [item.name])
                self.ancestors.add(id(item))
                self.scope_owner[id(item.name)] = node
        return False

    def visit_Nonlocal(self, node: cst.Nonlocal) -> bool:
        return self.visit_Global(node)  # type: ignore[arg-type]

    def visit_Arg(self, node: cst.Arg) -> bool:
        # The keyword of ``f(Name=...)`` is not a reference.
        node.value.visit(self)
        return False

    def visit_SimpleString(self, node: cst.SimpleString) -> bool:
        return False

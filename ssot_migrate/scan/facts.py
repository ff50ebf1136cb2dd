"""Per-file facts for ``scan``: what one file imports, constructs, patches and defines.

Runs inside the engine's worker processes (``ScanAnalyser`` has the ``Codemod`` shape), so every
input is a small picklable ``TargetSpec`` and every output a ``Note``. Cheap text tests come first;
a file is parsed once, with ``ast`` (no metadata): scan must stay cheaper than phase 1. A file the
running ``ast`` cannot read (``type X = ...`` on Python 3.11) is read by libcst and lowered to
what ``ast`` reads (:func:`parse_for_scan`); only a file neither reads is skipped.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import libcst as cst

from ssot_migrate.conventions import (
    DOUBLE_PREFIXES,
    CallArg,
    construction_expected,
    is_test_path,
    patch_function,
    patch_targets,
    type_string_arguments,
)
from ssot_migrate.discovery import ImportPath, dotted
from ssot_migrate.model import CodemodResult, NameKind, Note, SourceFile, Target
from ssot_migrate.pysyntax import resolve_relative

DEFAULT_OVERLAP = 50.0
# A class under test paths named ``Mock<stem>``, ``FakeRedisWebSocketManager``... stands in for the
# canonical; other test classes named after it (``CharFieldModel``) are the tests' own.
DOUBLE_WORDS = frozenset(prefix.lower() for prefix in DOUBLE_PREFIXES)
# Words that qualify rather than name a component: "UnifiedWebSocketManager" -> "WebSocketManager".
STEM_QUALIFIERS = (
    "Unified",
    "Canonical",
    "Core",
    "Base",
    "Default",
    "Main",
    "Real",
    "Concrete",
    "Single",
    "Shared",
    "Central",
    "Consolidated",
    "Standard",
    "Primary",
    "Abstract",
)


@dataclass(frozen=True)
class TargetSpec:
    """What the per-file analysis needs to know about one target (picklable)."""

    name: str
    canonical: str
    module_kind: bool
    paths: tuple[str, ...]  # canonical + every alias (configured, discovered)
    legacy: tuple[str, ...]  # aliases only
    facades: tuple[str, ...]
    doubles: tuple[str, ...]  # configured test doubles (a double is also found by its name)
    constructors: tuple[str, ...]  # canonical, aliases, facades (when a factory is configured)
    legacy_factories: tuple[str, ...]
    factory_module: str | None
    factory_exempt: tuple[str, ...]
    stem: str
    names: frozenset[str]  # last segments of everything above: the relevance test for patches
    # Share (%) of the canonical's implemented methods a class named after it must implement too.
    overlap: float = DEFAULT_OVERLAP
    # The canonical's kind was only assumed (``Target.kind_assumed``): phase 1 then rewrites a
    # path under an alias wherever a site proves a module, so such paths count whatever the kind.
    kind_assumed: bool = False

    @property
    def prefix(self) -> bool:
        """Whether a name under a path (``old.mod.sub``) is a use of that path."""
        return self.module_kind or self.kind_assumed


def stem_of(canonical: str) -> str:
    """The component's core name: the canonical class name without qualifying leading words."""
    name = canonical.rpartition(".")[2]
    changed = True
    while changed:
        changed = False
        for word in STEM_QUALIFIERS:
            rest = name[len(word) :]
            if name.startswith(word) and rest[:1].isupper() and len(rest) > 3:
                name, changed = rest, True
    return name


_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+")
_IDENTIFIER = re.compile(r"\w+")


def name_words(name: str) -> list[str]:
    """A class name's words, lower-cased: ``IsolatedWebSocketManager`` -> isolated/web/socket/manager."""
    return [w.lower() for w in _WORD.findall(name)]


def shares_stem(name: str, stem: str) -> bool:
    """Whether class ``name`` names the component: the stem's words appear in it, in order.

    Whole words, not substrings: ``asinh`` and ``LaTeXParsingError`` do not name ``sin``;
    ``MockWebSocketManager`` and ``websocket_manager_v2`` name ``WebSocketManager``.
    """
    wanted = "".join(name_words(stem))
    # Joined at word edges, so ``Websocket`` (one word) still names ``WebSocket`` (two).
    return bool(wanted) and wanted in _word_runs(name)


def _word_runs(name: str) -> frozenset[str]:
    """Every run of consecutive words of ``name``, joined: ``AB`` -> ``a``, ``b``, ``ab``."""
    words = name_words(name)
    return frozenset(
        "".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)
    )


def matches(dotted_name: str, paths: Iterable[str], prefix: bool) -> str | None:
    """The path ``dotted_name`` reaches: equal to one, or (``prefix``) an attribute/submodule of one."""
    best: str | None = None
    for path in paths:
        hit = dotted_name == path or (prefix and dotted_name.startswith(path + "."))
        if hit and (best is None or len(path) > len(best)):
            best = path
    return best


class ScanAnalyser:
    """A ``Codemod``-shaped analyser: ``transform`` returns the source unchanged and facts as notes.

    Run through ``engine.run_codemod`` so scan shares the engine's pre-filter and process pool.
    Note kinds: ``path-use`` (message: the dotted path an import, attribute chain or string
    annotation reaches), ``direct-instantiation``, ``patch-target`` (message: the string) and
    ``class`` (message: JSON with the class's roles, judged in the main process).
    """

    phase = "scan"

    def __init__(self, specs: Sequence[TargetSpec]) -> None:
        self.specs = tuple(specs)
        needles: set[str] = set()
        for spec in specs:
            needles |= spec.names
        self._reference_needles = frozenset(needles)
        # A class named after the component spells its stem (the pre-filter's price: one cased
        # differently, ``WebsocketManager``, is found only in a file that references the target).
        needles |= {spec.stem for spec in specs if spec.stem}
        needles |= {double.rpartition(".")[2] for spec in specs for double in spec.doubles}
        self._needles = frozenset(needles)
        # Which targets a file can concern, looked up from the identifiers it spells instead of
        # analysing it once per target (a thousand targets, most of which a file never names).
        self._by_name: dict[str, set[int]] = {}
        self._by_class: dict[str, set[int]] = {}
        self._by_factory_module: dict[str, set[int]] = {}
        self._by_star_source: dict[str, set[int]] = {}
        self._always: set[int] = set()
        for index, spec in enumerate(self.specs):
            for name in spec.names:
                self._by_name.setdefault(name, set()).add(index)
            for alias in spec.legacy:  # ``from <alias or its module> import *`` names neither
                for module in (alias, alias.rpartition(".")[0]):
                    self._by_star_source.setdefault(module, set()).add(index)
            if spec.prefix:
                self._always.add(index)
            if spec.module_kind:
                continue
            if spec.stem:
                self._by_class.setdefault("".join(name_words(spec.stem)), set()).add(index)
            for double in spec.doubles:
                self._by_class.setdefault(double.rpartition(".")[2], set()).add(index)
            if spec.factory_module:
                self._by_name.setdefault(spec.factory_module.rpartition(".")[2], set()).add(index)
                self._by_factory_module.setdefault(spec.factory_module, set()).add(index)

    def needles(self) -> frozenset[str]:
        """Last segments of every configured/discovered name and listed double, and the stem."""
        return self._needles

    def transform(self, source: bytes, file: SourceFile) -> CodemodResult:
        """Analyse one file: cheap text tests first, then one ``ast`` parse (no libcst)."""
        text = source.decode("utf-8", "replace")
        referenced = any(n in text for n in self._reference_needles)
        if not referenced and not any(n in text for n in self._needles):
            return CodemodResult(source)
        try:
            tree = parse_for_scan(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            # Neither parser reads it: reported as a skipped file with its line.
            line = getattr(exc, "lineno", None) or 0
            message = getattr(exc, "msg", None) or type(exc).__name__
            raise cst.ParserSyntaxError(
                str(message), lines=("",), raw_line=line, raw_column=0
            ) from exc
        notes: list[Note] = []
        facts = _FileFacts(tree, file)
        reached = self._reached(text, file, facts)
        classes = self._class_candidates(tree)
        for index in sorted(reached | set(classes)):
            notes += _analyse(
                tree,
                file,
                facts,
                self.specs[index],
                referenced and index in reached,
                None if index in reached else classes[index],
            )
        return CodemodResult(source, notes=tuple(notes))

    def _reached(self, text: str, file: SourceFile, facts: _FileFacts) -> set[int]:
        """Targets whose object ``file`` can reach at all (the others' analysis finds nothing).

        A name resolves to a path only through an import, attribute or string that spells the
        path's last segment as an identifier, so a file spelling none of a target's names cannot
        use it. Not so for a module target or a target whose kind was assumed (a relative import
        inside the package reaches it unnamed: always analysed), a star import from an alias's
        module, or the factory's module (its own definitions, or a relative import inside it,
        reach the factory unnamed): those count as reached by the module's name or location.
        """
        found = set(self._always)
        for word in set(_IDENTIFIER.findall(text)) & self._by_name.keys():
            found |= self._by_name[word]
        for module, _, _ in facts.stars:
            while module:
                found |= self._by_star_source.get(module, set())
                module = module.rpartition(".")[0]
        module = file.module or ""
        while module:
            found |= self._by_factory_module.get(module, set())
            module = module.rpartition(".")[0]
        return found

    def _class_candidates(self, tree: ast.Module) -> dict[int, set[str]]:
        """Targets a top-level class may stand in for without the file reaching them: named
        after the target's stem (whole words) or a listed double; per target, those classes."""
        found: dict[int, set[str]] = {}
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            for key in ({node.name} | _word_runs(node.name)) & self._by_class.keys():
                for index in self._by_class[key]:
                    found.setdefault(index, set()).add(node.name)
        return found


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
class _ClassFacts:
    """What ``_class_notes`` reads of a top-level class whatever the target (once per file)."""

    node: ast.ClassDef
    qual: str
    bases: list[str]
    own: set[str]  # public methods defined in the class itself
    word_runs: frozenset[str]  # runs of its name's words, joined: what ``shares_stem`` compares
    forwards: bool  # a method calls ``self.<attr>.<same name>`` (or ``__getattr__`` delegates)


def _forwarded_attributes(node: ast.ClassDef) -> Iterator[str]:
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
            elif method.name == "__getattr__" and dotted(sub.func) == "getattr" and sub.args:
                owner = sub.args[0]
            if (
                isinstance(owner, ast.Attribute)
                and isinstance(owner.value, ast.Name)
                and owner.value.id == "self"
            ):
                yield owner.attr


class _FileFacts:
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
        self._tree = tree
        self._classes: list[_ClassFacts] | None = None
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

    def classes(self) -> list[_ClassFacts]:
        """Top-level classes that are not protocols, in order (worked out once per file)."""
        if self._classes is None:
            self._classes = []
            for node in self._tree.body:
                if not isinstance(node, ast.ClassDef):
                    continue
                qual = f"{self.module}.{node.name}" if self.module else node.name
                bases = [self.resolve(b) or (dotted(b) or "") for b in node.bases]
                if any(b.rpartition(".")[2] == "Protocol" for b in bases):
                    continue  # an interface description, not an implementation
                own = {
                    n.name
                    for n in node.body
                    if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                    and not n.name.startswith("_")
                }
                forwards = next(_forwarded_attributes(node), None) is not None
                self._classes.append(
                    _ClassFacts(node, qual, bases, own, _word_runs(node.name), forwards)
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
                head, dot, rest = (dotted(statement.value) or "").partition(".")
                value = (
                    aliases[head] + dot + rest if head in aliases else self.resolve(statement.value)
                )
                if value is not None and bound.get(name) == 1:
                    aliases[name] = value
        return aliases

    def resolve(self, node: ast.expr) -> str | None:
        """The dotted name an expression refers to, through this file's imports and definitions."""
        name = dotted(node)
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


def _analyse(
    tree: ast.Module,
    file: SourceFile,
    facts: _FileFacts,
    spec: TargetSpec,
    referenced: bool,
    only: set[str] | None = None,
) -> list[Note]:
    """``spec``'s notes on one file; ``only``: the classes worth checking (None: all)."""
    notes: list[Note] = []
    path = file.path

    def note(kind: str, node: ast.AST, message: str) -> None:
        notes.append(
            Note(
                path,
                getattr(node, "lineno", 1),
                getattr(node, "col_offset", 0) + 1,
                spec.name,
                kind,
                message,
            )
        )

    if referenced:
        # Paths reached: import statements (a ``from`` module that is itself a path counts once,
        # not once per imported name), then attribute chains whose head is not already a path.
        # A name is counted where phase 1 rewrites it: at its own line in a parenthesised import.
        for source, names, line, column in facts.imports:
            hit = matches(source, spec.paths, spec.prefix) if source else None
            hits = (
                [(hit, line, column)]
                if hit
                else [(matches(n, spec.paths, spec.prefix), at, col) for n, at, col in names]
            )
            for found, at, col in hits:
                if found is not None:
                    notes.append(Note(path, at, col + 1, spec.name, "path-use", found))
        for source, line, column in facts.stars:
            # ``from old import *`` where ``old`` defines a symbol alias may bind it: phase 1
            # lists it (a whole-module alias's is counted above, and retargeted).
            if matches(source, spec.paths, spec.prefix) is not None:
                continue
            found = matches(source, spec.legacy, True) or next(
                (
                    a
                    for a in spec.legacy
                    if (not spec.module_kind or spec.kind_assumed)
                    and a.rpartition(".")[0] == source
                ),
                None,
            )
            if found is not None:
                notes.append(Note(path, line, column + 1, spec.name, "path-use", found))
        inner: set[int] = set()  # parts of a chain already counted through its outer node
        for node in facts.referencing_nodes(tree):
            if isinstance(node, ast.Attribute) and id(node) not in inner:
                hit = _chain_use(node, facts, spec)
                if hit is not None:
                    note("path-use", node, hit)
                    value = node.value
                    while isinstance(value, ast.Attribute):
                        inner.add(id(value))
                        value = value.value
            elif isinstance(node, ast.Call):
                _call_notes(node, facts, spec, file, note)
                values = [*node.args, *(k.value for k in node.keywords)]
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                for arg in type_string_arguments(called, call_args(node)):
                    for hit in _string_annotation_uses(values[arg.index], facts, spec):
                        note("path-use", values[arg.index], hit)
            elif isinstance(node, ast.arg | ast.AnnAssign | ast.FunctionDef | ast.AsyncFunctionDef):
                annotation = (
                    node.annotation if isinstance(node, ast.arg | ast.AnnAssign) else node.returns
                )
                if annotation is not None:
                    for hit in _string_annotation_uses(annotation, facts, spec):
                        note("path-use", annotation, hit)
    notes += _class_notes(tree, file, facts, spec, only)
    return notes


def _string_annotation_uses(annotation: ast.expr, facts: _FileFacts, spec: TargetSpec) -> list[str]:
    """Paths a string annotation spells out (``"pkg.old.Thing | None"``; phase 1 rewrites them)."""
    if not (isinstance(annotation, ast.Constant) and isinstance(annotation.value, str)):
        return []
    try:
        parsed = ast.parse(annotation.value.strip(), mode="eval")
    except (SyntaxError, ValueError):
        return []
    found: list[str] = []
    inner: set[int] = set()
    for sub in ast.walk(parsed):
        if isinstance(sub, ast.Attribute) and id(sub) not in inner:
            hit = _chain_use(sub, facts, spec)
            if hit is not None:
                found.append(hit)
                value = sub.value
                while isinstance(value, ast.Attribute):
                    inner.add(id(value))
                    value = value.value
    return found


def _chain_use(node: ast.Attribute, facts: _FileFacts, spec: TargetSpec) -> str | None:
    """The path an attribute chain reaches (``pkg.mod.Name`` after ``import pkg.mod``, or
    ``mod.Name`` after ``from pkg import mod``), unless its head alone is one (counted at import).
    """
    name = dotted(node)
    if name is None:
        return None
    head = facts.head_value(name)
    if head is None or matches(head, spec.paths, spec.prefix) is not None:
        return None
    resolved = facts.resolve(node)
    return matches(resolved, spec.paths, spec.prefix) if resolved else None


def _call_notes(
    node: ast.Call, facts: _FileFacts, spec: TargetSpec, file: SourceFile, note: Any
) -> None:
    func = dotted(node.func)
    function = patch_function(func, facts.local.get) if func else None
    if function is not None:
        _patch_note(node, function, facts, spec, note)
        return
    resolved = facts.resolve(node.func)
    if resolved is None and isinstance(node.func, ast.Name) and id(node) not in facts.shadowed:
        resolved = facts.module_aliases.get(node.func.id)
    if resolved is None or spec.module_kind:
        return
    if resolved in spec.legacy_factories:
        note("direct-instantiation", node, f"call of legacy factory {resolved}")
        return
    if resolved not in spec.constructors:
        return
    if construction_expected(file.path, file.module, spec.factory_module, spec.factory_exempt):
        return
    note("direct-instantiation", node, f"direct construction of {resolved}")


def call_args(node: ast.Call) -> list[CallArg]:
    """A call's arguments in the conventions' neutral shape, indexed as ``args + keywords``."""

    def arg(index: int, keyword: str | None, value: ast.expr) -> CallArg:
        string = (
            value.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str)
            else None
        )
        return CallArg(index, keyword, string, dotted(value))

    found: list[CallArg] = []
    for index, value in enumerate(node.args):
        if isinstance(value, ast.Starred):
            break  # later positions are unknown
        found.append(arg(index, None, value))
    found += [arg(len(node.args) + i, k.arg, k.value) for i, k in enumerate(node.keywords) if k.arg]
    return found


def _patch_note(
    node: ast.Call, function: str, facts: _FileFacts, spec: TargetSpec, note: Any
) -> None:
    """A ``patch-target`` note per dotted path a patch call names (an object's: resolved)."""
    values = [*node.args, *(k.value for k in node.keywords)]
    for target in patch_targets(function, call_args(node)):
        if not target.is_object:
            if set(target.string.split(".")) & spec.names:
                note("patch-target", values[target.string_arg], target.string)
            continue
        assert target.owner_arg is not None
        owner = facts.resolve(values[target.owner_arg])
        # ``patch.object(legacy_module, "Name")`` names ``legacy_module.Name``; an owner that is
        # itself a path (``patch.object(LegacyClass, "method")``) is counted where it is imported.
        if owner is None or matches(owner, spec.paths, True) is not None:
            continue
        if target.string in spec.names:
            note("patch-target", values[target.owner_arg], f"{owner}.{target.string}")


def _class_notes(
    tree: ast.Module,
    file: SourceFile,
    facts: _FileFacts,
    spec: TargetSpec,
    only: set[str] | None = None,
) -> list[Note]:
    """Classes that may compete with, wrap or stand in for the canonical (roles as JSON)."""
    if spec.module_kind:
        return []
    found: list[Note] = []
    test = is_test_path(file.path)
    stem = "".join(name_words(spec.stem))
    for info in facts.classes():
        node, qual, bases, own = info.node, info.qual, info.bases, info.own
        if (only is not None and node.name not in only) or qual == spec.canonical:
            continue
        roles: list[str] = []
        if qual in spec.facades:
            roles.append("listed-facade")
        if qual in spec.legacy:
            roles.append("alias-class")
        thin = any(b in spec.paths for b in bases) and not own
        # Named after the component: a duplicate only with shared methods too, judged in the
        # main process where the class and the canonical are read with their bases.
        named = (
            bool(stem) and stem in info.word_runs and not node.name.startswith("Test")
        )  # shares_stem
        if named:
            roles.append("stem")
        if qual in spec.doubles:
            roles.append("listed-double")
        elif test and named and name_words(node.name)[0] in DOUBLE_WORDS:
            roles.append("double")
        held = _forwarding_attribute(node, facts, spec) if info.forwards else None
        if held is not None:
            roles.append("facade")
        if not roles or (thin and "facade" not in roles):
            continue
        found.append(
            Note(
                file.path,
                node.lineno,
                node.col_offset + 1,
                spec.name,
                "class",
                json.dumps({"class": qual, "roles": roles, "test": test, "held": held or ""}),
            )
        )
    return found


def _forwarding_attribute(node: ast.ClassDef, facts: _FileFacts, spec: TargetSpec) -> str | None:
    """``self.<attr>`` holding a canonical instance that methods forward calls to, or None.

    Held: assigned from a constructor/factory call of the object, or from a parameter annotated
    with it, or declared ``attr: Canonical`` in the class body.
    """
    reach = set(spec.paths) | set(spec.legacy_factories)
    held: set[str] = set()
    for stmt in node.body:  # class-level ``_impl: Canonical``
        if (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and _annotation_hits(stmt.annotation, facts, spec)
        ):
            held.add(stmt.target.id)
    for method in node.body:
        if not isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        typed = {
            a.arg
            for a in method.args.args + method.args.kwonlyargs
            if a.annotation is not None and _annotation_hits(a.annotation, facts, spec)
        }
        for sub in ast.walk(method):
            targets: list[ast.expr] = []
            value: ast.expr | None = None
            if isinstance(sub, ast.Assign):
                targets, value = sub.targets, sub.value
            elif isinstance(sub, ast.AnnAssign):
                targets, value = [sub.target], sub.value
                if _annotation_hits(sub.annotation, facts, spec):
                    _add_self_attrs(targets, held)
            if value is None:
                continue
            source = value.func if isinstance(value, ast.Call) else value
            resolved = facts.resolve(source)
            hit = resolved is not None and (
                matches(resolved, reach, False) is not None
                or (
                    spec.factory_module is not None
                    and resolved.startswith(spec.factory_module + ".")
                )
            )
            if hit or (isinstance(value, ast.Name) and value.id in typed):
                _add_self_attrs(targets, held)
    if not held:
        return None
    # Forwarding, not mere use: a method hands calls on to the held instance.
    return next((attr for attr in _forwarded_attributes(node) if attr in held), None)


def _add_self_attrs(targets: Sequence[ast.expr], held: set[str]) -> None:
    for target in targets:
        if (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
        ):
            held.add(target.attr)


def _annotation_hits(annotation: ast.expr, facts: _FileFacts, spec: TargetSpec) -> bool:
    nodes: list[ast.expr] = [annotation]
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            nodes = [ast.parse(annotation.value, mode="eval").body]
        except SyntaxError:
            return False
    for root in nodes:
        for sub in ast.walk(root):
            if isinstance(sub, ast.Name | ast.Attribute):
                resolved = facts.resolve(sub)
                if resolved is not None and matches(resolved, spec.paths, False):
                    return True
    return False


def build_spec(
    target: Target, paths: Sequence[ImportPath], overlap: float = DEFAULT_OVERLAP
) -> TargetSpec:
    """The picklable per-target input of :class:`ScanAnalyser`."""
    legacy = tuple(p.dotted for p in paths if p.origin != "canonical")
    all_paths = (target.canonical, *legacy)
    factory_module = target.factory.rpartition(".")[0] if target.factory else None
    constructors = (*all_paths, *target.facades) if target.factory else ()
    names = {n.rpartition(".")[2] for n in (*all_paths, *target.facades, *target.legacy_factories)}
    if target.factory:
        names.add(target.factory.rpartition(".")[2])
    return TargetSpec(
        name=target.name,
        canonical=target.canonical,
        module_kind=target.canonical_kind == NameKind.MODULE,
        kind_assumed=bool(target.kind_assumed),
        paths=all_paths,
        legacy=legacy,
        facades=target.facades,
        doubles=target.test_doubles,
        constructors=constructors,
        legacy_factories=target.legacy_factories,
        factory_module=factory_module,
        factory_exempt=target.factory_exempt,
        stem=stem_of(target.canonical) if target.canonical_kind == NameKind.SYMBOL else "",
        names=frozenset(names),
        overlap=overlap,
    )

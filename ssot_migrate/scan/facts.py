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
from collections.abc import Sequence
from typing import Any

import libcst as cst

from ssot_migrate.conventions import (
    PatchTarget,
    construction_expected,
    is_test_path,
)
from ssot_migrate.model import CodemodResult, Note, NoteKind, SourceFile
from ssot_migrate.pysyntax import ast_dotted_name, words
from ssot_migrate.scan.filefacts import (
    CallFacts,
    FileFacts,
    forwarded_attributes,
    parse_for_scan,
)
from ssot_migrate.scan.spec import DOUBLE_WORDS, TargetSpec, matches, name_words, word_runs


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
        spelt = words(text)
        # A name spelt as a whole word is spelt: a substring test of each of a thousand
        # targets' names only for a file that spells none of them so.
        referenced = not spelt.isdisjoint(self._reference_needles) or any(
            n in text for n in self._reference_needles
        )
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
        facts = FileFacts(tree, file)
        reached = self._reached(spelt, file, facts)
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

    def _reached(self, spelt: set[str], file: SourceFile, facts: FileFacts) -> set[int]:
        """Targets whose object ``file`` can reach at all (the others' analysis finds nothing).

        A name resolves to a path only through an import, attribute or string that spells the
        path's last segment as an identifier, so a file spelling none of a target's names cannot
        use it. Not so for a module target or a target whose kind was assumed (a relative import
        inside the package reaches it unnamed: always analysed), a star import from an alias's
        module, or the factory's module (its own definitions, or a relative import inside it,
        reach the factory unnamed): those count as reached by the module's name or location.
        """
        found = set(self._always)
        for word in spelt & self._by_name.keys():
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
            for key in ({node.name} | word_runs(node.name)) & self._by_class.keys():
                for index in self._by_class[key]:
                    found.setdefault(index, set()).add(node.name)
        return found


def _analyse(
    tree: ast.Module,
    file: SourceFile,
    facts: FileFacts,
    spec: TargetSpec,
    referenced: bool,
    only: set[str] | None = None,
) -> list[Note]:
    """``spec``'s notes on one file; ``only``: the classes worth checking (None: all)."""
    notes: list[Note] = []
    path = file.path

    def note(kind: NoteKind, node: ast.AST, message: str) -> None:
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
        called = {*spec.legacy_factories, *spec.constructors}
        for node in facts.nodes_for(tree, called):
            if isinstance(node, ast.Attribute) and id(node) not in inner:
                hit = _chain_use(node, facts, spec)
                if hit is not None:
                    note("path-use", node, hit)
                    value = node.value
                    while isinstance(value, ast.Attribute):
                        inner.add(id(value))
                        value = value.value
            elif isinstance(node, ast.Call):
                call = facts.call(node)
                _call_notes(node, call, facts, spec, file, note)
                if call.type_strings:
                    values = [*node.args, *(k.value for k in node.keywords)]
                    for arg in call.type_strings:
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


def _string_annotation_uses(annotation: ast.expr, facts: FileFacts, spec: TargetSpec) -> list[str]:
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


def _chain_use(node: ast.Attribute, facts: FileFacts, spec: TargetSpec) -> str | None:
    """The path an attribute chain reaches (``pkg.mod.Name`` after ``import pkg.mod``, or
    ``mod.Name`` after ``from pkg import mod``), unless its head alone is one (counted at import).
    """
    name = ast_dotted_name(node)
    if name is None:
        return None
    head = facts.head_value(name)
    if head is None or matches(head, spec.paths, spec.prefix) is not None:
        return None
    resolved = facts.resolve(node)
    return matches(resolved, spec.paths, spec.prefix) if resolved else None


def _call_notes(
    node: ast.Call, call: CallFacts, facts: FileFacts, spec: TargetSpec, file: SourceFile, note: Any
) -> None:
    if call.patcher is not None:
        _patch_note(node, call.patched, facts, spec, note)
        return
    resolved = call.resolved
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


def _patch_note(
    node: ast.Call,
    patched: Sequence[PatchTarget],
    facts: FileFacts,
    spec: TargetSpec,
    note: Any,
) -> None:
    """A ``patch-target`` note per dotted path a patch call names (an object's: resolved)."""
    values = [*node.args, *(k.value for k in node.keywords)]
    for target in patched:
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
    facts: FileFacts,
    spec: TargetSpec,
    only: set[str] | None = None,
) -> list[Note]:
    """Classes that may compete with, wrap or stand in for the canonical (roles as JSON)."""
    if spec.module_kind:
        return []
    found: list[Note] = []
    test = is_test_path(file.path)
    stem = "".join(name_words(spec.stem))
    for info in facts.classes_for({*spec.facades, *spec.legacy, *spec.doubles}, stem):
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


def _forwarding_attribute(node: ast.ClassDef, facts: FileFacts, spec: TargetSpec) -> str | None:
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
    return next((attr for attr in forwarded_attributes(node) if attr in held), None)


def _add_self_attrs(targets: Sequence[ast.expr], held: set[str]) -> None:
    for target in targets:
        if (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
        ):
            held.add(target.attr)


def _annotation_hits(annotation: ast.expr, facts: FileFacts, spec: TargetSpec) -> bool:
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

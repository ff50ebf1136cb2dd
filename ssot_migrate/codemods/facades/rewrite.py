"""One facade rewritten as its plan says, with exactly one outcome line."""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst
from libcst.metadata import PositionProvider

from ssot_migrate.codemods.facades.alias import _to_alias
from ssot_migrate.codemods.facades.delegation import _Delegation, delegation_outcome
from ssot_migrate.codemods.facades.plan import FacadePlan, _outcome, _plural
from ssot_migrate.codemods.facades.state import _method_index
from ssot_migrate.model import Change, Note, NoteKind, SourceFile
from ssot_migrate.pysyntax import class_index

# --------------------------------------------------------------------------- the pure rewrite


OUTCOME_KINDS = ("facade-aliased", "facade-delegated", "facade-left-alone")


def _rewrite_facade(
    module: cst.Module,
    plan: FacadePlan,
    file: SourceFile,
    changes: list[Change],
    notes: list[Note],
) -> cst.Module:
    """Rewrite one facade; ``notes`` gets exactly one outcome line for it (``OUTCOME_KINDS``)."""
    index = class_index(module, plan.class_name)
    if index is None:
        return module  # planned from this very file: only a different source lacks the class
    positions = cst.MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    position = positions.get(module.body[index])
    line = position.start.line if position is not None else 0
    lines = {
        id(node): p.start.line for node, p in positions.items() if isinstance(node, cst.FunctionDef)
    }
    cls = module.body[index]
    assert isinstance(cls, cst.ClassDef)

    def method_line(name: str) -> int:
        statements = cls.body.body if isinstance(cls.body, cst.IndentedBlock) else ()
        at = _method_index(statements, name)
        return lines.get(id(statements[at]), line) if at is not None else line

    def note(kind: NoteKind, message: str, at: int = line) -> None:
        notes.append(Note(file.path, at, 1, plan.target, kind, message, "needs-decision"))

    if plan.mode == "skip":
        _logic_notes(plan, method_line, note)
        notes.append(
            _outcome(file, line, plan, "facade-left-alone", f"left as it is: {plan.reason}")
        )
        return module
    if plan.mode == "alias":
        new_module, refused = _to_alias(module, index, plan, file, changes, notes, line)
        if refused is not None:
            _logic_notes(plan, method_line, note)
            notes.append(
                _outcome(file, line, plan, "facade-left-alone", f"left as it is: {refused}")
            )
            return module
        for method in plan.methods:
            if method.logic:
                notes.append(
                    Note(
                        file.path,
                        method_line(method.name),
                        1,
                        plan.target,
                        "facade-logic-replaced",
                        f"{plan.class_name}.{method.name}(): {', '.join(method.logic)}; replaced by "
                        f"the canonical's {method.name}() (replace-facade-logic)",
                        "warning",
                    )
                )
        count = len(plan.methods)
        replaced = [f"{m.name}()" for m in plan.methods if m.logic]
        how = (
            f" ({plan.reason}: the same statements, every name meaning the same)"
            if plan.reason
            else f"; the logic of its own in {', '.join(replaced)} is replaced by the canonical's "
            "(replace-facade-logic, listed)"
            if replaced
            else f" ({_plural(count, 'method')}, each a pure forward)"
            if count
            else " (no methods of its own)"
        )
        notes.append(
            _outcome(
                file, line, plan, "facade-aliased", f"aliased to {plan.canonical}{how}", "note"
            )
        )
        return new_module
    delegation = _Delegation(module, index, plan, file, changes, note, line, lines)
    new_module = delegation.run()
    notes.extend(delegation.notes_extra)
    notes.append(delegation_outcome(delegation, file))
    return new_module


def _logic_notes(
    plan: FacadePlan, method_line: Callable[[str], int], note: Callable[..., None]
) -> None:
    """A ``facade-logic`` note at every method whose body does more than forward."""
    for method in plan.methods:
        if method.logic and not plan.replace_logic:
            note(
                "facade-logic",
                f"{plan.class_name}.{method.name}() has logic of its own: "
                f"{', '.join(method.logic)} (kept as it is)",
                method_line(method.name),
            )

"""How the canonical is spelled at a reference: through an import the file has, or one added."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst
from libcst.metadata import Scope

from ssot_migrate.codemods.imports.edits import ImportEdits
from ssot_migrate.codemods.imports.records import Spec
from ssot_migrate.codemods.imports.state import FileState
from ssot_migrate.pysyntax import Binding, free_name, relative_spelling


class Spelling:
    """The expression naming the canonical at a site, and the import it needs."""

    def __init__(self, state: FileState, import_edits: ImportEdits) -> None:
        self.state = state
        self.import_edits = import_edits

    def expression_for(
        self,
        binding: Binding,
        canonical: str,
        need: str,
        scope: Scope | None,
        *,
        either: bool = False,
    ) -> str | None:
        """How to spell ``canonical`` at this site, adding an import beside ``binding``.

        ``either``: the canonical may be a module or a symbol (its kind was only assumed), so
        only a spelling right for both is written: ``from parent import Leaf``, or an import
        the file already has that reaches it.
        """
        # An existing import that already reaches it; it must then stay, even when it is the
        # very import being rewritten (``import logging``: ``logging.warn`` -> ``logging.warning``).
        for other in self.state.all_bindings:
            if other.plain and (other.loaded == need or other.loaded.startswith(need + ".")):
                if self._visible(other, scope) and canonical.startswith(other.local):
                    self.state.reused.add(id(other.alias))
                    return canonical
            elif not other.plain and other.qname == need and canonical.startswith(need):
                if self._visible(other, scope):
                    self.state.reused.add(id(other.alias))
                    return other.local + canonical[len(need) :]
            elif (
                not other.plain
                and other.qname == canonical
                and other.is_from
                and self._visible(other, scope)
            ):
                self.state.reused.add(id(other.alias))
                return other.local
            elif (
                either and not other.plain and (moved := self._moved_local(other, canonical, scope))
            ):
                self.state.reused.add(id(other.alias))
                return moved + canonical[len(need) :]
        if not canonical.startswith(need) and not (
            binding.plain and need.startswith(canonical + ".")
        ):
            return None
        spec: Spec
        if binding.plain and not either:
            root = need.split(".")[0]
            if root != binding.local and self._name_taken(root, "import " + need):
                return None
            spec = Spec(False, need)
            self.import_edits.add_spec(binding, spec)
            return canonical
        last = need.rpartition(".")[2]
        local = self._choose(last, need, binding)
        parent = need.rpartition(".")[0]
        if (binding.is_from or either) and parent:
            name = need.rpartition(".")[2]
            level = (
                len(binding.statement.relative)
                if isinstance(binding.statement, cst.ImportFrom)
                else 0
            )
            rel = relative_spelling(parent, level, self.state.package)
            if rel is None:
                level = 0
            spec = Spec(True, parent, name, local, level, rel if rel is not None else parent)
        else:
            spec = Spec(False, need, local=local)
        self.import_edits.add_spec(binding, spec)
        return local + canonical[len(need) :]

    def _moved_local(self, other: Binding, canonical: str, scope: Scope | None) -> str | None:
        """The name ``other`` binds once this rewrite moves it onto ``canonical`` (its own, or
        the canonical's when the move renames it), when it is visible at the site: that name
        then already means the canonical, and a second identical import would repeat it."""
        move = self.state.moves.get(id(other.alias))
        if (
            move is None
            or move.builtin
            or move.mapped.new != canonical
            or not self._visible(other, scope)
        ):
            return None
        return move.local

    def _visible(self, other: Binding, scope: Scope | None) -> bool:
        if scope is None and self.state.fast is None:
            return False
        found = self.state.resolve_root(scope, other.local)
        return (
            found is not None
            and all(b.qname == other.qname for b in found)
            and any(b is other or b.loaded == other.loaded for b in found)
        )

    def _name_taken(self, name: str, meaning: str) -> bool:
        for bound in self.state.census.get(name, []):
            if bound is None:
                return True
            if meaning.startswith("import ") and bound.plain:
                continue
            if bound.qname != meaning:
                return True
        return False

    def _choose(self, base: str, qname: str, binding: Binding) -> str:
        taken = {n for n in self.state.census if self._name_taken(n, qname)}
        return free_name(base, taken)


def users(bound: list[Binding], parts: Sequence[cst.Name]) -> list[Binding]:
    """Which of the plain imports sharing a root a remaining chain actually needs."""
    chain = ".".join(p.value for p in parts)
    plain = [b for b in bound if b.plain]
    if len(plain) != len(bound) or len(bound) == 1:
        return bound
    best = [b for b in bound if chain == b.loaded or chain.startswith(b.loaded + ".")]
    if not best:
        return bound
    longest = max(len(b.loaded) for b in best)
    return [b for b in best if len(b.loaded) == longest]

"""``init``'s factory candidates: the one factory of a class, its legacy factories, the others.

A module-level function whose every return builds one class is a factory; the direct
constructions of the class elsewhere are the sites phase 3 would route through it. A deprecated
factory, or one that calls the chosen factory, is a legacy factory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from ssot_migrate.init_facts import FileFacts, FunctionFacts, test_support
from ssot_migrate.init_index import Analysis, Site, examples, plural
from ssot_migrate.init_proposal import Candidate, Confidence, Evidence
from ssot_migrate.scan.spec import stem_of

FACTORY_PREFIXES = ("create_", "make_", "build_", "new_", "get_")


class FactoryCandidates(Analysis):
    """Factories, found over the shared :class:`Analysis` state."""

    # -- factories -----------------------------------------------------------------------------

    def factories(self, redirect: Mapping[str, str]) -> None:
        index = self.index
        by_class: dict[str, list[tuple[str, FileFacts, FunctionFacts]]] = defaultdict(list)
        calls_factory: list[tuple[str, FileFacts, FunctionFacts, str]] = []
        for dotted, (facts, function) in index.functions.items():
            if test_support(facts.path) or function.name.startswith("_"):
                continue
            products = {index.resolve(p) for p in function.products}
            if len(products) != 1:
                continue
            product = products.pop()
            if product in index.classes:
                by_class[redirect.get(product, product)].append((dotted, facts, function))
            elif product in index.functions:
                calls_factory.append((dotted, facts, function, product))
        legacy_of: dict[str, list[tuple[str, FileFacts, FunctionFacts, str]]] = defaultdict(list)
        for dotted, facts, function, product in calls_factory:
            legacy_of[product].append(
                (dotted, facts, function, f"calls {product.rpartition('.')[2]}")
            )
        for cls_name, factories in sorted(by_class.items()):
            live = [f for f in factories if not f[2].deprecated]
            if not live:
                continue
            dotted, facts, function = max(live, key=lambda f: self._factory_score(f, cls_name))
            legacy = list(legacy_of.get(dotted, ()))
            others: list[tuple[str, FileFacts, FunctionFacts]] = []
            for entry in factories:
                other, other_facts, other_function = entry
                if other == dotted:
                    continue
                if other_function.deprecated:
                    legacy.append((other, other_facts, other_function, "deprecated factory"))
                elif dotted in other_function.calls:
                    legacy.append((other, other_facts, other_function, f"calls {function.name}"))
                else:
                    others.append(entry)
            built = [s for s in self.constructions().get(cls_name, ()) if s.path != facts.path]
            importers = index.consumers(dotted, facts.path)
            confidence = self._factory_confidence(
                function.name, cls_name, importers, built, bool(legacy)
            )
            why = (
                f"every return builds {cls_name.rpartition('.')[2]}; "
                f"{plural(len(built), 'direct construction')} elsewhere, "
                f"{plural(len(importers), 'importer')} of the factory"
            )
            shape = index.classes[cls_name][1].init_shape
            if shape is not None and shape != function.shape:
                # Phase 3 could not hand the constructions' arguments to it unchanged.
                confidence = "low"
                why += f"; takes ({function.shape}), the constructor takes ({shape})"
            self.candidates.append(
                Candidate(
                    "factory",
                    dotted,
                    cls_name,
                    confidence,
                    len(built),
                    why,
                    (
                        Evidence(facts.path, function.line, why),
                        *examples(built, f"builds {cls_name.rpartition('.')[2]} directly"),
                    ),
                )
            )
            for other, other_facts, other_function, why in legacy:
                users = index.consumers(other, other_facts.path)
                self.candidates.append(
                    Candidate(
                        "legacy-factory",
                        other,
                        cls_name,
                        "high" if confidence != "low" else "low",
                        len(users),
                        f"{why}; {plural(len(users), 'importer')}",
                        (
                            Evidence(other_facts.path, other_function.line, why),
                            *examples(users, f"imports {other}"),
                        ),
                    )
                )
            for other, other_facts, other_function in others:
                users = index.consumers(other, other_facts.path)
                why = f"another factory of {cls_name.rpartition('.')[2]}"
                self.candidates.append(
                    Candidate(
                        "other-factory",
                        other,
                        cls_name,
                        "low",
                        len(users),
                        f"{why}; {plural(len(users), 'importer')}",
                        (Evidence(other_facts.path, other_function.line, why),),
                    )
                )
        for dotted, (facts, cls) in index.classes.items():
            if test_support(facts.path):
                continue
            for method, product in cls.factories:
                if index.resolve(product) != dotted:
                    continue
                why = (
                    f"class method building {cls.name}: phase 3 needs a module-level "
                    "function as the factory"
                )
                self.candidates.append(
                    Candidate(
                        "alternative-constructor",
                        f"{dotted}.{method}",
                        redirect.get(dotted, dotted),
                        "low",
                        0,
                        why,
                        (Evidence(facts.path, cls.line, why),),
                    )
                )

    @staticmethod
    def _names_class(function: str, cls_name: str) -> bool:
        """``create_websocket_manager`` names ``UnifiedWebSocketManager`` (prefix + its stem)."""
        prefix = next((p for p in FACTORY_PREFIXES if function.startswith(p)), None)
        if prefix is None:
            return False
        rest = function[len(prefix) :].replace("_", "")
        leaf = cls_name.rpartition(".")[2]
        return rest in (leaf.lower(), stem_of(leaf).lower())

    def _factory_confidence(
        self,
        function: str,
        cls_name: str,
        importers: Sequence[Site],
        built: Sequence[Site],
        legacy: bool,
    ) -> Confidence:
        """High: named for the class and a legacy factory leads to it. Medium: named for it and
        used, not dwarfed by direct construction (``Context(...)`` 288 times next to two
        ``make_context`` importers means the class is meant to be built directly)."""
        if not built or not self._names_class(function, cls_name):
            return "low"
        if legacy:
            return "high"
        if importers and len(built) <= 5 * len(importers):
            return "medium"
        return "low"

    @classmethod
    def _factory_score(
        cls, factory: tuple[str, FileFacts, FunctionFacts], cls_name: str
    ) -> tuple[int, int, str]:
        dotted, _, function = factory
        name = function.name
        score = 4 * int(cls._names_class(name, cls_name)) + 2 * int(name.startswith("create_"))
        score += int(name.startswith(FACTORY_PREFIXES))
        return (score, -len(function.calls), dotted)

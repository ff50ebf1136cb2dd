"""What ``init`` proposes: the fragmentation of a codebase, as ``[tool.ssot-migrate]`` targets.

Pure analysis over the per-file facts of ``init_facts`` (nothing imported, run, or written; files
are read only through a snapshot view, for the few class bodies and interfaces compared). Each
finding is a :class:`Candidate` with its evidence (``path:line``), a confidence and the number of
consumer sites it would fix; candidates sharing a canonical form one :class:`ProposedTarget`::

    app/compat.py:   from app.core.unified import Manager as WebSocketManager   (shim, 4 importers)
    app/legacy.py:   class LegacyManager: self._impl = Manager(); def send(...): self._impl.send(...)
    app/factory.py:  def create_manager(ctx): return Manager(ctx)    (Manager(...) built 6 times elsewhere)
    tests/fakes.py:  class FakeManager: add_connection, send ...    (mirrors Manager's methods)

    -> target "manager": canonical app.core.unified.Manager, aliases [app.compat.WebSocketManager],
       facades [app.legacy.LegacyManager], factory app.factory.create_manager,
       test-doubles [tests.fakes.FakeManager]; 4 + 1 + 6 + 1 sites

Which kinds exist, and why their rules are as strict as they are:

- ``reexport``: a shim module (only imports, ``__all__``, fallbacks, deprecation warnings) re-exports
  an object other modules import through it. A package ``__init__`` re-exporting its own
  submodules is the package's public API, not a shim, and is never proposed.
- ``alias``: ``Old = New`` or ``from x import New as Old`` that other modules import.
- ``facade``: a class forwarding same-named calls to one held class, or a subclass whose only
  member is an ``__init__`` handing its parameters to ``super()`` (or a deprecation).
- ``duplicate``: classes with the same public methods (Jaccard >= 50%, as ``scan``) *and*
  overlapping method bodies, outside test code, not related by inheritance and not siblings that
  merely share a base (the overlap is then the base's interface, not a copy).
- ``factory`` / ``legacy-factory``: a module-level function whose every return builds one class;
  the direct constructions of the class elsewhere are the sites phase 3 would route through it. A
  deprecated factory, or one that calls the canonical factory, is a legacy factory.
- ``test-double``: a ``Mock*``/``Fake*``/``Stub*``/``Dummy*`` class in test code whose public methods
  mirror the canonical's.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence

from ssot_migrate.conventions import DOUBLE_PREFIXES, collected_by_pytest
from ssot_migrate.init_classes import ClassCandidates
from ssot_migrate.init_factories import FactoryCandidates
from ssot_migrate.init_facts import FileFacts, test_support
from ssot_migrate.init_index import examples, plural
from ssot_migrate.init_proposal import (
    CONFIDENCE_ORDER,
    Candidate,
    Confidence,
    Evidence,
    ProposedTarget,
    TestCommand,
)
from ssot_migrate.interfaces import SnapshotLike
from ssot_migrate.scan.spec import stem_of


class _Analysis(ClassCandidates, FactoryCandidates):
    """Every kind of candidate: re-exports and test doubles here, the others in their modules."""

    # -- re-exports and aliases ----------------------------------------------------------------

    def reexports(self) -> None:
        index = self.index
        for facts in index.files:
            if facts.error or facts.module is None or test_support(facts.path):
                continue
            seen: dict[str, int] = defaultdict(int)
            for binding in facts.bindings:
                seen[binding.name] += 1
            done: set[str] = set()
            for binding in facts.bindings:
                name = binding.name
                if name in done or binding.how == "typing" or name.startswith("_"):
                    continue
                done.add(name)
                found = self._reexport(
                    facts,
                    binding.name,
                    binding.value,
                    binding.how,
                    binding.line,
                    fallback=seen[name] > 1,
                )
                if found is not None:
                    self.candidates.append(found)
            if facts.shim and facts.stars:
                # ``from new.place import *``: the names consumers import through the shim.
                for name in sorted(self.index.imported_names(facts.module) - done):
                    if name.startswith("_") or name in facts.defined:
                        continue
                    star = next(
                        (
                            (f"{s}.{name}", line)
                            for s, line in facts.stars
                            if index.resolve(f"{s}.{name}") is not None
                        ),
                        None,
                    )
                    if star is None:
                        continue
                    found = self._reexport(facts, name, star[0], "import", star[1], fallback=False)
                    if found is not None:
                        self.candidates.append(found)

    def _reexport(
        self, facts: FileFacts, name: str, value: str, how: str, line: int, *, fallback: bool
    ) -> Candidate | None:
        """A re-export or alias binding worth consolidating, or None (see the module docstring)."""
        index = self.index
        module = facts.module or ""
        path = f"{module}.{name}"
        if name in facts.module_aliases:
            return None  # ``import x as y``: a module, not a symbol
        canonical = index.resolve(value)
        if canonical is None or canonical == path or canonical in index.by_module:
            return None  # unknown, itself, or a module (not a symbol to consolidate)
        leaf = canonical.rpartition(".")[2]
        external = not index.in_repo(canonical)
        if leaf.startswith("_"):
            return None  # the alias is the public name of a private implementation
        if not external:
            owner = index.defined.get(canonical)
            if owner is None or leaf not in owner.callables:
                return None  # a constant or an instance: a value, not a component
        if how == "import" and canonical.startswith(f"{module}."):
            return None
        consumers = index.consumers(path, facts.path)
        direct = index.consumers(canonical, facts.path)
        listed = facts.dunder_all is not None and name in facts.dunder_all
        written = value.rpartition(".")[2]
        own_package = facts.is_package and value.startswith(f"{module}.")
        confidence: Confidence
        if facts.shim and how in ("import", "assign"):
            if own_package or not consumers:
                return None  # a package's own API / nobody goes through it
            kind, why = "reexport", "compat module: only re-exports, defines nothing"
            if facts.is_package:
                # A package __init__ re-exporting from elsewhere is usually convenience API.
                confidence = "medium" if facts.deprecated else "low"
                why = "package re-exports it from outside the package"
            else:
                confidence = "medium" if fallback else "high"
            if facts.deprecated:
                why += " (deprecated)"
        elif how == "assign" and written != name and not fallback:
            if not consumers and not listed:
                return None
            kind, why = "alias", f"alias assignment {name} = {written}"
            confidence = "medium" if consumers else "low"
        elif how == "import" and written != name and not fallback and not own_package:
            if not consumers:
                return None
            kind, why = "alias", f"re-exported under another name ({written} as {name})"
            confidence = "medium"
        else:
            return None
        if kind == "alias" and (len(consumers) > len(direct) or len(name) <= 2):
            # ``Eq = Equality``: the short name is the spelling the project prefers.
            confidence = "low"
            why += f"; more importers use it than the canonical name ({len(direct)})"
        if external:
            why += "; canonical outside the repository"
            if not leaf[:1].isupper() and kind != "reexport":
                confidence = "low"  # ``dbapi2 as Database``: a module or a backend switch
        evidence = (Evidence(facts.path, line, why), *examples(consumers, f"imports {path}"))
        return Candidate(
            kind,
            path,
            canonical,
            confidence,
            len(consumers),
            f"{why}; {plural(len(consumers), 'importer')}",
            evidence,
        )

    # -- test doubles --------------------------------------------------------------------------

    def doubles(self, canonicals: set[str], redirect: Mapping[str, str]) -> None:
        index = self.index
        by_name: dict[str, list[str]] = defaultdict(list)
        for dotted, (facts, cls) in index.classes.items():
            if not test_support(facts.path):
                by_name[cls.name].append(dotted)
                stem = stem_of(dotted)
                if stem != cls.name:
                    by_name[stem].append(dotted)
        for dotted, (facts, cls) in index.classes.items():
            if not test_support(facts.path) or not cls.name.startswith(DOUBLE_PREFIXES):
                continue
            mirrored = next(cls.name[len(p) :] for p in DOUBLE_PREFIXES if cls.name.startswith(p))
            best: tuple[int, int, str] | None = None
            for option in by_name.get(mirrored, ()):
                target = redirect.get(option, option)
                theirs = index.classes[target][1].public_methods
                common = len(cls.public_methods & theirs)
                if common < 2 or common < 0.5 * len(theirs):
                    continue
                key = (common, int(target in canonicals), target)
                if best is None or key > best:
                    best = key
            if best is None:
                continue
            common, _, target = best
            theirs = index.classes[target][1].public_methods
            users = index.consumers(dotted, facts.path)
            why = (
                f"test double mirroring {common} of {len(theirs)} public methods of "
                f"{target.rpartition('.')[2]}"
            )
            self.candidates.append(
                Candidate(
                    "test-double",
                    dotted,
                    target,
                    "high" if common == len(theirs) else "medium",
                    len(users),
                    why,
                    (Evidence(facts.path, cls.line, why), *examples(users, f"imports {dotted}")),
                )
            )


def analyse(
    files: Sequence[FileFacts],
    snapshot: SnapshotLike | None = None,
    *,
    test_command: TestCommand | None = None,
) -> tuple[ProposedTarget, ...]:
    """Find every candidate in ``files`` and group them into ranked targets.

    ``snapshot`` is read only to compare the bodies of suspected duplicates and the interfaces of
    facades (whether the canonical accepts every call, so the facade can be an alias too).
    """
    analysis = _Analysis(files, snapshot)
    analysis.reexports()
    analysis.facades()
    analysis.duplicates()
    # A factory or test double of a facade or copy belongs to the canonical that facade leads to.
    redirect = {
        c.dotted: c.canonical
        for c in analysis.candidates
        if c.kind in ("facade", "subclass-facade", "duplicate")
    }
    for key in list(redirect):
        seen = {key}
        while redirect[key] in redirect and redirect[key] not in seen:
            seen.add(redirect[key])
            redirect[key] = redirect[redirect[key]]
    analysis.candidates = [_redirected(c, redirect) for c in analysis.candidates]
    analysis.factories(redirect)
    canonicals = {c.canonical for c in analysis.candidates}
    analysis.doubles(canonicals, redirect)
    return _group(analysis)


def snake(name: str) -> str:
    """``WebSocketManager`` -> ``web_socket_manager`` (acronyms kept together)."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return text.lower()


def _redirected(candidate: Candidate, redirect: Mapping[str, str]) -> Candidate:
    target = redirect.get(candidate.canonical)
    if target is None or target == candidate.dotted:
        return candidate
    return Candidate(
        candidate.kind,
        candidate.dotted,
        target,
        candidate.confidence,
        candidate.sites,
        candidate.reason,
        candidate.evidence,
        candidate.also_alias,
    )


def _group(analysis: _Analysis) -> tuple[ProposedTarget, ...]:
    index = analysis.index
    grouped: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in analysis.candidates:
        grouped[candidate.canonical].append(candidate)
    targets: list[ProposedTarget] = []
    names: set[str] = set()
    claimed: set[str] = set()
    for canonical, members in sorted(grouped.items(), key=lambda item: _rank(item[1])):
        members = [m for m in members if m.dotted != canonical]
        unique: list[Candidate] = []
        for member in sorted(
            members, key=lambda c: (CONFIDENCE_ORDER[c.confidence], -c.sites, c.dotted)
        ):
            # One path, one role, one target: config validation refuses an alias claimed twice.
            key = f"{member.role}:{member.dotted}"
            if key in claimed:
                continue
            claimed.add(key)
            unique.append(member)
        if not unique:
            continue
        definition = None
        if canonical in index.defined:
            facts = index.defined[canonical]
            leaf = canonical.rpartition(".")[2]
            line = next((c.line for c in facts.classes if c.name == leaf), 0) or next(
                (f.line for f in facts.functions if f.name == leaf), 0
            )
            definition = Evidence(facts.path, line, f"defines {leaf}")
        name = _target_name(canonical, names)
        names.add(name)
        targets.append(
            ProposedTarget(name, canonical, not index.in_repo(canonical), definition, tuple(unique))
        )
    targets.sort(key=lambda t: (-t.sites, CONFIDENCE_ORDER[t.confidence], t.name))
    return tuple(targets)


def _rank(members: Sequence[Candidate]) -> tuple[int, int]:
    best = min(CONFIDENCE_ORDER[c.confidence] for c in members)
    return (best, -sum(c.sites for c in members))


def _target_name(canonical: str, taken: set[str]) -> str:
    parts = canonical.split(".")
    name = snake(parts[-1]).replace("_", "-").strip("-") or "target"
    index = len(parts) - 2
    while name in taken and index >= 0:
        name = f"{parts[index].replace('_', '-')}-{name}"
        index -= 1
    base, counter = name, 2
    while name in taken:
        name, counter = f"{base}-{counter}", counter + 1
    return name


# --- the test command ----------------------------------------------------------------------------

PYTEST = "python -m pytest -q"


def detect_test_command(paths: Iterable[str], read: Callable[[str], bytes]) -> TestCommand:
    """The project's own test command, from its configuration files (read, never run).

    In order: a ``tests/runtests.py`` runner (Django's convention), pytest configuration
    (``[tool.pytest.ini_options]`` in ``pyproject.toml``, ``pytest.ini``, ``[tool:pytest]`` in
    ``setup.cfg``, ``[pytest]`` in ``tox.ini``), a tox or nox session running pytest, a ``Makefile``
    ``test`` target, then test files pytest would collect. ``None`` when nothing says.
    """
    present = set(paths)

    def text(path: str) -> str:
        if path not in present:
            return ""
        try:
            return read(path).decode("utf-8", "replace")
        except (KeyError, OSError):
            return ""

    if "tests/runtests.py" in present:
        return TestCommand(
            "python tests/runtests.py", "tests/runtests.py: the project's own runner"
        )
    if re.search(r"^\[tool\.pytest\.ini_options\]", text("pyproject.toml"), re.MULTILINE):
        return TestCommand(PYTEST, "pyproject.toml has [tool.pytest.ini_options]")
    if "pytest.ini" in present:
        return TestCommand(PYTEST, "pytest.ini")
    if re.search(r"^\[tool:pytest\]", text("setup.cfg"), re.MULTILINE):
        return TestCommand(PYTEST, "setup.cfg has [tool:pytest]")
    tox = text("tox.ini")
    if re.search(r"^\[pytest\]", tox, re.MULTILINE):
        return TestCommand(PYTEST, "tox.ini has [pytest]")
    if re.search(r"^commands\s*=.*\bpytest\b", tox, re.MULTILINE):
        return TestCommand(PYTEST, "tox.ini's test environment runs pytest")
    nox = text("noxfile.py")
    if "pytest" in nox:
        return TestCommand(PYTEST, "noxfile.py runs pytest")
    makefile = text("Makefile")
    if re.search(r"^test\s*:", makefile, re.MULTILINE):
        return TestCommand("make test", "Makefile has a test target")
    tests = [p for p in present if collected_by_pytest(p)]
    if tests or "conftest.py" in present:
        return TestCommand(
            PYTEST,
            f"{plural(len(tests), 'test file')} pytest would collect "
            "(no runner configured: check it)",
        )
    return TestCommand(None, "no test configuration found")

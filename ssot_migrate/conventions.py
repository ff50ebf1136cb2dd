"""What a patch call, a test file and a construction site are: one definition for scan and phases.

``scan`` counts what phase 1 rewrites, so both must agree on which calls patch a dotted path and
which files are tests. Both trees (``ast`` in scan's workers, libcst in the codemods) are turned
into the small neutral values below, and every decision is made here::

    import unittest.mock as um
    um.patch("a.legacy.X")                  # patch_function -> "patch",        a path target
    patch.object(legacy, "X")               # patch_function -> "patch.object", an object target
    patch.multiple(legacy, X=fake)          # an object target per keyword (``X``)
    monkeypatch.setattr("a.legacy.X", v)    # a path target; setattr(obj, "X", v): an object target
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Test code: where test doubles live, where direct construction is usual, where expected-fix
# markers are looked for. pytest's default file patterns plus the usual test folders.
TEST_GLOBS = (
    "tests/*",
    "test/*",
    "*/tests/*",
    "*/test/*",
    "test_*.py",
    "*/test_*.py",
    "*_test.py",
    "*_tests.py",
    "conftest.py",
    "*/conftest.py",
    "testing/*",
    "*/testing/*",
)


def is_test_path(path: str) -> bool:
    """Whether repository-relative ``path`` is test code."""
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in TEST_GLOBS)


# pytest's default ``python_files``: what it collects from a folder it is given (a narrower set
# than test code: helpers and ``conftest.py`` are test code it does not collect).
PYTEST_FILE_GLOBS = ("test_*.py", "*_test.py")


def collected_by_pytest(path: str) -> bool:
    """Whether pytest's default ``python_files`` collects repository-relative ``path``."""
    name = path.rpartition("/")[2]
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in PYTEST_FILE_GLOBS)


# Hand-written test doubles are named ``Mock<Name>``, ``Fake<Name>``...
DOUBLE_PREFIXES = ("Mock", "Fake", "Stub", "Dummy")


def construction_expected(
    path: str, module: str | None, factory_module: str | None, exempt: Sequence[str]
) -> bool:
    """Whether direct construction is expected in this file, so it is no construction *site*.

    The factory's own module builds the canonical by design, and ``factory-exempt`` globs name
    the files where direct construction stays. Anywhere else, a call of the canonical, an alias,
    a facade or a legacy factory is a site: scan counts it, phase 3 rewrites or lists it.
    """
    if module is not None and module == factory_module:
        return True
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in exempt)


# The modules whose ``patch`` is ``unittest.mock.patch`` (the ``mock`` backport included).
MOCK_MODULES = ("unittest.mock", "mock")
_MOCK_PATCHERS = ("patch", "patch.object", "patch.multiple")
# pytest fixtures are parameters, never imports: recognised by their conventional names.
_FIXTURE_PATCHERS = {
    "mocker.patch": "patch",
    "mocker.patch.object": "patch.object",
    "mocker.patch.multiple": "patch.multiple",
    "monkeypatch.setattr": "monkeypatch.setattr",
    "monkeypatch.delattr": "monkeypatch.delattr",
}
PATCH_FUNCTIONS = frozenset({*_MOCK_PATCHERS, "monkeypatch.setattr", "monkeypatch.delattr"})


def patch_function(written: str, bound: Callable[[str], str | None]) -> str | None:
    """Which patcher a call of ``written`` (``um.patch``, ``patch.object``...) is, or ``None``.

    ``bound(name)`` is the dotted name a local name is bound to by an import in the file (``None``
    when no import binds it). Every import spelling of ``unittest.mock``/``mock`` is followed
    (``import unittest.mock as um``, ``from unittest import mock``, ``from mock import patch as
    p``); a name imported from anywhere else is not a patcher, whatever it is called. Unbound,
    ``mock.patch``/``unittest.mock.patch`` as written and the ``mocker``/``monkeypatch``
    fixtures count. Returns one of :data:`PATCH_FUNCTIONS`.
    """
    head, _, rest = written.partition(".")
    binding = bound(head)
    full = written if binding is None else (f"{binding}.{rest}" if rest else binding)
    for module in MOCK_MODULES:
        if full.startswith(module + ".") and full[len(module) + 1 :] in _MOCK_PATCHERS:
            return full[len(module) + 1 :]
    if binding is None:
        return _FIXTURE_PATCHERS.get(written)
    return None


@dataclass(frozen=True)
class CallArg:
    """One argument of a call, as much as the conventions need: its keyword and literal shape.

    ``string`` is the value of a plain string literal; ``dotted`` the name of a ``Name``/
    ``Attribute`` chain (``legacy``, ``pkg.legacy``); ``index`` its position in the call.
    """

    index: int
    keyword: str | None = None
    string: str | None = None
    dotted: str | None = None


@dataclass(frozen=True)
class PatchTarget:
    """What a patch call patches.

    A *path* target is a dotted string (``"pkg.mod.Name"``) in argument ``string_arg``. An
    *object* target is ``owner`` (a dotted expression as written, argument ``owner_arg``) and the
    attribute named by the string in argument ``string_arg``, or, with ``keyword``, by the
    keyword of that argument (``patch.multiple(owner, Name=value)``).
    """

    string_arg: int
    string: str
    owner: str | None = None
    owner_arg: int | None = None
    keyword: bool = False

    @property
    def is_object(self) -> bool:
        """Whether the target is an object and an attribute name, not a dotted string."""
        return self.owner is not None


# ``patch.multiple``'s own keywords: every other keyword names an attribute to patch.
_MULTIPLE_OPTIONS = frozenset({"target", "spec", "create", "spec_set", "autospec", "new_callable"})


def patch_targets(function: str, args: Sequence[CallArg]) -> tuple[PatchTarget, ...]:
    """Every target a call of patcher ``function`` (see :func:`patch_function`) names statically.

    One, except for ``patch.multiple(owner, A=..., B=...)``: one object target per keyword.
    """
    if function == "patch.multiple":
        positional = [a for a in args if a.keyword is None]
        owner = (
            positional[0] if positional else next((a for a in args if a.keyword == "target"), None)
        )
        if owner is not None and owner.string is None and owner.dotted:
            return tuple(
                PatchTarget(a.index, a.keyword, owner.dotted, owner.index, keyword=True)
                for a in args
                if a.keyword is not None and a.keyword not in _MULTIPLE_OPTIONS
            )
    target = patch_target(function, args)
    return () if target is None else (target,)


def patch_target(function: str, args: Sequence[CallArg]) -> PatchTarget | None:
    """The target a call of patcher ``function`` (see :func:`patch_function`) names, if static.

    ``patch("p.m.N")`` and ``patch(target="p.m.N")``, ``patch.multiple("p.m", ...)``,
    ``monkeypatch.setattr("p.m.N", v)`` / ``delattr("p.m.N")`` name a path;
    ``patch.object(owner, "N")`` and ``monkeypatch.setattr(owner, "N", v)`` an object's attribute.
    (``patch.multiple(owner, N=v)``: see :func:`patch_targets`.)
    """
    positional = [a for a in args if a.keyword is None]
    keywords = {a.keyword: a for a in args if a.keyword is not None}
    first = positional[0] if positional else None
    second = positional[1] if len(positional) > 1 else None
    if function in ("patch", "patch.multiple"):
        first = first or keywords.get("target")
        if first is not None and first.string is not None and "." in first.string:
            return PatchTarget(first.index, first.string)
        return None
    if function == "patch.object":
        owner = first or keywords.get("target")
        name = second or keywords.get("attribute")
        if owner is not None and owner.dotted and name is not None and name.string:
            return PatchTarget(name.index, name.string, owner.dotted, owner.index)
        return None
    if function in ("monkeypatch.setattr", "monkeypatch.delattr"):
        if first is None:
            return None
        if first.string is not None:
            return PatchTarget(first.index, first.string) if "." in first.string else None
        if first.dotted and second is not None and second.string:
            return PatchTarget(second.index, second.string, first.dotted, first.index)
    return None


# Calls whose string arguments are type expressions, like annotations: the positions of those
# arguments (``None``: every positional one from the second on) and keywords. Phase 1 rewrites
# the paths spelled in them; scan counts those paths.
TYPE_STRING_ARGUMENTS: dict[str, tuple[tuple[int, ...] | None, tuple[str, ...]]] = {
    "cast": ((0,), ("typ",)),
    "assert_type": ((1,), ()),
    "ForwardRef": ((0,), ("arg",)),
    "TypeVar": (None, ("bound",)),
}


def type_string_arguments(function: str, args: Sequence[CallArg]) -> list[CallArg]:
    """The string arguments of a call of ``function`` (last segment) read as type expressions."""
    spec = TYPE_STRING_ARGUMENTS.get(function)
    if spec is None:
        return []
    positions, keywords = spec
    positional = [a for a in args if a.keyword is None]
    found = [
        arg
        for index, arg in enumerate(positional)
        if arg.string is not None and (index >= 1 if positions is None else index in positions)
    ]
    return found + [a for a in args if a.keyword in keywords and a.string is not None]

"""Static class interfaces: extraction, comparison messages, compatibility, loading by dotted name."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from ssot_migrate.interfaces import (
    ClassInterface,
    classes_in_module,
    compare,
    load_class,
)


def classes(source: str, module: str = "pkg.mod") -> dict[str, ClassInterface]:
    return classes_in_module(cst.parse_module(textwrap.dedent(source)), module)


class MemorySnapshot:
    """The two reads ``load_class`` makes, over a dict of files (module path layout)."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = {path: textwrap.dedent(text).encode() for path, text in files.items()}

    def path_for_module(self, dotted: str) -> str | None:
        base = dotted.replace(".", "/")
        for candidate in (f"{base}.py", f"{base}/__init__.py"):
            if candidate in self.files:
                return candidate
        return None

    def read(self, path: str) -> bytes:
        return self.files[path]


def test_extracts_methods_kinds_attributes_and_signature_shapes() -> None:
    found = classes(
        """
        class M:
            limit = 3
            __slots__ = ("a", "b")
            def __init__(self, user, /, config=None):
                self.user = user
                self._cache, self.peers = {}, []
            def plain(self, a, b=1, *args, c, d=2, **kw): ...
            async def run(self): ...
            @staticmethod
            def make(x): ...
            @classmethod
            def build(cls, y): cls.built = True
            @property
            def size(self): return 0
            @size.setter
            def size(self, v): self.stored = v
            def __len__(self): return 0
            if True:
                def conditional(self): ...
        """
    )["M"]
    plain = found.methods["plain"]
    assert plain.positional == ("a", "b")
    assert plain.required_positional == 1
    assert plain.keyword_only == ("c", "d") and plain.required_keyword_only == ("c",)
    assert plain.varargs and plain.varkw and plain.max_positional is None
    assert found.methods["run"].is_async
    assert found.methods["make"].kind == "staticmethod" and found.methods["make"].positional == (
        "x",
    )
    assert found.methods["build"].kind == "classmethod" and found.methods["build"].positional == (
        "y",
    )
    assert found.methods["size"].kind == "property"
    assert "conditional" in found.methods
    assert found.public_methods == {
        "plain",
        "run",
        "make",
        "build",
        "size",
        "__len__",
        "conditional",
    }
    assert {"limit", "a", "b", "user", "_cache", "peers", "built", "stored"} <= found.attributes
    assert found.constructor is not None and found.constructor.posonly == 1
    assert found.constructor.positional == ("user", "config")


def test_overlap_missing_extra_and_mismatch_messages() -> None:
    found = classes(
        """
        class Mock:
            def add_connection(self, ws): ...
            async def send(self, msg, timeout=10): ...
            def only_here(self): ...
            def shared(self, *, strict): ...
        class Unified:
            def add_connection(self, user, ws): ...
            def send(self, msg, timeout=30): ...
            def shared(self, *, strict=False, extra): ...
            def only_there(self): ...
        """
    )
    result = compare(found["Mock"], found["Unified"])
    assert result.common == ("add_connection", "send", "shared")
    assert result.missing == ("only_there",) and result.extra == ("only_here",)
    assert result.overlap == 60.0
    messages = [m.message for m in result.mismatches]
    assert "add_connection(): takes 1 positional argument but canonical takes 2" in messages
    assert "send(): is async but canonical's is sync" in messages
    assert "send(): default of 'timeout' is 10 but canonical's is 30" in messages
    assert "only_here(): not defined on canonical" in messages
    assert "shared(): canonical requires keyword 'extra' which this does not take" in messages
    assert not result.is_compatible
    assert set(result.incompatible_members()) == {"add_connection", "send", "only_here", "shared"}


@pytest.mark.parametrize(
    ("mine", "theirs", "compatible"),
    [
        ("def f(self, a): ...", "def f(self, a, b=None): ...", True),
        ("def f(self, a): ...", "def f(self, *args, **kwargs): ...", True),
        ("def f(self, a, b=1): ...", "def f(self, a, b): ...", False),
        ("def f(self, a): ...", "def f(self, b): ...", False),
        ("def f(self, a, /): ...", "def f(self, b, /): ...", True),
        ("def f(self, *, k): ...", "def f(self, *, k=0): ...", True),
        ("def f(self, *, k): ...", "def f(self): ...", False),
        ("def f(self, **kw): ...", "def f(self, **options): ...", True),
        ("def f(self, *a): ...", "def f(self, x, y): ...", False),
        ("async def f(self): ...", "async def f(self): ...", True),
        ("def f(self): ...", "async def f(self): ...", False),
        ("@property\n    def f(self): ...", "def f(self): ...", False),
    ],
)
def test_signature_compatibility_table(mine: str, theirs: str, compatible: bool) -> None:
    found = classes(f"class A:\n    {mine}\nclass B:\n    {theirs}\n")
    assert compare(found["A"], found["B"]).is_compatible is compatible


def test_attributes_and_constructor_take_part_in_compatibility() -> None:
    found = classes(
        """
        class Facade:
            def __init__(self, user):
                self.user = user
                self.connections = {}
        class Canonical:
            def __init__(self, user, config=None):
                self.user = user
        class StrictCanonical:
            def __init__(self):
                self.user = None
                self.connections = {}
        """
    )
    missing_attr = compare(found["Facade"], found["Canonical"])
    assert [m.message for m in missing_attr.mismatches] == [
        "attribute 'connections': not defined on canonical"
    ]
    ctor = compare(found["Facade"], found["StrictCanonical"])
    assert [m.message for m in ctor.mismatches] == [
        "__init__(): takes 1 positional argument but canonical takes 0",
        "__init__(): accepts keyword 'user' but canonical does not",
    ]


def test_same_file_bases_are_inherited() -> None:
    found = classes(
        """
        class Base:
            def __init__(self, a): self.a = a
            def inherited(self): ...
        class Child(Base):
            def own(self): ...
        """
    )
    child = found["Child"]
    assert {"inherited", "own"} <= set(child.methods)
    assert child.own_methods == {"own"}
    assert child.constructor is not None and child.constructor.positional == ("a",)
    assert child.bases == ("Base",) and child.unresolved_bases == ()


def test_unreadable_base_is_reported_and_blocks_compatibility() -> None:
    found = classes(
        """
        from external.lib import Remote
        class Facade:
            def ping(self): ...
        class Canonical(Remote):
            pass
        """
    )
    assert found["Canonical"].unresolved_bases == ("external.lib.Remote",)
    assert found["Canonical"].constructor is None
    result = compare(found["Facade"], found["Canonical"])
    assert not result.is_compatible
    assert "could not be read" in result.mismatches[0].message


def test_load_class_follows_reexports_and_cross_module_bases() -> None:
    snapshot = MemorySnapshot(
        {
            "app/__init__.py": "",
            "app/core/__init__.py": "from .unified import Unified as Manager\n",
            "app/core/base.py": "class Base:\n    def close(self): ...\n",
            "app/core/unified.py": """
                from app.core.base import Base
                class Unified(Base):
                    def send(self, m): ...
            """,
            "app/legacy.py": "from app.core import Manager\nLegacy = Manager\n",
        }
    )
    direct = load_class(snapshot, "app.core.unified.Unified")
    assert direct is not None and set(direct.methods) == {"send", "close"}
    assert direct.qualname == "app.core.unified.Unified" and direct.line == 3
    via_init = load_class(snapshot, "app.core.Manager")
    assert via_init is not None and via_init.qualname == "app.core.unified.Unified"
    via_assign = load_class(snapshot, "app.legacy.Legacy")
    assert via_assign is not None and via_assign.name == "Unified"
    assert load_class(snapshot, "app.core.unified.Nope") is None
    assert load_class(snapshot, "urllib.parse.Thing") is None


@pytest.mark.parametrize(
    "spelling",
    [
        "from typing import overload\n",
        "from typing import overload as ov\n",
        "import typing as t\n",
        "import typing_extensions\n",
        "from typing_extensions import overload\n",
    ],
)
def test_overload_stubs_are_skipped_through_any_import_spelling(spelling: str) -> None:
    decorator = {
        "from typing import overload as ov\n": "ov",
        "import typing as t\n": "t.overload",
        "import typing_extensions\n": "typing_extensions.overload",
    }.get(spelling, "overload")
    source = spelling + textwrap.dedent(f"""
        class Cls:
            @{decorator}
            def __init__(self, *, flag: bool = False) -> None: ...
            @{decorator}
            def get(self) -> int: ...
            def __init__(self, x=None, *, flag=False):
                self.x = x
            def get(self, key=None):
                return key
    """)
    found = classes_in_module(cst.parse_module(source), "pkg.mod")["Cls"]
    assert found.constructor is not None
    assert found.constructor.positional == ("x",)
    assert found.methods["get"].positional == ("key",)


def test_a_decorator_merely_named_overload_elsewhere_is_not_a_stub() -> None:
    source = textwrap.dedent("""
        from mylib import overload

        class Cls:
            @overload
            def get(self, key): ...
    """)
    found = classes_in_module(cst.parse_module(source), "pkg.mod")["Cls"]
    assert "get" in found.methods


def test_find_class_and_module_imports_read_each_module_once_and_stay_exact() -> None:
    """The per-module index answers as a walk of the body would: the last definition wins
    (``if``/``try`` branches included), nested classes, one module's index never another's, and
    the imports returned are the caller's to change."""
    import libcst as cst

    from ssot_migrate.interfaces import find_class, module_imports

    source = (
        "from .base import Base as B\nimport os.path\n"
        "class A:\n    x = 1\n"
        "try:\n    class A:\n        class Inner:\n            pass\nexcept ImportError:\n    pass\n"
    )
    modules = [cst.parse_module(source) for _ in range(12)]  # more than the index keeps
    for module in modules * 2:
        found = find_class(module, "A")
        assert found is not None and found is module.body[3].body.body[0]  # type: ignore[attr-defined]
        assert find_class(module, "A.Inner") is found.body.body[0]  # type: ignore[union-attr]
        assert find_class(module, "A.Missing") is None and find_class(module, "B") is None
        imports = module_imports(module, "pkg.mod")
        assert imports == {"B": "pkg.base.Base", "os": "os"}
        imports["B"] = "changed"
    assert module_imports(modules[0], "pkg", is_package=True)["B"] == "pkg.base.Base"
    other = cst.parse_module("class A:\n    pass\n")
    assert find_class(other, "A") is other.body[0]

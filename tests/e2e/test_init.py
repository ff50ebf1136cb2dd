"""``ssot-migrate init``: what it proposes on real repositories, and what it refuses to propose.

Every case is a real git repository in ``tmp_path`` read through the real CLI (or ``propose``, the
function the CLI calls); the end-to-end case then runs ``scan`` and phases 1-3 on what ``init
--write`` wrote, with the repository's own pytest suite verifying each phase.
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from ssot_migrate.demo import create_sample_repo
from ssot_migrate.init_analysis import detect_test_command
from ssot_migrate.init_cli import propose
from tests.helpers.repos import git, make_repo, run_cli

# ---------------------------------------------------------------------------------------------
# A shop whose consolidation is unfinished: a compat module re-exporting ten objects, a wrapper
# facade, a deprecated subclass facade, a copied class and a factory bypassed at call sites.

MODELS = '''\
"""The domain objects: defined here and only here."""


class Money:
    def __init__(self, cents: int) -> None:
        self.cents = cents

    def __add__(self, other: "Money") -> "Money":
        return Money(self.cents + other.cents)


class Item:
    def __init__(self, sku: str, price: Money) -> None:
        self.sku = sku
        self.price = price


class Address:
    def __init__(self, city: str) -> None:
        self.city = city


class Customer:
    def __init__(self, name: str, address: Address) -> None:
        self.name = name
        self.address = address


class Cart:
    def __init__(self) -> None:
        self.items: list[Item] = []

    def put(self, item: Item) -> None:
        self.items.append(item)


class Order:
    def __init__(self, customer: Customer, cart: Cart) -> None:
        self.customer = customer
        self.cart = cart


class Invoice:
    def __init__(self, order: Order) -> None:
        self.order = order


class Discount:
    def __init__(self, percent: int) -> None:
        self.percent = percent


def format_price(money: Money) -> str:
    return f"{money.cents / 100:.2f}"


def parse_sku(text: str) -> str:
    return text.strip().upper()
'''

NAMES = (
    "Money",
    "Item",
    "Address",
    "Customer",
    "Cart",
    "Order",
    "Invoice",
    "Discount",
    "format_price",
    "parse_sku",
)

COMPAT = (
    '"""Old import paths, kept while callers move to shop.core.models."""\n\n'
    "from shop.core.models import (\n"
    + "".join(f"    {name},\n" for name in NAMES)
    + ")\n\n__all__ = [\n"
    + "".join(f'    "{name}",\n' for name in NAMES)
    + "]\n"
)

STORE = """\
from shop.core.models import Item, Money


class Store:
    def __init__(self, name: str) -> None:
        self.name = name
        self._items: list[Item] = []

    def add(self, item: Item) -> None:
        self._items.append(item)

    def total(self) -> Money:
        total = Money(0)
        for item in self._items:
            total = total + item.price
        return total
"""

LEGACY_STORE = '''\
"""The store as it was before shop.core.store: kept for old callers."""

from shop.core.models import Item, Money
from shop.core.store import Store


class LegacyStore:
    def __init__(self, name: str) -> None:
        self._store = Store(name)

    def add(self, item: Item) -> None:
        return self._store.add(item)

    def total(self) -> Money:
        return self._store.total()
'''

PAYMENT = """\
class PaymentGateway:
    def __init__(self, api_key: str) -> None:
        self.api_key = api_key

    def charge(self, cents: int) -> str:
        return f"charged {cents} with {self.api_key}"
"""

OLD_PAYMENT = '''\
import warnings

from shop.core.payment import PaymentGateway


class OldPaymentGateway(PaymentGateway):
    """Deprecated: use PaymentGateway."""

    def __init__(self, api_key: str) -> None:
        warnings.warn("use PaymentGateway", DeprecationWarning, stacklevel=2)
        super().__init__(api_key)
'''

PRICING = """\
from shop.core.models import Discount, Money


class PriceCalculator:
    def __init__(self, tax_percent: int) -> None:
        self.tax_percent = tax_percent

    def with_tax(self, money: Money) -> Money:
        return Money(money.cents + money.cents * self.tax_percent // 100)

    def with_discount(self, money: Money, discount: Discount) -> Money:
        return Money(money.cents - money.cents * discount.percent // 100)

    def rounded(self, money: Money) -> Money:
        return Money(round(money.cents, -1))
"""

SESSION = """\
class Session:
    def __init__(self, user: str) -> None:
        if not user:
            raise ValueError("a session needs a user")
        self.user = user
"""

FACTORY = '''\
from shop.core.session import Session


def create_session(user: str) -> Session:
    """The one way to open a session."""
    return Session(user)
'''

SERVICES = {
    "shop/services/__init__.py": "",
    "shop/services/checkout.py": """\
from shop.compat import Cart, Customer, Item, Money, Order
from shop.core.factory import create_session
from shop.core.pricing import PriceCalculator


def checkout(name, address):
    session = create_session(name)
    cart = Cart()
    cart.put(Item("A1", Money(1000)))
    order = Order(Customer(session.user, address), cart)
    return PriceCalculator(20).with_tax(cart.items[0].price), order
""",
    "shop/services/billing.py": """\
from shop.compat import Invoice, Discount, format_price
from shop.core.pricing import PriceCalculator
from shop.core.session import Session


def bill(order, money):
    Session(order.customer.name)
    price = PriceCalculator(0).with_discount(money, Discount(10))
    return Invoice(order), format_price(price)
""",
    "shop/services/shipping.py": """\
from shop.compat import Address, parse_sku
from shop.core.factory import create_session
from shop.core.session import Session


def ship(city, sku):
    create_session("courier")
    Session("dispatcher")
    return Address(city), parse_sku(sku)
""",
    "shop/services/stores.py": """\
from shop.legacy_store import LegacyStore
from shop.old_payment import OldPaymentGateway
from shop.reports.totals import PriceCalculator


def open_store(name, item):
    store = LegacyStore(name)
    store.add(item)
    return store.total(), OldPaymentGateway("key").charge(5), PriceCalculator(10).rounded(store.total())
""",
}

TESTS = """\
import warnings

from shop.services.billing import bill
from shop.services.checkout import checkout
from shop.services.shipping import ship
from shop.services.stores import open_store
from shop.compat import Address, Item, Money


def test_checkout_and_bill():
    taxed, order = checkout("ann", Address("Oslo"))
    assert taxed.cents == 1200
    invoice, text = bill(order, Money(1000))
    assert invoice.order is order and text == "9.00"


def test_shipping():
    address, sku = ship("Rome", " ab1 ")
    assert address.city == "Rome" and sku == "AB1"


def test_store():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        total, charged, rounded = open_store("main", Item("B2", Money(250)))
    assert total.cents == 250 and charged == "charged 5 with key" and rounded.cents == 250
"""

PYPROJECT = b"""# The shop's own settings: init must keep every byte of them.
[project]
name = "shop"
version = "0.1.0"

[tool.pytest.ini_options]
testpaths = ["tests"]
"""


def shop_files() -> dict[str, str | bytes]:
    return {
        "pyproject.toml": PYPROJECT,
        "shop/__init__.py": "",
        "shop/core/__init__.py": "",
        "shop/core/models.py": MODELS,
        "shop/core/store.py": STORE,
        "shop/core/payment.py": PAYMENT,
        "shop/core/pricing.py": PRICING,
        "shop/core/session.py": SESSION,
        "shop/core/factory.py": FACTORY,
        "shop/compat.py": COMPAT,
        "shop/legacy_store.py": LEGACY_STORE,
        "shop/old_payment.py": OLD_PAYMENT,
        "shop/reports/__init__.py": "",
        "shop/reports/totals.py": PRICING,
        **SERVICES,
        "tests/__init__.py": "",
        "tests/test_shop.py": TESTS,
        ".gitignore": "__pycache__/\n.pytest_cache/\n",
    }


def with_venv_python() -> dict[str, str]:
    """``python`` on PATH is this interpreter (the user's activated virtualenv)."""
    return {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }


def init_json(repo: Path) -> dict[str, Any]:
    result = run_cli("init", "--repo", str(repo), "--format", "json")
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def proposed(data: dict[str, Any], canonical: str) -> dict[str, Any]:
    found = [t for t in data["targets"] if t["canonical"] == canonical and t["proposed"]]
    assert len(found) == 1, [t["canonical"] for t in data["targets"] if t["proposed"]]
    return found[0]


def test_shop_every_kind_of_fragmentation_is_proposed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop", shop_files())
    data = init_json(repo)
    assert data["test_command"]["command"] == "python -m pytest -q"
    for name in NAMES:  # one target per object the compat module re-exports
        target = proposed(data, f"shop.core.models.{name}")
        assert target["config"]["aliases"] == [f"shop.compat.{name}"]
        (candidate,) = target["candidates"]
        assert candidate["kind"] == "reexport" and candidate["confidence"] == "high"
        assert candidate["evidence"][0]["path"] == "shop/compat.py"
        assert candidate["sites"] >= 1
    store = proposed(data, "shop.core.store.Store")
    assert store["config"]["facades"] == ["shop.legacy_store.LegacyStore"]
    assert store["config"]["aliases"] == ["shop.legacy_store.LegacyStore"]  # compatible
    payment = proposed(data, "shop.core.payment.PaymentGateway")
    assert payment["config"]["facades"] == ["shop.old_payment.OldPaymentGateway"]
    assert payment["candidates"][0]["confidence"] == "high"  # deprecated
    pricing = proposed(data, "shop.core.pricing.PriceCalculator")
    assert pricing["config"]["facades"] == ["shop.reports.totals.PriceCalculator"]
    assert pricing["candidates"][0]["kind"] == "duplicate"
    session = proposed(data, "shop.core.session.Session")
    assert session["config"]["factory"] == "shop.core.factory.create_session"
    factory = session["candidates"][0]
    assert factory["sites"] == 2  # billing.py and shipping.py build Session directly
    assert {(e["path"], e["line"]) for e in factory["evidence"][1:]} == {
        ("shop/services/billing.py", 7),
        ("shop/services/shipping.py", 8),
    }
    # Ranked: most consumer sites first.
    sites = [t["sites"] for t in data["targets"] if t["proposed"]]
    assert sites == sorted(sites, reverse=True)
    assert not data["skipped"]


def test_shop_init_write_then_scan_and_every_phase_run_clean(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop", shop_files())
    env = with_venv_python()
    written = run_cli("init", "--repo", str(repo), "--write", env=env)
    assert written.returncode == 0, written.stderr
    assert "does not validate" not in written.stderr
    text = (repo / "pyproject.toml").read_bytes()
    assert text.startswith(PYPROJECT)  # every byte of the user's file kept
    config = tomllib.loads(text.decode())["tool"]["ssot-migrate"]
    assert config["test-command"] == "python -m pytest -q"
    assert len(config["targets"]) == 14
    git(repo, "commit", "-qam", "ssot-migrate init")

    scan = run_cli("scan", "--repo", str(repo), "--format", "json", env=env)
    assert scan.returncode == 0, scan.stderr
    before = json.loads(scan.stdout)["violations"]
    assert before["legacy-import"] >= 10 and before["direct-instantiation"] == 2

    for phase, branch in (
        ("phase1", "ssot/phase1-imports"),
        ("phase2", "ssot/phase2-facades"),
        ("phase3", "ssot/phase3-factories"),
    ):
        result = run_cli(phase, "--repo", str(repo), env=env, timeout=600)
        assert result.returncode == 0, f"{phase}: {result.stderr}"
        message = git(repo, "log", "-1", "--format=%B", branch)
        assert "SSOT-Verified: yes" in message, message
    after = run_cli(
        "scan", "--repo", str(repo), "--base", "ssot/phase3-factories", "--format", "json", env=env
    )
    assert after.returncode == 0, after.stderr
    violations = json.loads(after.stdout)["violations"]
    assert violations["legacy-import"] == 0 and violations["direct-instantiation"] == 0
    assert violations["duplicate-implementation"] == 0, violations
    # The checkout is untouched: still on main with the committed configuration.
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"


def test_write_refuses_an_existing_table_and_merge_appends_only_new_targets(tmp_path: Path) -> None:
    existing = (
        PYPROJECT
        + b'\n[tool.ssot-migrate]\ntest-command = "make check"\n\n'
        + b'[[tool.ssot-migrate.targets]]\nname = "money"\n'
        + b'canonical = "shop.core.models.Money"\naliases = ["shop.compat.Money"]  # mine\n'
    )
    files = shop_files()
    files["pyproject.toml"] = existing.replace(b"\n", b"\r\n")  # CRLF survives too
    repo = make_repo(tmp_path / "shop", files)
    refused = run_cli("init", "--repo", str(repo), "--write")
    assert refused.returncode == 2
    assert "already exists; pass --merge" in refused.stderr
    assert (repo / "pyproject.toml").read_bytes() == files["pyproject.toml"]

    merged = run_cli("init", "--repo", str(repo), "--write", "--merge")
    assert merged.returncode == 0, merged.stderr
    data = (repo / "pyproject.toml").read_bytes()
    assert data.startswith(files["pyproject.toml"]) and b"\n" not in data.replace(b"\r\n", b"")
    table = tomllib.loads(data.decode().replace("\r\n", "\n"))["tool"]["ssot-migrate"]
    assert table["test-command"] == "make check"
    assert table["targets"][0] == {
        "name": "money",
        "canonical": "shop.core.models.Money",
        "aliases": ["shop.compat.Money"],
    }
    canonicals = [t["canonical"] for t in table["targets"]]
    assert canonicals.count("shop.core.models.Money") == 1 and len(canonicals) == 14
    again = run_cli("init", "--repo", str(repo), "--write", "--merge")
    assert again.returncode == 0 and "nothing new to propose" in again.stderr
    assert (repo / "pyproject.toml").read_bytes() == data


def test_demo_sample_proposes_its_hand_written_target(tmp_path: Path) -> None:
    repo = create_sample_repo(tmp_path / "sample")
    hand = tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["ssot-migrate"]
    (expected,) = hand["targets"]
    result = run_cli("init", "--repo", str(repo), "--format", "toml")
    assert result.returncode == 0, result.stderr
    table = tomllib.loads(result.stdout)["tool"]["ssot-migrate"]
    assert table["test-command"] == hand["test-command"]
    (target,) = table["targets"]
    assert target["canonical"] == expected["canonical"]
    assert sorted(target["aliases"]) == sorted(expected["aliases"])
    assert sorted(target["facades"]) == sorted(expected["facades"])
    assert target["test-doubles"] == expected["test-doubles"]
    assert target["factory"] == expected["factory"]
    assert target["legacy-factories"] == expected["legacy-factories"]
    assert "# reexport, high" in result.stdout  # evidence rides along as comments
    assert "manager.py:3" in result.stdout


# ---------------------------------------------------------------------------------------------
# What must not be proposed.

NOT_FRAGMENTATION: dict[str, dict[str, str]] = {
    "package API re-exporting its own submodules": {
        "pkg/__init__.py": "from pkg.impl import Engine\n__all__ = ['Engine']\n",
        "pkg/impl.py": "class Engine:\n    def run(self): ...\n    def stop(self): ...\n",
        "app.py": "from pkg import Engine\nEngine()\n",
    },
    "siblings sharing a base": {
        "shapes.py": (
            "class Shape:\n    def area(self): ...\n    def grow(self, f): ...\n    def name(self): ...\n\n"
            "class Square(Shape):\n    def area(self):\n        return self.side * self.side * 1\n"
            "    def grow(self, f):\n        self.side = self.side * f\n"
            "    def name(self):\n        return type(self).__name__.lower()\n\n"
            "class Cube(Shape):\n    def area(self):\n        return self.side * self.side * 6\n"
            "    def grow(self, f):\n        self.side = self.side * f\n"
            "    def name(self):\n        return type(self).__name__.lower()\n"
        ),
    },
    "classes without methods share nothing": {
        "a.py": "class Config:\n    x = 1\n",
        "b.py": "class Config:\n    x = 1\n",
        "c.py": "from a import Config\nfrom b import Config as Other\n",
    },
    "an exception subclass is a distinct type": {
        "errors.py": "class AppError(Exception):\n    pass\n\nclass NotFound(AppError):\n    pass\n",
        "use.py": "from errors import NotFound\nraise NotFound()\n",
    },
    "a subclass fixing an argument is a specialisation": {
        "base.py": "class Client:\n    def __init__(self, url, retries):\n        self.url = url\n",
        "fast.py": (
            "from base import Client\n\nclass FastClient(Client):\n"
            "    def __init__(self, url):\n        super().__init__(url, 0)\n"
        ),
        "use.py": "from fast import FastClient\nFastClient('x')\n",
    },
    "a subclass repeating an argument is a specialisation": {
        "hom.py": (
            "class Hom:\n    def __init__(self, domain, codomain, mapping):\n        self.d = domain\n\n"
            "class Endo(Hom):\n    def __init__(self, domain, mapping):\n"
            "        super().__init__(domain, domain, mapping)\n"
        ),
        "use.py": "from hom import Endo\nEndo(1, 2)\n",
    },
    "a factory taking other arguments than the constructor": {
        "order.py": (
            "class ProductOrder:\n    def __init__(self, *args):\n        self.args = args\n\n"
            "def build_product_order(arg, gens):\n    return ProductOrder(arg, gens)\n"
        ),
        "a.py": "from order import ProductOrder, build_product_order\nProductOrder(1)\n",
        "b.py": "from order import build_product_order\nbuild_product_order(1, 2)\n",
    },
    "a module that imports to use is no shim": {
        "core.py": "class Thing:\n    pass\n",
        "user.py": "from core import Thing\n\ndef make():\n    return Thing()\n",
        "other.py": "from user import make\nmake()\n",
    },
}


@pytest.mark.parametrize("case", sorted(NOT_FRAGMENTATION))
def test_nothing_is_proposed_for(case: str, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", NOT_FRAGMENTATION[case])
    proposal = propose(repo)
    assert proposal.written_targets() == (), [
        (t.canonical, [(c.kind, c.dotted) for c in t.candidates]) for t in proposal.targets
    ]


def test_a_short_alias_used_more_than_its_class_is_the_preferred_spelling(tmp_path: Path) -> None:
    files = {
        "rel.py": "class Equality:\n    pass\n\nEq = Equality\n",
        **{f"use{i}.py": "from rel import Eq\nEq()\n" for i in range(3)},
    }
    repo = make_repo(tmp_path / "repo", files)
    (target,) = propose(repo).targets
    (candidate,) = target.candidates
    assert (candidate.kind, candidate.dotted, candidate.confidence) == ("alias", "rel.Eq", "low")


def test_alias_and_renamed_reexport_are_proposed(tmp_path: Path) -> None:
    files = {
        "core.py": "class Manager:\n    pass\n",
        "old.py": '"""Deprecated."""\nfrom core import Manager\n\nLegacyManager = Manager\n',
        "compat.py": "from core import Manager as OldManager\n\ndef helper():\n    return 1\n",
        "a.py": "from old import LegacyManager\nfrom compat import OldManager\nfrom core import Manager\n",
        "b.py": "from core import Manager\n",
    }
    repo = make_repo(tmp_path / "repo", files)
    (target,) = propose(repo).written_targets()
    assert target.canonical == "core.Manager"
    assert sorted(target.aliases) == ["compat.OldManager", "old.LegacyManager"]


def test_a_star_shim_proposes_what_consumers_import_through_it(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/new.py": "class Engine:\n    pass\n\ndef start():\n    pass\n\nclass Unused:\n    pass\n",
        "pkg/old.py": '"""Moved to pkg.new."""\nfrom pkg.new import *  # noqa\n',
        "app.py": "from pkg.old import Engine, start\n",
    }
    repo = make_repo(tmp_path / "repo", files)
    targets = propose(repo).written_targets()
    assert sorted((t.canonical, tuple(t.aliases)) for t in targets) == [
        ("pkg.new.Engine", ("pkg.old.Engine",)),
        ("pkg.new.start", ("pkg.old.start",)),
    ]
    assert targets[0].candidates[0].evidence[0].line == 2


def test_unparsable_files_are_listed_and_the_rest_proceeds(tmp_path: Path) -> None:
    files = dict(shop_files())
    files["shop/broken.py"] = "def broken(:\n    pass\n"
    files["shop/deep.py"] = "x = " + "(" * 300 + ")" * 300 + "\n"
    repo = make_repo(tmp_path / "shop", files)
    result = run_cli("init", "--repo", str(repo), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    skipped = {s["path"]: s for s in data["skipped"]}
    assert set(skipped) == {"shop/broken.py", "shop/deep.py"}
    assert skipped["shop/broken.py"]["line"] == 1
    assert "skipped shop/broken.py:1" in result.stderr
    assert any(t["canonical"] == "shop.core.models.Money" for t in data["targets"])


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": "x = 1\n"})
    assert run_cli("init", "--repo", str(repo), "--format", "yaml").returncode == 2
    merge = run_cli("init", "--repo", str(repo), "--merge")
    assert merge.returncode == 2 and "--merge only applies with --write" in merge.stderr
    (repo / "pyproject.toml").write_text("[tool\n")
    bad = run_cli("init", "--repo", str(repo), "--write")
    assert bad.returncode == 2 and "invalid TOML" in bad.stderr
    assert (repo / "pyproject.toml").read_text() == "[tool\n"


def test_nothing_found_still_prints_a_valid_table(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": "x = 1\n"})
    result = run_cli("init", "--repo", str(repo), "--format", "toml")
    assert result.returncode == 0, result.stderr
    table = tomllib.loads(result.stdout)["tool"]["ssot-migrate"]
    assert "targets" not in table
    assert '# test-command = "python -m pytest -q"' in result.stdout
    # A table without targets would not validate: --write leaves the repository alone.
    written = run_cli("init", "--repo", str(repo), "--write")
    assert written.returncode == 0 and "nothing new to propose" in written.stderr
    assert not (repo / "pyproject.toml").exists()


TEST_COMMANDS = {
    "django runner": (
        {"tests/runtests.py": "", "tox.ini": "[testenv]\ncommands = pytest\n"},
        "python tests/runtests.py",
    ),
    "pyproject pytest": ({"pyproject.toml": "[tool.pytest.ini_options]\n"}, "python -m pytest -q"),
    "pytest.ini": ({"pytest.ini": "[pytest]\n"}, "python -m pytest -q"),
    "setup.cfg": (
        {"setup.cfg": "[metadata]\n[tool:pytest]\naddopts = -q\n"},
        "python -m pytest -q",
    ),
    "tox pytest section": ({"tox.ini": "[pytest]\n"}, "python -m pytest -q"),
    "tox env": ({"tox.ini": "[testenv]\ncommands = pytest {posargs}\n"}, "python -m pytest -q"),
    "nox": ({"noxfile.py": "session.run('pytest')\n"}, "python -m pytest -q"),
    "makefile": ({"Makefile": "build:\n\ttrue\ntest:\n\t./run\n"}, "make test"),
    "test files only": ({"tests/test_a.py": ""}, "python -m pytest -q"),
    "nothing": ({"a.py": "", "setup.cfg": "[metadata]\n"}, None),
}


@pytest.mark.parametrize("case", sorted(TEST_COMMANDS))
def test_test_command_detection(case: str) -> None:
    files, expected = TEST_COMMANDS[case]
    found = detect_test_command(files, lambda path: files[path].encode())
    assert found.command == expected
    assert found.evidence

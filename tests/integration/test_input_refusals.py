"""What people and files type at the desk, read right or refused in one clear line with
nothing written: amounts the CLI must accept, and hostile text the services must refuse."""

from __future__ import annotations

import json

from billing_desk.bootstrap import App
from billing_desk.domain.permissions import Actor


def _customer(app: App, actor: Actor, currency: str = "VND", name: str = "Nguyen Van An") -> int:
    country = {"VND": "VN", "JPY": "JP", "USD": "US"}[currency]
    created = app.customers.create(actor, name=name, email=f"{name.split()[0].lower()}@example.com",
                                   country=country, billing_type="personal", address="1 Le Loi, Ha Noi")
    app.customers.set_currency(actor, created.id, currency)
    return created.id


def test_a_negative_grouped_amount_can_be_typed_as_a_cli_argument(cli, app, staff):
    cid = _customer(app, staff.manager)
    given = cli("credit", "adjust", f"C{cid:08d}", "5,000", "--reason", "goodwill", "--user", "manager")
    assert given.code == 0, given.err
    taken = cli("credit", "adjust", f"C{cid:08d}", "-1,000", "--reason", "x", "--user", "manager", "--json")
    assert taken.code == 0, taken.err
    assert json.loads(taken.out)["balance"]["total"]["minor"] == 4_000
    wide = cli("credit", "adjust", str(cid), "-１，０００", "--reason", "full-width", "--user", "manager", "--json")
    assert wide.code == 0, wide.err
    assert json.loads(wide.out)["balance"]["total"]["minor"] == 3_000

"""Customers through the CLI, as a support agent or a script uses them."""

from __future__ import annotations

import json

import pytest

from billing_desk.bootstrap import App
from billing_desk.domain.errors import Conflict, PermissionDenied, ValidationError


def _create(cli, *extra: str) -> dict:
    r = cli(
        "customer",
        "create",
        "--name",
        "Nguyen Van An",
        "--email",
        "an.nguyen@example.vn",
        "--country",
        "vn",
        "--type",
        "personal",
        "--address",
        "12 Le Loi, Ha Noi",
        "--json",
        "--user",
        "support",
        *extra,
    )
    assert r.code == 0, r.err
    return json.loads(r.out)


def test_create_show_and_set_currency_once(cli) -> None:
    created = _create(cli)
    assert created["account"].startswith("C") and created["country"] == "VN" and created["currency"] is None
    assert {"id", "account", "name", "email", "country", "type", "currency", "balance"} <= set(created)
    r = cli("customer", "set-currency", created["account"], "USD", "--user", "support")
    assert r.code == 2 and "can bill in VND, not USD" in r.err
    assert cli("customer", "set-currency", str(created["id"]), "vnd", "--user", "support").code == 0
    r = cli("customer", "set-currency", str(created["id"]), "VND", "--user", "support")
    assert r.code == 6 and "can never change" in r.err
    shown = json.loads(cli("customer", "show", str(created["id"]), "--json", "--user", "finance").out)
    assert shown["currency"] == "VND"
    assert shown["balance"]["total"] == {"minor": 0, "currency": "VND", "display": "0 ₫"}


def test_find_by_part_of_email_name_account_or_tax_code(cli, app: App, staff) -> None:
    a = _create(cli)
    b = app.customers.create(
        staff.support,
        name="Sakura Robotics K.K.",
        email="billing@sakura-robotics.jp",
        country="JP",
        billing_type="company",
        tax_code="JP7010001234567",
    )
    for query, expected in [
        ("nguyen.vn", None),
        ("AN.NGUYEN", a["id"]),
        ("sakura", b.id),
        ("robotics", b.id),
        ("7010001234567", b.id),
        (a["account"].lower(), a["id"]),
        ("an.ng", a["id"]),
    ]:
        r = cli("customer", "find", query, "--json", "--user", "support")
        assert r.code == 0, r.err
        ids = [h["id"] for h in json.loads(r.out)]
        if expected is None:
            assert ids == []
        else:
            assert ids and ids[0] == expected, (query, ids)


def test_find_ranks_exact_then_prefix_then_substring(app: App, staff) -> None:
    sub = app.customers.create(
        staff.support, name="Ann Lee", email="xx.tanaka@example.com", country="US", billing_type="personal"
    )
    prefix = app.customers.create(
        staff.support, name="Tanaka Yui", email="yui@example.jp", country="JP", billing_type="personal"
    )
    exact = (
        app.customers.create(staff.support, name="Someone", email="tanaka", country="JP", billing_type="personal")
        if False
        else app.customers.create(
            staff.support, name="Tanaka", email="t@example.jp", country="JP", billing_type="personal"
        )
    )
    hits = app.customers.find(staff.support, "tanaka")
    assert [h.id for h in hits][:3] in ([exact.id, prefix.id, sub.id], [prefix.id, exact.id, sub.id])
    assert hits[-1].id == sub.id


def test_bad_input_is_refused_with_one_line_and_nothing_written(cli, app: App, staff) -> None:
    before = len(app.audit.list(staff.manager))
    cases = [
        (["--name", "X", "--email", "not-an-email", "--country", "VN", "--type", "personal"], "not an email address"),
        (["--name", "X", "--email", "x@example.com", "--country", "XX", "--type", "personal"], "ISO 3166"),
        (["--name", "X", "--email", "x@example.com", "--country", "VN", "--type", "company"], "needs a tax code"),
        (
            ["--name", "X", "--email", "x@example.com", "--country", "VN", "--type", "business"],
            "'personal' or 'company'",
        ),
        (
            ["--name", " ", "--email", "x@example.com", "--country", "VN", "--type", "personal"],
            "Enter the customer's name",
        ),
    ]
    for args, message in cases:
        r = cli("customer", "create", *args, "--user", "support")
        assert r.code == 2 and message in r.err and r.err.count("\n") == 1, (args, r.err)
    r = cli("customer", "find", "", "--user", "support")
    assert r.code == 2 and "Type part of a name" in r.err
    r = cli("customer", "show", "999999", "--user", "support")
    assert r.code == 3 and "No customer" in r.err
    assert len(app.audit.list(staff.manager)) == before


def test_option_values_may_start_with_a_dash_or_equals(cli) -> None:
    r = cli(
        "customer",
        "create",
        "--name",
        "-2+3 Labs",
        "--email",
        "ops@labs.example.com",
        "--country",
        "DE",
        "--type",
        "company",
        "--tax-code=DE-123456",
        "--address",
        "=SUM(A1)",
        "--json",
        "--user",
        "support",
    )
    assert r.code == 0, r.err
    made = json.loads(r.out)
    assert made["name"] == "-2+3 Labs" and made["address"] == "=SUM(A1)"
    r = cli("customer", "update", str(made["id"]), "--name=-minus GmbH", "--json", "--user", "support")
    assert json.loads(r.out)["name"] == "-minus GmbH"


def test_permissions_are_checked_in_the_service(app: App, staff) -> None:
    with pytest.raises(PermissionDenied, match="finance.*may not create and edit customers"):
        app.customers.create(staff.finance, name="X", email="x@example.com", country="US", billing_type="personal")


def test_update_keeps_country_consistent_with_a_locked_currency(app: App, staff) -> None:
    c = app.customers.create(staff.support, name="Hoa", email="hoa@example.vn", country="VN", billing_type="personal")
    app.customers.set_currency(staff.support, c.id, "VND")
    with pytest.raises(Conflict, match="locked"):
        app.customers.update(staff.support, c.id, country="US")
    with pytest.raises(ValidationError):
        app.customers.update(staff.support, c.id, billing_type="company")
    assert (
        app.customers.update(staff.support, c.id, billing_type="company", tax_code="0101234567").billing_type
        == "company"
    )


@pytest.mark.demo_database
def test_demo_seed_is_deterministic(cli, app: App, staff) -> None:
    r = cli("demo", "seed", "--customers", "50", "--seed", "7", "--json", "--user", "admin")
    assert r.code == 0, r.err
    first = json.loads(cli("customer", "find", "example", "--limit", "500", "--json", "--user", "support").out)
    countries = {h["country"] for h in first}
    assert {"VN", "JP"} <= countries and len(countries) >= 3
    assert any(h["currency"] is None for h in first) and any(h["type"] == "company" for h in first)
    names = sorted((h["account"], h["name"]) for h in first)
    assert names == sorted(
        (h["account"], h["name"])
        for h in json.loads(cli("customer", "find", "example", "--limit", "500", "--json", "--user", "support").out)
    )


def test_display_currency_from_the_cli(cli, app: App, staff) -> None:
    c = app.customers.create(staff.support, name="Kim", email="kim@example.com", country="US", billing_type="personal")
    app.customers.set_currency(staff.support, c.id, "USD")
    r = cli("customer", "set-display-currency", str(c.id), "EUR", "--json", "--user", "support")
    assert r.code == 0, r.err
    assert json.loads(r.out)["display_currency"] == "EUR"
    r = cli("customer", "set-display-currency", str(c.id), "GBP", "--user", "support")
    assert r.code == 2 and "not GBP" in r.err
    assert json.loads(cli("customer", "set-display-currency", str(c.id), "none", "--json", "--user", "support").out)[
        "display_currency"
    ] is None

"""Billing settings: the profile's rules, the currency offered by country and locked for
ever (service and database), display preferences, and the audit of every change."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from billing_desk.bootstrap import App, build_app
from billing_desk.config import Settings
from billing_desk.domain.errors import Conflict, PermissionDenied, ValidationError
from billing_desk.services.customers.profile import display_currency_choices, site_display_currency
from tests.support.customers import make_customer
from tests.support.database import audit_rows

BASE = {"name": "Acme Vision Ltd", "email": "billing@acme.example.com", "country": "GB", "billing_type": "company",
        "tax_code": "GB123456789", "address": "1 High St, London"}


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"name": "  "}, "name", "Enter the customer's name"),
    ({"name": "x" * 201}, "name", "longer than 200"),
    ({"email": "not-an-email"}, "email", "is not an email address"),
    ({"country": "XX"}, "country", "is not an ISO 3166 country code"),
    ({"country": "Vietnam"}, "country", "two letters"),
    ({"billing_type": "charity"}, "type", "'personal' or 'company'"),
    ({"tax_code": None}, "tax_code", "A company needs a tax code"),
    ({"tax_code": "!!"}, "tax_code", "2 to 64 letters"),
])
def test_each_profile_field_is_validated_with_what_is_wrong(app: App, staff, change, field, message) -> None:
    with pytest.raises(ValidationError) as err:
        app.customers.create(staff.support, **{**BASE, **change})
    assert err.value.field == field and message in err.value.message
    with app.uow.read() as uow:
        assert uow.session.execute(text("SELECT count(*) FROM customers")).scalar() == 0


def test_tax_code_is_optional_for_a_person_and_required_for_a_company(app: App, staff) -> None:
    person = app.customers.create(staff.support, **{**BASE, "billing_type": "personal", "tax_code": None})
    assert person.tax_code is None
    with pytest.raises(ValidationError, match="company needs a tax code"):
        app.customers.update(staff.support, person.id, billing_type="company")
    company = app.customers.update(staff.support, person.id, billing_type="company", tax_code="GB987654321")
    assert company.billing_type == "company" and company.tax_code == "GB987654321"


def test_currency_offered_by_country(app: App) -> None:
    assert app.customers.currencies_for("VN") == ("VND",)
    assert app.customers.currencies_for("JP") == ("JPY",)
    assert app.customers.currencies_for("US") == ("USD", "EUR")
    assert app.customers.currencies_for("DE") == ("USD", "EUR")


def test_other_countries_get_the_configured_paypal_currencies(db_url: str) -> None:
    configured = Settings(database_url=db_url, config_path=None,
                          gateways={"paypal": {"currencies": ["usd", "gbp", "aud"]}})
    app = build_app(configured)
    try:
        assert app.customers.currencies_for("GB") == ("USD", "GBP", "AUD")
        assert app.customers.currencies_for("VN") == ("VND",)
    finally:
        app.close()


def test_currency_is_chosen_once_and_never_changes(app: App, staff) -> None:
    cid = make_customer(app, staff.support, country="VN", currency=None, name="Pham Thi Linh")
    with pytest.raises(ValidationError, match="can bill in VND, not USD"):
        app.customers.set_currency(staff.support, cid, "USD")
    app.customers.set_currency(staff.support, cid, "vnd")
    for actor in (staff.support, staff.manager, staff.admin):
        with pytest.raises(Conflict, match="a chosen currency can never change"):
            app.customers.set_currency(actor, cid, "VND")
    with pytest.raises(PermissionDenied):
        app.customers.set_currency(staff.finance, cid, "VND")
    [entry] = audit_rows(app, "customer.set_currency")
    assert entry["summary"] == {"before": {"currency": None}, "after": {"currency": "VND"}}
    with pytest.raises(Conflict, match="locked"):
        app.customers.update(staff.support, cid, country="US")


def test_the_database_refuses_a_currency_change_too(app: App, staff) -> None:
    cid = make_customer(app, staff.support, currency="USD")
    for new in ("'EUR'", "NULL"):
        with pytest.raises(DatabaseError, match="locked"), app.uow.write() as uow:
            uow.session.execute(text(f"UPDATE customers SET currency = {new} WHERE id = :c"), {"c": cid})
            uow.commit()
    assert app.customers.get(staff.support, cid).currency == "USD"
    # Choosing it the first time is allowed by the trigger.
    other = make_customer(app, staff.support, currency=None, name="Jonas Novak")
    with app.uow.write() as uow:
        uow.session.execute(text("UPDATE customers SET currency = 'EUR' WHERE id = :c"), {"c": other})
        uow.commit()


def test_display_preference_follows_the_site_and_is_audited(app: App, staff) -> None:
    assert site_display_currency("VN") == "VND" and site_display_currency("JP") == "JPY"
    assert site_display_currency("FR") == "USD"
    assert display_currency_choices("FR", "EUR")[:2] == ("USD", "EUR")
    cid = make_customer(app, staff.support, country="JP", currency="JPY", name="Kato Aoi")
    assert app.customers.set_display_currency(staff.support, cid, "usd").display_currency == "USD"
    app.customers.set_display_currency(staff.support, cid, "USD")  # unchanged: no second audit row
    assert app.customers.set_display_currency(staff.support, cid, None).display_currency is None
    with pytest.raises(ValidationError, match="not GBP") as err:
        app.customers.set_display_currency(staff.support, cid, "GBP")
    assert err.value.field == "display_currency"
    with pytest.raises(PermissionDenied):
        app.customers.set_display_currency(staff.finance, cid, "JPY")
    rows = audit_rows(app, "customer.set_display_currency")
    assert [r["summary"] for r in rows] == [
        {"before": {"display_currency": None}, "after": {"display_currency": "USD"}},
        {"before": {"display_currency": "USD"}, "after": {"display_currency": None}},
    ]


def test_profile_changes_are_audited_with_before_and_after(app: App, staff) -> None:
    created = app.customers.create(staff.support, **BASE)
    app.customers.update(staff.support, created.id, email="ap@acme.example.com", address="2 Low St, Leeds")
    app.customers.update(staff.support, created.id, email="ap@acme.example.com")  # no change, no row
    [entry] = audit_rows(app, "customer.update")
    assert entry["summary"]["changes"] == {
        "email": {"before": "billing@acme.example.com", "after": "ap@acme.example.com"},
        "address": {"before": "1 High St, London", "after": "2 Low St, Leeds"},
    }


def test_cli_update_and_set_currency(cli, app: App, staff) -> None:
    cid = make_customer(app, staff.support, country="DE", currency=None, name="Leon Schmidt")
    r = cli("customer", "update", str(cid), "--type", "company", "--tax-code", "DE811234567", "--name",
            "Schmidt Data GmbH", "--address", "Hauptstr. 1, Berlin", "--json", "--user", "support")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert (data["type"], data["tax_code"], data["name"]) == ("company", "DE811234567", "Schmidt Data GmbH")
    r = cli("customer", "update", str(cid), "--email", "nope", "--user", "support")
    assert r.code == 2 and "is not an email address" in r.err
    r = cli("customer", "set-currency", str(cid), "JPY", "--user", "support")
    assert r.code == 2 and "can bill in USD, EUR, not JPY" in r.err
    r = cli("customer", "set-currency", str(cid), "EUR", "--user", "support")
    assert r.code == 0 and "cannot be changed" in r.out
    r = cli("customer", "set-currency", str(cid), "USD", "--user", "admin")
    assert r.code == 6 and "can never change" in r.err

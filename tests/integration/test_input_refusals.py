"""What people and files type at the desk, read right or refused in one clear line with
nothing written: amounts the CLI must accept, and hostile text the services must refuse."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import text

from billing_desk.bootstrap import App
from billing_desk.domain.errors import AuthenticationFailed, ValidationError
from billing_desk.domain.money import Money
from billing_desk.domain.permissions import Actor
from billing_desk.services.ledger import HistoryFilter
from billing_desk.services.payments import PaymentFilters
from billing_desk.services.vouchers import IssueRequest, VoucherFilter


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


# -- Defect 6: no traceback, one line, nothing written ----------------------------------------

WATCHED = ("ledger_entries", "audit_log", "payments", "vouchers", "voucher_campaigns", "customers",
           "usage_services", "plans", "staff_users")


def _counts(app: App) -> dict[str, int]:
    with app.uow.read() as uow:
        return {t: int(uow.session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in WATCHED}


def test_a_nul_in_a_usage_csv_key_is_one_line_and_nothing_is_written(cli, app, staff, tmp_path):
    cid = _customer(app, staff.manager)
    app.ledger.adjust(staff.manager, cid, "100,000", "opening credit")
    feed = tmp_path / "feed.csv"
    feed.write_text("customer,timestamp,service,description,amount,key\n"
                    f"C{cid:08d},,Storage,fine,1000,k-1\n"
                    f"C{cid:08d},,Storage,bad key,1000,k\x002\n", encoding="utf-8")
    before = _counts(app)
    r = cli("usage", "import", str(feed), "--user", "manager")
    assert r.code == 2 and r.out == "" and r.err.count("\n") == 1, r.err
    assert "Line 3" in r.err and "key" in r.err and "control character" in r.err
    assert _counts(app) == before


def test_an_amount_of_more_than_4300_digits_is_one_line(cli, app, staff):
    cid = _customer(app, staff.manager)
    before = _counts(app)
    r = cli("usage", "record", str(cid), "--service", "Storage", "--amount", "9" * 5000, "--user", "manager")
    assert r.code == 2 and r.err.count("\n") == 1 and "at most 18 digits" in r.err and len(r.err) < 200, r.err
    assert _counts(app) == before


def test_a_nul_in_a_voucher_code_is_refused_through_the_service(app, staff):
    cid = _customer(app, staff.manager)
    before = _counts(app)
    with pytest.raises(ValidationError, match="not a voucher code") as refused:
        app.vouchers.redeem(staff.support, cid, "ABCD-EFGH-JKMN-PQRS-TUV\x00")
    assert "\x00" not in refused.value.message and "\\x00" in refused.value.message
    assert _counts(app) == before


BAD = ("\x00", "\x1b", "\x7f", "\x85", "\udcff")  # NUL, escape, DEL, a C1 control, an undecodable byte


def _writes(app: App, staff, cid: int, voucher_id: int) -> list[tuple[str, Callable[[str], object]]]:
    manager, support = staff.manager, staff.support

    def customer(**fields: str) -> object:
        return app.customers.create(support, **{"name": "A", "email": "a@example.com", "country": "VN",
                                                "billing_type": "personal", **fields})

    def plan(**fields: object) -> object:
        return app.plans.add_plan(manager, **{"code": "basic", "name": "Basic", "prices": {"VND": Money(1, "VND")},
                                              **fields})

    return [
        ("name", lambda bad: customer(name=f"An{bad}")),
        ("email", lambda bad: customer(email=f"a{bad}b@example.com")),
        ("address", lambda bad: customer(address=f"1 Le Loi{bad}")),
        ("name", lambda bad: app.customers.update(support, cid, name=f"An{bad}")),
        ("description", lambda bad: app.ledger.record_usage(manager, cid, service="Storage", amount="1",
                                                            description=f"GPU{bad}")),
        ("key", lambda bad: app.ledger.record_usage(manager, cid, service="Storage", amount="1", key=f"k{bad}")),
        ("reason", lambda bad: app.ledger.adjust(manager, cid, "1", f"why{bad}")),
        ("name", lambda bad: app.ledger.add_service(manager, f"Vision{bad}")),
        ("campaign", lambda bad: app.vouchers.issue(manager, IssueRequest(Money(1000, "VND"), campaign=f"Q{bad}"))),
        ("reason", lambda bad: app.vouchers.revoke(manager, voucher_id, f"why{bad}")),
        ("name", lambda bad: app.staff.add(staff.admin, f"eve{bad}", "support", "long-enough-password")),
        ("name", lambda bad: plan(name=f"Basic{bad}")),
        ("features", lambda bad: plan(features=[f"GPU{bad}"])),
    ]


def test_control_characters_are_refused_in_every_text_that_is_written(app, staff):
    cid = _customer(app, staff.manager)
    voucher_id = app.vouchers.issue(staff.manager, IssueRequest(Money(1000, "VND"))).voucher_ids[0]
    before = _counts(app)
    for field, write in _writes(app, staff, cid, voucher_id):
        for bad in BAD:
            with pytest.raises(ValidationError) as refused:
                write(bad)
            error = refused.value
            assert error.field == field and "control character" in error.message, (field, repr(bad), error.message)
            assert "\n" not in error.message and bad not in error.message
    assert _counts(app) == before


def test_searches_and_filters_with_a_control_character_refuse_without_an_error(app, staff):
    cid = _customer(app, staff.manager)
    searches: list[tuple[str, Callable[[str], object]]] = [
        ("query", lambda bad: app.customers.find(staff.support, f"Ng{bad}")),
        ("text", lambda bad: app.ledger.history_page(staff.support, cid, HistoryFilter(text=f"top{bad}"))),
        ("customer", lambda bad: app.payments.list_payments(staff.finance, PaymentFilters(customer=f"C{bad}"))),
        ("customer", lambda bad: app.ledger.history_page(staff.support, f"C{bad}")),
        ("campaign", lambda bad: app.vouchers.list_vouchers(staff.manager, VoucherFilter(campaign=f"Q{bad}"))),
        ("last4", lambda bad: app.vouchers.list_vouchers(staff.manager, VoucherFilter(last4=f"AB{bad}"))),
        ("currency", lambda bad: app.vouchers.list_vouchers(staff.manager, VoucherFilter(currency=f"VN{bad}"))),
        ("campaign", lambda bad: app.vouchers.revoke_campaign(staff.manager, f"Q{bad}", "why")),
        ("by", lambda bad: app.audit.list(staff.admin, by=f"adm{bad}")),
        ("entity", lambda bad: app.audit.list(staff.admin, entity=f"cust{bad}")),
        ("plan", lambda bad: app.plans.preview_change(staff.support, cid, f"pro{bad}")),
    ]
    for field, search in searches:
        for bad in BAD:
            with pytest.raises(ValidationError) as refused:
                search(bad)
            assert refused.value.field == field, (field, repr(bad), refused.value.message)
    with pytest.raises(AuthenticationFailed):
        app.staff.authenticate("admin\x00", "correct-horse-battery")


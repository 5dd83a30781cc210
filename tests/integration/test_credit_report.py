"""The month-end credit report on both databases: known operations give known figures, the
report refuses support and bad months, its Excel file holds numbers, and the CLI's shape."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from billing_desk.domain.enums import CreditSource, LedgerKind
from billing_desk.domain.errors import PermissionDenied, ValidationError
from billing_desk.domain.money import Money
from billing_desk.models import CustomerBalance
from billing_desk.services.ledger import Posting
from tests.support.customers import make_customer
from tests.support.ledger import replay

SAIGON = ZoneInfo("Asia/Ho_Chi_Minh")  # the suite's zone (tests/conftest.py): UTC+7


def at(month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    """A local moment of 2026, as stored (UTC)."""
    return datetime(2026, month, day, hour, minute, tzinfo=SAIGON).astimezone(UTC)


def vnd(minor: int) -> Money:
    return Money(minor, "VND")


def october(app, staff) -> tuple[int, int]:
    """Two VND customers (and a USD one) with a September, an October and a November."""
    a = make_customer(app, staff.manager, name="Customer A")
    b = make_customer(app, staff.manager, name="Customer B")
    u = make_customer(app, staff.manager, "USD", name="Customer U")
    replay(app, [
        Posting(a, LedgerKind.TOPUP, vnd(1_000_000), created_at=at(9, 15)),
        Posting(a, LedgerKind.VOUCHER, vnd(300_000), created_at=at(9, 20), voucher_expires_at=at(10, 10)),
        # 23:30 on 30 September local is 16:30 UTC: September's, and drawn from voucher credit.
        Posting(a, LedgerKind.USAGE, vnd(-40_000), service="Storage", created_at=at(9, 30, 23, 30)),
        # 00:30 on 1 October local is still 30 September in UTC: October's.
        Posting(a, LedgerKind.TOPUP, vnd(500_000), created_at=at(10, 1, 0, 30)),
        Posting(a, LedgerKind.USAGE, vnd(-150_000), service="Storage", created_at=at(10, 5)),
        Posting(a, LedgerKind.USAGE, vnd(-30_000), service="AI Inference", created_at=at(10, 6)),
        Posting(a, LedgerKind.PLAN_CHARGE, vnd(-60_000), service="Subscription", created_at=at(10, 7)),
        # The lot expired on 10 October with 20,000 left: written off at A's next posting.
        Posting(a, LedgerKind.ADJUSTMENT, vnd(-50_000), source=CreditSource.TOPUP, created_at=at(10, 12)),
        Posting(a, LedgerKind.PROMOTION, vnd(70_000), created_at=at(10, 12, 13)),
        Posting(a, LedgerKind.USAGE, vnd(-99_999_999), service="Storage", created_at=at(10, 13)),  # fails
        Posting(b, LedgerKind.TOPUP, vnd(250_000), created_at=at(10, 15)),
        Posting(b, LedgerKind.VOUCHER, vnd(40_000), created_at=at(10, 20)),
        Posting(u, LedgerKind.TOPUP, Money(2_500, "USD"), created_at=at(10, 15)),
        # 1 November 00:10 local (31 October in UTC): after the month; the balances path takes it back.
        Posting(a, LedgerKind.USAGE, vnd(-10_000), service="Storage", created_at=at(11, 1, 0, 10)),
    ])
    return a, b


def test_known_operations_give_known_figures(app, staff):
    october(app, staff)
    r = app.ledger.month_report(staff.finance, "2026-10", "VND")
    assert (r.month, r.currency, r.zone) == ("2026-10", "VND", "Asia/Ho_Chi_Minh")
    assert r.starts_at == datetime(2026, 9, 30, 17, tzinfo=UTC) and r.ends_at == datetime(2026, 10, 31, 17, tzinfo=UTC)
    assert (r.opening.topup, r.opening.voucher, r.opening.total) == (vnd(1_000_000), vnd(260_000), vnd(1_260_000))
    assert r.topups == vnd(750_000) and r.voucher_granted == vnd(40_000) and r.promotions == vnd(70_000)
    assert r.usage == vnd(180_000)
    assert r.usage_by_service == (("Storage", vnd(150_000)), ("AI Inference", vnd(30_000)))
    assert r.plan_charges == vnd(60_000) and r.adjustments == vnd(-50_000) and r.voucher_expired == vnd(20_000)
    assert (r.closing.topup, r.closing.voucher, r.closing.total) == (vnd(1_770_000), vnd(40_000), vnd(1_810_000))
    assert r.balances == vnd(1_810_000) and r.difference == vnd(0) and r.balanced
    assert [(g.day, g.method, g.count, g.amount) for g in r.gateways] == [
        (date(2026, 10, 1), "vnpay", 1, vnd(500_000)), (date(2026, 10, 15), "vnpay", 1, vnd(250_000))]
    moved = {m.key: (m.topup.minor, m.voucher.minor) for m in r.movements}
    assert moved["usage"] == (0, -180_000) and moved["plan_charges"] == (0, -60_000)
    usd = app.ledger.month_report(staff.finance, "2026-10", "usd")
    assert usd.topups == Money(2_500, "USD") and usd.closing.total == usd.balances == Money(2_500, "USD")
    assert [(g.method, g.amount) for g in usd.gateways] == [("paypal", Money(2_500, "USD"))]


def test_each_month_closes_where_the_next_opens_and_a_drifted_balance_alarms(app, staff):
    a, _ = october(app, staff)
    sep, octo, nov = (app.ledger.month_report(staff.manager, m, "VND") for m in ("2026-09", "2026-10", "2026-11"))
    assert sep.opening.total == vnd(0) and sep.closing == octo.opening and octo.closing == nov.opening
    assert nov.usage == vnd(10_000) and nov.closing.total == nov.balances == vnd(1_800_000)
    with app.uow.write() as uow:  # a stored figure edited by hand, as `ledger verify` would also catch
        uow.session.execute(update(CustomerBalance).where(CustomerBalance.customer_id == a)
                            .values(topup=CustomerBalance.topup + 5, total=CustomerBalance.total + 5))
        uow.commit()
    drifted = app.ledger.month_report(staff.finance, "2026-10", "VND")
    assert drifted.closing.total == vnd(1_810_000) and drifted.balances == vnd(1_810_005)
    assert drifted.difference == vnd(-5) and not drifted.balanced


def test_support_is_refused_and_bad_input_is_named(app, staff):
    with pytest.raises(PermissionDenied):
        app.ledger.month_report(staff.support, "2026-10", "VND")
    with pytest.raises(PermissionDenied):
        app.ledger.report_currencies(staff.support)
    for bad in ("2026-13", "2026-1", "26-10", "October", "", "2026-00", "9999-12"):
        with pytest.raises(ValidationError, match="YYYY-MM"):
            app.ledger.month_report(staff.finance, bad, "VND")
    with pytest.raises(ValidationError, match="currency"):
        app.ledger.month_report(staff.finance, "2026-10", "XXX")


def test_an_empty_month_and_the_currencies_in_use(app, staff):
    october(app, staff)
    assert app.ledger.report_currencies(staff.finance) == ("USD", "VND")
    empty = app.ledger.month_report(staff.finance, "2026-10", "EUR")
    assert empty.closing.total == empty.balances == empty.difference == Money(0, "EUR")
    assert empty.gateways == () and empty.usage_by_service == ()


def test_excel_export_holds_numbers_and_is_audited(app, staff, tmp_path):
    october(app, staff)
    target = tmp_path / "october.xlsx"
    result = app.exports.export_month_report(staff.finance, "2026-10", "VND", target)
    assert result.path == str(target) and result.format == "xlsx"
    wb = load_workbook(target)
    assert wb.sheetnames == ["Statement", "Usage by service", "Gateways by day", "About"]
    statement = {row[0].value: row for row in wb["Statement"].iter_rows() if row[0].value}
    opening = statement["Opening outstanding credit"]
    assert [c.value for c in opening[1:4]] == [1_000_000, 260_000, 1_260_000]
    assert all(c.data_type == "n" and "VND" in c.number_format for c in opening[1:4])
    assert statement["Closing outstanding credit"][3].value == 1_810_000
    topups = statement["+ Top-ups settled"]  # a label that starts like a formula stays text
    assert topups[0].data_type == "s" and topups[0].quotePrefix and topups[3].value == 750_000
    assert statement["Difference"][3].value == 0
    usage = [[c.value for c in row] for row in wb["Usage by service"].iter_rows(min_row=2)]
    assert usage[:2] == [["Storage", 150_000], ["AI Inference", 30_000]]
    days = [[c.value for c in row] for row in wb["Gateways by day"].iter_rows(min_row=2)]
    assert days[:2] == [[datetime(2026, 10, 1), "vnpay", 1, 500_000], [datetime(2026, 10, 15), "vnpay", 1, 250_000]]
    entries = [r for r in app.audit.list(staff.admin) if r.action == "export.month_report"]
    assert len(entries) == 1 and entries[0].summary["month"] == "2026-10" and entries[0].summary["currency"] == "VND"
    with pytest.raises(PermissionDenied):
        app.exports.export_month_report(staff.support, "2026-10", "VND", tmp_path / "no.xlsx")
    assert not (tmp_path / "no.xlsx").exists()


def test_cli_json_shape_and_exit_codes(cli, app, staff, tmp_path):
    october(app, staff)
    r = cli("report", "month", "2026-10", "--currency", "VND", "--json", "--user", "finance")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    for key in ("month", "currency", "opening", "topups", "voucher_granted", "usage", "plan_charges", "adjustments",
                "voucher_expired", "closing", "balances", "difference", "usage_by_service", "gateways", "zone"):
        assert key in out
    assert out["opening"] == {"minor": 1_260_000, "currency": "VND", "display": "1,260,000 ₫",
                              "topup": {"minor": 1_000_000, "currency": "VND", "display": "1,000,000 ₫"},
                              "voucher": {"minor": 260_000, "currency": "VND", "display": "260,000 ₫"}}
    assert out["difference"] == {"minor": 0, "currency": "VND", "display": "0 ₫"}
    assert out["gateways"][0] == {"day": "2026-10-01", "method": "vnpay", "count": 1,
                                  "amount": {"minor": 500_000, "currency": "VND", "display": "500,000 ₫"}}
    text = cli("report", "month", "2026-10", "--currency", "VND", "--user", "finance")
    assert text.code == 0 and "Closing outstanding credit" in text.out and "1,810,000 ₫" in text.out
    out_file = tmp_path / "r.xlsx"
    saved = cli("report", "month", "2026-10", "--currency", "VND", "--out", str(out_file), "--user", "finance")
    assert saved.code == 0 and out_file.exists() and str(out_file) in saved.out
    bad_month = cli("report", "month", "2026-13", "--currency", "VND", "--user", "finance")
    assert bad_month.code != 0 and bad_month.out == "" and len(bad_month.err.strip().splitlines()) == 1
    assert "YYYY-MM" in bad_month.err
    bad_currency = cli("report", "month", "2026-10", "--currency", "ZZZ", "--user", "finance")
    assert bad_currency.code != 0 and "ZZZ" in bad_currency.err and len(bad_currency.err.strip().splitlines()) == 1
    denied = cli("report", "month", "2026-10", "--currency", "VND", "--user", "support")
    assert denied.code == 4 and denied.out == ""
    with app.uow.write() as uow:  # a drifted stored balance: the report still prints, and exits 1 like verify
        uow.session.execute(update(CustomerBalance).values(topup=CustomerBalance.topup + 1,
                                                           total=CustomerBalance.total + 1))
        uow.commit()
    alarm = cli("report", "month", "2026-10", "--currency", "VND", "--user", "finance")
    assert alarm.code == 1 and "ALARM" in alarm.out and "-2 ₫" in alarm.out  # two VND customers

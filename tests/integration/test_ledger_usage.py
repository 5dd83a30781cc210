"""Usage charges, adjustments and the catalog, through the service, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from billing_desk.domain.enums import CreditSource, EntryStatus
from billing_desk.domain.errors import Conflict, InsufficientCredit, NotFound, PermissionDenied, ValidationError
from billing_desk.domain.money import Money
from tests.support.customers import make_customer
from tests.support.ledger import credit


def test_usage_takes_voucher_credit_first_then_topup_one_row_per_source(app, staff):
    cid = make_customer(app, staff.manager)
    credit(app, cid, 100_000, "VND")
    credit(app, cid, 30_000, "VND", voucher=True, expires_at=datetime.now(UTC) + timedelta(days=30))
    out = app.ledger.record_usage(staff.manager, cid, service="storage", amount="50,000",
                                  description="Storage usage for 1 model", key="u-1")
    assert out.status is EntryStatus.SUCCESS and len(out.entry_ids) == 2
    assert (out.balance.total, out.balance.topup, out.balance.voucher) == (
        Money(80_000, "VND"), Money(80_000, "VND"), Money(0, "VND"))
    rows = app.ledger.history_page(staff.support, cid).rows
    usage = [r for r in rows if r.kind.value == "usage"]
    assert sorted((r.source, r.amount.minor) for r in usage) == [("topup", -20_000), ("voucher", -30_000)]
    assert {r.service for r in usage} == {"Storage"}
    assert app.ledger.verify(staff.finance).ok


def test_earliest_expiring_voucher_lot_is_used_first(app, staff):
    cid = make_customer(app, staff.manager, "USD", "Emma Smith")
    soon, later = datetime.now(UTC) + timedelta(days=2), datetime.now(UTC) + timedelta(days=60)
    credit(app, cid, 1000, "USD", voucher=True, expires_at=later)
    credit(app, cid, 500, "USD", voucher=True, expires_at=soon)
    app.ledger.record_usage(staff.manager, cid, service="AI Inference", amount="6.00")
    from sqlalchemy import select

    from billing_desk.models import VoucherCreditLot
    with app.uow.read() as uow:
        lots = {lot.expires_at.date(): lot.remaining for lot in uow.session.scalars(select(VoucherCreditLot))}
    assert lots == {soon.date(): 0, later.date(): 900}


def test_insufficient_credit_is_recorded_as_failed_and_moves_nothing(app, staff):
    cid = make_customer(app, staff.manager)
    credit(app, cid, 10_000, "VND")
    out = app.ledger.record_usage(staff.manager, cid, service="GPU Container", amount="10001")
    assert out.status is EntryStatus.FAILED and out.failure_reason == "insufficient credit"
    assert out.balance.total == Money(10_000, "VND")
    failed = app.ledger.history_page(staff.support, cid, None).rows[0]
    assert failed.status is EntryStatus.FAILED and failed.amount == Money(-10_001, "VND")
    assert app.ledger.history_totals(staff.support, cid).total == Money(10_000, "VND")
    assert app.ledger.verify(staff.finance).ok


def test_repeated_key_is_skipped_and_different_amount_is_refused(app, staff):
    cid = make_customer(app, staff.manager)
    credit(app, cid, 100_000, "VND")
    first = app.ledger.record_usage(staff.manager, cid, service="Storage", amount="1000", key="k-1")
    again = app.ledger.record_usage(staff.manager, cid, service="Storage", amount="1000", key="k-1")
    assert not first.duplicate and again.duplicate and again.entry_ids == first.entry_ids
    assert again.balance.total == Money(99_000, "VND")
    with pytest.raises(Conflict, match="k-1"):
        app.ledger.record_usage(staff.manager, cid, service="Storage", amount="2000", key="k-1")
    assert app.ledger.balance(staff.support, cid).total == Money(99_000, "VND")


def test_external_keys_never_meet_the_systems_own(app, staff):
    cid = make_customer(app, staff.manager)
    credit(app, cid, 100_000, "VND", key="payment-14")  # as reconciliation posts payment 14
    first = app.ledger.record_usage(staff.manager, cid, service="Storage", amount="1000", key="payment-14")
    assert first.status is EntryStatus.SUCCESS and not first.duplicate  # the feed's own key
    again = app.ledger.record_usage(staff.manager, cid, service="Storage", amount="1000", key="payment-14")
    assert again.duplicate and again.entry_ids == first.entry_ids
    with pytest.raises(Conflict, match="payment-14"):  # staff and feed keys still share one space
        app.ledger.adjust(staff.manager, cid, "5000", "Goodwill", key="payment-14")
    assert credit(app, cid, 100_000, "VND", key="payment-14").duplicate  # and the system's key still holds
    assert app.ledger.balance(staff.support, cid).total == Money(99_000, "VND")
    assert app.ledger.verify(staff.finance).ok


@pytest.mark.parametrize(("ref", "service", "amount", "error", "text"), [
    ("999999", "Storage", "10", NotFound, "No customer"),
    ("{cid}", "Teleportation", "10", ValidationError, "Unknown service"),
    ("{cid}", "Storage", "0", ValidationError, "more than zero"),
    ("{cid}", "Storage", "-5", ValidationError, "more than zero"),
    ("{cid}", "Storage", "10.5", ValidationError, "no decimals"),
    ("{cid}", "Storage", "USD 10", ValidationError, "USD"),
    ("{cid}", "Storage", "ten", ValidationError, "not an amount"),
])
def test_bad_usage_is_refused_and_writes_nothing(app, staff, ref, service, amount, error, text):
    cid = make_customer(app, staff.manager)
    credit(app, cid, 100_000, "VND")
    with pytest.raises(error, match=text):
        app.ledger.record_usage(staff.manager, ref.format(cid=cid), service=service, amount=amount)
    assert app.ledger.history_totals(staff.support, cid).count == 1


def test_usage_in_money_of_another_currency_and_too_many_decimals(app, staff):
    cid = make_customer(app, staff.manager, "USD", "Liam Brown")
    credit(app, cid, 10_000, "USD")
    with pytest.raises(ValidationError, match="billed in USD"):
        app.ledger.record_usage(staff.manager, cid, service="Storage", amount=Money(5, "EUR"))
    with pytest.raises(ValidationError, match="at most 2 decimals"):
        app.ledger.record_usage(staff.manager, cid, service="Storage", amount="1.005")


def test_only_managers_and_admins_record_usage(app, staff):
    cid = make_customer(app, staff.manager)
    for who in (staff.support, staff.finance):
        with pytest.raises(PermissionDenied):
            app.ledger.record_usage(who, cid, service="Storage", amount="1")
    with pytest.raises(PermissionDenied):
        app.ledger.adjust(staff.support, cid, "100", "goodwill")
    with pytest.raises(PermissionDenied):
        app.ledger.verify(staff.support)


def test_adjustment_needs_reason_is_audited_and_can_be_negative(app, staff):
    cid = make_customer(app, staff.manager)
    with pytest.raises(ValidationError, match="reason"):
        app.ledger.adjust(staff.manager, cid, "50000", "  ")
    up = app.ledger.adjust(staff.manager, cid, "50,000", "Goodwill for outage #12")
    assert up.balance.topup == Money(50_000, "VND")
    promo = app.ledger.adjust(staff.manager, cid, "20000", "Launch promotion", promotion=True)
    assert promo.balance.voucher == Money(20_000, "VND")
    down = app.ledger.adjust(staff.manager, cid, "-10000", "Double top-up corrected", source=CreditSource.TOPUP)
    assert (down.balance.topup, down.balance.voucher) == (Money(40_000, "VND"), Money(20_000, "VND"))
    with pytest.raises(InsufficientCredit):
        app.ledger.adjust(staff.manager, cid, "-40001", "too much", source=CreditSource.TOPUP)
    with pytest.raises(ValidationError, match="positive"):
        app.ledger.adjust(staff.manager, cid, "-1", "promo", promotion=True)
    actions = [r.action for r in app.audit.list(staff.admin, entity="customer")]
    assert actions.count("credit.adjustment") == 2 and actions.count("credit.promotion") == 1
    assert app.ledger.history_totals(staff.support, cid).count == 3
    assert app.ledger.verify(staff.finance).ok


def test_managers_extend_the_service_catalog(app, staff):
    with pytest.raises(PermissionDenied):
        app.ledger.add_service(staff.support, "Vector DB")
    added = app.ledger.add_service(staff.manager, "  Vector   DB ")
    assert added.name == "Vector DB" and added.is_usage
    with pytest.raises(Conflict):
        app.ledger.add_service(staff.admin, "vector db")
    names = [s.name for s in app.ledger.services(staff.support, usage_only=True)]
    assert names == sorted(["AI Inference", "AI Notebook", "GPU Container", "Model Fine-tuning", "Storage",
                            "Vector DB"])
    cid = make_customer(app, staff.manager)
    credit(app, cid, 1000, "VND")
    used = app.ledger.record_usage(staff.manager, cid, service="vector db", amount="10")
    assert used.status is EntryStatus.SUCCESS
    assert app.ledger.history_page(staff.support, cid).rows[0].service == "Vector DB"
    with pytest.raises(ValidationError, match="Unknown service 'Top-up'"):
        app.ledger.record_usage(staff.manager, cid, service="Top-up", amount="10")


def test_verify_names_lot_drift_and_rows_without_a_balance(app, staff):
    from sqlalchemy import insert, update

    from billing_desk.models import LedgerEntry, VoucherCreditLot
    cid = make_customer(app, staff.manager)
    credit(app, cid, 5_000, "VND", voucher=True, expires_at=datetime.now(UTC) + timedelta(days=9))
    loose = app.customers.create(staff.manager, name="No Currency", email="nc@example.com", country="VN",
                                 billing_type="personal", address="2 Le Loi").id
    assert app.ledger.verify(staff.finance).ok
    with app.uow.write() as uow:
        uow.session.execute(update(VoucherCreditLot).values(remaining=VoucherCreditLot.remaining - 1))
        uow.session.execute(insert(LedgerEntry), [dict(
            customer_id=loose, created_at=datetime.now(UTC), kind="topup", service="Top-up", description="stray",
            status="success", amount=10, currency="VND", source="topup")])
        uow.commit()
    report = app.ledger.verify(staff.finance)
    found = {(m.customer_id, m.figure) for m in report.mismatches}
    assert found == {(cid, "voucher lots"), (loose, "balance row missing")}, report.mismatches
    assert report.rows == 2 and report.customers == 1


def test_verify_names_lots_without_a_balance_and_rows_in_another_currency(app, staff):
    from sqlalchemy import insert

    from billing_desk.models import LedgerEntry, VoucherCreditLot
    cid = make_customer(app, staff.manager)
    credit(app, cid, 5_000, "VND")
    loose = app.customers.create(staff.manager, name="No Currency", email="nc2@example.com", country="VN",
                                 billing_type="personal", address="2 Le Loi").id
    assert app.ledger.verify(staff.finance).ok
    with app.uow.write() as uow:
        uow.session.execute(insert(VoucherCreditLot), [dict(
            customer_id=loose, granted=10, remaining=10, created_at=datetime.now(UTC))])
        uow.session.execute(insert(LedgerEntry), [dict(
            customer_id=cid, created_at=datetime.now(UTC), kind="adjustment", service="Adjustment",
            description="wrong currency", status="success", amount=0, currency="USD", source="topup")])
        uow.commit()
    report = app.ledger.verify(staff.finance)
    found = {(m.customer_id, m.figure) for m in report.mismatches}
    assert found == {(cid, "rows in USD"), (loose, "balance row missing")}, report.mismatches
    assert "not in the currency of its balance" in next(m.describe() for m in report.mismatches if m.customer_id == cid)

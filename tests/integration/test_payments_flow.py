"""Top-ups end to end over real HTTP against the sandbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from billing_desk.domain.errors import NotFound, PermissionDenied, ValidationError
from billing_desk.domain.money import Money
from billing_desk.models import LedgerEntry, Payment, utcnow
from billing_desk.services.payments.dtos import PaymentFilters
from tests.support.customers import make_account
from tests.support.payments import AMOUNTS, METHODS, control, pay

CURRENCIES = list(AMOUNTS)


def _topup_rows(app, customer_id: int) -> list[tuple[int, int]]:
    with app.uow.read() as uow:
        return [(r.amount, r.payment_id) for r in uow.session.execute(
            select(LedgerEntry.amount, LedgerEntry.payment_id).where(
                LedgerEntry.customer_id == customer_id, LedgerEntry.kind == "topup"))]


@pytest.mark.parametrize("currency", CURRENCIES)
def test_topup_paid_is_credited_exactly_once(pay_app, sandbox, staff, currency):
    account = make_account(pay_app, staff.support, currency)
    result = pay_app.payments.create_topup(staff.support, account, AMOUNTS[currency])
    p = result.payment
    assert (p.status, p.method, result.problem) == ("pending", METHODS[currency], None)
    assert p.checkout_url and p.gateway_reference
    assert "non-refundable" in result.notice

    assert pay_app.payments.reconcile(staff.finance) == []  # not paid yet: nothing changes
    pay(sandbox, p.checkout_url)
    changes = pay_app.payments.reconcile(staff.finance)
    assert [(c.payment_id, c.previous_status, c.status) for c in changes] == [(p.id, "pending", "success")]
    assert pay_app.payments.reconcile(staff.finance) == []

    customer = pay_app.customers.get(staff.support, account)
    assert customer.balance.total == p.amount == customer.balance.topup
    assert _topup_rows(pay_app, customer.id) == [(p.amount.minor, p.id)]
    shown = pay_app.payments.get(staff.support, p.id)
    assert shown.status == "success" and shown.settled_at is not None


@pytest.mark.parametrize("currency", CURRENCIES)
def test_cancelled_checkout_fails_the_payment(pay_app, sandbox, staff, currency):
    account = make_account(pay_app, staff.support, currency)
    p = pay_app.payments.create_topup(staff.support, account, AMOUNTS[currency]).payment
    pay(sandbox, p.checkout_url, "cancel")
    changes = pay_app.payments.reconcile(staff.finance)
    assert [(c.status, bool(c.reason)) for c in changes] == [("failed", True)]
    customer = pay_app.customers.get(staff.support, account)
    assert customer.balance.total == Money(0, currency)
    assert _topup_rows(pay_app, customer.id) == []


def test_paypal_token_is_fetched_again_after_a_401(pay_app, sandbox, staff):
    account = make_account(pay_app, staff.support, "USD")
    p = pay_app.payments.create_topup(staff.support, account, "30").payment
    control(sandbox, "/sandbox/paypal/expire-tokens")
    pay(sandbox, p.checkout_url)
    assert [c.status for c in pay_app.payments.reconcile(staff.finance)] == ["success"]
    state = control(sandbox, "/sandbox/state", method="GET")
    assert state["counts"]["paypal:token"] == 2 and state["counts"]["paypal:captured"] == 1


def test_rules_before_anything_is_written(pay_app, staff):
    no_currency = pay_app.customers.create(staff.support, name="Le Thi Hoa", email="hoa@example.vn", country="VN",
                                           billing_type="personal", address="3 Duy Tan, Ha Noi")
    with pytest.raises(ValidationError, match="set-currency"):
        pay_app.payments.create_topup(staff.support, no_currency.account, "500000")
    account = make_account(pay_app, staff.support, "VND", address="")
    with pytest.raises(ValidationError, match="address"):
        pay_app.payments.create_topup(staff.support, account, "500000")
    ok = make_account(pay_app, staff.support, "VND", email="other@example.vn")
    with pytest.raises(ValidationError, match="minimum top-up is 500,000"):
        pay_app.payments.create_topup(staff.support, ok, "499999")
    with pytest.raises(ValidationError, match="maximum"):
        pay_app.payments.create_topup(staff.support, ok, "1,000,000,000")
    with pytest.raises(PermissionDenied):
        pay_app.payments.create_topup(staff.finance, ok, "500000")
    with pytest.raises(NotFound):
        pay_app.payments.create_topup(staff.support, "C99999999", "500000")
    assert pay_app.payments.list_payments(staff.finance).rows == ()


def test_recent_pending_topup_warns(pay_app, staff):
    account = make_account(pay_app, staff.support, "JPY")
    first = pay_app.payments.create_topup(staff.support, account, "3000")
    second = pay_app.payments.create_topup(staff.support, account, "5000")
    assert first.warning is None
    assert second.warning and f"payment {first.payment.id}" in second.warning


def test_support_refreshes_one_customer_finance_reconciles_all(pay_app, sandbox, staff):
    a = make_account(pay_app, staff.support, "JPY")
    b = make_account(pay_app, staff.support, "JPY", email="b@example.jp")
    pa = pay_app.payments.create_topup(staff.support, a, "3000").payment
    pb = pay_app.payments.create_topup(staff.support, b, "3000").payment
    pay(sandbox, pa.checkout_url)
    pay(sandbox, pb.checkout_url)
    with pytest.raises(PermissionDenied):
        pay_app.payments.reconcile(staff.support)
    assert [c.payment_id for c in pay_app.payments.reconcile(staff.support, customer_ref=a)] == [pa.id]
    assert [c.payment_id for c in pay_app.payments.reconcile(staff.finance)] == [pb.id]


def test_a_usage_keyed_like_a_payment_does_not_block_its_settlement(pay_app, sandbox, staff):
    a = make_account(pay_app, staff.support, "JPY")
    b = make_account(pay_app, staff.support, "JPY", email="b@example.jp")
    pa = pay_app.payments.create_topup(staff.support, a, "3000").payment
    pb = pay_app.payments.create_topup(staff.support, b, "5000").payment
    # The feed (or staff) used payment pa's own key for a usage of its customer; with no
    # credit yet, that charge is kept as a failed row holding the key.
    usage = pay_app.ledger.record_usage(staff.manager, a, service="Storage", amount="500", key=f"payment-{pa.id}")
    assert usage.status.value == "failed"
    pay(sandbox, pa.checkout_url)
    pay(sandbox, pb.checkout_url)
    changes = pay_app.payments.reconcile(staff.finance)
    assert [(c.payment_id, c.status) for c in changes] == [(pa.id, "success"), (pb.id, "success")]
    assert pay_app.customers.get(staff.support, a).balance.total == Money(3000, "JPY")
    assert pay_app.customers.get(staff.support, b).balance.total == Money(5000, "JPY")
    again = pay_app.ledger.record_usage(staff.manager, a, service="Storage", amount="500", key=f"payment-{pa.id}")
    assert again.duplicate and again.entry_ids == usage.entry_ids


def test_reconcile_reports_progress_and_stops_when_cancelled(pay_app, sandbox, staff):
    account = make_account(pay_app, staff.support, "JPY")
    for _ in range(3):
        pay(sandbox, pay_app.payments.create_topup(staff.support, account, "3000").payment.checkout_url)
    seen: list[tuple[int, int]] = []
    changes = pay_app.payments.reconcile(staff.finance, progress=lambda d, t: seen.append((d, t)),
                                         cancel=lambda: len(seen) >= 2)
    assert len(changes) == 2 and seen == [(1, 3), (2, 3)]
    assert len(pay_app.payments.reconcile(staff.finance)) == 1


def test_list_payments_pages_by_keyset_and_filters(pay_app, sandbox, staff):
    vn = make_account(pay_app, staff.support, "VND")
    jp = make_account(pay_app, staff.support, "JPY")
    ids = [pay_app.payments.create_topup(staff.support, vn if i % 2 else jp, "5000000" if i % 2 else "3000").payment.id
           for i in range(7)]
    seen, cursor = [], None
    while True:
        page = pay_app.payments.list_payments(staff.finance, after=cursor, limit=3)
        seen += [r.id for r in page.rows]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == sorted(ids, reverse=True)
    vnpay = pay_app.payments.list_payments(staff.finance, PaymentFilters(method="vnpay", customer=vn)).rows
    assert {r.method for r in vnpay} == {"vnpay"} and len(vnpay) == 3
    assert pay_app.payments.list_payments(staff.finance, PaymentFilters(status="success")).rows == ()
    with pytest.raises(ValidationError):
        pay_app.payments.list_payments(staff.finance, PaymentFilters(status="paid"))


def test_customer_search_finds_a_payment_reference(pay_app, staff):
    account = make_account(pay_app, staff.support, "USD")
    p = pay_app.payments.create_topup(staff.support, account, "25").payment
    hits = pay_app.customers.find(staff.support, p.gateway_reference)
    assert [(h.account, h.matched) for h in hits] == [(account, "payment reference")]


def test_every_staff_write_is_audited(pay_app, sandbox, staff):
    account = make_account(pay_app, staff.support, "VND")
    p = pay_app.payments.create_topup(staff.support, account, "500000").payment
    pay(sandbox, p.checkout_url)
    pay_app.payments.reconcile(staff.finance)
    rows = [r for r in pay_app.audit.list(staff.manager, entity="payment")]
    assert sorted(r.action for r in rows) == ["payment.checkout", "payment.create", "payment.settle"]
    with pay_app.uow.read() as uow:
        assert uow.session.scalar(select(func.count()).select_from(LedgerEntry)) == 1


def _left_over_topup(app, p) -> None:
    """A top-up row already holding payment ``p``'s key with another amount, as an older desk
    could have left it: the ledger then refuses to credit ``p`` (the key names another charge)."""
    with app.uow.write() as uow:
        uow.session.add(LedgerEntry(customer_id=p.customer_id, created_at=utcnow(), kind="topup", service="Top-up",
                                    description="left over", status="success", amount=1, currency=p.amount.currency,
                                    source="topup", idempotency_key=f"payment-{p.id}"))
        uow.commit()


def _flagged_at(app, payment_id: int):
    with app.uow.read() as uow:
        return uow.session.scalar(select(Payment.flagged_at).where(Payment.id == payment_id))


def test_a_payment_that_cannot_be_credited_is_flagged_and_the_others_are_credited(pay_app, sandbox, staff):
    a = make_account(pay_app, staff.support, "JPY")
    b = make_account(pay_app, staff.support, "JPY", email="b@example.jp")
    stuck, pb, pa = (pay_app.payments.create_topup(staff.support, who, amount).payment
                     for who, amount in ((a, "3000"), (b, "4000"), (a, "5000")))
    for p in (stuck, pb, pa):
        pay(sandbox, p.checkout_url)
    _left_over_topup(pay_app, stuck)
    changes = pay_app.payments.reconcile(staff.finance)
    assert [(c.payment_id, c.status) for c in changes] == [(pb.id, "success"), (pa.id, "success")]
    shown = pay_app.payments.get(staff.finance, stuck.id)
    assert shown.status == "pending" and shown.settled_at is None
    assert shown.reason.startswith("Flagged for finance: paid at the gateway but not credited: The key 'payment-")
    assert _flagged_at(pay_app, stuck.id) is not None and _flagged_at(pay_app, pa.id) is None
    assert pay_app.customers.get(staff.support, a).balance.total == Money(5000, "JPY")
    assert pay_app.customers.get(staff.support, b).balance.total == Money(4000, "JPY")
    flagged = []  # asked again on the next run, and flagged again: never settled by accident
    assert pay_app.payments.reconcile(staff.finance, flagged=flagged.append) == []
    assert [(f.payment_id, f.customer_account, f.reason) for f in flagged] == [(stuck.id, a, shown.reason)]


def test_a_database_error_while_crediting_is_flagged_scrubbed_and_retried(pay_app, sandbox, staff, monkeypatch):
    from billing_desk.services.payments import reconcile as reconcile_module

    account = make_account(pay_app, staff.support, "USD")
    stuck, other = (pay_app.payments.create_topup(staff.support, account, "25").payment for _ in range(2))
    for p in (stuck, other):
        pay(sandbox, p.checkout_url)
    secret = next(s for s in pay_app.payments.gateways.secrets() if s)
    real_post = reconcile_module.post

    def deadlocked_for_stuck(session, posting):
        if posting.payment_id == stuck.id:
            raise OperationalError("INSERT INTO ledger_entries ...", {}, Exception(f"deadlock detected ({secret})"))
        return real_post(session, posting)

    monkeypatch.setattr(reconcile_module, "post", deadlocked_for_stuck)
    changes = pay_app.payments.reconcile(staff.finance)
    assert [(c.payment_id, c.status) for c in changes] == [(other.id, "success")]
    reason = pay_app.payments.get(staff.finance, stuck.id).reason
    assert "deadlock detected" in reason and secret not in reason and "INSERT" not in reason
    monkeypatch.undo()  # the database recovers: the next run credits it, once
    assert [(c.payment_id, c.status) for c in pay_app.payments.reconcile(staff.finance)] == [(stuck.id, "success")]
    assert pay_app.customers.get(staff.support, account).balance.total == Money(5000, "USD")
    assert sorted(amount for amount, _ in _topup_rows(pay_app, pay_app.payments.get(staff.finance, stuck.id)
                                                      .customer_id)) == [2500, 2500]

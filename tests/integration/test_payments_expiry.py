"""Pending payments past their expiry plus the margin fail, but only on the gateway's word."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from billing_desk.models import Payment, utcnow
from tests.support.customers import make_account
from tests.support.payments import AMOUNTS, clear_faults, fault, pay


def _age(app, payment_id: int, minutes: int, **values) -> None:
    with app.uow.write() as uow:
        uow.session.execute(update(Payment).where(Payment.id == payment_id)
                            .values(expires_at=utcnow() - timedelta(minutes=minutes), **values))
        uow.commit()


def test_unpaid_past_expiry_and_margin_fails(pay_app, sandbox, staff):
    margin = int(pay_app.payments.expiry_margin.total_seconds() // 60)
    results = {}
    for currency in AMOUNTS:
        account = make_account(pay_app, staff.support, currency)
        results[currency] = pay_app.payments.create_topup(staff.support, account, AMOUNTS[currency]).payment
    _age(pay_app, results["VND"].id, margin + 1)  # VNPay never opened: querydr says 91
    _age(pay_app, results["USD"].id, margin + 1)  # PayPal order still awaiting the payer
    _age(pay_app, results["JPY"].id, margin - 1)  # within the margin: still asked again later
    changes = {c.payment_id: c for c in pay_app.payments.reconcile(staff.finance)}
    assert set(changes) == {results["VND"].id, results["USD"].id}
    assert all(c.status == "failed" and c.reason.startswith("expired") for c in changes.values())
    assert pay_app.payments.get(staff.support, results["JPY"].id).status == "pending"


def test_paid_just_before_expiry_is_still_credited(pay_app, sandbox, staff):
    account = make_account(pay_app, staff.support, "VND")
    p = pay_app.payments.create_topup(staff.support, account, "500000").payment
    pay(sandbox, p.checkout_url)
    _age(pay_app, p.id, 24 * 60)
    assert [c.status for c in pay_app.payments.reconcile(staff.finance)] == ["success"]


def test_unknown_outcome_past_expiry_stays_pending(pay_app, sandbox, staff):
    account = make_account(pay_app, staff.support, "JPY")
    p = pay_app.payments.create_topup(staff.support, account, "3000").payment
    _age(pay_app, p.id, 24 * 60)
    fault(sandbox, "error500", "/stripe/", times=100)
    assert pay_app.payments.reconcile(staff.finance) == []
    assert pay_app.payments.get(staff.support, p.id).status == "pending"
    clear_faults(sandbox)


def test_never_linked_past_expiry_fails_without_asking(pay_app, sandbox, staff):
    account = make_account(pay_app, staff.support, "USD")
    fault(sandbox, "reset", "/paypal/v2/checkout/orders", method="POST", times=100)
    p = pay_app.payments.create_topup(staff.support, account, "25").payment
    assert p.checkout_url is None
    _age(pay_app, p.id, 24 * 60)
    changes = pay_app.payments.reconcile(staff.finance)
    assert [(c.status, c.reason) for c in changes] == [("failed", "expired: the gateway never gave a link")]

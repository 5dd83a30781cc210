"""Finance's exceptions queue, each kind arising from the sandbox's faults over HTTP, and closing
a payment as failed (pending only, with a reason, audited, never the ledger), on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from billing_desk.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from billing_desk.domain.money import Money
from billing_desk.models import LedgerEntry, Payment, utcnow
from billing_desk.services.payments import UNKNOWN_AFTER_CHECKS, ExceptionKind
from tests.support.customers import make_account
from tests.support.payments import AMOUNTS, clear_faults, control, fault, pay

STRIPE_STATUS = "/stripe/v1/checkout/sessions/"
STRIPE_CREATE = "/stripe/v1/checkout/sessions"


def _start(app, staff, currency):
    account = make_account(app, staff.support, currency)
    return account, app.payments.create_topup(staff.support, account, AMOUNTS[currency]).payment


def _queue(app, staff):
    return {e.payment.id: e for e in app.payments.exceptions(staff.finance)}


def _ledger_rows(app):
    with app.uow.read() as uow:
        return uow.session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()


def test_paid_with_another_amount_is_held_not_credited_and_listed(pay_app, sandbox, staff):
    account, p = _start(pay_app, staff, "USD")
    _, fine = _start(pay_app, staff, "JPY")  # an ordinary unpaid one is not an exception
    assert control(sandbox, "/sandbox/complete", {"checkout_url": p.checkout_url, "action": "pay",
                                                  "paid_amount": "20.00"})["ok"]
    summary = pay_app.payments.reconcile_run(staff.finance)
    assert summary.settled == 0 and [f.payment_id for f in summary.flagged] == [p.id]
    assert pay_app.customers.get(staff.support, account).balance.total == Money(0, "USD")
    assert pay_app.payments.reconcile_run(staff.finance).settled == 0  # asking again does not credit it

    queue = _queue(pay_app, staff)
    assert set(queue) == {p.id} and queue[p.id].payment.customer_account == account
    assert queue[p.id].kind is ExceptionKind.CONTRADICTED and queue[p.id].checks == 2
    assert queue[p.id].why.startswith("Not credited") and "20.00 USD" in queue[p.id].why
    assert "Flagged for finance" not in queue[p.id].why
    assert fine.id not in queue


def test_paid_in_another_currency_is_held(pay_app, sandbox, staff):
    account, p = _start(pay_app, staff, "JPY")
    assert control(sandbox, "/sandbox/complete", {"checkout_url": p.checkout_url, "action": "pay",
                                                  "paid_amount": "3000", "paid_currency": "USD"})["ok"]
    assert [f.payment_id for f in pay_app.payments.reconcile_run(staff.finance).flagged] == [p.id]
    entry = _queue(pay_app, staff)[p.id]
    assert entry.kind is ExceptionKind.CONTRADICTED and "usd paid" in entry.why
    assert pay_app.payments.story(staff.finance, p.id).checks[0].outcome == "refused"
    assert pay_app.customers.get(staff.support, account).balance.total == Money(0, "JPY")


def test_unknown_after_several_checks_without_an_answer(pay_app, sandbox, staff):
    _, p = _start(pay_app, staff, "JPY")
    fault(sandbox, "error500", STRIPE_STATUS, times=1000, method="GET")
    for _ in range(UNKNOWN_AFTER_CHECKS - 1):
        assert pay_app.payments.reconcile_run(staff.finance).unreachable == 1
    assert p.id not in _queue(pay_app, staff)
    pay_app.payments.reconcile_run(staff.finance)
    entry = _queue(pay_app, staff)[p.id]
    assert entry.kind is ExceptionKind.UNKNOWN and f"last {UNKNOWN_AFTER_CHECKS} checks" in entry.why

    clear_faults(sandbox)  # a definite answer ("not paid yet") ends the run of unknowns
    assert pay_app.payments.reconcile_run(staff.finance).still_pending == 1
    assert p.id not in _queue(pay_app, staff)


def test_checkout_never_started(pay_app, sandbox, staff):
    fault(sandbox, "reset", STRIPE_CREATE, times=1000, method="POST")
    _, p = _start(pay_app, staff, "JPY")
    assert p.checkout_url is None and p.id not in _queue(pay_app, staff)  # being started: not yet
    pay_app.payments.reconcile_run(staff.finance)  # the reconciler cannot start it either
    entry = _queue(pay_app, staff)[p.id]
    assert entry.kind is ExceptionKind.NOT_STARTED and "never gave a checkout link" in entry.why
    clear_faults(sandbox)


def test_pending_past_its_expiry(pay_app, sandbox, staff):
    _, p = _start(pay_app, staff, "JPY")
    fault(sandbox, "error500", STRIPE_STATUS, times=1000, method="GET")  # no answer: it cannot be failed
    with pay_app.uow.write() as uow:
        uow.session.execute(update(Payment).where(Payment.id == p.id).values(
            expires_at=utcnow() - pay_app.payments.expiry_margin - timedelta(minutes=5)))
        uow.commit()
    pay_app.payments.reconcile_run(staff.finance)
    entry = _queue(pay_app, staff)[p.id]
    assert entry.kind is ExceptionKind.EXPIRED and "expired" in entry.why and "Last answer" in entry.why
    clear_faults(sandbox)


def test_close_as_failed(pay_app, sandbox, staff):
    account, p = _start(pay_app, staff, "USD")
    pay(sandbox, p.checkout_url, action="pay")
    with pytest.raises(PermissionDenied):
        pay_app.payments.close(staff.support, p.id, "customer asked")
    for blank in ("", "   ", "\n"):
        with pytest.raises(ValidationError, match="reason"):
            pay_app.payments.close(staff.finance, p.id, blank)
    with pytest.raises(NotFound):
        pay_app.payments.close(staff.finance, p.id + 1000, "typo")
    ledger_before = _ledger_rows(pay_app)

    row = pay_app.payments.close(staff.finance, p.id, "  duplicate of an earlier top-up  ")
    assert row.status == "failed" and row.reason == "Closed by finance: duplicate of an earlier top-up"
    assert row.settled_at is not None
    assert _ledger_rows(pay_app) == ledger_before  # closing never moves credit
    assert pay_app.customers.get(staff.support, account).balance.total == Money(0, "USD")
    story = pay_app.payments.story(staff.finance, p.id)
    assert story.audit[-1].action == "payment.close" and story.audit[-1].staff_name == "finance"
    assert "duplicate of an earlier top-up" in story.audit[-1].details and story.ledger is None

    with pytest.raises(Conflict, match="only a pending payment"):
        pay_app.payments.close(staff.finance, p.id, "again")
    assert pay_app.payments.reconcile_run(staff.finance).asked == 0  # a closed one is never asked again


def test_a_settled_payment_cannot_be_closed(pay_app, sandbox, staff):
    _, p = _start(pay_app, staff, "JPY")
    pay(sandbox, p.checkout_url)
    pay_app.payments.reconcile_run(staff.finance)
    with pytest.raises(Conflict, match="already success"):
        pay_app.payments.close(staff.manager, p.id, "wrong one")
    assert pay_app.payments.get(staff.finance, p.id).status == "success"


def test_a_settle_in_flight_wins_over_a_close(pg_url, sandbox, staff):
    """PostgreSQL, two desks: a settle holds the payment's row (its transaction not yet committed)
    when finance closes it. The close waits, then finds it no longer pending: refused in words,
    and the settle's outcome stands."""
    import threading

    from sqlalchemy import create_engine, text

    from billing_desk.bootstrap import build_app
    from billing_desk.config import Settings
    from tests.support.payments import gateway_settings

    app = build_app(Settings(database_url=pg_url, config_path=None, gateways=gateway_settings(sandbox.url)))
    try:
        _, p = _start(app, staff, "JPY")
        other_desk = create_engine(pg_url)
        with other_desk.connect() as conn:
            conn.execute(text("UPDATE payments SET status = 'success', settled_at = now() "
                              "WHERE id = :id AND status = 'pending'"), {"id": p.id})
            outcome: list[BaseException] = []
            closing = threading.Thread(target=lambda: _close_into(app, staff, p.id, outcome))
            closing.start()
            closing.join(timeout=1.0)
            assert closing.is_alive()  # waiting for the settle's row lock
            conn.commit()
        closing.join(timeout=10)
        other_desk.dispose()
        assert len(outcome) == 1 and isinstance(outcome[0], Conflict) and "meanwhile" in str(outcome[0])
        assert app.payments.get(staff.finance, p.id).status == "success"
        assert [a.action for a in app.payments.story(staff.finance, p.id).audit][-1] != "payment.close"
    finally:
        app.close()


def _close_into(app, staff, payment_id, outcome):
    try:
        app.payments.close(staff.finance, payment_id, "duplicate")
    except Exception as exc:  # handed to the test thread
        outcome.append(exc)

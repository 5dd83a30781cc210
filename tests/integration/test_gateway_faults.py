"""Each sandbox misbehaviour leaves the payment pending with no credit; the next reconcile
settles it correctly, and the gateway saw one checkout, not two (idempotency keys)."""

from __future__ import annotations

import pytest

from billing_desk.domain.money import Money
from tests.support.customers import make_account
from tests.support.payments import (
    AMOUNTS,
    clear_faults,
    control,
    fault,
    gateway_settings,
    pay,
    with_gateways,
)

FAULTS = [("slow", {"delay": 2.5}), ("error500", {}), ("rate_limit", {"retry_after": 0.01}), ("reset", {}),
          ("lose_reply", {})]
STATUS_PATHS = {"VND": ("/vnpay/merchant_webapi/api/transaction", "POST"),
                "JPY": ("/stripe/v1/checkout/sessions/", "GET"),
                "USD": ("/paypal/v2/checkout/orders/", "GET")}
CREATE_PATHS = {"JPY": "/stripe/v1/checkout/sessions", "USD": "/paypal/v2/checkout/orders"}
CREATED_COUNTER = {"JPY": "stripe:created", "USD": "paypal:created"}


def _assert_pending_without_credit(app, staff, account, payment_id, currency):
    assert app.payments.get(staff.support, payment_id).status == "pending"
    assert app.customers.get(staff.support, account).balance.total == Money(0, currency)


@pytest.mark.parametrize("currency", list(STATUS_PATHS))
@pytest.mark.parametrize(("kind", "extra"), FAULTS, ids=[f[0] for f in FAULTS])
def test_fault_while_asking_for_status(pay_app, sandbox, staff, currency, kind, extra):
    account = make_account(pay_app, staff.support, currency)
    p = pay_app.payments.create_topup(staff.support, account, AMOUNTS[currency]).payment
    pay(sandbox, p.checkout_url)
    path, method = STATUS_PATHS[currency]
    fault(sandbox, kind, path, method=method, **extra)

    assert pay_app.payments.reconcile(staff.finance) == []
    _assert_pending_without_credit(pay_app, staff, account, p.id, currency)
    assert pay_app.payments.get(staff.support, p.id).reason.startswith("last check:")

    clear_faults(sandbox)
    assert [c.status for c in pay_app.payments.reconcile(staff.finance)] == ["success"]
    assert pay_app.payments.reconcile(staff.finance) == []
    assert pay_app.customers.get(staff.support, account).balance.total == p.amount


@pytest.mark.parametrize("currency", list(CREATE_PATHS))
@pytest.mark.parametrize(("kind", "extra"), FAULTS, ids=[f[0] for f in FAULTS])
def test_fault_while_creating_the_checkout(pay_app, sandbox, staff, currency, kind, extra):
    account = make_account(pay_app, staff.support, currency)
    fault(sandbox, kind, CREATE_PATHS[currency], method="POST", **extra)
    result = pay_app.payments.create_topup(staff.support, account, AMOUNTS[currency])
    assert result.problem and result.payment.checkout_url is None and result.payment.status == "pending"

    clear_faults(sandbox)
    assert pay_app.payments.reconcile(staff.finance) == []  # gets the link (same idempotency key), not paid
    p = pay_app.payments.get(staff.support, result.payment.id)
    assert p.checkout_url and p.status == "pending"
    _assert_pending_without_credit(pay_app, staff, account, p.id, currency)

    pay(sandbox, p.checkout_url)
    assert [c.status for c in pay_app.payments.reconcile(staff.finance)] == ["success"]
    assert pay_app.customers.get(staff.support, account).balance.total == p.amount
    counts = control(sandbox, "/sandbox/state", method="GET")["counts"]
    assert counts[CREATED_COUNTER[currency]] == 1  # retries replayed; no second checkout


def test_paypal_capture_reply_lost_then_settled_from_the_order(pay_app, sandbox, staff):
    account = make_account(pay_app, staff.support, "USD")
    p = pay_app.payments.create_topup(staff.support, account, "25").payment
    pay(sandbox, p.checkout_url)
    fault(sandbox, "lose_reply", "/paypal/v2/checkout/orders/", method="POST", times=10)
    assert pay_app.payments.reconcile(staff.finance) == []
    _assert_pending_without_credit(pay_app, staff, account, p.id, "USD")
    clear_faults(sandbox)
    assert [c.status for c in pay_app.payments.reconcile(staff.finance)] == ["success"]
    counts = control(sandbox, "/sandbox/state", method="GET")["counts"]
    assert counts["paypal:captured"] == 1 and counts.get("paypal:capture_replay", 0) >= 1


def test_gateway_recovers_within_the_retries(pay_app, sandbox, staff):
    account = make_account(pay_app, staff.support, "JPY")
    fault(sandbox, "error500", CREATE_PATHS["JPY"], method="POST", times=1)
    result = pay_app.payments.create_topup(staff.support, account, "3000")
    assert result.problem is None and result.payment.checkout_url


@pytest.mark.slow  # the sandbox holds the create for 3 s on purpose
def test_pending_row_and_key_are_committed_before_the_gateway_is_called(pay_app, sandbox, staff):
    import threading
    import time

    from sqlalchemy import select

    from billing_desk.models import Payment

    account = make_account(pay_app, staff.support, "JPY")
    patient = with_gateways(pay_app, gateway_settings(sandbox.url, read_timeout=30.0))  # waits out the delay
    fault(sandbox, "slow", CREATE_PATHS["JPY"], method="POST", times=1, delay=3.0)
    done = threading.Event()
    results = []
    worker = threading.Thread(target=lambda: (results.append(patient.payments.create_topup(
        staff.support, account, "3000")), done.set()))
    worker.start()
    deadline = time.monotonic() + 30
    while not control(sandbox, "/sandbox/state", method="GET")["counts"].get("fault:slow"):
        assert time.monotonic() < deadline, "the create never reached the sandbox"
    assert not done.is_set()  # the gateway call is in flight (held by the sandbox)...
    with pay_app.uow.read() as uow:  # ...and the pending row with its key is already visible
        row = uow.session.execute(select(Payment.status, Payment.idempotency_key, Payment.gateway_reference)).one()
    assert row.status == "pending" and row.gateway_reference is None
    worker.join(timeout=60)
    patient.close()
    assert results[0].payment.checkout_url  # one attempt, answered late but within the timeout
    with sandbox.state.lock:
        assert row.idempotency_key in sandbox.state.stripe_keys  # the stored key is the one sent

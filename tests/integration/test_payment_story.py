"""A payment's story: every status check recorded (who, which run, why it was asked, what the
gateway said), the ledger row it produced and its audit entries; and reconcile_run's counts,
against the sandbox over HTTP on both databases."""

from __future__ import annotations

import pytest

from billing_desk.domain.errors import NotFound, PermissionDenied, ValidationError
from billing_desk.domain.money import Money
from tests.support.customers import make_account
from tests.support.payments import AMOUNTS, clear_faults, control, fault, pay

STRIPE_STATUS = "/stripe/v1/checkout/sessions/"
VNPAY_API = "/vnpay/merchant_webapi/api/transaction"


def _start(app, staff, currency):
    account = make_account(app, staff.support, currency)
    return account, app.payments.create_topup(staff.support, account, AMOUNTS[currency]).payment


def test_every_check_is_recorded_with_its_run_trigger_and_answer(pay_app, sandbox, staff):
    account, p = _start(pay_app, staff, "JPY")
    pay_app.payments.reconcile(staff.finance)  # not paid yet
    pay_app.payments.reconcile(staff.support, account)  # support's refresh of the customer
    pay(sandbox, p.checkout_url)
    summary = pay_app.payments.reconcile_run(staff.finance, [p.id])  # finance re-checks this one

    story = pay_app.payments.story(staff.finance, p.id)
    assert [(c.trigger, c.outcome, c.staff_name) for c in story.checks] == [
        ("reconcile", "pending", "finance"), ("refresh", "pending", "support"), ("recheck", "paid", "finance")]
    assert len({c.run_id for c in story.checks}) == 3 and all(len(c.run_id) == 32 for c in story.checks)
    assert story.checks[0].answer == "not paid yet" and story.checks[2].answer == "paid"
    assert story.checks[0].checked_at < story.checks[1].checked_at < story.checks[2].checked_at
    assert (summary.asked, summary.settled, summary.still_pending) == (1, 1, 0)

    assert story.payment.status == "success" and story.started_by == "support" and story.check_count == 3
    assert story.ledger is not None and story.ledger.amount == p.amount
    assert f"payment {p.id}" in story.ledger.description
    assert [a.action for a in story.audit] == ["payment.create", "payment.checkout", "payment.settle"]
    assert story.audit[0].staff_name == "support" and story.audit[2].staff_name == "finance"
    assert "¥3,000" in story.audit[0].details or "3,000" in story.audit[0].details
    assert "ledger entries" in story.audit[2].details and "{" not in story.audit[2].details


def test_one_run_one_id_and_a_failed_check_keeps_no_secret(pay_app, sandbox, staff):
    _, first = _start(pay_app, staff, "VND")
    _, second = _start(pay_app, staff, "VND")
    fault(sandbox, "error500", VNPAY_API, times=100)
    summary = pay_app.payments.reconcile_run(staff.finance)
    assert (summary.asked, summary.unreachable, summary.changes) == (2, 2, ())
    checks = [pay_app.payments.story(staff.finance, p.id).checks for p in (first, second)]
    assert [len(c) for c in checks] == [1, 1]
    assert checks[0][0].run_id == checks[1][0].run_id
    assert checks[0][0].outcome == "unknown" and checks[0][0].answer
    for secret in pay_app.payments.gateways.secrets():
        assert not secret or secret not in checks[0][0].answer
    clear_faults(sandbox)


def test_a_refused_answer_is_a_refused_check_in_the_flag_transaction(pay_app, sandbox, staff):
    account, p = _start(pay_app, staff, "VND")
    pay(sandbox, p.checkout_url)
    fault(sandbox, "bad_signature", VNPAY_API, times=100)
    summary = pay_app.payments.reconcile_run(staff.finance)
    assert [f.payment_id for f in summary.flagged] == [p.id] and summary.settled == 0
    story = pay_app.payments.story(staff.finance, p.id)
    assert [c.outcome for c in story.checks] == ["refused"] and "checksum" in story.checks[0].answer
    assert story.ledger is None and story.flagged_at is not None
    assert pay_app.customers.get(staff.support, account).balance.total == Money(0, "VND")
    clear_faults(sandbox)


def test_reconcile_run_counts_each_ending(pay_app, sandbox, staff):
    _, paid = _start(pay_app, staff, "USD")
    _, cancelled = _start(pay_app, staff, "JPY")
    _, waiting = _start(pay_app, staff, "JPY")
    _start(pay_app, staff, "VND")  # its gateway does not answer
    pay(sandbox, paid.checkout_url)
    pay(sandbox, cancelled.checkout_url, action="cancel")
    fault(sandbox, "error500", VNPAY_API, times=100)
    done = []
    summary = pay_app.payments.reconcile_run(staff.finance, progress=lambda d, t: done.append((d, t)))
    assert (summary.asked, summary.settled, summary.failed, summary.still_pending, summary.unreachable) == (
        4, 1, 1, 1, 1)
    assert {c.payment_id: c.status for c in summary.changes} == {paid.id: "success", cancelled.id: "failed"}
    assert not summary.cancelled and done[-1] == (4, 4)
    clear_faults(sandbox)

    # Only the chosen ones, and only if still pending: the settled one is skipped, not asked.
    summary = pay_app.payments.reconcile_run(staff.finance, [waiting.id, paid.id])
    assert (summary.asked, summary.still_pending) == (1, 1)
    assert [c.trigger for c in pay_app.payments.story(staff.finance, waiting.id).checks] == ["reconcile", "recheck"]
    assert len(pay_app.payments.story(staff.finance, paid.id).checks) == 1
    assert pay_app.payments.reconcile_run(staff.finance, cancel=lambda: True).cancelled


def test_reconcile_run_refusals(pay_app, sandbox, staff):
    _, p = _start(pay_app, staff, "JPY")
    with pytest.raises(PermissionDenied):
        pay_app.payments.reconcile_run(staff.support, [p.id])
    with pytest.raises(ValidationError):
        pay_app.payments.reconcile_run(staff.finance, [])
    assert pay_app.payments.reconcile_run(staff.support, customer_ref=p.customer_id).asked == 1  # a refresh


def test_the_story_is_finance_s(pay_app, sandbox, staff):
    _, p = _start(pay_app, staff, "JPY")
    with pytest.raises(PermissionDenied):
        pay_app.payments.story(staff.support, p.id)
    with pytest.raises(NotFound):
        pay_app.payments.story(staff.finance, p.id + 1000)
    story = pay_app.payments.story(staff.manager, p.id)
    assert story.checks == () and story.ledger is None and [a.action for a in story.audit] == [
        "payment.create", "payment.checkout"]
    assert control(sandbox, "/sandbox/state", method="GET")["counts"]  # the sandbox was really used

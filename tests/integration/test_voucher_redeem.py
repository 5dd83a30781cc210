"""Redeeming vouchers: the credit, every refusal, the brute-force guard, lists and search."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from billing_desk.bootstrap import App
from billing_desk.domain.enums import EntryStatus, LedgerKind
from billing_desk.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from billing_desk.domain.money import Money
from billing_desk.models import Voucher, VoucherAttempt, utcnow
from billing_desk.services.ledger.posting import Posting, post
from billing_desk.services.vouchers.dtos import IssueRequest
from billing_desk.services.vouchers.service import VoucherLocked
from tests.support.customers import make_customer
from tests.support.database import audit_rows, raw, run

pytestmark = pytest.mark.usefixtures("voucher_key")  # every desk of a test shares the test code key

USD10 = Money(1000, "USD")


def _issue(app: App, staff, **kw) -> tuple[str, int]:
    issued = app.vouchers.issue(staff.manager, IssueRequest(kw.pop("amount", USD10), **kw))
    return issued.codes[0], issued.voucher_ids[0]


def test_redeem_credits_voucher_balance_with_expiry_atomically(app: App, staff) -> None:
    cid = make_customer(app, staff.support, "USD")
    code, vid = _issue(app, staff, credit_days=30)
    result = app.vouchers.redeem(staff.support, cid, code.lower().replace("-", " "))
    assert result.amount == USD10 and result.balance_total == USD10 and result.balance_voucher == USD10
    assert result.credit_expires_at is not None
    assert timedelta(days=29, hours=23) < result.credit_expires_at - utcnow() <= timedelta(days=30)
    customer = app.customers.get(staff.support, cid)
    assert customer.balance and customer.balance.voucher == USD10 and customer.balance.topup == Money(0, "USD")
    [entry] = raw(app, "SELECT kind, source, amount, idempotency_key, voucher_redemption_id, status "
                       "FROM ledger_entries WHERE customer_id = :c", c=cid)
    assert tuple(entry) == ("voucher", "voucher", 1000, f"voucher-{vid}", result.redemption_id, "success")
    [lot] = raw(app, "SELECT granted, remaining, redemption_id FROM voucher_credit_lots WHERE customer_id = :c", c=cid)
    assert tuple(lot) == (1000, 1000, result.redemption_id)
    assert raw(app, "SELECT redemption_count FROM vouchers WHERE id = :v", v=vid)[0][0] == 1
    assert audit_rows(app, "voucher.redeem")[0]["summary"]["customer_id"] == cid


def test_a_usage_keyed_like_the_redemption_does_not_block_it(app: App, staff) -> None:
    cid = make_customer(app, staff.support, "USD")
    code, vid = _issue(app, staff)
    # The feed chose the key the redemption posts with; with no credit yet, its charge is kept
    # as a failed row that holds the key.
    usage = app.ledger.record_usage(staff.manager, cid, service="Storage", amount="1.00", key=f"voucher-{vid}")
    assert usage.status is EntryStatus.FAILED
    result = app.vouchers.redeem(staff.support, cid, code)
    assert result.balance_total == USD10 and result.balance_voucher == USD10
    again = app.ledger.record_usage(staff.manager, cid, service="Storage", amount="1.00", key=f"voucher-{vid}")
    assert again.duplicate and again.status is EntryStatus.FAILED  # still the feed's own refused charge


def _refusal(app: App, staff, cid: int, code: str, error: type[Exception], text: str) -> None:
    before = raw(app, "SELECT count(*) FROM ledger_entries")[0][0]
    with pytest.raises(error) as err:
        app.vouchers.redeem(staff.support, cid, code)
    assert text in str(err.value)
    assert raw(app, "SELECT count(*) FROM ledger_entries")[0][0] == before
    # Age the failure so that this walk through every refusal never trips the brute-force guard.
    run(app, update(VoucherAttempt).values(attempted_at=utcnow() - timedelta(hours=1)))


def test_each_refusal_has_its_own_reason_and_moves_nothing(app: App, staff) -> None:
    now = utcnow()
    us = make_customer(app, staff.support, "USD")
    other = make_customer(app, staff.support, "USD", name="Liam Brown")
    jp = make_customer(app, staff.support, country="JP", currency="JPY", name="Sato Yui")
    nocur = make_customer(app, staff.support, currency=None, name="Noah Lee")
    _refusal(app, staff, us, "ABCD", ValidationError, "is not a voucher code")
    _refusal(app, staff, us, "ABCD-EFGH-JKMN-PQRS-TUVW", NotFound, "No voucher has this code")
    code, _ = _issue(app, staff)
    _refusal(app, staff, jp, code, Conflict, "This voucher is in USD, but")
    _refusal(app, staff, nocur, code, Conflict, "no billing currency yet")
    later, _ = _issue(app, staff, valid_from=now + timedelta(days=2))
    _refusal(app, staff, us, later, Conflict, "cannot be used before")
    old, old_id = _issue(app, staff, valid_until=now + timedelta(days=1))
    run(app, update(Voucher).where(Voucher.id == old_id).values(valid_until=now - timedelta(seconds=1)))
    _refusal(app, staff, us, old, Conflict, "expired on")
    revoked, revoked_id = _issue(app, staff)
    app.vouchers.revoke(staff.manager, revoked_id, "misprint")
    _refusal(app, staff, us, revoked, Conflict, "was revoked")
    named, _ = _issue(app, staff, customer_ref=other)
    _refusal(app, staff, us, named, Conflict, "issued for another customer")
    assert app.vouchers.redeem(staff.support, other, named).amount == USD10
    used, _ = _issue(app, staff)
    app.vouchers.redeem(staff.support, other, used)
    _refusal(app, staff, us, used, Conflict, "used up")
    multi, _ = _issue(app, staff, max_redemptions=3)
    app.vouchers.redeem(staff.support, us, multi)
    _refusal(app, staff, us, multi, Conflict, "already redeemed this voucher")
    assert app.vouchers.redeem(staff.support, other, multi).balance_total == Money(3000, "USD")


def test_finance_cannot_redeem(app: App, staff) -> None:
    cid = make_customer(app, staff.support, "USD")
    code, _ = _issue(app, staff)
    with pytest.raises(PermissionDenied):
        app.vouchers.redeem(staff.finance, cid, code)


def test_five_failures_in_fifteen_minutes_lock_the_customer_and_each_refusal_is_audited(app: App, staff) -> None:
    cid = make_customer(app, staff.support, "USD")
    other = make_customer(app, staff.support, "USD", name="Mia Novak")
    good, _ = _issue(app, staff)
    for wrong in ("nope", "ABCD-EFGH-JKMN-PQRS-TUVW", "ABCD-EFGH-JKMN-PQRS-TUVX", "x", "ABCD-EFGH-JKMN-PQRS-TUVY"):
        with pytest.raises((ValidationError, NotFound)):
            app.vouchers.redeem(staff.support, cid, wrong)
    # The failed attempts were committed although each redemption failed.
    assert raw(app, "SELECT count(*) FROM voucher_attempts WHERE customer_id = :c AND succeeded = :f",
               c=cid, f=False)[0][0] == 5
    for _ in range(2):
        with pytest.raises(VoucherLocked) as err:
            app.vouchers.redeem(staff.support, cid, good)  # even the right code is refused now
        assert "Too many wrong voucher codes" in str(err.value)
    locked = audit_rows(app, "voucher.redeem_locked")
    assert len(locked) == 2 and locked[0]["entity_id"] == str(cid)
    # Another customer is not affected.
    other_code, _ = _issue(app, staff)
    assert app.vouchers.redeem(staff.support, other, other_code).amount == USD10
    # Refusals during the lock do not extend it: once the failures are 15 minutes old, it lifts.
    run(app, update(VoucherAttempt).where(VoucherAttempt.customer_id == cid, VoucherAttempt.reason != "locked")
        .values(attempted_at=utcnow() - timedelta(minutes=15, seconds=1)))
    assert app.vouchers.redeem(staff.support, cid, good).amount == USD10


def test_four_failures_do_not_lock(app: App, staff) -> None:
    cid = make_customer(app, staff.support, "USD")
    good, _ = _issue(app, staff)
    for _ in range(4):
        with pytest.raises(NotFound):
            app.vouchers.redeem(staff.support, cid, "ABCD-EFGH-JKMN-PQRS-TUVW")
    assert app.vouchers.redeem(staff.support, cid, good).amount == USD10


def test_customer_voucher_list_shows_remaining_credit_and_expiry(app: App, staff) -> None:
    cid = make_customer(app, staff.support, "USD")
    first, _ = _issue(app, staff, campaign="Welcome", credit_days=10)
    second, _ = _issue(app, staff, amount=Money(2500, "USD"))
    app.vouchers.redeem(staff.support, cid, first)
    app.vouchers.redeem(staff.support, cid, second)
    rows = app.vouchers.customer_vouchers(staff.support, cid)
    assert [r.amount for r in rows] == [Money(2500, "USD"), USD10]
    assert rows[1].campaign == "Welcome" and rows[1].expires_at is not None and rows[0].expires_at is None
    assert [r.remaining for r in rows] == [Money(2500, "USD"), USD10]
    with app.uow.write() as uow:  # usage draws the earliest-expiring voucher credit first
        post(uow.session, Posting(cid, LedgerKind.USAGE, Money(-1500, "USD"), service="Storage"))
        uow.commit()
    rows = app.vouchers.customer_vouchers(staff.support, cid)
    assert [r.remaining for r in rows] == [Money(2000, "USD"), Money(0, "USD")]


def test_expire_writes_off_expired_credit_once_and_is_safe_to_repeat(app: App, staff, cli) -> None:
    cid = make_customer(app, staff.support, "USD")
    code, _ = _issue(app, staff, credit_days=5)
    keep, _ = _issue(app, staff, amount=Money(300, "USD"))
    app.vouchers.redeem(staff.support, cid, code)
    app.vouchers.redeem(staff.support, cid, keep)
    later = utcnow() + timedelta(days=6)
    run_ = app.vouchers.expire(staff.manager, now=later)
    assert (run_.customers, run_.lots, run_.written_off) == (1, 1, (USD10,))
    again = app.vouchers.expire(staff.manager, now=later)
    assert (again.customers, again.lots) == (0, 0)
    balance = app.customers.get(staff.support, cid).balance
    assert balance and balance.voucher == Money(300, "USD") and balance.total == Money(300, "USD")
    [row] = raw(app, "SELECT kind, amount, idempotency_key FROM ledger_entries WHERE kind = 'expiry'")
    assert row[0] == "expiry" and row[1] == -1000 and row[2].startswith("expire-lot-")
    assert audit_rows(app, "voucher.expire_credit")[0]["summary"]["lots"] == 1
    with pytest.raises(PermissionDenied):
        app.vouchers.expire(staff.support)
    r = cli("vouchers", "expire", "--json", "--user", "manager")
    assert r.code == 0 and json.loads(r.out) == {"customers": 0, "lots": 0, "written_off": []}


def test_search_by_a_vouchers_last_four_finds_who_redeemed_it(app: App, staff) -> None:
    cid = make_customer(app, staff.support, "USD", name="Hugo Dubois")
    make_customer(app, staff.support, "USD", name="Ella Jensen")
    code, _ = _issue(app, staff)
    app.vouchers.redeem(staff.support, cid, code)
    hits = app.customers.find(staff.support, code[-4:].lower())
    assert [h.id for h in hits if h.matched.startswith("voucher")] == [cid]
    assert hits[0].matched == f"voucher ...{code[-4:]}"


def test_cli_redeem_and_customer_list(cli, app: App, staff) -> None:
    cid = make_customer(app, staff.support, "USD")
    code, vid = _issue(app, staff, credit_days=30)
    r = cli("voucher", "redeem", code, "--customer", str(cid), "--json", "--user", "support")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["voucher_id"] == vid and data["amount"]["display"] == "$10.00"
    assert data["balance"]["voucher"] == {"minor": 1000, "currency": "USD", "display": "$10.00"}
    r = cli("voucher", "redeem", code, "--customer", str(cid), "--user", "support")
    assert r.code == 6 and r.err.count("\n") == 1 and "already redeemed" in r.err
    r = cli("voucher", "redeem", "bad", "--customer", str(cid), "--user", "support")
    assert r.code == 2 and "is not a voucher code" in r.err
    r = cli("voucher", "customer", str(cid), "--json", "--user", "support")
    [row] = json.loads(r.out)
    assert row["voucher_id"] == vid and row["remaining"]["minor"] == 1000 and row["expires_at"]
    r = cli("voucher", "customer", str(cid), "--user", "support")
    assert "..." + code[-4:] in r.out


@pytest.mark.demo_database
def test_demo_seed_adds_plans_campaigns_and_redeemable_sample_codes(cli, app: App, staff) -> None:
    r = cli("demo", "seed", "--customers", "80", "--seed", "3", "--json", "--user", "admin")
    assert r.code == 0, r.err
    detail = next(d for d in json.loads(r.out)["details"] if d.startswith("plans:"))
    codes = detail.split("unused demo codes to try: ")[1].split(", ")
    assert len(codes) == 4  # VND, JPY, USD, EUR
    assert [p.code for p in app.plans.catalog(staff.support, "JPY")] == ["free", "starter", "pro", "enterprise"]
    assert all(p.price is not None for p in app.plans.catalog(staff.support, "EUR"))
    names = {c.name for c in app.vouchers.campaigns(staff.manager)}
    assert {"Welcome 2026", "Leaked flyer", "Summer 2027", "Autumn 2025"} <= names
    [usd_customer] = [row[0] for row in raw(app, "SELECT customer_id FROM customer_balances WHERE currency = 'USD' "
                                                 "ORDER BY customer_id DESC LIMIT 1")]
    result = app.vouchers.redeem(staff.support, usd_customer, codes[2])
    assert result.amount == USD10

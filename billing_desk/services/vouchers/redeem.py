"""Redeeming a voucher for a customer, exactly once, with a brute-force guard.

One transaction: lock the customer's balance row (which serialises one customer's
attempts), check the code, claim a use with a conditional UPDATE whose row count decides
(so 50 desks racing for the last use give one winner), insert the redemption (its unique
(voucher, customer) key backs "once per customer"), and post the credit to the ledger.

Any refusal rolls all of that back and then commits a failed-attempt row on its own, so the
guard counts it even though the redemption failed: 5 failed codes for one customer within
15 minutes lock further attempts for that customer for 15 minutes, and each refusal during
the lock is audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing_desk.domain.enums import CreditSource, LedgerKind
from billing_desk.domain.errors import BillingDeskError, Conflict, NotFound, ValidationError
from billing_desk.domain.money import Money
from billing_desk.domain.permissions import Actor, Permission
from billing_desk.models import Customer, CustomerBalance, Voucher, VoucherAttempt, VoucherRedemption, utcnow
from billing_desk.services import audit
from billing_desk.services.crashpoints import crash_point
from billing_desk.services.customers import resolve_customer
from billing_desk.services.ledger import Posting, lock_balance, post
from billing_desk.services.uow import UnitOfWork, UnitOfWorkFactory
from billing_desk.services.vouchers.batches import batch_refusal
from billing_desk.services.vouchers.codes import CodeKey, code_hash, normalise_code
from billing_desk.services.vouchers.dtos import RedemptionResult
from billing_desk.services.vouchers.issue import credit_expiry

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCKED_REASON = "locked"


class VoucherLocked(Conflict):
    """Too many wrong codes for this customer: wait until ``until``."""

    def __init__(self, message: str, until: datetime) -> None:
        super().__init__(message, field="code")
        self.until = until


class _Refused(Exception):
    """A refusal to record as a failed attempt before it reaches the caller."""

    def __init__(self, error: BillingDeskError) -> None:
        super().__init__(error.message)
        self.error = error


def locked_until(session: Session, customer_id: int, now: datetime) -> datetime | None:
    """When the lock ends, if the customer has 5 failed codes in the last 15 minutes."""
    recent = session.scalars(
        select(VoucherAttempt.attempted_at)
        .where(VoucherAttempt.customer_id == customer_id, VoucherAttempt.attempted_at > now - WINDOW,
               VoucherAttempt.succeeded.is_(False), VoucherAttempt.reason != LOCKED_REASON)
        .order_by(VoucherAttempt.attempted_at.desc())
        .limit(MAX_FAILURES)
    ).all()
    if len(recent) < MAX_FAILURES:
        return None
    # The lock lasts until the 5th most recent failure leaves the 15-minute window.
    return recent[MAX_FAILURES - 1] + WINDOW


def _record_attempt(session: Session, customer_id: int, actor: Actor, reason: str, succeeded: bool) -> None:
    session.execute(insert(VoucherAttempt).values(
        customer_id=customer_id, attempted_at=utcnow(), succeeded=succeeded, reason=reason[:500],
        staff_id=actor.staff_id,
    ))


def _find_voucher(session: Session, key: CodeKey, code: str) -> Voucher:
    try:
        plain = normalise_code(code)
    except ValidationError as exc:
        raise _Refused(exc) from None
    voucher = session.scalar(select(Voucher).where(Voucher.code_hash == code_hash(key(), plain)))
    if voucher is None:
        raise _Refused(NotFound("No voucher has this code; check it letter by letter.", field="code"))
    return voucher


def _check_voucher(session: Session, voucher: Voucher, customer: Customer, now: datetime) -> None:
    """Each reason a valid code may still not redeem, in the order a person would fix them."""
    def refuse(message: str) -> _Refused:
        return _Refused(Conflict(message, field="code"))

    unfinished = batch_refusal(session, voucher.batch_id)
    if unfinished:
        raise refuse(unfinished)
    if customer.currency is None:
        raise refuse(f"{customer.account} has no billing currency yet; choose it before redeeming a voucher.")
    if voucher.currency != customer.currency:
        raise refuse(f"This voucher is in {voucher.currency}, but {customer.account} is billed in {customer.currency}.")
    if voucher.revoked_at is not None:
        raise refuse(f"This voucher was revoked on {voucher.revoked_at:%Y-%m-%d} and can no longer be used.")
    if voucher.customer_id is not None and voucher.customer_id != customer.id:
        raise refuse("This voucher was issued for another customer and cannot be used here.")
    if voucher.valid_from is not None and now < voucher.valid_from:
        raise refuse(f"This voucher cannot be used before {voucher.valid_from:%Y-%m-%d %H:%M} UTC.")
    if voucher.valid_until is not None and now >= voucher.valid_until:
        raise refuse(f"This voucher expired on {voucher.valid_until:%Y-%m-%d %H:%M} UTC.")
    already = session.scalar(select(VoucherRedemption.id).where(
        VoucherRedemption.voucher_id == voucher.id, VoucherRedemption.customer_id == customer.id))
    if already is not None:
        raise refuse(f"{customer.account} has already redeemed this voucher; each customer may use it once.")
    if voucher.redemption_count >= voucher.max_redemptions:
        raise refuse("This voucher has been used up.")


def _claim_use(session: Session, voucher_id: int) -> None:
    """Take one use; the row count decides between desks racing for the last one."""
    result = session.execute(
        update(Voucher)
        .where(Voucher.id == voucher_id, Voucher.redemption_count < Voucher.max_redemptions,
               Voucher.revoked_at.is_(None))
        .values(redemption_count=Voucher.redemption_count + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise _Refused(Conflict("This voucher has just been used up.", field="code"))


def _redeem_in(uow: UnitOfWork, key: CodeKey, actor: Actor, customer: Customer, code: str) -> RedemptionResult:
    session = uow.session
    now = utcnow()
    voucher = _find_voucher(session, key, code)
    _check_voucher(session, voucher, customer, now)
    _claim_use(session, voucher.id)
    try:
        with session.begin_nested():
            redemption = VoucherRedemption(voucher_id=voucher.id, customer_id=customer.id, amount=voucher.amount,
                                           currency=voucher.currency, redeemed_at=now, staff_id=actor.staff_id,
                                           campaign_id=voucher.campaign_id)
            session.add(redemption)
            session.flush()
    except IntegrityError:  # a second desk redeemed it for this customer a moment ago
        raise _Refused(Conflict(f"{customer.account} has already redeemed this voucher.", field="code")) from None
    expires = credit_expiry(voucher.credit_days, now)
    amount = Money(voucher.amount, voucher.currency)
    post(session, Posting(
        customer.id, LedgerKind.VOUCHER, amount, description=f"Voucher ...{voucher.last4}",
        source=CreditSource.VOUCHER, voucher_redemption_id=redemption.id, voucher_expires_at=expires,
        idempotency_key=f"voucher-{voucher.id}", staff_id=actor.staff_id,
    ))
    _record_attempt(session, customer.id, actor, "redeemed", True)
    audit.record(session, actor, "voucher.redeem", "voucher", voucher.id, {
        "customer_id": customer.id, "redemption_id": redemption.id, "amount": amount.to_json(),
        "credit_expires_at": expires, "last4": voucher.last4,
    })
    balance = session.get(CustomerBalance, customer.id)
    assert balance is not None
    result = RedemptionResult(voucher.id, redemption.id, customer.id, customer.account, amount, expires,
                              Money(balance.total, balance.currency), Money(balance.voucher, balance.currency),
                              voucher.last4)
    crash_point("redeem.before_commit")
    uow.commit()
    crash_point("redeem.after_commit")  # redeemed, but the desk has not been told
    return result


def redeem(uow: UnitOfWorkFactory, key: CodeKey, actor: Actor, customer_ref: str | int, code: str) -> RedemptionResult:
    actor.require(Permission.VOUCHER_REDEEM)
    with uow.write() as w:
        customer = resolve_customer(w.session, customer_ref)
        if customer.currency is not None:
            lock_balance(w.session, customer.id)
        until = locked_until(w.session, customer.id, utcnow())
        if until is not None:
            _record_attempt(w.session, customer.id, actor, LOCKED_REASON, False)
            audit.record(w.session, actor, "voucher.redeem_locked", "customer", customer.id,
                         {"locked_until": until, "failures": MAX_FAILURES})
            w.commit()
            raise VoucherLocked(
                f"Too many wrong voucher codes for {customer.account}: try again after "
                f"{until:%H:%M} UTC ({MAX_FAILURES} failures within 15 minutes).", until)
        customer_id = customer.id
        try:
            return _redeem_in(w, key, actor, customer, code)
        except _Refused as refused:
            w.session.rollback()
            _record_attempt(w.session, customer_id, actor, refused.error.message, False)
            w.commit()
            raise refused.error from None

"""Ledger set-up: credit posted the way payments and vouchers post it (with the settled
payment or the redemption behind it, so that ``ledger verify`` finds its cause), a seed
top-up, and a short history of usage for the desk's tabs."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from billing_desk.bootstrap import App
from billing_desk.domain.enums import LedgerKind
from billing_desk.domain.money import PAYPAL_CURRENCIES, Money
from billing_desk.domain.topup_limits import method_for
from billing_desk.models import Payment, Voucher, VoucherRedemption, utcnow
from billing_desk.services.customers.dtos import CustomerDTO
from billing_desk.services.ledger.posting import Posting, PostingResult, post, post_many
from tests.support.staff import StaffActors


def caused(session: Session, p: Posting) -> Posting:
    """``p`` pointing at a cause written for it: a settled payment for a top-up, a used-up
    single-use voucher's redemption for a voucher credit (other kinds are returned as they are)."""
    now = p.created_at or utcnow()
    if p.kind is LedgerKind.TOPUP:
        payment = Payment(customer_id=p.customer_id, amount=p.amount.minor, currency=p.amount.currency,
                          method=method_for(p.amount.currency, PAYPAL_CURRENCIES).value, status="success",
                          idempotency_key=uuid.uuid4().hex, gateway_data="{}", created_at=now, settled_at=now)
        session.add(payment)
        session.flush()
        return dataclasses.replace(p, payment_id=payment.id)
    if p.kind is LedgerKind.VOUCHER:
        voucher = Voucher(code_hash=uuid.uuid4().hex, last4="TEST", amount=p.amount.minor, currency=p.amount.currency,
                          max_redemptions=1, redemption_count=1, customer_id=p.customer_id, created_at=now)
        session.add(voucher)
        session.flush()
        redemption = VoucherRedemption(voucher_id=voucher.id, customer_id=p.customer_id, amount=p.amount.minor,
                                       currency=p.amount.currency, redeemed_at=now)
        session.add(redemption)
        session.flush()
        return dataclasses.replace(p, voucher_redemption_id=redemption.id)
    return p


def credit(app: App, customer_id: int, minor: int, currency: str, *, voucher: bool = False,
           expires_at: datetime | None = None, key: str | None = None) -> PostingResult:
    """A top-up (or voucher credit) as the payment and voucher services post it."""
    kind = LedgerKind.VOUCHER if voucher else LedgerKind.TOPUP
    with app.uow.write() as uow:
        posting = Posting(customer_id, kind, Money(minor, currency),
                          description="Voucher credit" if voucher else "Top-up via VNPay",
                          idempotency_key=key, voucher_expires_at=expires_at)
        result = post(uow.session, caused(uow.session, posting))
        if not result.duplicate:  # a repeat credits nothing, so the cause written for it goes too
            uow.commit()
        return result


def seed_history(app: App, staff: StaffActors, customer: CustomerDTO, count: int) -> None:
    """An opening promotion, ``count`` inference usages and one failed Storage usage."""
    app.ledger.adjust(staff.manager, customer.id, "5,000,000", "Opening credit", promotion=True)
    for i in range(count):
        app.ledger.record_usage(staff.manager, customer.id, service="AI Inference",
                                amount=f"{(i + 1) * 1000}", description=f"Inference batch {i}")
    app.ledger.record_usage(staff.manager, customer.id, service="Storage", amount="9,000,000",
                            description="Storage usage for 1 model")  # more than the balance: a failed row


def top_up(app: App, customer_id: int, amount: Money, key: str = "seed-topup") -> None:
    """A seed top-up of ``amount``, which must succeed."""
    result = credit(app, customer_id, amount.minor, amount.currency, key=key)
    assert result.succeeded


def replay(app: App, postings: Iterable[Posting], *, expire_by: datetime | None = None) -> None:
    """A history written at its own moments (each posting's ``created_at``, in time order), with
    the cause behind each top-up and voucher credit: voucher credit expires when the customer's
    next posting comes after its expiry, as the demo seeds it (``post_many(replay=True)``)."""
    with app.uow.write() as uow:
        ordered = sorted(postings, key=lambda p: p.created_at or utcnow())
        post_many(uow.session, [caused(uow.session, p) for p in ordered], replay=True, expire_by=expire_by)
        uow.commit()

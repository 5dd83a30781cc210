"""Ledger set-up: credit posted the way payments and vouchers post it, a seed top-up, and a
short history of usage for the desk's tabs."""

from __future__ import annotations

from datetime import datetime

from billing_desk.bootstrap import App
from billing_desk.domain.enums import LedgerKind
from billing_desk.domain.money import Money
from billing_desk.services.customers.dtos import CustomerDTO
from billing_desk.services.ledger.posting import Posting, PostingResult, post
from tests.support.staff import StaffActors


def credit(app: App, customer_id: int, minor: int, currency: str, *, voucher: bool = False,
           expires_at: datetime | None = None, key: str | None = None) -> PostingResult:
    """A top-up (or voucher credit) as the payment and voucher services post it."""
    kind = LedgerKind.VOUCHER if voucher else LedgerKind.TOPUP
    with app.uow.write() as uow:
        result = post(uow.session, Posting(customer_id, kind, Money(minor, currency),
                                           description="Voucher credit" if voucher else "Top-up via VNPay",
                                           idempotency_key=key, voucher_expires_at=expires_at))
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
    with app.uow.write() as uow:
        result = post(uow.session, Posting(customer_id, LedgerKind.TOPUP, amount, idempotency_key=key))
        assert result.succeeded
        uow.commit()

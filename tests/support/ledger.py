"""Ledger set-up: customers with a currency, credit posted the way payments and vouchers post
it, and a short history of usage for the desk's tabs."""

from __future__ import annotations

from datetime import datetime

from billing_desk.bootstrap import App
from billing_desk.domain.enums import LedgerKind
from billing_desk.domain.money import Money
from billing_desk.domain.permissions import Actor
from billing_desk.services.customers.dtos import CustomerDTO
from billing_desk.services.ledger.posting import Posting, PostingResult, post
from tests.support.staff import StaffActors

COUNTRY = {"VND": "VN", "JPY": "JP", "USD": "US", "EUR": "DE"}


def make_customer(app: App, actor: Actor, currency: str = "VND", name: str = "Nguyen Van An") -> int:
    created = app.customers.create(actor, name=name, email=f"{name.split()[0].lower()}{currency}@example.com",
                                   country=COUNTRY[currency], billing_type="personal", address="1 Le Loi, Ha Noi")
    app.customers.set_currency(actor, created.id, currency)
    return created.id


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

"""Shared helpers for the ledger tests (no tests here): customers with a currency, and credit
posted the way payments and vouchers will post it."""

from __future__ import annotations

from datetime import datetime

from billing_desk.bootstrap import App
from billing_desk.domain.enums import LedgerKind
from billing_desk.domain.money import Money
from billing_desk.domain.permissions import Actor
from billing_desk.services.ledger.posting import Posting, PostingResult, post

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

"""Voucher, plan and billing-settings set-up: the code key every desk of a test shares,
customers and a seed top-up."""

from __future__ import annotations

from billing_desk.bootstrap import App
from billing_desk.domain.enums import LedgerKind
from billing_desk.domain.money import Money
from billing_desk.domain.permissions import Actor
from billing_desk.services.ledger.posting import Posting, post

TEST_KEY = "test-voucher-code-key-" + "x" * 20


def make_customer(app: App, actor: Actor, *, country: str = "US", currency: str | None = "USD",
                  name: str = "Emma Smith", email: str | None = None, company: bool = False) -> int:
    created = app.customers.create(
        actor, name=name, email=email or f"{name.lower().replace(' ', '.')}@example.com", country=country,
        billing_type="company" if company else "personal", tax_code="TX123456" if company else None,
    )
    if currency:
        app.customers.set_currency(actor, created.id, currency)
    return created.id


def top_up(app: App, customer_id: int, amount: Money, key: str = "seed-topup") -> None:
    with app.uow.write() as uow:
        result = post(uow.session, Posting(customer_id, LedgerKind.TOPUP, amount, idempotency_key=key))
        assert result.succeeded
        uow.commit()

"""Shared set-up for the voucher, plan and billing-settings tests (no tests of its own)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, text

from billing_desk.bootstrap import App
from billing_desk.domain.enums import LedgerKind
from billing_desk.domain.money import Money
from billing_desk.domain.permissions import Actor
from billing_desk.models import AuditEntry
from billing_desk.services.ledger.posting import Posting, post

TEST_KEY = "test-voucher-code-key-" + "x" * 20


@pytest.fixture(autouse=True)
def voucher_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every desk in a test shares one code key, as desks sharing a database must."""
    monkeypatch.setenv("BILLING_DESK_VOUCHER_KEY", TEST_KEY)
    yield TEST_KEY


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


def audit_rows(app: App, action: str) -> list[dict[str, Any]]:
    with app.uow.read() as uow:
        rows = uow.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        return [{"entity_id": r.entity_id, "summary": json.loads(r.summary), "reason": r.reason,
                 "staff": r.staff_name} for r in rows]


def run(app: App, statement: Any) -> None:
    """Run a Core statement directly: test set-up that moves dates into the past."""
    with app.uow.write() as uow:
        uow.session.execute(statement)
        uow.commit()


def raw(app: App, statement: str, **params: Any) -> list[Any]:
    with app.uow.read() as uow:
        return list(uow.session.execute(text(statement), params))

"""Demo data for payments: a settled payment behind each seeded top-up, and some failed ones.

Runs after the credit-history seed step: every top-up ledger row it wrote for the new
customers gets the successful gateway payment that would have produced it (same customer,
amount and time; not linked by ``payment_id``, because ledger rows are append-only and the
history step writes them first), and about one in twelve is preceded by a cancelled or
expired attempt, so the payments review has realistic content. Bulk Core inserts, bounded.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from billing_desk.domain.money import PAYPAL_CURRENCIES
from billing_desk.domain.topup_limits import method_for
from billing_desk.models import LedgerEntry, Payment, StaffUser

MAX_SEEDED = 50_000
_FAILURES = {"vnpay": "VNPay transaction status 02", "stripe": "Stripe checkout expired or was cancelled",
             "paypal": "PayPal order voided"}


def seed_payments(session: Session, rng: random.Random, options: Any, customer_ids: list[int]) -> str | None:
    """SEED_STEPS entry (after the history step)."""
    if not customer_ids:
        return None
    topups = session.execute(
        select(LedgerEntry.id, LedgerEntry.customer_id, LedgerEntry.amount, LedgerEntry.currency,
               LedgerEntry.created_at)
        .where(LedgerEntry.kind == "topup", LedgerEntry.payment_id.is_(None),
               LedgerEntry.customer_id.between(min(customer_ids), max(customer_ids)))
        .order_by(LedgerEntry.id).limit(MAX_SEEDED)
    ).all()
    if not topups:
        return None
    staff_id = session.scalar(select(StaffUser.id).where(StaffUser.name == "support"))
    next_id = int(session.scalar(select(func.coalesce(func.max(Payment.id), 0))) or 0) + 1
    payments: list[dict[str, Any]] = []
    settled = 0
    for row in topups:
        method = method_for(row.currency, PAYPAL_CURRENCIES).value
        base = {"customer_id": row.customer_id, "amount": row.amount, "currency": row.currency, "method": method,
                "gateway_data": "{}", "created_by": staff_id, "check_count": 1}
        if rng.random() < 0.08:
            at = row.created_at - timedelta(minutes=rng.randrange(5, 60))
            payments.append({**base, "id": next_id, "status": "failed", "reason": _FAILURES[method],
                             "idempotency_key": _token(rng),
                             "gateway_reference": _reference(rng, method), "created_at": at, "settled_at": at,
                             "expires_at": at + timedelta(minutes=15)})
            next_id += 1
        at = row.created_at - timedelta(minutes=rng.randrange(1, 4))
        payments.append({**base, "id": next_id, "status": "success", "reason": None,
                         "idempotency_key": _token(rng),
                         "gateway_reference": _reference(rng, method), "created_at": at, "settled_at": row.created_at,
                         "expires_at": at + timedelta(minutes=15)})
        settled += 1
        next_id += 1
    for start in range(0, len(payments), 5000):
        session.execute(insert(Payment), payments[start:start + 5000])
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT setval(pg_get_serial_sequence('payments', 'id'), (SELECT max(id) FROM payments))"))
    return f"payments: {len(payments):,} ({settled:,} settled top-ups, {len(payments) - settled:,} failed)"


def _token(rng: random.Random) -> str:
    return uuid.UUID(int=rng.getrandbits(128)).hex


def _reference(rng: random.Random, method: str) -> str:
    token = _token(rng)
    if method == "stripe":
        return f"cs_test_{token}"
    if method == "paypal":
        return token[:17].upper()
    return token

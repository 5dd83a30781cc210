"""The causes behind a simulated history's credits: a settled payment for each top-up, a
redemption of a single-use voucher for each voucher credit.

``ledger verify`` holds every grant of credit to its cause (services/ledger/justification.py),
so the demo's history is seeded the way the desk would have written it: each top-up row
points at the gateway payment that paid it, each voucher row at its redemption. Ids are
handed out while the history is simulated (ledger rows are append-only and cannot be linked
afterwards), and the rows are written in bulk once the postings are in. About one top-up in
twelve is preceded by a cancelled or expired attempt, so the payments review has realistic
content.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from billing_desk.domain.money import PAYPAL_CURRENCIES, Money
from billing_desk.domain.topup_limits import method_for
from billing_desk.models import Payment, StaffUser, Voucher, VoucherRedemption
from billing_desk.services.vouchers import ALPHABET

_FAILURES = {"vnpay": "VNPay transaction status 02", "stripe": "Stripe checkout expired or was cancelled",
             "paypal": "PayPal order voided"}
_CHUNK = 5_000


def _next_id(session: Session, table: Any) -> int:
    return int(session.scalar(select(func.coalesce(func.max(table.id), 0))) or 0) + 1


class Causes:
    """Collects the payments, vouchers and redemptions while postings are simulated."""

    def __init__(self, session: Session, rng: random.Random) -> None:
        self._rng = rng
        self._staff_id = session.scalar(select(StaffUser.id).where(StaffUser.name == "support"))
        self._ids = {t: _next_id(session, t) for t in (Payment, Voucher, VoucherRedemption)}
        self._rows: dict[Any, list[dict[str, Any]]] = {Payment: [], Voucher: [], VoucherRedemption: []}

    def _take(self, table: Any, row: dict[str, Any]) -> int:
        row["id"] = self._ids[table]
        self._ids[table] += 1
        self._rows[table].append(row)
        return int(row["id"])

    def payment(self, customer_id: int, amount: Money, settled_at: datetime) -> int:
        """A settled gateway payment of ``amount`` (after a failed attempt now and then); its id."""
        method = method_for(amount.currency, PAYPAL_CURRENCIES).value
        base = {"customer_id": customer_id, "amount": amount.minor, "currency": amount.currency, "method": method,
                "gateway_data": "{}", "created_by": self._staff_id, "check_count": 1}
        if self._rng.random() < 0.08:
            at = settled_at - timedelta(minutes=self._rng.randrange(5, 60))
            self._take(Payment, {**base, "status": "failed", "reason": _FAILURES[method],
                                 "idempotency_key": self._token(), "gateway_reference": self._reference(method),
                                 "created_at": at, "settled_at": at, "expires_at": at + timedelta(minutes=15)})
        at = settled_at - timedelta(minutes=self._rng.randrange(1, 4))
        return self._take(Payment, {**base, "status": "success", "reason": None, "idempotency_key": self._token(),
                                    "gateway_reference": self._reference(method), "created_at": at,
                                    "settled_at": settled_at, "expires_at": at + timedelta(minutes=15)})

    def redemption(self, customer_id: int, amount: Money, at: datetime, credit_days: int) -> int:
        """A single-use voucher issued to this customer a little before ``at`` and redeemed then;
        the redemption's id. Its code is unknown (only a random hash is stored), and it is used up."""
        voucher_id = self._take(Voucher, {
            "campaign_id": None, "code_hash": f"{self._rng.getrandbits(256):064x}",
            "last4": "".join(self._rng.choice(ALPHABET) for _ in range(4)), "amount": amount.minor,
            "currency": amount.currency, "valid_from": None, "valid_until": None, "max_redemptions": 1,
            "redemption_count": 1, "customer_id": customer_id, "credit_days": credit_days, "revoked_at": None,
            "revoked_reason": None, "created_by": None, "created_at": at - timedelta(days=self._rng.randrange(1, 20)),
            "batch_id": None})
        return self._take(VoucherRedemption, {"voucher_id": voucher_id, "customer_id": customer_id,
                                              "amount": amount.minor, "currency": amount.currency,
                                              "redeemed_at": at, "staff_id": None})

    def write(self, session: Session) -> str | None:
        """Insert everything collected; a line for the seed's report."""
        for table, rows in self._rows.items():
            for start in range(0, len(rows), _CHUNK):
                session.execute(insert(table), rows[start:start + _CHUNK])
            if rows and session.get_bind().dialect.name == "postgresql":
                name = table.__table__.name  # ids were given here, so move the sequence past them
                session.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                     f"(SELECT max(id) FROM {name}))"))
        payments = self._rows[Payment]
        if not payments:
            return None
        settled = sum(1 for p in payments if p["status"] == "success")
        return (f"payments: {len(payments):,} ({settled:,} settled top-ups, {len(payments) - settled:,} failed); "
                f"{len(self._rows[VoucherRedemption]):,} voucher redemptions")

    def _token(self) -> str:
        return uuid.UUID(int=self._rng.getrandbits(128)).hex

    def _reference(self, method: str) -> str:
        token = self._token()
        if method == "stripe":
            return f"cs_test_{token}"
        if method == "paypal":
            return token[:17].upper()
        return token

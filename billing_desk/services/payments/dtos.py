"""Frozen data the payments service hands to the CLI and the GUI (never ORM objects)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from billing_desk.domain.money import Money

NON_REFUNDABLE_NOTICE = "Purchased credits are non-refundable."


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True, slots=True)
class PaymentRow:
    id: int
    customer_id: int
    customer_account: str
    customer_name: str
    amount: Money
    method: str
    status: str
    reason: str | None
    gateway_reference: str | None
    checkout_url: str | None
    created_at: datetime
    expires_at: datetime | None
    settled_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "payment_id": self.id, "customer_id": self.customer_id, "customer_account": self.customer_account,
            "customer_name": self.customer_name, "method": self.method, "amount": self.amount.to_json(),
            "status": self.status, "reason": self.reason, "gateway_reference": self.gateway_reference,
            "checkout_url": self.checkout_url, "created_at": _iso(self.created_at),
            "expires_at": _iso(self.expires_at), "settled_at": _iso(self.settled_at),
        }


@dataclass(frozen=True, slots=True)
class TopUpResult:
    """A started top-up: the link to send, plus a warning or a problem to show the agent.

    ``problem`` is set when the gateway gave no link yet (the payment stays pending and the
    next reconcile asks again); ``warning`` when the customer already has a recent pending
    top-up.
    """

    payment: PaymentRow
    warning: str | None = None
    problem: str | None = None
    notice: str = NON_REFUNDABLE_NOTICE

    def to_json(self) -> dict[str, Any]:
        p = self.payment
        return {"payment_id": p.id, "method": p.method, "amount": p.amount.to_json(), "status": p.status,
                "checkout_url": p.checkout_url, "customer_id": p.customer_id, "expires_at": _iso(p.expires_at),
                "warning": self.warning, "problem": self.problem, "notice": self.notice}


@dataclass(frozen=True, slots=True)
class PaymentChange:
    """One payment whose status a reconcile run changed."""

    payment_id: int
    customer_id: int
    customer_name: str
    amount: Money
    method: str
    previous_status: str
    status: str
    reason: str | None
    settled_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {"payment_id": self.payment_id, "customer_id": self.customer_id,
                "customer_name": self.customer_name, "method": self.method, "amount": self.amount.to_json(),
                "previous_status": self.previous_status, "status": self.status, "reason": self.reason,
                "settled_at": _iso(self.settled_at)}


@dataclass(frozen=True, slots=True)
class FlaggedPayment:
    """A payment a reconcile run could not settle: it stays pending, flagged for finance."""

    payment_id: int
    customer_id: int
    customer_account: str
    amount: Money
    method: str
    reason: str  # as stored on the payment: scrubbed of gateway secrets
    flagged_at: datetime


@dataclass(frozen=True, slots=True)
class PaymentFilters:
    customer: str | int | None = None  # id or account number
    status: str | None = None
    method: str | None = None
    created_from: datetime | None = None  # inclusive, UTC
    created_to: datetime | None = None  # exclusive, UTC
    reference: str | None = None  # any part of the gateway reference, 8 characters or more


@dataclass(frozen=True, slots=True)
class PaymentCursor:
    """Where the previous page ended (newest first): keyset pagination, never OFFSET."""

    created_at: datetime
    id: int


@dataclass(frozen=True, slots=True)
class PaymentPage:
    rows: tuple[PaymentRow, ...]
    next_cursor: PaymentCursor | None

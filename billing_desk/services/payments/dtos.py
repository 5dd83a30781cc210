"""Frozen data the payments service hands to the CLI and the GUI (never ORM objects)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from billing_desk.domain.money import Money, format_money

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
    started_by: str | None = None  # the staff member who started it (None once they are gone)
    flagged_at: datetime | None = None
    check_count: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "payment_id": self.id, "customer_id": self.customer_id, "customer_account": self.customer_account,
            "customer_name": self.customer_name, "method": self.method, "amount": self.amount.to_json(),
            "status": self.status, "reason": self.reason, "gateway_reference": self.gateway_reference,
            "checkout_url": self.checkout_url, "created_at": _iso(self.created_at),
            "expires_at": _iso(self.expires_at), "settled_at": _iso(self.settled_at),
            "started_by": self.started_by, "flagged_at": _iso(self.flagged_at),
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


class PaymentSort(StrEnum):
    """The review table's orders; the keyset follows the chosen one, ties broken by id."""

    NEWEST = "newest"
    OLDEST = "oldest"
    AMOUNT_DESC = "amount_desc"
    AMOUNT_ASC = "amount_asc"


@dataclass(frozen=True, slots=True)
class PaymentFilters:
    customer: str | int | None = None  # id or account number
    status: str | None = None
    method: str | None = None
    created_from: datetime | None = None  # inclusive, UTC
    created_to: datetime | None = None  # exclusive, UTC
    reference: str | None = None  # any part of the gateway reference, 8 characters or more
    reason: str | None = None  # text contained in the status reason ("expired", "declined", ...)
    currency: str | None = None
    amount_min: Money | None = None  # inclusive; its currency must equal ``currency`` (or sets it)
    amount_max: Money | None = None  # inclusive
    staff_id: int | None = None  # who started the payment
    text: str | None = None  # a payment id (digits) or any part (8+ characters) of the gateway reference

    def describe(self) -> str:
        """The filter in words, for an export's About sheet."""
        parts = [f"{name} {value}" for name, value in (
            ("customer", self.customer), ("status", self.status), ("reason contains", self.reason),
            ("gateway", self.method), ("currency", self.currency), ("from", _iso(self.created_from)),
            ("before", _iso(self.created_to)), ("reference contains", self.reference),
            ("amount at least", self.amount_min and format_money(self.amount_min)),
            ("amount at most", self.amount_max and format_money(self.amount_max)),
            ("started by staff id", self.staff_id), ("text", self.text)) if value not in (None, "")]
        return ", ".join(parts) or "all payments"

    def to_json(self) -> dict[str, Any]:
        return {"customer": self.customer, "status": self.status, "reason": self.reason, "method": self.method,
                "currency": self.currency, "created_from": _iso(self.created_from),
                "created_to": _iso(self.created_to), "reference": self.reference,
                "amount_min": self.amount_min.to_json() if self.amount_min else None,
                "amount_max": self.amount_max.to_json() if self.amount_max else None,
                "staff_id": self.staff_id, "text": self.text}


@dataclass(frozen=True, slots=True)
class PaymentCursor:
    """Where the previous page ended: keyset pagination, never OFFSET."""

    created_at: datetime
    id: int
    amount: int | None = None  # set when the page was sorted by amount


@dataclass(frozen=True, slots=True)
class PaymentPage:
    rows: tuple[PaymentRow, ...]
    next_cursor: PaymentCursor | None


@dataclass(frozen=True, slots=True)
class PaymentTotal:
    currency: str
    status: str
    count: int
    amount: Money


@dataclass(frozen=True, slots=True)
class PaymentTotals:
    """One line per (currency, status) present under the filter: currencies are never added."""

    lines: tuple[PaymentTotal, ...]

    def to_json(self) -> list[dict[str, Any]]:
        return [{"currency": t.currency, "status": t.status, "count": t.count, "amount": t.amount.to_json()}
                for t in self.lines]


@dataclass(frozen=True, slots=True)
class DailyGatewayFigure:
    day: date  # a local day of the staff member's zone
    method: str
    currency: str
    settled: Money  # top-ups settled that day
    settled_count: int
    failed_count: int

    @property
    def success_rate(self) -> float | None:
        """Settled / (settled + failed) of the day; None when nothing ended that day."""
        ended = self.settled_count + self.failed_count
        return self.settled_count / ended if ended else None


@dataclass(frozen=True, slots=True)
class PaymentDaily:
    days: tuple[date, ...]  # oldest first, ending today
    figures: tuple[DailyGatewayFigure, ...]  # only the (day, method, currency) that had something

"""A payment's whole story for finance: who started it, every time the desk asked the gateway
about it and what it heard, the ledger row it produced, and its audit entries.

Read-only and small: a handful of rows per payment, each read by an index (payment checks by
payment, the ledger by ``payment_id``, the audit log by entity and time).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_desk.domain.money import Money
from billing_desk.models import AuditEntry, LedgerEntry, Payment, PaymentCheck, StaffUser, utcnow
from billing_desk.services.payments.dtos import PaymentRow

# The audit log is indexed by (entity, at), not by entity id: a payment's entries are looked
# for between its creation and its settlement (or now), widened by this much each side, which
# also covers desks whose clocks disagree by a few minutes.
AUDIT_WINDOW_MARGIN = timedelta(hours=1)
DETAILS_LENGTH = 300


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True, slots=True)
class PaymentCheckRow:
    checked_at: datetime
    trigger: str  # reconcile, refresh, recheck
    outcome: str  # paid, failed, expired, pending, unknown, refused, error
    answer: str | None
    staff_name: str | None  # None: a scheduled run, with no one logged in
    run_id: str | None

    def to_json(self) -> dict[str, Any]:
        return {"checked_at": _iso(self.checked_at), "trigger": self.trigger, "outcome": self.outcome,
                "answer": self.answer, "staff": self.staff_name, "run_id": self.run_id}


@dataclass(frozen=True, slots=True)
class StoryLedgerRow:
    entry_id: int
    created_at: datetime
    amount: Money
    description: str

    def to_json(self) -> dict[str, Any]:
        return {"entry_id": self.entry_id, "created_at": _iso(self.created_at), "amount": self.amount.to_json(),
                "description": self.description}


@dataclass(frozen=True, slots=True)
class StoryAuditRow:
    entry_id: int
    created_at: datetime
    staff_name: str | None
    action: str
    details: str  # the entry's summary (and reason) as one short readable line

    def to_json(self) -> dict[str, Any]:
        return {"entry_id": self.entry_id, "at": _iso(self.created_at), "staff": self.staff_name,
                "action": self.action, "details": self.details}


@dataclass(frozen=True, slots=True)
class PaymentStory:
    payment: PaymentRow
    checks: tuple[PaymentCheckRow, ...]
    ledger: StoryLedgerRow | None
    audit: tuple[StoryAuditRow, ...]
    started_by: str | None = None  # the staff member who started the top-up
    flagged_at: datetime | None = None
    check_count: int = 0  # every check, including those made before checks were recorded

    def to_json(self) -> dict[str, Any]:
        """The payment's own keys (as ``payments show`` prints them) plus the story."""
        return {**self.payment.to_json(), "started_by": self.started_by, "flagged_at": _iso(self.flagged_at),
                "check_count": self.check_count, "checks": [c.to_json() for c in self.checks],
                "ledger_entry": self.ledger.to_json() if self.ledger else None,
                "audit": [a.to_json() for a in self.audit]}


def read_story(session: Session, row: PaymentRow) -> PaymentStory:
    facts = session.execute(
        select(StaffUser.name, Payment.flagged_at, Payment.check_count)
        .select_from(Payment).outerjoin(StaffUser, StaffUser.id == Payment.created_by)
        .where(Payment.id == row.id)).one()
    return PaymentStory(row, _checks(session, row.id), _ledger_row(session, row.id), _audit(session, row),
                        facts.name, facts.flagged_at, int(facts.check_count or 0))


def _checks(session: Session, payment_id: int) -> tuple[PaymentCheckRow, ...]:
    rows = session.execute(
        select(PaymentCheck.checked_at, PaymentCheck.trigger, PaymentCheck.outcome, PaymentCheck.answer,
               StaffUser.name, PaymentCheck.run_id)
        .outerjoin(StaffUser, StaffUser.id == PaymentCheck.staff_id)
        .where(PaymentCheck.payment_id == payment_id)
        .order_by(PaymentCheck.checked_at, PaymentCheck.id))
    return tuple(PaymentCheckRow(r.checked_at, r.trigger, r.outcome, r.answer, r.name, r.run_id) for r in rows)


def _ledger_row(session: Session, payment_id: int) -> StoryLedgerRow | None:
    r = session.execute(
        select(LedgerEntry.id, LedgerEntry.created_at, LedgerEntry.amount, LedgerEntry.currency,
               LedgerEntry.description)
        .where(LedgerEntry.payment_id == payment_id).order_by(LedgerEntry.id).limit(1)).first()
    return StoryLedgerRow(r.id, r.created_at, Money(int(r.amount), r.currency), r.description) if r else None


def _audit(session: Session, row: PaymentRow) -> tuple[StoryAuditRow, ...]:
    until = (row.settled_at or utcnow()) + AUDIT_WINDOW_MARGIN
    rows = session.execute(
        select(AuditEntry.id, AuditEntry.at, AuditEntry.staff_name, AuditEntry.action, AuditEntry.summary,
               AuditEntry.reason)
        .where(AuditEntry.entity == "payment", AuditEntry.entity_id == str(row.id),
               AuditEntry.at >= row.created_at - AUDIT_WINDOW_MARGIN, AuditEntry.at <= until)
        .order_by(AuditEntry.id))
    return tuple(StoryAuditRow(r.id, r.at, r.staff_name, r.action, audit_details(r.summary, r.reason))
                 for r in rows)


def audit_details(summary: str, reason: str | None = None) -> str:
    """An audit summary (canonical JSON) as a person reads it: "status failed, amount ₫500,000";
    money as its display text, lists joined, empty values left out."""
    try:
        data = json.loads(summary) if summary else {}
    except ValueError:
        data = summary
    parts = [f"{key.replace('_', ' ')} {_plain(value)}" for key, value in data.items()
             if value not in (None, "", [], {})] if isinstance(data, dict) else [str(data)]
    if reason:
        parts.append(f"reason: {reason}")
    text = ", ".join(parts)
    return text if len(text) <= DETAILS_LENGTH else text[:DETAILS_LENGTH - 1] + "…"


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        if "display" in value:
            return str(value["display"])
        return ", ".join(f"{k} {_plain(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    return str(value)

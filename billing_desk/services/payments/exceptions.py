"""Finance's exceptions queue: the pending payments that need a person, each with why, and
closing one as failed.

A pending payment needs a person when the gateway's answer contradicts it (flagged by
reconciliation: paid with another amount or currency, a refused answer, a settlement our side
could not write; never credited automatically), when it is past its checkout's expiry and
still pending, when its checkout never started, or when several checks in a row got no usable
answer. Closing one marks it failed with the closer's reason; it never touches the ledger
(crediting by hand stays a manager's ``credit adjust``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from billing_desk.domain.dates import local_text
from billing_desk.domain.enums import PaymentStatus
from billing_desk.domain.errors import Conflict, NotFound, ValidationError
from billing_desk.domain.ids import is_row_id
from billing_desk.domain.permissions import Actor
from billing_desk.domain.text import clean_text
from billing_desk.models import Payment, PaymentCheck, utcnow
from billing_desk.services import audit
from billing_desk.services.payments.dtos import PaymentRow
from billing_desk.services.payments.queries import _base as payment_select
from billing_desk.services.payments.queries import row_by_id, to_row
from billing_desk.services.payments.reconcile import FLAG_PREFIX, LAST_CHECK_PREFIX, UNKNOWN
from billing_desk.services.uow import UnitOfWorkFactory

# This many checks in a row without a usable answer (timeouts, errors, an unreachable or
# unconfigured gateway) and a person should look: the next run is unlikely to do better.
UNKNOWN_AFTER_CHECKS = 3
# A payment without a link is "not started" once a check could not start it either, or once
# this long has passed (a top-up being started right now has no link for a second or two).
NOT_STARTED_AFTER = timedelta(minutes=10)
CLOSE_REASON_LENGTH = 300
QUEUE_COLUMNS = 4  # held_at, checks, asked_at, unknown_run: added after the row query's own


class ExceptionKind(StrEnum):
    EXPIRED = "expired"
    CONTRADICTED = "contradicted"
    UNKNOWN = "unknown"
    NOT_STARTED = "not_started"


@dataclass(frozen=True, slots=True)
class PaymentException:
    payment: PaymentRow
    kind: ExceptionKind
    why: str
    checks: int = 0  # how often the desk asked about it
    flagged_at: datetime | None = None
    last_checked_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {**self.payment.to_json(), "kind": self.kind.value, "why": self.why, "checks": self.checks,
                "flagged_at": self.flagged_at.isoformat() if self.flagged_at else None,
                "last_checked_at": self.last_checked_at.isoformat() if self.last_checked_at else None}


def _unknown_run() -> ColumnElement[int]:
    """How many checks in a row, up to the latest, had no usable answer (a correlated count
    over the payment's checks, by the (payment_id, ...) index)."""
    definite = aliased(PaymentCheck)
    last_definite = (select(func.max(definite.id))
                     .where(definite.payment_id == Payment.id, definite.outcome != UNKNOWN)
                     .correlate(Payment).scalar_subquery())
    return (select(func.count(PaymentCheck.id))
            .where(PaymentCheck.payment_id == Payment.id, PaymentCheck.outcome == UNKNOWN,
                   PaymentCheck.id > func.coalesce(last_definite, 0))
            .correlate(Payment).scalar_subquery())


def list_exceptions(session: Session, expiry_margin: timedelta, now: datetime | None = None
                    ) -> tuple[PaymentException, ...]:
    """Pending payments that need a person, oldest first: one query over the pending ones
    (the (status, created_at, id) index)."""
    now = now or utcnow()
    unknown_run = _unknown_run()
    not_started = Payment.gateway_reference.is_(None) & (
        (Payment.check_count >= 1) | (Payment.created_at < now - NOT_STARTED_AFTER))
    # The review's row query (whatever columns and joins it has), plus what the queue needs,
    # under names of their own.
    query = (payment_select()  # + QUEUE_COLUMNS columns, last
             .add_columns(Payment.flagged_at.label("held_at"), Payment.check_count.label("checks"),
                          Payment.last_checked_at.label("asked_at"), unknown_run.label("unknown_run"))
             .where(Payment.status == PaymentStatus.PENDING.value,
                    or_(Payment.flagged_at.is_not(None), Payment.expires_at < now - expiry_margin, not_started,
                        unknown_run >= UNKNOWN_AFTER_CHECKS))
             .order_by(Payment.created_at, Payment.id))
    return tuple(_exception(r, now, expiry_margin) for r in session.execute(query))


def _exception(r: Any, now: datetime, margin: timedelta) -> PaymentException:
    row = to_row(r[:-QUEUE_COLUMNS])  # to_row unpacks the row query's columns by position
    said = (row.reason or "").removeprefix(LAST_CHECK_PREFIX).rstrip(".")
    last = f" Last answer: {said}." if said else ""
    if r.held_at is not None:
        kind = ExceptionKind.CONTRADICTED
        # The flag's reason already says what was held and why ("not credited, the gateway's
        # answer was refused: PayPal captured 20.00 USD, not $25.00; ...").
        held = (row.reason or "").removeprefix(FLAG_PREFIX) or "not credited: the gateway's answer was refused"
        why = held[:1].upper() + held[1:] + ("" if held.endswith(".") else ".")
    elif r.expires_at is not None and r.expires_at < now - margin:
        kind = ExceptionKind.EXPIRED
        why = f"Still pending after its checkout expired at {local_text(r.expires_at)}.{last}"
    elif row.gateway_reference is None:
        kind = ExceptionKind.NOT_STARTED
        checks = int(r.checks or 0)
        why = f"The gateway never gave a checkout link ({checks} check{'' if checks == 1 else 's'}).{last}"
    else:
        kind = ExceptionKind.UNKNOWN
        why = f"No usable answer in the last {r.unknown_run} checks.{last}"
    return PaymentException(row, kind, why, int(r.checks or 0), r.held_at, r.asked_at)


def close_payment(uow_factory: UnitOfWorkFactory, actor: Actor, payment_id: int, reason: str) -> PaymentRow:
    """Pending → failed with the closer's reason; audited "payment.close"; no ledger row.

    The conditional UPDATE (only while pending) lets a settle running at the same moment win
    cleanly: then nothing is closed and the person is told it was settled meanwhile."""
    why = clean_text(reason, "reason", max_length=CLOSE_REASON_LENGTH)
    if not why:
        raise ValidationError("Say why the payment is closed: a reason is required.", field="reason")
    if not is_row_id(payment_id):
        raise NotFound(f"No payment with id {payment_id}.")
    text = f"Closed by {actor.name}: {why}"
    with uow_factory.write() as uow:
        session = uow.session
        before = row_by_id(session, payment_id)
        if before is None:
            raise NotFound(f"No payment with id {payment_id}.")
        if before.status != PaymentStatus.PENDING.value:
            raise Conflict(f"Payment {payment_id} is already {before.status}; only a pending payment can be closed.")
        won = session.execute(
            update(Payment).where(Payment.id == payment_id, Payment.status == PaymentStatus.PENDING.value)
            .values(status=PaymentStatus.FAILED.value, reason=text, settled_at=utcnow())
            .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
        if won != 1:
            raise Conflict(f"Payment {payment_id} was settled by a reconcile run meanwhile; nothing was closed. "
                           "Open it again to see how it ended.")
        audit.record(session, actor, "payment.close", "payment", payment_id,
                     {"status": PaymentStatus.FAILED.value, "amount": before.amount.to_json(),
                      "customer": before.customer_account}, reason=why)
        uow.commit()
    with uow_factory.read() as uow:
        after = row_by_id(uow.session, payment_id)
    assert after is not None
    return after

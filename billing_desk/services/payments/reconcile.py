"""Reconciliation: ask the gateway about each pending payment and settle it exactly once.

Each payment is handled on its own: a read snapshot, the gateway call outside any
transaction, then one short write. Crediting flips the row from pending with a conditional
UPDATE; only the desk whose UPDATE changed the row posts the top-up (with the idempotency
key ``payment-<id>`` as a second guard) and writes the audit row, so any number of desks
and a scheduled job may run this at once. An unknown outcome leaves the payment pending;
a payment the gateway still calls unpaid (or has never seen) past its expiry plus a margin
fails. There is no pacing here: an explicit run asks about every pending payment.

A payment that cannot be settled on our side (the ledger refuses the posting, the database
errs), or whose gateway answer cannot be believed (a wrong VNPay checksum, an answer about
another payment, another amount or currency paid), never stops the run: it stays pending
without credit, its reason says why ("Flagged for finance: ...") and ``flagged_at`` is set, so
finance's exceptions queue can list it; the next run tries it again.

Every payment asked leaves one ``payment_checks`` row (when, who or which run, what the
gateway said in a few words), written in the same transaction as the settle, the flag or the
bookkeeping touch it led to, so a payment's story never shows a check that did not happen or
misses one that changed it. ``run_summary`` counts what one run found.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import String, case, insert, literal, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from billing_desk.domain.enums import LedgerKind, PaymentMethod, PaymentStatus
from billing_desk.domain.errors import BillingDeskError, GatewayDeclined, SuspectAnswer, ValidationError
from billing_desk.domain.ids import is_row_id
from billing_desk.domain.money import Money
from billing_desk.domain.permissions import Actor, Permission
from billing_desk.models import Customer, Payment, PaymentCheck, utcnow
from billing_desk.services import audit
from billing_desk.services.crashpoints import crash_point
from billing_desk.services.customers import resolve_customer
from billing_desk.services.ledger import Posting, post
from billing_desk.services.payments.checkouts import store_checkout
from billing_desk.services.payments.dtos import FlaggedPayment, PaymentChange
from billing_desk.services.payments.gateways import Gateways
from billing_desk.services.payments.gateways.base import CheckoutRequest, Outcome, PaymentRef, StatusAnswer
from billing_desk.services.uow import UnitOfWorkFactory

log = logging.getLogger("billing_desk.payments")

FLAG_PREFIX = "Flagged for finance: "
LAST_CHECK_PREFIX = "last check: "  # a pending payment's reason after a check without a usable answer
# What a check is recorded as (payment_checks.trigger and .outcome).
RECONCILE, REFRESH, RECHECK = "reconcile", "refresh", "recheck"
PAID, FAILED, EXPIRED, PENDING, UNKNOWN, REFUSED, ERROR = (
    "paid", "failed", "expired", "pending", "unknown", "refused", "error")
ANSWER_WORDS = 200  # a check keeps the gateway's answer in a few words, not its whole reply
_ID_CHUNK = 500  # ids per IN list: well inside every driver's parameter limit
# Errors that belong to one payment. Anything else is a bug and stops the run loudly.
_PAYMENT_ERRORS = (BillingDeskError, SQLAlchemyError)


class _NotSettled(Exception):
    """Settling one payment failed on our side, after the gateway had answered ``what``."""

    def __init__(self, what: str, cause: Exception) -> None:
        super().__init__(what)
        self.what = what
        self.cause = cause


def _describe(exc: Exception) -> str:
    if isinstance(exc, BillingDeskError):
        return exc.message
    # The driver's own words name the conflict (a unique key, a deadlock); the statement and
    # parameters SQLAlchemy appends to them do not belong on a payment.
    orig = getattr(exc, "orig", None)
    lines = str(orig).strip().splitlines() if orig is not None else []
    return f"database error ({type(exc).__name__}): {lines[0] if lines else 'no detail'}"


@dataclass(frozen=True, slots=True)
class Pending:
    """A snapshot of one pending payment, read before its gateway is asked."""

    id: int
    customer_id: int
    account: str
    name: str
    email: str
    amount: Money
    method: PaymentMethod
    key: str
    reference: str | None
    data: dict[str, Any]
    created_by: int | None
    created_at: datetime
    expires_at: datetime | None

    def ref(self) -> PaymentRef:
        assert self.reference is not None
        return PaymentRef(self.id, self.amount, self.key, self.reference, self.data, self.created_at, self.expires_at)

    def checkout_request(self) -> CheckoutRequest:
        assert self.expires_at is not None
        return CheckoutRequest(self.id, self.amount, self.key, self.account, self.email, self.created_at,
                               self.expires_at)


@dataclass(frozen=True, slots=True)
class ReconcileSummary:
    """What one run found. ``asked`` counts the payments asked about; each of them is settled,
    failed, still pending, unreachable (no usable answer) or flagged, except one that another
    desk settled while this run was asking, which is in none of them."""

    asked: int
    settled: int
    failed: int
    still_pending: int
    unreachable: int
    flagged: tuple[FlaggedPayment, ...]
    changes: tuple[PaymentChange, ...]
    cancelled: bool

    def to_json(self) -> dict[str, Any]:
        return {"asked": self.asked, "settled": self.settled, "failed": self.failed,
                "still_pending": self.still_pending, "unreachable": self.unreachable,
                "flagged": [f.payment_id for f in self.flagged], "changes": [c.to_json() for c in self.changes],
                "cancelled": self.cancelled}


@dataclass
class _Tally:
    asked: int = 0
    still_pending: int = 0
    unreachable: int = 0
    flagged: list[FlaggedPayment] = field(default_factory=list)
    changes: list[PaymentChange] = field(default_factory=list)
    cancelled: bool = False

    def count(self, outcome: str | None, change: PaymentChange | None) -> None:
        self.asked += 1
        if change is not None:
            self.changes.append(change)
        elif outcome == PENDING:
            self.still_pending += 1
        elif outcome == UNKNOWN:
            self.unreachable += 1

    def summary(self) -> ReconcileSummary:
        settled = sum(1 for c in self.changes if c.status == PaymentStatus.SUCCESS.value)
        return ReconcileSummary(self.asked, settled, len(self.changes) - settled, self.still_pending,
                                self.unreachable, tuple(self.flagged), tuple(self.changes), self.cancelled)


def _check_ids(payment_ids: Sequence[int]) -> list[int]:
    ids = sorted({int(i) for i in payment_ids if is_row_id(int(i))})
    if not ids:
        raise ValidationError("Choose at least one payment to check.", field="payment_ids")
    return ids


class Reconciler:
    """One run: built per call, so the run's id and trigger live on the instance."""

    def __init__(self, uow: UnitOfWorkFactory, gateways: Gateways, expiry_margin: timedelta) -> None:
        self._uow = uow
        self._gateways = gateways
        self._expiry_margin = expiry_margin
        self._run_id = uuid4().hex
        self._trigger = RECONCILE
        self._staff_id: int | None = None
        # Set by the check written for the payment in hand: the run loop counts it, and a
        # checkout started during the same check is said in its answer.
        self._outcome: str | None = None
        self._note = ""

    def run(self, actor: Actor, customer_ref: str | int | None,
            progress: Callable[[int, int], None] | None, cancel: Callable[[], bool] | None,
            flagged: Callable[[FlaggedPayment], None] | None = None) -> list[PaymentChange]:
        return list(self.run_summary(actor, customer_ref, progress, cancel, flagged).changes)

    def run_summary(self, actor: Actor, customer_ref: str | int | None = None,
                    progress: Callable[[int, int], None] | None = None, cancel: Callable[[], bool] | None = None,
                    flagged: Callable[[FlaggedPayment], None] | None = None,
                    payment_ids: Sequence[int] | None = None) -> ReconcileSummary:
        """Ask about every pending payment (or one customer's, or only ``payment_ids``'s pending
        ones) and count what came of it; ``cancel()`` stops between payments."""
        everyone = customer_ref is None or payment_ids is not None
        actor.require(Permission.PAYMENT_RECONCILE if everyone else Permission.PAYMENT_REFRESH)
        ids = None if payment_ids is None else _check_ids(payment_ids)
        self._trigger = RECHECK if ids is not None else REFRESH if customer_ref is not None else RECONCILE
        self._staff_id = actor.staff_id
        pending = self._pending(customer_ref, ids)
        tally = _Tally()

        def on_flag(f: FlaggedPayment) -> None:
            tally.flagged.append(f)
            if flagged is not None:
                flagged(f)

        for done, payment in enumerate(pending, start=1):
            if cancel is not None and cancel():
                tally.cancelled = True
                break
            self._outcome, self._note = None, ""
            change = self._one_or_flag(actor, payment, on_flag)
            tally.count(self._outcome, change)
            if progress is not None:
                progress(done, len(pending))
        return tally.summary()

    def _pending(self, customer_ref: str | int | None, ids: list[int] | None) -> list[Pending]:
        query = (select(Payment.id, Payment.customer_id, Customer.account, Customer.name, Customer.email,
                        Payment.amount, Payment.currency, Payment.method, Payment.idempotency_key,
                        Payment.gateway_reference, Payment.gateway_data, Payment.created_by, Payment.created_at,
                        Payment.expires_at)
                 .join(Customer, Customer.id == Payment.customer_id)
                 .where(Payment.status == PaymentStatus.PENDING.value)
                 .order_by(Payment.created_at, Payment.id))
        with self._uow.read() as uow:
            if customer_ref is not None:
                query = query.where(Payment.customer_id == resolve_customer(uow.session, customer_ref).id)
            chunks = [query] if ids is None else [query.where(Payment.id.in_(ids[i:i + _ID_CHUNK]))
                                                  for i in range(0, len(ids), _ID_CHUNK)]
            rows = [r for chunk in chunks for r in uow.session.execute(chunk)]
        rows.sort(key=lambda r: (r.created_at, r.id))
        return [Pending(r.id, r.customer_id, r.account, r.name, r.email, Money(int(r.amount), r.currency),
                        PaymentMethod(r.method), r.idempotency_key, r.gateway_reference,
                        json.loads(r.gateway_data or "{}"), r.created_by, r.created_at, r.expires_at)
                for r in rows]

    def _record(self, session: Session, p: Pending, outcome: str, answer: str | None) -> None:
        """The check's row, in the caller's transaction."""
        words = self._gateways.safe_text(self._note + (answer or ""))[:ANSWER_WORDS] or None
        session.execute(insert(PaymentCheck).values(
            payment_id=p.id, checked_at=utcnow(), staff_id=self._staff_id, run_id=self._run_id,
            trigger=self._trigger, outcome=outcome, answer=words))
        self._outcome = outcome

    def _one_or_flag(self, actor: Actor, p: Pending,
                     flagged: Callable[[FlaggedPayment], None] | None) -> PaymentChange | None:
        """One payment; what goes wrong with it on our side stays with it, flagged for finance."""
        try:
            return self._one(actor, p)
        except _NotSettled as exc:
            what, cause = exc.what, exc.cause
        except _PAYMENT_ERRORS as exc:  # storing its checkout or its last check failed
            what, cause = "could not be checked", exc
        outcome = REFUSED if isinstance(cause, SuspectAnswer) else ERROR
        self._flag(p, what, cause, outcome, flagged)
        return None

    def _flag(self, p: Pending, what: str, cause: Exception, outcome: str,
              flagged: Callable[[FlaggedPayment], None] | None) -> None:
        reason = self._gateways.safe_text(f"{FLAG_PREFIX}{what}: {_describe(cause)}")
        now = utcnow()
        # A fresh unit of work: the failed one has rolled back. If even this write fails, the
        # database itself is in trouble and the run may stop.
        with self._uow.write() as uow:
            hit = uow.session.execute(
                update(Payment).where(Payment.id == p.id, Payment.status == PaymentStatus.PENDING.value)
                .values(reason=reason, flagged_at=now, last_checked_at=now, check_count=Payment.check_count + 1)
                .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
            # A refused answer is the gateway's words; an error on our side says what it stopped.
            self._record(uow.session, p, outcome,
                         _describe(cause) if outcome == REFUSED else f"{what}: {_describe(cause)}")
            uow.commit()
        if hit != 1:
            return  # another desk settled it meanwhile: nothing for finance
        log.warning("payment %s: %s", p.id, reason)
        if flagged is not None:
            flagged(FlaggedPayment(p.id, p.customer_id, p.account, p.amount, p.method.value, reason, now))

    def _one(self, actor: Actor, p: Pending) -> PaymentChange | None:
        now = utcnow()
        lapsed = p.expires_at is not None and now > p.expires_at + self._expiry_margin
        try:
            gateway = self._gateways.get(p.method)
            if p.reference is None:
                if lapsed:  # nobody ever had a link to pay with
                    return self._finish(actor, p, PaymentStatus.FAILED, "expired: the gateway never gave a link",
                                        EXPIRED, "never started: the gateway never gave a link")
                checkout = gateway.create_checkout(p.checkout_request())
                store_checkout(self._uow, actor, p.id, checkout)
                self._note = "checkout created; "
                p = replace(p, reference=checkout.reference, data={**p.data, **checkout.data})
            answer = gateway.fetch_status(p.ref())
        except GatewayDeclined as exc:
            return self._finish(actor, p, PaymentStatus.FAILED, exc.message, FAILED, exc.message)
        except SuspectAnswer as exc:  # before BillingDeskError: a "last check" note would hide it
            raise _NotSettled("not credited, the gateway's answer was refused", exc) from exc
        except BillingDeskError as exc:  # unavailable, unknown, or a gateway not configured
            self._touch(p, f"{LAST_CHECK_PREFIX}{exc.message}", UNKNOWN, exc.message)
            return None
        crash_point("payment.after_gateway_reply")  # the gateway has answered; nothing of it is written yet
        return self._apply(actor, p, answer, lapsed)

    def _apply(self, actor: Actor, p: Pending, answer: StatusAnswer, lapsed: bool) -> PaymentChange | None:
        if answer.outcome is Outcome.PAID:
            return self._finish(actor, p, PaymentStatus.SUCCESS, None, PAID, answer.reason or "paid")
        if answer.outcome is Outcome.FAILED:
            why = answer.reason or "declined by the gateway"
            return self._finish(actor, p, PaymentStatus.FAILED, why, FAILED, why)
        said = answer.reason or ("not paid yet" if answer.found else "the gateway has no such payment yet")
        if lapsed:
            return self._finish(actor, p, PaymentStatus.FAILED,
                                "expired: not paid before the checkout lapsed" + (f" ({answer.reason})"
                                                                                  if answer.reason else ""),
                                EXPIRED, f"{said}; past its expiry")
        self._touch(p, answer.reason, PENDING, said)
        return None

    def _touch(self, p: Pending, note: str | None, outcome: str, answer: str) -> None:
        """Bookkeeping only (when it was last asked, and what the gateway said), and the check.

        A flagged payment keeps its reason: finance reads why it is held there, and a later
        "no answer" or "not paid yet" must not overwrite it while it is still pending.
        """
        text = self._gateways.safe_text(note) if note else None
        with self._uow.write() as uow:
            uow.session.execute(
                update(Payment).where(Payment.id == p.id, Payment.status == PaymentStatus.PENDING.value)
                .values(last_checked_at=utcnow(), check_count=Payment.check_count + 1,
                        reason=case((Payment.flagged_at.is_(None), literal(text, String())), else_=Payment.reason))
                .execution_options(synchronize_session=False))
            self._record(uow.session, p, outcome, answer)
            uow.commit()

    def _finish(self, actor: Actor, p: Pending, status: PaymentStatus, reason: str | None,
                outcome: str, answer: str) -> PaymentChange | None:
        try:
            return self._settle(actor, p, status, reason, outcome, answer)
        except _PAYMENT_ERRORS as exc:
            # Finance must know what the gateway said: a paid payment not credited is money owed.
            what = ("paid at the gateway but not credited" if status is PaymentStatus.SUCCESS
                    else f"{status.value} at the gateway but not recorded")
            raise _NotSettled(what, exc) from exc

    def _settle(self, actor: Actor, p: Pending, status: PaymentStatus, reason: str | None,
                outcome: str, answer: str) -> PaymentChange | None:
        reason = self._gateways.safe_text(reason) if reason else None
        now = utcnow()
        with self._uow.write() as uow:
            session = uow.session
            won = session.execute(
                update(Payment).where(Payment.id == p.id, Payment.status == PaymentStatus.PENDING.value)
                .values(status=status.value, reason=reason, settled_at=now, last_checked_at=now,
                        check_count=Payment.check_count + 1)
                .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
            if won != 1:
                # Another desk settled it first: only this check is kept, nothing is posted.
                self._record(session, p, outcome, f"{answer}; already settled by another run")
                uow.commit()
                return None
            summary: dict[str, Any] = {"status": status.value, "amount": p.amount.to_json(), "reason": reason}
            if status is PaymentStatus.SUCCESS:
                result = post(session, Posting(
                    p.customer_id, LedgerKind.TOPUP, p.amount,
                    description=f"Top-up via {p.method.label} (payment {p.id}, ref {p.reference})",
                    payment_id=p.id, idempotency_key=f"payment-{p.id}", staff_id=p.created_by))
                summary["ledger_entries"] = list(result.entry_ids)
            self._record(session, p, outcome, answer)
            audit.record(session, actor, f"payment.{'settle' if status is PaymentStatus.SUCCESS else 'fail'}",
                         "payment", p.id, summary)
            crash_point("payment.before_commit")
            uow.commit()
        crash_point("payment.after_commit")  # settled and credited, but the run has not said so
        log.info("payment %s: %s", p.id, status.value)
        return PaymentChange(p.id, p.customer_id, p.name, p.amount, p.method.value, PaymentStatus.PENDING.value,
                             status.value, reason, now)

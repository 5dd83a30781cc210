"""Support-assisted top-ups: start one, read payments, and reconcile them with the gateways.

Starting a top-up is three steps, never one transaction around a network call:
(1) validate and commit the pending payment with its idempotency key, (2) ask the gateway
for a checkout outside any transaction, (3) store the reference and link. If step 2 gets
no answer the payment stays pending without a link and the next reconcile repeats the
create with the same key, so the gateway hands back the same checkout. Crediting happens
only in reconciliation (payments_reconcile.py), exactly once per payment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from billing_desk.domain.dates import local_zone
from billing_desk.domain.enums import PaymentMethod, PaymentStatus
from billing_desk.domain.errors import (
    BillingDeskError,
    GatewayDeclined,
    GatewayUnavailable,
    NotFound,
    OutcomeUnknown,
    ValidationError,
)
from billing_desk.domain.ids import is_row_id
from billing_desk.domain.money import Money, format_money, parse_money
from billing_desk.domain.permissions import Actor, Permission
from billing_desk.domain.topup_limits import (
    CHECKOUT_LIFETIME_MINUTES,
    TopUpLimits,
    check_amount,
    limits_for,
)
from billing_desk.models import Payment, utcnow
from billing_desk.services import audit
from billing_desk.services.customers import customer_dto, resolve_customer
from billing_desk.services.ledger import local_days as ledger_days
from billing_desk.services.payments import review
from billing_desk.services.payments.checkouts import store_checkout
from billing_desk.services.payments.dtos import (
    FlaggedPayment,
    PaymentChange,
    PaymentCursor,
    PaymentDaily,
    PaymentFilters,
    PaymentPage,
    PaymentRow,
    PaymentSort,
    PaymentTotals,
    TopUpResult,
)
from billing_desk.services.payments.exceptions import PaymentException, close_payment, list_exceptions
from billing_desk.services.payments.gateways import Gateways
from billing_desk.services.payments.gateways.base import Checkout, CheckoutRequest
from billing_desk.services.payments.queries import MIN_REFERENCE_PART, reference_contains, row_by_id
from billing_desk.services.payments.reconcile import Reconciler, ReconcileSummary
from billing_desk.services.payments.story import PaymentStory, read_story
from billing_desk.services.uow import UnitOfWorkFactory

log = logging.getLogger("billing_desk.payments")

RECENT_PENDING = timedelta(minutes=10)
MAX_PAGE = 500


def payment_reference_source(session: Session, query: str) -> Iterable[tuple[int, str]]:
    """Customer-search source: a gateway reference (or VNPay TxnRef) finds its customer, whole,
    or by any part of 8 characters or more (what a person copies from an email or a statement)."""
    text = query.strip()
    if len(text) < 6:
        return []
    matches = Payment.gateway_reference == text
    if len(text) >= MIN_REFERENCE_PART:
        matches = matches | reference_contains(text, session.get_bind().dialect.name)
    rows = session.execute(select(Payment.customer_id).where(matches).distinct().limit(20))
    return [(int(r.customer_id), "payment reference") for r in rows]


class PaymentService:
    def __init__(self, uow: UnitOfWorkFactory, gateways: Gateways, paypal_currencies: Sequence[str],
                 minimums: Mapping[str, Money] | None = None, expiry_margin: timedelta = timedelta(minutes=30)) -> None:
        self._uow = uow
        self.gateways = gateways
        self._paypal_currencies = tuple(paypal_currencies)
        self._minimums = dict(minimums or {})
        self.expiry_margin = expiry_margin

    # -- reading -------------------------------------------------------------------------
    def limits(self, actor: Actor, customer_ref: str | int) -> TopUpLimits:
        """The gateway, minimum, maximum and predefined amounts for this customer's top-ups."""
        actor.require(Permission.TOPUP_CREATE)
        with self._uow.read() as uow:
            customer = customer_dto(uow.session, resolve_customer(uow.session, customer_ref))
        if customer.currency is None:
            raise ValidationError(_no_currency(customer.account), field="currency")
        return limits_for(customer.currency, self._paypal_currencies, self._minimums)

    def get(self, actor: Actor, payment_id: int) -> PaymentRow:
        actor.require(Permission.PAYMENT_READ)
        row = None
        if is_row_id(payment_id):
            with self._uow.read() as uow:
                row = row_by_id(uow.session, payment_id)
        if row is None:
            raise NotFound(f"No payment with id {payment_id}.")
        return row

    def list_payments(self, actor: Actor, filters: PaymentFilters | None = None,
                      after: PaymentCursor | None = None, limit: int = 200,
                      sort: PaymentSort = PaymentSort.NEWEST) -> PaymentPage:
        """One keyset page in ``sort``'s order; pass the returned ``next_cursor`` for the next one.
        Across customers (no customer filter) is finance's review: PAYMENT_REVIEW; one customer's
        payments stay readable by everyone with PAYMENT_READ (support's payments tab)."""
        filters = filters or PaymentFilters()
        actor.require(Permission.PAYMENT_READ if filters.customer else Permission.PAYMENT_REVIEW)
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationError(f"A page holds 1 to {MAX_PAGE} payments.", field="limit")
        sort = review.checked_sort(sort)
        filters = review.checked_filters(filters)
        with self._uow.read() as uow:
            customer_id = resolve_customer(uow.session, filters.customer).id if filters.customer else None
            rows = review.review_rows(uow.session, filters, customer_id, sort, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return PaymentPage(tuple(rows), review.cursor_of(rows[-1], sort) if more else None)

    def totals(self, actor: Actor, filters: PaymentFilters | None = None) -> PaymentTotals:
        """Count and sum per (currency, status) under the filter, in one GROUP BY."""
        filters = filters or PaymentFilters()
        actor.require(Permission.PAYMENT_READ if filters.customer else Permission.PAYMENT_REVIEW)
        filters = review.checked_filters(filters)
        with self._uow.read() as uow:
            customer_id = resolve_customer(uow.session, filters.customer).id if filters.customer else None
            return review.totals(uow.session, filters, customer_id)

    def daily_figures(self, actor: Actor, days: int, today: date | None = None) -> PaymentDaily:
        """Per local day (the staff member's zone) of the ``days`` (30 or 90) ending ``today``:
        settled top-up volume and count, and failed count, per gateway and currency."""
        actor.require(Permission.PAYMENT_REVIEW)
        review.check_days(days)
        zone = local_zone()
        period = ledger_days(today or datetime.now(zone).date(), days)
        with self._uow.read() as uow:
            return review.daily(uow.session, period, zone)

    def staff_who_started(self, actor: Actor) -> tuple[tuple[int, str], ...]:
        """(staff id, name) of everyone who started a payment: the review's staff filter."""
        actor.require(Permission.PAYMENT_REVIEW)
        with self._uow.read() as uow:
            return review.staff_who_started(uow.session)

    # -- starting a top-up ---------------------------------------------------------------
    def create_topup(self, actor: Actor, customer_ref: str | int, amount: str | Money) -> TopUpResult:
        actor.require(Permission.TOPUP_CREATE)
        payment_id, warning, request, method = self._insert_pending(actor, customer_ref, amount)
        gateway = self.gateways.get(method)
        try:
            checkout = gateway.create_checkout(request)
        except (GatewayDeclined, GatewayUnavailable) as exc:
            self._fail_unstarted(actor, payment_id, exc)
            raise
        except OutcomeUnknown as exc:
            log.warning("payment %s: create outcome unknown: %s", payment_id, exc.message)
            # No command in the text: the GUI shows it too (the CLI adds how to ask for the link).
            return TopUpResult(self._row(payment_id), warning, problem=f"{exc.message} No link yet.")
        self.store_checkout(actor, payment_id, checkout)
        return TopUpResult(self._row(payment_id), warning)

    def _insert_pending(self, actor: Actor, customer_ref: str | int,
                        amount: str | Money) -> tuple[int, str | None, CheckoutRequest, PaymentMethod]:
        with self._uow.write() as uow:
            session = uow.session
            customer = resolve_customer(session, customer_ref)
            dto = customer_dto(session, customer)
            if dto.currency is None:
                raise ValidationError(_no_currency(dto.account), field="currency")
            if dto.profile_missing:
                raise ValidationError(
                    f"Complete {dto.account}'s billing profile before a top-up: {', '.join(dto.profile_missing)} "
                    f"missing (customer update {dto.account}).", field="profile")
            limits = limits_for(dto.currency, self._paypal_currencies, self._minimums)
            money = amount if isinstance(amount, Money) else parse_money(amount, dto.currency)
            check_amount(money, limits)
            self.gateways.get(limits.method)  # a missing [gateways.x] section is refused before any write
            now = utcnow()
            expires_at = now + timedelta(minutes=CHECKOUT_LIFETIME_MINUTES[limits.method])
            warning = _recent_pending_warning(session, customer.id, now)
            payment = Payment(
                customer_id=customer.id, amount=money.minor, currency=money.currency, method=limits.method.value,
                status=PaymentStatus.PENDING.value, idempotency_key=uuid4().hex, gateway_data="{}",
                created_by=actor.staff_id, created_at=now, check_count=0, expires_at=expires_at,
            )
            session.add(payment)
            session.flush()
            audit.record(session, actor, "payment.create", "payment", payment.id,
                         {"customer": dto.account, "amount": money.to_json(), "method": limits.method.value})
            request = CheckoutRequest(payment.id, money, payment.idempotency_key, dto.account, dto.email, now,
                                      expires_at)
            uow.commit()
            return payment.id, warning, request, limits.method

    def store_checkout(self, actor: Actor, payment_id: int, checkout: Checkout) -> bool:
        """Keep the gateway's reference and link; False if another desk stored them first."""
        return store_checkout(self._uow, actor, payment_id, checkout)

    def _fail_unstarted(self, actor: Actor, payment_id: int, exc: BillingDeskError) -> None:
        reason = self.safe_text(f"not started: {exc.message}")
        with self._uow.write() as uow:
            result = uow.session.execute(
                update(Payment).where(Payment.id == payment_id, Payment.status == PaymentStatus.PENDING.value)
                .values(status=PaymentStatus.FAILED.value, reason=reason, settled_at=utcnow())
                .execution_options(synchronize_session=False))
            if result.rowcount == 1:  # type: ignore[attr-defined]
                audit.record(uow.session, actor, "payment.fail", "payment", payment_id, {"reason": reason})
                uow.commit()

    def _row(self, payment_id: int) -> PaymentRow:
        with self._uow.read() as uow:
            row = row_by_id(uow.session, payment_id)
        assert row is not None
        return row

    def safe_text(self, text: str) -> str:
        return self.gateways.safe_text(text)

    # -- reconciliation ------------------------------------------------------------------
    def reconcile(self, actor: Actor, customer_ref: str | int | None = None,
                  progress: Callable[[int, int], None] | None = None,
                  cancel: Callable[[], bool] | None = None,
                  flagged: Callable[[FlaggedPayment], None] | None = None) -> list[PaymentChange]:
        """Ask the gateway about every pending payment (all of them, or one customer's) now.

        Returns the payments whose status changed. ``progress(done, total)`` is called after
        each payment; when ``cancel()`` turns true the run stops and returns what it did. A
        payment that could not be settled stays pending, flagged for finance, and is passed
        to ``flagged``; the run goes on with the others.
        """
        return Reconciler(self._uow, self.gateways, self.expiry_margin).run(actor, customer_ref, progress, cancel,
                                                                           flagged)

    def reconcile_run(self, actor: Actor, payment_ids: Sequence[int] | None = None,
                      customer_ref: str | int | None = None, progress: Callable[[int, int], None] | None = None,
                      cancel: Callable[[], bool] | None = None) -> ReconcileSummary:
        """As ``reconcile``, with the run's counts; ``payment_ids``: only those, if still pending
        (finance's re-check of chosen payments), which needs PAYMENT_RECONCILE."""
        return Reconciler(self._uow, self.gateways, self.expiry_margin).run_summary(
            actor, customer_ref, progress, cancel, payment_ids=payment_ids)

    # -- finance: a payment's story, the exceptions queue, closing one -------------------
    def story(self, actor: Actor, payment_id: int) -> PaymentStory:
        """Who started it, every check made and what the gateway said, its ledger row, its audit."""
        actor.require(Permission.PAYMENT_REVIEW)
        with self._uow.read() as uow:
            row = row_by_id(uow.session, payment_id) if is_row_id(payment_id) else None
            if row is None:
                raise NotFound(f"No payment with id {payment_id}.")
            return read_story(uow.session, row)

    def exceptions(self, actor: Actor) -> tuple[PaymentException, ...]:
        """Pending payments that need a person, oldest first, each with its kind and why."""
        actor.require(Permission.PAYMENT_REVIEW)
        with self._uow.read() as uow:
            return list_exceptions(uow.session, self.expiry_margin)

    def close(self, actor: Actor, payment_id: int, reason: str) -> PaymentRow:
        """Close a pending payment as failed, with the reason; audited; the ledger is not touched."""
        actor.require(Permission.PAYMENT_CLOSE)
        return close_payment(self._uow, actor, payment_id, reason)


def _no_currency(account: str) -> str:
    return (f"{account} has no billing currency yet: choose one first "
            f"(customer set-currency {account} CUR).")


def _recent_pending_warning(session: Session, customer_id: int, now: datetime) -> str | None:
    recent = session.execute(
        select(Payment.id, Payment.amount, Payment.currency, Payment.created_at)
        .where(Payment.customer_id == customer_id, Payment.status == PaymentStatus.PENDING.value,
               Payment.created_at >= now - RECENT_PENDING)
        .order_by(Payment.created_at.desc(), Payment.id.desc()).limit(1)
    ).first()
    if recent is None:
        return None
    minutes = max(0, int((now - recent.created_at).total_seconds() // 60))
    return (f"This customer already has a pending top-up (payment {recent.id}, "
            f"{format_money(Money(recent.amount, recent.currency))}) started {minutes} min ago; "
            "make sure the customer is not paying twice.")


def build_payment_service(uow: UnitOfWorkFactory, gateways: Mapping[str, Mapping[str, Any]],
                          paypal_currencies: Sequence[str], minimums: Mapping[str, Money],
                          expiry_margin: timedelta) -> PaymentService:
    """The service as the composition root builds it from the checked configuration: the
    ``[gateways.<name>]`` tables, the PayPal currencies and the ``[topup]`` limits."""
    return PaymentService(uow, Gateways(gateways), paypal_currencies, minimums, expiry_margin)


__all__ = ["PaymentService", "build_payment_service", "payment_reference_source"]

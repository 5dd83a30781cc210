"""Subscriptions: a customer's current plan, and changing it.

An upgrade takes effect now and charges the prorated price difference for the rest of the
period as one plan-charge ledger row (service "Subscription"), in the same transaction as
the plan change; if the balance is short, nothing changes and the refusal (with the amount
missing) is audited. A downgrade waits for the next period start. A customer who never
subscribed is on the cheapest free plan with no period yet; their first paid plan starts a
period now. Periods roll forward (applying a waiting downgrade) when next read or changed;
charging the renewal itself is not this module's job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_desk.domain.enums import LedgerKind
from billing_desk.domain.errors import Conflict, InsufficientCredit
from billing_desk.domain.money import Money
from billing_desk.domain.permissions import Actor, Permission
from billing_desk.domain.proration import add_months, period_containing, prorated_charge
from billing_desk.models import Customer, CustomerBalance, Plan, Subscription, utcnow
from billing_desk.services import audit
from billing_desk.services.customers import resolve_customer
from billing_desk.services.ledger import Posting, lock_balance, post
from billing_desk.services.plans import catalog as plan_catalog
from billing_desk.services.plans.catalog import find_plan, load_plan_row, prices_of
from billing_desk.services.plans.dtos import CatalogEntry, PlanChangePreview, PlanChangeResult, PlanRow, SubscriptionDTO
from billing_desk.services.uow import UnitOfWork, UnitOfWorkFactory

UPGRADE, DOWNGRADE, CANCEL_DOWNGRADE = "upgrade", "downgrade", "cancel_downgrade"


@dataclass(frozen=True, slots=True)
class _State:
    """A subscription as it stands at ``now`` (rolled forward past any ended period)."""

    plan_id: int | None
    period_start: datetime | None
    period_end: datetime | None
    scheduled_plan_id: int | None


def _free_plan_id(session: Session, currency: str) -> int | None:
    plans = list(session.scalars(select(Plan).where(Plan.retired_at.is_(None)).order_by(Plan.rank, Plan.id)))
    prices = prices_of(session, [p.id for p in plans])
    return next((p.id for p in plans if prices[p.id].get(currency) == 0), None)


def _state(session: Session, sub: Subscription | None, currency: str, now: datetime) -> _State:
    if sub is None:
        return _State(_free_plan_id(session, currency), None, None, None)
    if now < sub.period_end:
        return _State(sub.plan_id, sub.period_start, sub.period_end, sub.scheduled_plan_id)
    start, end = period_containing(sub.period_start, now)
    return _State(sub.scheduled_plan_id or sub.plan_id, start, end, None)


@dataclass(frozen=True, slots=True)
class _Decision:
    kind: str
    charge: int
    period_start: datetime
    period_end: datetime
    effective_at: datetime


def _decide(session: Session, state: _State, target: Plan, currency: str, now: datetime) -> _Decision:
    if target.retired_at is not None and target.id != state.plan_id:
        raise Conflict(f"The {target.name} plan is retired and takes no new subscribers.", field="plan")
    prices = prices_of(session, [target.id] + ([state.plan_id] if state.plan_id else []))
    new_price = prices[target.id].get(currency)
    if new_price is None:
        raise Conflict(f"The {target.name} plan has no price in {currency}; ask a manager to add one.", field="plan")
    start, end = (state.period_start, state.period_end) if state.period_start and state.period_end \
        else (now, add_months(now, 1))
    if target.id == state.plan_id:
        if state.scheduled_plan_id is None:
            raise Conflict(f"The customer is already on the {target.name} plan.", field="plan")
        return _Decision(CANCEL_DOWNGRADE, 0, start, end, now)
    old_price = prices[state.plan_id].get(currency, 0) if state.plan_id else 0
    current_rank = session.get(Plan, state.plan_id).rank if state.plan_id else -1  # type: ignore[union-attr]
    if new_price > old_price or (new_price == old_price and target.rank > current_rank):
        return _Decision(UPGRADE, prorated_charge(old_price, new_price, start, end, now), start, end, now)
    return _Decision(DOWNGRADE, 0, start, end, end)


def _customer_currency(customer: Customer) -> str:
    if customer.currency is None:
        raise Conflict(f"{customer.account} has no billing currency yet; choose it before changing the plan.")
    return customer.currency


class PlanService:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    # Catalog -------------------------------------------------------------------------
    def catalog(self, actor: Actor, currency: str | None = None, include_retired: bool = False) -> list[PlanRow]:
        return plan_catalog.catalog(self._uow, actor, currency, include_retired)

    def catalog_entries(self, actor: Actor) -> list[CatalogEntry]:
        return plan_catalog.catalog_entries(self._uow, actor)

    def add_plan(self, actor: Actor, *, code: str, name: str, prices: Mapping[str, Money],
                 features: Sequence[str] = (), rank: int = 0) -> PlanRow:
        return plan_catalog.add_plan(self._uow, actor, code=code, name=name, prices=prices, features=features,
                                     rank=rank)

    def edit_plan(self, actor: Actor, code: str, *, name: str | None = None,
                  prices: Mapping[str, Money] | None = None, features: Sequence[str] | None = None,
                  rank: int | None = None) -> PlanRow:
        return plan_catalog.edit_plan(self._uow, actor, code, name=name, prices=prices, features=features, rank=rank)

    def retire_plan(self, actor: Actor, code: str) -> PlanRow:
        return plan_catalog.retire_plan(self._uow, actor, code)

    # Subscriptions -------------------------------------------------------------------
    def current(self, actor: Actor, customer_ref: str | int) -> SubscriptionDTO:
        actor.require(Permission.CUSTOMER_READ)
        with self._uow.read() as r:
            customer = resolve_customer(r.session, customer_ref)
            cur = customer.currency
            state = _state(r.session, r.session.get(Subscription, customer.id), cur or "", utcnow())
            return SubscriptionDTO(
                customer.id, load_plan_row(r.session, state.plan_id, cur) if state.plan_id else None,
                state.period_start, state.period_end,
                load_plan_row(r.session, state.scheduled_plan_id, cur) if state.scheduled_plan_id else None,
            )

    def preview_change(self, actor: Actor, customer_ref: str | int, plan_code: str) -> PlanChangePreview:
        """The charge now and the balance after, without changing anything."""
        actor.require(Permission.PLAN_CHANGE)
        now = utcnow()
        with self._uow.read() as r:
            customer = resolve_customer(r.session, customer_ref)
            currency = _customer_currency(customer)
            state = _state(r.session, r.session.get(Subscription, customer.id), currency, now)
            target = find_plan(r.session, plan_code)
            d = _decide(r.session, state, target, currency, now)
            balance_row = r.session.get(CustomerBalance, customer.id)
            balance = balance_row.total if balance_row else 0
            return PlanChangePreview(
                customer.id, d.kind, load_plan_row(r.session, state.plan_id, currency) if state.plan_id else None,
                load_plan_row(r.session, target.id, currency), Money(d.charge, currency), Money(balance, currency),
                d.effective_at, d.period_start, d.period_end,
            )

    def change(self, actor: Actor, customer_ref: str | int, plan_code: str,
               max_charge: Money | None = None) -> PlanChangeResult:
        """Upgrade now (charged) or downgrade at the period end. ``max_charge`` is the amount
        the person confirmed: if the charge has grown since the preview, nothing happens."""
        actor.require(Permission.PLAN_CHANGE)
        now = utcnow()
        with self._uow.write() as w:
            s = w.session
            customer = resolve_customer(s, customer_ref)
            currency = _customer_currency(customer)
            balance = lock_balance(s, customer.id)  # serialises changes for this customer
            sub = s.scalar(select(Subscription).where(Subscription.customer_id == customer.id).with_for_update())
            state = _state(s, sub, currency, now)
            target = find_plan(s, plan_code)
            d = _decide(s, state, target, currency, now)
            from_code = s.get(Plan, state.plan_id).code if state.plan_id else None  # type: ignore[union-attr]
            if max_charge is not None and d.charge > max_charge.minor:
                raise Conflict(f"The charge is now {Money(d.charge, currency)}, more than the {max_charge} "
                               "confirmed; preview again.")
            entry_ids: tuple[int, ...] = ()
            if d.charge > 0:
                result = post(s, Posting(
                    customer.id, LedgerKind.PLAN_CHARGE, Money(-d.charge, currency), service="Subscription",
                    description=f"Upgrade to {target.name}, prorated to {d.period_end:%Y-%m-%d}",
                    idempotency_key=f"plan-{customer.id}-{d.period_start:%Y%m%d%H%M%S}-{target.code}",
                    staff_id=actor.staff_id,
                ))
                if not result.succeeded:
                    self._refuse(w, actor, customer, target, d, balance.total, currency, from_code)
                entry_ids = result.entry_ids
            if sub is None:
                sub = Subscription(customer_id=customer.id, plan_id=target.id, period_start=d.period_start,
                                   period_end=d.period_end, scheduled_plan_id=None, updated_at=now)
                s.add(sub)
                if d.kind == DOWNGRADE:
                    sub.plan_id, sub.scheduled_plan_id = state.plan_id or target.id, target.id
            else:
                sub.period_start, sub.period_end = d.period_start, d.period_end
                sub.plan_id = target.id if d.kind != DOWNGRADE else (state.plan_id or sub.plan_id)
                sub.scheduled_plan_id = target.id if d.kind == DOWNGRADE else None
                sub.updated_at = now
            s.flush()
            audit.record(s, actor, f"plan.{d.kind}", "customer", customer.id, {
                "before": {"plan": from_code, "scheduled": state.scheduled_plan_id},
                "after": {"plan": s.get(Plan, sub.plan_id).code,  # type: ignore[union-attr]
                          "scheduled": sub.scheduled_plan_id},
                "charge": Money(d.charge, currency).to_json(), "effective_at": d.effective_at,
            })
            after = Money(balance.total, currency)
            w.commit()
            return PlanChangeResult(customer.id, d.kind, from_code, target.code, Money(d.charge, currency), after,
                                    d.effective_at, d.period_end, entry_ids)

    @staticmethod
    def _refuse(w: UnitOfWork, actor: Actor, customer: Customer, target: Plan, d: _Decision, available: int,
                currency: str, from_code: str | None) -> None:
        """Undo everything (the failed ledger row too), keep an audit of the refusal, and raise."""
        missing = Money(d.charge - available, currency)
        customer_id, account, target_code, target_name = customer.id, customer.account, target.code, target.name
        w.session.rollback()
        audit.record(w.session, actor, "plan.upgrade_refused", "customer", customer_id, {
            "from": from_code, "to": target_code, "charge": Money(d.charge, currency).to_json(),
            "missing": missing.to_json(),
        })
        w.commit()
        raise InsufficientCredit(
            f"{account} cannot upgrade to {target_name}: the charge is {Money(d.charge, currency)} "
            f"but the balance is {Money(available, currency)}; {missing} is missing. Top up first.",
            field="plan",
        )

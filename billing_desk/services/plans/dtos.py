"""Frozen results of the plan services, for the CLI and the GUI's Qt workers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from billing_desk.domain.money import Money


@dataclass(frozen=True, slots=True)
class PlanRow:
    id: int
    code: str
    name: str
    features: tuple[str, ...]
    rank: int
    price: Money | None  # in the currency asked for; None when the plan has no price in it
    prices: dict[str, Money] = field(default_factory=dict)
    retired: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "code": self.code, "name": self.name, "features": list(self.features),
                "rank": self.rank, "price": self.price.to_json() if self.price else None,
                "prices": {c: m.to_json() for c, m in sorted(self.prices.items())}, "retired": self.retired}


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """A plan as the catalog's managers see it: with how many customers are on it now."""

    plan: PlanRow
    subscribers: int

    def to_json(self) -> dict[str, Any]:
        return self.plan.to_json() | {"subscribers": self.subscribers}


@dataclass(frozen=True, slots=True)
class SubscriptionDTO:
    """A customer's plan; the period is None while the customer has never subscribed (the free plan)."""

    customer_id: int
    plan: PlanRow | None
    period_start: datetime | None
    period_end: datetime | None
    scheduled_plan: PlanRow | None  # a downgrade waiting for period_end

    def to_json(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id, "plan": self.plan.to_json() if self.plan else None,
                "period_start": self.period_start.isoformat() if self.period_start else None,
                "period_end": self.period_end.isoformat() if self.period_end else None,
                "scheduled_plan": self.scheduled_plan.to_json() if self.scheduled_plan else None}


@dataclass(frozen=True, slots=True)
class PlanChangePreview:
    """What a change would do: ``kind`` is upgrade, downgrade or cancel_downgrade."""

    customer_id: int
    kind: str
    from_plan: PlanRow | None
    to_plan: PlanRow
    charge: Money
    balance: Money
    effective_at: datetime
    period_start: datetime
    period_end: datetime

    @property
    def balance_after(self) -> Money:
        return self.balance - self.charge

    @property
    def shortfall(self) -> Money:
        """Zero when the balance covers the charge."""
        return Money(max(self.charge.minor - self.balance.minor, 0), self.charge.currency)

    @property
    def affordable(self) -> bool:
        return self.shortfall.minor == 0

    def to_json(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id, "kind": self.kind,
                "from_plan": self.from_plan.code if self.from_plan else None, "to_plan": self.to_plan.code,
                "charge": self.charge.to_json(), "balance": self.balance.to_json(),
                "balance_after": self.balance_after.to_json(), "shortfall": self.shortfall.to_json(),
                "affordable": self.affordable, "effective_at": self.effective_at.isoformat(),
                "period_start": self.period_start.isoformat(), "period_end": self.period_end.isoformat()}


@dataclass(frozen=True, slots=True)
class PlanChangeResult:
    customer_id: int
    kind: str
    from_plan: str | None
    to_plan: str
    charge: Money
    balance_after: Money
    effective_at: datetime
    period_end: datetime
    ledger_entry_ids: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id, "kind": self.kind, "from_plan": self.from_plan,
                "to_plan": self.to_plan, "charge": self.charge.to_json(), "balance_after": self.balance_after.to_json(),
                "effective_at": self.effective_at.isoformat(), "period_end": self.period_end.isoformat(),
                "ledger_entry_ids": list(self.ledger_entry_ids)}

"""Daily spending per service: one customer's successful usage summed per whole local day.

The days are the staff member's (any zone: DST changes make 23- and 25-hour days, some
zones are offset by half or three quarters of an hour), so they cannot be computed in SQL
portably. Instead the UTC instant at which each local day starts is computed here, and the
database buckets each row by comparing ``created_at`` with those instants: a CASE nested as
a binary search (about log2(days) comparisons a row), grouped by day and service, over one
index range scan of the customer's period (SQLite walks (customer_id, status, created_at, id),
PostgreSQL (customer_id, created_at, id)). Only a few hundred sums come back, in integer
minor units. On the 1,003,332-row demo customer (82,000 rows in 90 days) it takes about
0.1 s warm on SQLite and 0.07 s on PostgreSQL, most of it reading the rows' amounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal_column, select
from sqlalchemy.orm import Session

from billing_desk.domain.dates import day_start_utc
from billing_desk.domain.enums import EntryStatus, LedgerKind
from billing_desk.domain.errors import ValidationError
from billing_desk.models import LedgerEntry
from billing_desk.services.ledger.dtos import DailySpending, ServiceSpending

MAX_DAYS = 366
# What the customer spent: usage and plan charges (both debits), never credits or corrections.
SPENDING_KINDS = (LedgerKind.USAGE, LedgerKind.PLAN_CHARGE)
_T = LedgerEntry.__table__


def local_days(today: date, days: int) -> tuple[date, ...]:
    """The ``days`` local days ending with ``today``, oldest first."""
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError(f"Spending is shown for 1 to {MAX_DAYS} days, not {days}.", field="days")
    first = today - timedelta(days=days - 1)
    return tuple(first + timedelta(days=i) for i in range(days))


def day_bounds(days: Sequence[date], zone: tzinfo) -> list[datetime]:
    """UTC start of each day and of the day after the last: day i is [bounds[i], bounds[i + 1])."""
    return [day_start_utc(d, zone) for d in (*days, days[-1] + timedelta(days=1))]


def _day_index(created_at: ColumnElement[Any], bounds: Sequence[datetime], lo: int, hi: int) -> ColumnElement[Any]:
    """Index of the day in [lo, hi) holding ``created_at``, known to lie in [bounds[lo], bounds[hi])."""
    if hi - lo == 1:
        return literal_column(str(lo))
    mid = (lo + hi) // 2
    return case((created_at < bounds[mid], _day_index(created_at, bounds, lo, mid)),
                else_=_day_index(created_at, bounds, mid, hi))


def spending_query(customer_id: int, bounds: Sequence[datetime]) -> Select[Any]:
    """(day index, service, kind, sum of amounts) of the successful spending rows in the period."""
    rows = (select(_day_index(_T.c.created_at, bounds, 0, len(bounds) - 1).label("day"), _T.c.service, _T.c.kind,
                   _T.c.amount)
            .where(_T.c.customer_id == customer_id, _T.c.kind.in_([k.value for k in SPENDING_KINDS]),
                   _T.c.created_at >= bounds[0], _T.c.created_at < bounds[-1],
                   _T.c.status == EntryStatus.SUCCESS.value)
            .subquery("spent"))
    return (select(rows.c.day, rows.c.service, rows.c.kind, func.sum(rows.c.amount))
            .group_by(rows.c.day, rows.c.service, rows.c.kind))


def spending(session: Session, customer_id: int, currency: str | None, days: Sequence[date],
             zone: tzinfo) -> DailySpending:
    per_service: dict[tuple[str, bool], list[int]] = {}
    for day, service, kind, amount in session.execute(spending_query(customer_id, day_bounds(days, zone))):
        key = (service, kind == LedgerKind.PLAN_CHARGE.value)
        per_service.setdefault(key, [0] * len(days))[int(day)] -= int(amount)  # debits: spent is positive
    return DailySpending(currency, tuple(days),
                         tuple(ServiceSpending(s, tuple(v), plan) for (s, plan), v in sorted(per_service.items())))


day_index = _day_index  # the month report buckets payments by local day the same way

__all__ = ["MAX_DAYS", "SPENDING_KINDS", "day_bounds", "day_index", "local_days", "spending", "spending_query"]

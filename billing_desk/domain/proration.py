"""Billing periods and prorated upgrade charges, in exact integer minor units.

A period is one calendar month from its start (Jan 31 -> Feb 28/29 -> Mar 31 keeps the
anchor day). An upgrade charges the price difference for the part of the period that is
left, measured in whole microseconds and rounded down: the customer never pays a fraction
of a minor unit more than the exact share.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta

_MICRO = timedelta(microseconds=1)


def add_months(start: datetime, months: int, anchor_day: int | None = None) -> datetime:
    """``start`` moved by whole months, keeping ``anchor_day`` (default: start's day) where it exists."""
    day = anchor_day or start.day
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return start.replace(year=year, month=month, day=min(day, calendar.monthrange(year, month)[1]))


def period_containing(anchor: datetime, now: datetime) -> tuple[datetime, datetime]:
    """The monthly period, anchored at ``anchor``, that contains ``now`` (``now >= anchor``)."""
    n = max((now.year - anchor.year) * 12 + (now.month - anchor.month), 0)
    if n and add_months(anchor, n) > now:
        n -= 1
    return add_months(anchor, n), add_months(anchor, n + 1)


def prorated_charge(old_price: int, new_price: int, period_start: datetime, period_end: datetime,
                    now: datetime) -> int:
    """What an upgrade from ``old_price`` to ``new_price`` (monthly, minor units) costs at ``now``.

    floor((new - old) x remaining / period), never negative: a downgrade or an equal price
    costs nothing now, and nothing is left to charge once the period has ended.
    """
    if period_end <= period_start:
        raise ValueError("a period must end after it starts")
    difference = new_price - old_price
    if difference <= 0 or now >= period_end:
        return 0
    total = (period_end - period_start) // _MICRO
    remaining = (period_end - max(now, period_start)) // _MICRO
    return difference * remaining // total

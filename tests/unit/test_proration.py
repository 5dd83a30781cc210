"""Proration: exact minor units, rounded in the customer's favour; monthly periods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_desk.domain.proration import add_months, period_containing, prorated_charge

starts = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC))
prices = st.integers(min_value=0, max_value=10**12)


@st.composite
def upgrade_case(draw: st.DrawFn) -> tuple[int, int, datetime, datetime, datetime]:
    start = draw(starts)
    end = add_months(start, 1)
    offset = draw(st.integers(min_value=0, max_value=(end - start) // timedelta(microseconds=1)))
    now = start + timedelta(microseconds=offset)
    return draw(prices), draw(prices), start, end, now


@given(upgrade_case())
@settings(max_examples=500)
def test_charge_is_the_exact_share_rounded_down(case: tuple[int, int, datetime, datetime, datetime]) -> None:
    old, new, start, end, now = case
    charge = prorated_charge(old, new, start, end, now)
    assert isinstance(charge, int)
    diff = new - old
    if diff <= 0:
        assert charge == 0
        return
    total = (end - start) // timedelta(microseconds=1)
    remaining = (end - now) // timedelta(microseconds=1)
    # charge <= exact share < charge + 1: never a fraction of a minor unit too much.
    assert charge * total <= diff * remaining < (charge + 1) * total
    assert 0 <= charge <= diff


@given(upgrade_case(), st.integers(min_value=1, max_value=10**9))
@settings(max_examples=300)
def test_later_upgrades_never_cost_more(case: tuple[int, int, datetime, datetime, datetime], later_us: int) -> None:
    old, new, start, end, now = case
    later = min(now + timedelta(microseconds=later_us), end)
    assert prorated_charge(old, new, start, end, later) <= prorated_charge(old, new, start, end, now)


@given(starts, prices, prices)
def test_whole_period_costs_the_whole_difference_and_the_end_costs_nothing(start: datetime, a: int, b: int) -> None:
    end = add_months(start, 1)
    assert prorated_charge(a, b, start, end, start) == max(b - a, 0)
    assert prorated_charge(a, b, start, end, end) == 0
    assert prorated_charge(a, b, start, end, end + timedelta(days=3)) == 0


def test_half_a_thirty_day_month_of_a_whole_yen_difference_rounds_down() -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    end = add_months(start, 1)  # 30 days
    assert prorated_charge(1000, 2001, start, end, start + timedelta(days=15)) == 500  # 500.5 -> 500
    assert prorated_charge(0, 2900, start, end, start + timedelta(days=10)) == 1933  # 1933.33 -> 1933


def test_period_must_have_length() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        prorated_charge(0, 10, start, start, start)


@pytest.mark.parametrize(("start", "months", "expected"), [
    (datetime(2026, 1, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),
    (datetime(2028, 1, 31, tzinfo=UTC), 1, datetime(2028, 2, 29, tzinfo=UTC)),
    (datetime(2026, 1, 31, tzinfo=UTC), 2, datetime(2026, 3, 31, tzinfo=UTC)),
    (datetime(2026, 12, 15, 8, tzinfo=UTC), 1, datetime(2027, 1, 15, 8, tzinfo=UTC)),
])
def test_add_months_keeps_the_anchor_day(start: datetime, months: int, expected: datetime) -> None:
    assert add_months(start, months) == expected


@given(starts, st.integers(min_value=0, max_value=10**15))
def test_period_containing_contains_now(anchor: datetime, offset_us: int) -> None:
    now = anchor + timedelta(microseconds=offset_us)
    start, end = period_containing(anchor, now)
    assert start <= now < end
    assert end == add_months(anchor, (start.year - anchor.year) * 12 + start.month - anchor.month + 1)

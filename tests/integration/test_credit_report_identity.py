"""Hypothesis: random histories across four months prove the credit report's identity.

Each example writes top-ups (with their settled payments), voucher credits (some expiring
within the months), usage, plan charges, adjustments of either sign and promotions, at random
local moments (midnight edges included, where the local day and the UTC day differ), replayed
at their own moments as the posting rules apply them, so voucher credit expires and debits
fail for want of credit as they would have. Then for every month: closing = opening + the
movements, per pool; the stored balances minus later rows give the same figure (difference 0);
each month closes where the next opens; the credits and the gateways' totals are exactly the
operations written in that month. Each example takes a year of its own, so earlier examples
only add to the opening balance.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_desk.domain.enums import CreditSource, LedgerKind
from billing_desk.domain.money import Money
from billing_desk.services.ledger import Posting
from tests.support.customers import make_customer
from tests.support.ledger import replay

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")  # tests/conftest.py sets the desk's zone to it
MONTHS = 4
SERVICES = ("Storage", "GPU Container", "AI Inference")
CREDITS = {LedgerKind.TOPUP: "topups", LedgerKind.VOUCHER: "voucher_granted", LedgerKind.PROMOTION: "promotions"}

operation = st.tuples(
    st.integers(0, 2),  # customer
    st.integers(0, MONTHS - 1), st.integers(1, 31), st.sampled_from([0, 1, 6, 7, 12, 16, 17, 23]),  # when (local)
    st.sampled_from([LedgerKind.TOPUP, LedgerKind.VOUCHER, LedgerKind.USAGE, LedgerKind.USAGE, LedgerKind.PLAN_CHARGE,
                     LedgerKind.ADJUSTMENT, LedgerKind.PROMOTION]),
    st.integers(1, 500) .map(lambda n: n * 1000),  # amount
    st.integers(0, 5),  # a choice: service, sign and source, or expiry
)


def _local(year: int, month_index: int, day: int, hour: int) -> datetime:
    first = date(year, month_index + 1, 1)
    last = ((first + timedelta(days=32)).replace(day=1) - timedelta(days=1)).day
    return datetime(year, month_index + 1, min(day, last), hour, 30, tzinfo=ZONE).astimezone(UTC)


def _posting(cid: int, at: datetime, kind: LedgerKind, amount: int, choice: int) -> Posting:
    money = Money(amount, "VND")
    if kind is LedgerKind.VOUCHER:  # no expiry, or 1 to 50 days after the grant
        expires = None if choice == 0 else at + timedelta(days=choice * 10 - 9)
        return Posting(cid, kind, money, created_at=at, voucher_expires_at=expires)
    if kind in (LedgerKind.USAGE, LedgerKind.PLAN_CHARGE):
        return Posting(cid, kind, -money, service=SERVICES[choice % 3] if kind is LedgerKind.USAGE else "Subscription",
                       created_at=at)
    if kind is LedgerKind.ADJUSTMENT:
        source = (None, CreditSource.TOPUP, CreditSource.VOUCHER)[choice % 3]
        return Posting(cid, kind, money if choice < 2 else -money, source=source, description="test", created_at=at)
    return Posting(cid, kind, money, created_at=at, description="test")


def _check_month(app, staff, month: str, postings: list[Posting], start: datetime, end: datetime):
    r = app.ledger.month_report(staff.finance, month, "VND")
    assert (r.starts_at, r.ends_at) == (start, end)
    assert r.closing.topup.minor == r.opening.topup.minor + sum(m.topup.minor for m in r.movements)
    assert r.closing.voucher.minor == r.opening.voucher.minor + sum(m.voucher.minor for m in r.movements)
    shown = r.opening.total + r.topups + r.voucher_granted + r.promotions - r.usage - r.plan_charges \
        + r.adjustments - r.voucher_expired
    assert shown == r.closing.total == r.balances and r.difference.minor == 0
    assert sum(m.minor for _, m in r.usage_by_service) == r.usage.minor
    inside = [p for p in postings if start <= p.created_at < end]
    for kind, key in CREDITS.items():  # credits never fail: exactly what was written
        assert getattr(r, key).minor == sum(p.amount.minor for p in inside if p.kind is kind)
    topups = [p for p in inside if p.kind is LedgerKind.TOPUP]
    assert sum(g.count for g in r.gateways) == len(topups)
    assert sum(g.amount.minor for g in r.gateways) == sum(p.amount.minor for p in topups)
    return r


def test_every_month_proves_itself_and_closes_where_the_next_opens(app, staff, request):
    years = itertools.count(2001)
    customers = [make_customer(app, staff.manager, name=f"Identity {i}") for i in range(3)]

    @settings(max_examples=200 if request.config.getoption("--long") else 8, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(st.lists(operation, min_size=1, max_size=30))
    def history(ops):
        year = next(years)
        postings = [_posting(customers[c], _local(year, m, d, h), kind, amount, choice)
                    for c, m, d, h, kind, amount, choice in ops]
        bounds = [datetime(year, m + 1, 1, tzinfo=ZONE).astimezone(UTC) for m in range(MONTHS + 1)]
        replay(app, postings, expire_by=bounds[-1])
        previous = None
        for m in range(MONTHS):
            report = _check_month(app, staff, f"{year}-{m + 1:02d}", postings, bounds[m], bounds[m + 1])
            if previous is not None:
                assert report.opening == previous.closing
            previous = report

    history()


@pytest.mark.parametrize("month", ["2001-12", "2002-01"])
def test_year_boundaries(app, staff, month):
    """December runs to January's first local midnight; January opens with December's close."""
    cid = make_customer(app, staff.manager)
    replay(app, [Posting(cid, LedgerKind.TOPUP, Money(5_000, "VND"), created_at=_local(2001, 11, 31, 23)),
                 Posting(cid, LedgerKind.TOPUP, Money(7_000, "VND"), created_at=_local(2002, 0, 1, 0))])
    r = app.ledger.month_report(staff.finance, month, "VND")
    assert r.topups.minor == (5_000 if month == "2001-12" else 7_000)
    assert r.closing.total == r.balances and r.difference.minor == 0

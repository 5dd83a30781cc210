"""Exactly-once redemption under real concurrency on PostgreSQL: 50 desks at once.

Each thread is its own desk: its own App (engine, pool) and its own session per call, all
released together by a barrier so the redemptions really overlap.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from billing_desk.bootstrap import App, build_app
from billing_desk.config import Settings
from billing_desk.domain.errors import BillingDeskError
from billing_desk.domain.money import Money
from billing_desk.domain.permissions import Actor
from billing_desk.services.vouchers.dtos import IssueRequest
from tests.support.customers import make_customer
from tests.support.database import raw

pytestmark = pytest.mark.usefixtures("voucher_key")  # every desk of a test shares the test code key

DESKS = 50


def _race(url: str, actor: Actor, jobs: list[tuple[int, str]]) -> Counter[str]:
    apps = [build_app(Settings(database_url=url, config_path=None)) for _ in jobs]
    barrier = threading.Barrier(len(jobs))

    def attempt(i: int) -> str:
        customer_id, code = jobs[i]
        barrier.wait()
        try:
            apps[i].vouchers.redeem(actor, customer_id, code)
            return "ok"
        except BillingDeskError as exc:
            return type(exc).__name__ + ": " + exc.message.split(";")[0]

    try:
        with ThreadPoolExecutor(len(jobs)) as pool:
            return Counter(pool.map(attempt, range(len(jobs))))
    finally:
        for a in apps:
            a.close()


@pytest.mark.slow
@pytest.mark.xdist_group("concurrency")  # one at a time: each opens dozens of connections or processes
@pytest.mark.parametrize("max_redemptions", [1, 5])
def test_fifty_customers_race_for_one_voucher(pg_url: str, staff, max_redemptions: int) -> None:
    app = build_app(Settings(database_url=pg_url, config_path=None))
    try:
        customers = [make_customer(app, staff.support, "USD", name=f"Racer {i}", email=f"racer{i}@example.com")
                     for i in range(DESKS)]
        issued = app.vouchers.issue(staff.manager, IssueRequest(Money(1000, "USD"), max_redemptions=max_redemptions))
        outcome = _race(pg_url, staff.support, [(c, issued.codes[0]) for c in customers])
        assert outcome["ok"] == max_redemptions, outcome
        assert sum(n for k, n in outcome.items() if "used up" in k) == DESKS - max_redemptions, outcome
        _check_money(app, issued.voucher_ids[0], max_redemptions)
    finally:
        app.close()


@pytest.mark.slow
@pytest.mark.xdist_group("concurrency")
def test_one_customer_at_fifty_desks_redeems_once(pg_url: str, staff) -> None:
    app = build_app(Settings(database_url=pg_url, config_path=None))
    try:
        cid = make_customer(app, staff.support, "USD")
        issued = app.vouchers.issue(staff.manager, IssueRequest(Money(1000, "USD"), max_redemptions=10))
        outcome = _race(pg_url, staff.support, [(cid, issued.codes[0])] * DESKS)
        assert outcome["ok"] == 1, outcome
        _check_money(app, issued.voucher_ids[0], 1)
    finally:
        app.close()


def _check_money(app: App, voucher_id: int, expected: int) -> None:
    assert raw(app, "SELECT redemption_count FROM vouchers WHERE id = :v", v=voucher_id)[0][0] == expected
    assert raw(app, "SELECT count(*) FROM voucher_redemptions")[0][0] == expected
    assert raw(app, "SELECT count(*), coalesce(sum(amount), 0) FROM ledger_entries WHERE kind = 'voucher'")[0] \
        == (expected, 1000 * expected)
    assert raw(app, "SELECT coalesce(sum(total), 0), coalesce(sum(voucher), 0) FROM customer_balances")[0] \
        == (1000 * expected, 1000 * expected)


@pytest.mark.slow
@pytest.mark.xdist_group("concurrency")
def test_twenty_desks_race_on_both_databases(db_url: str, staff) -> None:
    app = build_app(Settings(database_url=db_url, config_path=None))
    try:
        customers = [make_customer(app, staff.support, "USD", name=f"Racer {i}", email=f"r{i}@example.com")
                     for i in range(20)]
        issued = app.vouchers.issue(staff.manager, IssueRequest(Money(1000, "USD"), max_redemptions=3))
        outcome = _race(db_url, staff.support, [(c, issued.codes[0]) for c in customers])
        assert outcome["ok"] == 3, outcome
        _check_money(app, issued.voucher_ids[0], 3)
    finally:
        app.close()


@pytest.mark.slow
@pytest.mark.xdist_group("concurrency")
def test_two_managers_start_the_same_campaign_at_once(pg_url: str, staff) -> None:
    apps = [build_app(Settings(database_url=pg_url, config_path=None)) for _ in range(4)]
    barrier = threading.Barrier(len(apps))

    def issue(app: App) -> int | None:
        barrier.wait()
        request = IssueRequest(Money(100, "USD"), count=50, campaign="Launch")
        return app.vouchers.issue(staff.manager, request).campaign_id

    try:
        with ThreadPoolExecutor(len(apps)) as pool:
            campaign_ids = set(pool.map(issue, apps))
        assert len(campaign_ids) == 1
        assert raw(apps[0], "SELECT count(*) FROM vouchers")[0][0] == 200
    finally:
        for a in apps:
            a.close()


def test_a_desk_with_another_key_cannot_redeem(db_url: str, staff, monkeypatch: pytest.MonkeyPatch) -> None:
    app = build_app(Settings(database_url=db_url, config_path=None))
    try:
        cid = make_customer(app, staff.support, "USD")
        code = app.vouchers.issue(staff.manager, IssueRequest(Money(100, "USD"))).codes[0]
    finally:
        app.close()
    monkeypatch.setenv("BILLING_DESK_VOUCHER_KEY", "a-different-desk-key-" + "z" * 20)
    other = build_app(Settings(database_url=db_url, config_path=None))
    try:
        with pytest.raises(BillingDeskError, match="No voucher has this code"):
            other.vouchers.redeem(staff.support, cid, code)
    finally:
        other.close()

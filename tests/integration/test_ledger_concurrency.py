"""PostgreSQL under many writers: 8 processes x 500 mixed operations on the same 3 customers.

Each process has its own engine and tallies what its operations report (credits added,
usage charged, refusals and duplicates moving nothing). Afterwards every balance equals the
sum of the tallies exactly, and `ledger verify` passes: no lost update, no double charge.
"""

from __future__ import annotations

import multiprocessing
import random
from datetime import UTC, datetime, timedelta

import pytest

from billing_desk.bootstrap import build_app
from billing_desk.config import Settings
from billing_desk.domain.enums import CreditSource, EntryStatus, LedgerKind, Role
from billing_desk.domain.errors import InsufficientCredit
from billing_desk.domain.money import Money
from billing_desk.domain.permissions import Actor
from billing_desk.services.ledger.dtos import HistoryFilter
from billing_desk.services.ledger.posting import Posting, post
from tests.support.customers import make_customer
from tests.support.ledger import caused

PROCESSES = 8
OPERATIONS = 500
MANAGER = Actor(2, "manager", Role.MANAGER)


def _credit(app, cid: int, amount: int, voucher: bool) -> int:
    with app.uow.write() as uow:
        result = post(uow.session, caused(uow.session, Posting(
            cid, LedgerKind.VOUCHER if voucher else LedgerKind.TOPUP, Money(amount, "VND"),
            description="concurrent credit", voucher_expires_at=datetime.now(UTC) + timedelta(days=30))))
        uow.commit()
    return amount if result.succeeded else 0


def _operate(app, rng: random.Random, cid: int, worker: int, i: int) -> int:
    """One random operation; returns how much it moved the customer's balance."""
    roll = rng.random()
    if roll < 0.25:
        return _credit(app, cid, rng.randrange(1_000, 200_000), voucher=False)
    if roll < 0.35:
        return _credit(app, cid, rng.randrange(1_000, 50_000), voucher=True)
    if roll < 0.80:
        shared = rng.random() < 0.3  # a key several processes send: exactly one may charge it
        key = f"shared-{cid}-{rng.randrange(40)}" if shared else f"w{worker}-{i}"
        amount = (int(key.rsplit("-", 1)[1]) + 1) * 1_000 if shared else rng.randrange(1_000, 150_000)
        out = app.ledger.record_usage(MANAGER, cid, service="GPU Container", amount=str(amount), key=key)
        return -amount if out.status is EntryStatus.SUCCESS and not out.duplicate else 0
    if roll < 0.95:
        amount = rng.randrange(-100_000, 100_000) or 1
        source = rng.choice([None, CreditSource.TOPUP, CreditSource.VOUCHER])
        try:
            app.ledger.adjust(MANAGER, cid, str(amount), "concurrency test", source=source)
        except InsufficientCredit:
            return 0
        return amount
    app.ledger.history_page(MANAGER, cid, HistoryFilter(services=("GPU Container",)), None, 50)
    return 0


def _worker(url: str, worker: int, customers: list[int]) -> dict[int, int]:
    app = build_app(Settings(database_url=url, config_path=None))
    rng = random.Random(worker)
    moved = dict.fromkeys(customers, 0)
    try:
        for i in range(OPERATIONS):
            cid = rng.choice(customers)
            moved[cid] += _operate(app, rng, cid, worker, i)
    finally:
        app.close()
    return moved


@pytest.mark.slow
@pytest.mark.xdist_group("concurrency")  # one at a time: each opens dozens of connections or processes
def test_eight_processes_on_three_customers_lose_nothing(pg_url, staff):
    app = build_app(Settings(database_url=pg_url, config_path=None))
    try:
        customers = [make_customer(app, staff.manager, name=f"Busy{n} Customer") for n in range(3)]
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(PROCESSES) as pool:
            tallies = pool.starmap(_worker, [(pg_url, w, customers) for w in range(PROCESSES)])
        report = app.ledger.verify(staff.finance)
        assert report.ok, [m.describe() for m in report.mismatches]
        for cid in customers:
            expected = sum(t[cid] for t in tallies)
            assert app.ledger.balance(staff.support, cid).total == Money(expected, "VND")
        assert report.rows >= PROCESSES * OPERATIONS * 0.6
    finally:
        app.close()

"""Voucher figures: batch issue time (10,000 and 100,000 codes), redemption latency, and
50 desks racing to redeem one voucher on PostgreSQL (max 1 and max 5 redemptions); the
campaigns list with its funnels over 1,000 campaigns and 1,000,000 vouchers (``--funnel``);
issuing 100,000 codes from the GUI's dialog with the longest event-loop stall (``--gui``).

Run: .venv/bin/python benchmarks/bench_vouchers.py [--skip-postgres] [--funnel] [--gui]
(``--funnel`` and ``--gui`` run only those parts). PostgreSQL comes from
BILLING_DESK_TEST_POSTGRES_URL, else postgres@127.0.0.1:5432.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from billing_desk.bootstrap import App, build_app
from billing_desk.config import Settings
from billing_desk.database import upgrade
from billing_desk.domain.errors import BillingDeskError
from billing_desk.domain.money import Money
from billing_desk.domain.permissions import SYSTEM_ACTOR
from billing_desk.services.vouchers.codes import generate_codes
from billing_desk.services.vouchers.dtos import IssueRequest

PG_ADMIN = os.environ.get("BILLING_DESK_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
os.environ.setdefault("BILLING_DESK_VOUCHER_KEY", "benchmark-voucher-code-key-" + "b" * 20)


@contextmanager
def sqlite_db() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        upgrade(url)
        yield url


@contextmanager
def postgres_db() -> Iterator[str]:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"bench_vouchers_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def open_app(url: str) -> App:
    return build_app(Settings(database_url=url, config_path=None))


def customers(app: App, n: int, prefix: str) -> list[int]:
    ids = []
    for i in range(n):
        c = app.customers.create(SYSTEM_ACTOR, name=f"{prefix} {i}", email=f"{prefix.lower()}{i}@example.com",
                                 country="US", billing_type="personal")
        app.customers.set_currency(SYSTEM_ACTOR, c.id, "USD")
        ids.append(c.id)
    return ids


def bench_issue(app: App, count: int) -> float:
    started = time.perf_counter()
    issued = app.vouchers.issue(SYSTEM_ACTOR, IssueRequest(Money(1000, "USD"), count=count,
                                                           campaign=f"bench-{count}-{uuid.uuid4().hex[:6]}"))
    elapsed = time.perf_counter() - started
    assert len(issued.codes) == count
    return elapsed


def bench_redeem(app: App, n: int) -> list[float]:
    ids = customers(app, n, "Latency")
    issued = app.vouchers.issue(SYSTEM_ACTOR, IssueRequest(Money(500, "USD"), count=n, campaign="latency"))
    times = []
    for cid, code in zip(ids, issued.codes, strict=True):
        started = time.perf_counter()
        app.vouchers.redeem(SYSTEM_ACTOR, cid, code)
        times.append((time.perf_counter() - started) * 1000)
    return times


def race(url: str, app: App, max_redemptions: int, desks: int = 50) -> tuple[Counter[str], float]:
    ids = customers(app, desks, f"Racer{max_redemptions}")
    issued = app.vouchers.issue(SYSTEM_ACTOR, IssueRequest(Money(1000, "USD"), max_redemptions=max_redemptions))
    apps = [open_app(url) for _ in range(desks)]
    barrier = threading.Barrier(desks)

    def attempt(i: int) -> str:
        barrier.wait()
        try:
            apps[i].vouchers.redeem(SYSTEM_ACTOR, ids[i], issued.codes[0])
            return "redeemed"
        except BillingDeskError as exc:
            return exc.message.split(";")[0]

    started = time.perf_counter()
    with ThreadPoolExecutor(desks) as pool:
        outcome = Counter(pool.map(attempt, range(desks)))
    elapsed = time.perf_counter() - started
    for a in apps:
        a.close()
    return outcome, elapsed


def run_backend(label: str, url: str, with_race: bool) -> None:
    app = open_app(url)
    try:
        for count in (10_000, 100_000):
            print(f"{label}: issue {count:>7,} codes: {bench_issue(app, count):6.2f} s", flush=True)
        times = bench_redeem(app, 200)
        print(f"{label}: redeem one code: median {statistics.median(times):.1f} ms, "
              f"p95 {sorted(times)[int(len(times) * 0.95)]:.1f} ms (200 redemptions, 110,200 vouchers in the table)")
        if with_race:
            for limit in (1, 5):
                outcome, elapsed = race(url, app, limit)
                print(f"{label}: 50 desks at once, max {limit}: {dict(outcome)} in {elapsed:.2f} s")
    finally:
        app.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--funnel", action="store_true", help="only the campaigns list over 1,000,000 vouchers")
    parser.add_argument("--gui", action="store_true", help="only 100,000 codes issued from the dialog")
    parser.add_argument("--skip-sqlite", action="store_true", help="with --funnel or --gui: PostgreSQL only")
    args = parser.parse_args()
    if args.funnel or args.gui:
        from bench_voucher_funnel import run_funnel, run_gui  # the parts that build large data or a window
        backends = ([] if args.skip_sqlite else [("SQLite", sqlite_db)]) + \
            ([] if args.skip_postgres else [("PostgreSQL", postgres_db)])
        for label, make in backends:
            with make() as url:
                if args.funnel:
                    run_funnel(label, url)
                if args.gui:
                    run_gui(label, url)
        return 0
    started = time.perf_counter()
    generate_codes(1_000_000)
    print(f"generate 1,000,000 codes in memory: {time.perf_counter() - started:.2f} s")
    with sqlite_db() as url:
        run_backend("SQLite", url, with_race=True)
    if not args.skip_postgres:
        with postgres_db() as url:
            run_backend("PostgreSQL", url, with_race=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

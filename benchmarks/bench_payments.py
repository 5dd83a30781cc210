"""Payments figures, on SQLite and PostgreSQL, against the local gateway sandbox over HTTP:

* the payments review: a 200-row page (newest first, keyset) at the top and ~150,000 rows
  deep, in a table of 200,000 payments; unfiltered, by status and by customer;
* starting a top-up (two short transactions around one HTTP call), per gateway;
* reconciling paid payments: payments settled per second, one desk and two desks at once.

Run: .venv/bin/python benchmarks/bench_payments.py [--skip-postgres] [--payments N]
PostgreSQL comes from BILLING_DESK_TEST_POSTGRES_URL, else postgres@127.0.0.1:5432.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

from billing_desk.bootstrap import App, build_app
from billing_desk.config import Settings
from billing_desk.database import upgrade
from billing_desk.domain.enums import Role
from billing_desk.domain.permissions import Actor
from billing_desk.models import Payment, utcnow
from billing_desk.sandbox import demo_gateway_settings, start_sandbox
from billing_desk.services.payments.dtos import PaymentCursor, PaymentFilters

PG_ADMIN = os.environ.get("BILLING_DESK_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
ADMIN = Actor(1, "admin", Role.ADMIN)
PROFILES = {"VND": ("VN", "500000"), "JPY": ("JP", "3000"), "USD": ("US", "25")}


@contextmanager
def databases(skip_pg: bool) -> Iterator[list[tuple[str, str]]]:
    tmp = tempfile.mkdtemp(prefix="bench-payments-")
    urls = [("sqlite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")]
    admin = None
    name = f"bench_payments_{uuid.uuid4().hex[:8]}"
    if not skip_pg:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        urls.append(("postgresql", make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)))
    try:
        yield urls
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def timed(fn: Callable[[], object], repeat: int = 20) -> float:
    """Median milliseconds of ``repeat`` calls after one warm-up."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def prepare(url: str, sandbox_url: str) -> tuple[App, dict[str, str]]:
    upgrade(url)
    app = build_app(Settings(database_url=url, config_path=None, gateways=demo_gateway_settings(sandbox_url)))
    app.staff.add(None, "admin", "admin", "bench-password-1")
    accounts = {}
    for cur, (country, _) in PROFILES.items():
        c = app.customers.create(ADMIN, name=f"Bench {cur}", email=f"{cur.lower()}@bench.example", country=country,
                                 billing_type="personal", address="1 Bench Road")
        app.customers.set_currency(ADMIN, c.account, cur)
        accounts[cur] = c.account
    return app, accounts


def fill(app: App, rows: int) -> None:
    """Bulk history: settled and failed payments spread over a year, 3 customers' worth."""
    now = utcnow()
    batch = []
    with app.uow.write() as uow:
        for i in range(rows):
            created = now - timedelta(seconds=(rows - i) * 150)
            batch.append({"customer_id": 1 + i % 3, "amount": 500000, "currency": ("VND", "JPY", "USD")[i % 3],
                          "method": ("vnpay", "stripe", "paypal")[i % 3],
                          "status": "failed" if i % 7 == 0 else "success",
                          "idempotency_key": uuid.uuid4().hex, "gateway_reference": f"ref{i}", "gateway_data": "{}",
                          "created_by": 1, "created_at": created, "settled_at": created, "check_count": 1})
            if len(batch) == 10_000:
                uow.session.execute(insert(Payment), batch)
                batch = []
        if batch:
            uow.session.execute(insert(Payment), batch)
        uow.commit()
    with app.database.engine.connect() as conn:  # as autovacuum / a maintenance run would
        conn.execute(text("ANALYZE"))
        conn.commit()


def deep_cursor(app: App, depth: int, filters: PaymentFilters) -> PaymentCursor:
    with app.uow.read() as uow:
        query = select(Payment.created_at, Payment.id).order_by(Payment.created_at.desc(), Payment.id.desc())
        if filters.status:
            query = query.where(Payment.status == filters.status)
        row = uow.session.execute(query.offset(depth).limit(1)).one()  # set-up only, not timed
    return PaymentCursor(row.created_at, row.id)


def bench_pages(app: App, label: str) -> None:
    for name, filters in (("all", PaymentFilters()), ("status=success", PaymentFilters(status="success")),
                          ("one customer", PaymentFilters(customer=1))):
        top = timed(lambda f=filters: app.payments.list_payments(ADMIN, f, None, 200))
        depth = 150_000 if name == "all" else 40_000
        cursor = deep_cursor(app, depth, filters) if name != "one customer" else None
        deep = timed(lambda f=filters, c=cursor: app.payments.list_payments(ADMIN, f, c, 200)) if cursor else None
        deep_text = f", {depth:,} rows deep {deep:.2f} ms" if deep is not None else ""
        print(f"  {label}: payments page of 200 ({name}): top {top:.2f} ms{deep_text}")


def bench_topups(app: App, accounts: dict[str, str], label: str, count: int) -> dict[str, list[str]]:
    links: dict[str, list[str]] = {}
    for cur, (_, amount) in PROFILES.items():
        samples = []
        for _ in range(count):
            start = time.perf_counter()
            result = app.payments.create_topup(ADMIN, accounts[cur], amount)
            samples.append((time.perf_counter() - start) * 1000)
            links.setdefault(cur, []).append(str(result.payment.checkout_url))
        print(f"  {label}: create_topup {cur}: median {statistics.median(samples):.1f} ms over {count}")
    return links


def bench_reconcile(app: App, sandbox_url: str, links: dict[str, list[str]], label: str, desks: int) -> None:
    import requests

    urls = [u for group in links.values() for u in group]
    requests.post(f"{sandbox_url}/sandbox/complete", json={"checkout_urls": urls}, timeout=60).raise_for_status()
    counts: list[int] = []

    def run() -> None:
        counts.append(len(app.payments.reconcile(ADMIN)))

    threads = [threading.Thread(target=run) for _ in range(desks)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    print(f"  {label}: reconcile {len(urls)} paid payments with {desks} desk(s): {seconds:.2f} s, "
          f"{len(urls) / seconds:.0f} settled/s, changes reported {sum(counts)} (each once)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--payments", type=int, default=200_000)
    parser.add_argument("--topups", type=int, default=50, help="top-ups per gateway for the reconcile runs")
    args = parser.parse_args()
    sandbox = start_sandbox()
    try:
        with databases(args.skip_postgres) as urls:
            for label, url in urls:
                app, accounts = prepare(url, sandbox.url)
                try:
                    fill(app, args.payments)
                    bench_pages(app, label)
                    bench_reconcile(app, sandbox.url, bench_topups(app, accounts, label, args.topups), label, 1)
                    bench_reconcile(app, sandbox.url, bench_topups(app, accounts, label, args.topups), label, 2)
                finally:
                    app.close()
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()

"""Finance's payments review at 1,000,000 payments over 100,000 customers, SQLite and PostgreSQL.

For each filter and order: the first page of 200 through ``PaymentService.list_payments`` (the
median of repeats), the same SQL (captured from the service's own execution) through the bare
driver (sqlite3 / psycopg2 cursor, fetchall) in the same run, their ratio, and the plan's index.
Then the totals (``PaymentService.totals``) for several filters and the charts' aggregate
(``daily_figures`` over 30 and 90 days).

The data: payments spread evenly over two years (ids in date order, as a desk writes them),
customers' currencies VND 50 %, JPY 20 %, USD 20 %, EUR 10 % (VNPay, Stripe, PayPal), statuses
success 85 %, failed 10 % (reasons: declined, expired, not started), pending 5 %, started by one of
20 staff (10 % by none: the customer's own checkout). The built SQLite file is cached under
/tmp/bench_payments_review/ (keyed by schema revision and size) and the PostgreSQL database is
kept between runs (``--fresh`` rebuilds both).

Run: .venv/bin/python benchmarks/bench_payments_review.py [--skip-postgres] [--payments N] [--customers N]
PostgreSQL comes from BILLING_DESK_TEST_POSTGRES_URL, else postgres@127.0.0.1:5432.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, insert, inspect, text
from sqlalchemy.engine import Engine, make_url

from billing_desk.bootstrap import App, build_app
from billing_desk.config import Settings
from billing_desk.database import head_revision, upgrade
from billing_desk.domain.dates import day_range_utc
from billing_desk.domain.enums import Role
from billing_desk.domain.money import Money
from billing_desk.domain.permissions import Actor
from billing_desk.models import Customer, Payment, StaffUser
from billing_desk.services.payments import PaymentCursor, PaymentFilters

PG_ADMIN = os.environ.get("BILLING_DESK_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
CACHE = Path("/tmp/bench_payments_review")
FINANCE = Actor(1, "bench-finance", Role.FINANCE)
END = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
SPAN = timedelta(days=730)
CURRENCIES = (("VND", "vnpay", 50, (500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000)),
              ("JPY", "stripe", 20, (3_000, 5_000, 10_000, 30_000, 100_000)),
              ("USD", "paypal", 20, (2_500, 5_000, 10_000, 25_000, 50_000)),
              ("EUR", "paypal", 10, (2_500, 5_000, 10_000, 25_000, 50_000)))
REASONS = ("declined by the bank (insufficient funds)", "expired unpaid after 15 minutes",
           "not started: the gateway could not be reached")


# --- building the data -----------------------------------------------------------------------------
def _customers(n: int) -> list[dict[str, Any]]:
    rng = random.Random(1)
    weights = [c[2] for c in CURRENCIES]
    rows = []
    for i in range(1, n + 1):
        cur = rng.choices(CURRENCIES, weights)[0][0]
        rows.append({"id": i, "account": f"C{i:08d}", "billing_type": "personal", "name": f"Customer {i}",
                     "email": f"c{i}@bench.example", "address": "1 Bench Road", "country": "VN",
                     "currency": cur, "search_text": f"customer {i} c{i:08d}", "created_at": END - SPAN,
                     "updated_at": END - SPAN})
    return rows


def _payments(n: int, customers: list[dict[str, Any]], start_id: int, count: int) -> list[dict[str, Any]]:
    rng = random.Random(start_id)
    kinds = {c[0]: c for c in CURRENCIES}
    step = SPAN / n
    rows = []
    for i in range(start_id, start_id + count):
        customer = customers[rng.randrange(len(customers))]
        cur, method, _, amounts = kinds[customer["currency"]]
        roll = rng.random()
        status = "success" if roll < 0.85 else "failed" if roll < 0.95 else "pending"
        created = END - SPAN + step * i
        rows.append({"id": i + 1, "customer_id": customer["id"], "amount": rng.choice(amounts), "currency": cur,
                     "method": method, "status": status,
                     "reason": rng.choice(REASONS) if status == "failed" else None,
                     "idempotency_key": f"bench-{i}", "gateway_reference": f"{method}_{rng.getrandbits(64):016x}_{i}",
                     "gateway_data": "{}", "created_by": rng.randint(1, 20) if rng.random() > 0.1 else None,
                     "created_at": created, "check_count": 1,
                     "settled_at": created + timedelta(minutes=rng.randint(1, 30)) if status != "pending" else None})
    return rows


def build(url: str, payments: int, customers: int) -> None:
    upgrade(url)
    engine = create_engine(url)
    people = _customers(customers)
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(StaffUser), [{"id": i, "name": f"staff{i:02d}", "role": "finance", "password_hash": "x",
                                          "disabled": False, "failed_logins": 0, "created_at": END - SPAN}
                                         for i in range(1, 21)])
        for k in range(0, customers, 20_000):
            conn.execute(insert(Customer), people[k:k + 20_000])
    batch = 20_000
    for k in range(0, payments, batch):
        with engine.begin() as conn:  # Core executemany, a batch per transaction
            conn.execute(insert(Payment), _payments(payments, people, k, min(batch, payments - k)))
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT setval('payments_id_seq', :n)"), {"n": payments})
            conn.commit()
    print(f"  built {payments:,} payments over {customers:,} customers in {time.perf_counter() - started:.0f} s")
    maintain(engine)
    engine.dispose()


def maintain(engine: Engine) -> None:
    """What autovacuum or a maintenance run leaves: statistics, and on PostgreSQL the visibility
    map that index-only scans need."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()


def sync_indexes(engine: Engine) -> None:
    """Bring a cached database's payments indexes to the models' set (drop the review's indexes
    the models no longer have, create the missing), so trying another index costs its build,
    not a reload of a million rows. Indexes only the migrations hold (trigram) are left alone."""
    only = {ix.name: getattr(ix, "_ddl_if", None) for ix in Payment.__table__.indexes}
    wanted = {ix.name: ix for ix in Payment.__table__.indexes
              if only[ix.name] is None or only[ix.name].dialect in (None, engine.dialect.name)}
    with engine.begin() as conn:
        present = {ix["name"]: tuple(ix["column_names"]) for ix in inspect(conn).get_indexes("payments")}
        for name, columns in present.items():
            model = wanted.get(name)
            if name and name.startswith("ix_payments_") and not name.endswith("_trgm") and (
                    model is None or tuple(c.name for c in model.columns) != columns):
                conn.execute(text(f"DROP INDEX {name}"))
                present[name] = ()
        for name, ix in wanted.items():
            if present.get(name or "") != tuple(c.name for c in ix.columns):
                started = time.perf_counter()
                ix.create(conn)
                print(f"  created {name} in {time.perf_counter() - started:.1f} s")
    maintain(engine)


def sqlite_url(payments: int, customers: int, fresh: bool) -> str:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"{head_revision()}_{payments}_{customers}.sqlite3"
    if fresh and path.exists():
        path.unlink()
    if not path.exists():
        temp = path.with_suffix(".building")
        temp.unlink(missing_ok=True)
        build(f"sqlite:///{temp}", payments, customers)
        temp.rename(path)
    return f"sqlite:///{path}"


def pg_url(payments: int, customers: int, fresh: bool) -> str:
    name = f"bench_review_{head_revision()[:4]}_{payments}_{customers}"
    url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if exists and fresh:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        if not exists or fresh:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            exists = None
    admin.dispose()
    if not exists:
        build(url, payments, customers)
    return url


# --- measuring -------------------------------------------------------------------------------------
def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


class Capture:
    """The last statement and parameters the engine sent to the driver."""

    def __init__(self, engine: Engine) -> None:
        self.statement: str = ""
        self.parameters: Any = None
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        self.statement, self.parameters = statement, parameters


class Bare:
    """The same SQL through the bare driver: sqlite3 or a psycopg2 cursor."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            self.conn: Any = sqlite3.connect(parsed.database or "")
        else:
            import psycopg2

            self.conn = psycopg2.connect(host=parsed.host, port=parsed.port, user=parsed.username,
                                         password=parsed.password, dbname=parsed.database)
            self.conn.autocommit = True

    def run(self, statement: str, parameters: Any) -> list[Any]:
        cur = self.conn.cursor()
        cur.execute(statement, parameters)
        rows = cur.fetchall()
        cur.close()
        return list(rows)

    def plan(self, statement: str, parameters: Any) -> str:
        if self.dialect == "sqlite":
            return "; ".join(r[3] for r in self.run("EXPLAIN QUERY PLAN " + statement, parameters))
        lines = [r[0].strip() for r in self.run("EXPLAIN " + statement, parameters)]
        return "; ".join(line.lstrip("-> ") for line in lines if "Scan" in line or "Sort" in line)[:300]


def cases(customer: int, staff: int, reference_part: str, payment_id: int) -> list[tuple[str, PaymentFilters, str]]:
    day_from, day_to = day_range_utc(date(2026, 6, 15), date(2026, 6, 15))
    month_from, month_to = day_range_utc(date(2026, 10, 1), date(2026, 10, 31))
    vnd_range = {"amount_min": Money(1_000_000, "VND"), "amount_max": Money(2_000_000, "VND")}
    return [
        ("no filter", PaymentFilters(), "newest"),
        ("no filter", PaymentFilters(), "oldest"),
        ("no filter", PaymentFilters(), "amount_desc"),
        ("no filter", PaymentFilters(), "amount_asc"),
        ("status failed", PaymentFilters(status="failed"), "newest"),
        ("status pending", PaymentFilters(status="pending"), "oldest"),
        ("gateway paypal", PaymentFilters(method="paypal"), "newest"),
        ("currency EUR", PaymentFilters(currency="EUR"), "newest"),
        ("currency EUR", PaymentFilters(currency="EUR"), "amount_desc"),
        ("VND 1M-2M", PaymentFilters(**vnd_range), "newest"),
        ("VND 1M-2M", PaymentFilters(**vnd_range), "amount_asc"),
        ("staff member", PaymentFilters(staff_id=staff), "newest"),
        ("customer", PaymentFilters(customer=customer), "newest"),
        ("customer", PaymentFilters(customer=customer), "amount_desc"),
        ("one local day", PaymentFilters(created_from=day_from, created_to=day_to), "newest"),
        ("one local day", PaymentFilters(created_from=day_from, created_to=day_to), "amount_desc"),
        ("failed + reason expired", PaymentFilters(status="failed", reason="expired"), "newest"),
        ("reason declined", PaymentFilters(reason="declined"), "newest"),
        ("success+stripe+JPY", PaymentFilters(status="success", method="stripe", currency="JPY"), "amount_asc"),
        ("staff+failed+month", PaymentFilters(staff_id=staff, status="failed", created_from=month_from,
                                              created_to=month_to), "newest"),
        ("EUR+failed+month", PaymentFilters(currency="EUR", status="failed", created_from=month_from,
                                            created_to=month_to), "amount_desc"),
        ("text: payment id", PaymentFilters(text=str(payment_id)), "newest"),
        ("text: reference part", PaymentFilters(text=reference_part), "newest"),
    ]


def bench_pages(app: App, url: str, label: str, repeat: int) -> None:
    capture, bare = Capture(app.database.engine), Bare(url)
    with app.database.engine.connect() as conn:
        count = conn.execute(text("SELECT max(id) FROM payments")).scalar_one()
        picked = count * 7 // 9
        ref = conn.execute(text("SELECT gateway_reference FROM payments WHERE id = :i"), {"i": picked}).scalar_one()
        customer = conn.execute(text("SELECT customer_id FROM payments WHERE id = :i"), {"i": picked}).scalar_one()
    print(f"  {label}: first page of 200 (median of {repeat}): service ms / bare driver ms = ratio; plan")
    for name, filters, sort in cases(customer, 7, str(ref)[7:19], picked):
        service = median_ms(lambda f=filters, s=sort: app.payments.list_payments(FINANCE, f, None, 200, s), repeat)
        statement, parameters = capture.statement, capture.parameters
        rows = len(bare.run(statement, parameters))
        driver = median_ms(lambda s=statement, p=parameters: bare.run(s, p), repeat)
        print(f"    {name:<24} {sort:<11} {service:8.2f} / {driver:8.2f} = {service / driver:4.1f}x  "
              f"({rows} rows) {bare.plan(statement, parameters)}")
    first = app.payments.list_payments(FINANCE, None, None, 200)
    assert first.next_cursor is not None
    deep = PaymentCursor(END - SPAN / 2, count // 2)
    ms = median_ms(lambda: app.payments.list_payments(FINANCE, None, deep, 200), repeat)
    print(f"    {f'{count // 2:,} rows deep':<24} {'newest':<11} {ms:8.2f}")


def bench_totals(app: App, label: str, repeat: int) -> None:
    day_from, day_to = day_range_utc(date(2026, 6, 15), date(2026, 6, 15))
    month_from, month_to = day_range_utc(date(2026, 10, 1), date(2026, 10, 31))
    for name, filters in (("no filter", PaymentFilters()), ("status failed", PaymentFilters(status="failed")),
                          ("status success", PaymentFilters(status="success")),
                          ("currency VND", PaymentFilters(currency="VND")),
                          ("gateway paypal", PaymentFilters(method="paypal")),
                          ("VND 1M-2M", PaymentFilters(amount_min=Money(1_000_000, "VND"),
                                                       amount_max=Money(2_000_000, "VND"))),
                          ("staff member", PaymentFilters(staff_id=7)),
                          ("one local day", PaymentFilters(created_from=day_from, created_to=day_to)),
                          ("one month", PaymentFilters(created_from=month_from, created_to=month_to)),
                          ("customer", PaymentFilters(customer=42))):
        ms = median_ms(lambda f=filters: app.payments.totals(FINANCE, f), repeat)
        print(f"  {label}: totals ({name}): {ms:.1f} ms")


def bench_daily(app: App, label: str, repeat: int) -> None:
    for days in (30, 90):
        ms = median_ms(lambda d=days: app.payments.daily_figures(FINANCE, d, date(2026, 11, 29)), repeat)
        print(f"  {label}: daily figures, {days} days: {ms:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--fresh", action="store_true", help="rebuild the cached databases")
    args = parser.parse_args()
    os.environ.setdefault("BILLING_DESK_TIMEZONE", "Asia/Ho_Chi_Minh")
    targets = [("sqlite", lambda: sqlite_url(args.payments, args.customers, args.fresh))]
    if not args.skip_postgres:
        targets.append(("postgresql", lambda: pg_url(args.payments, args.customers, args.fresh)))
    for label, make in targets:
        url = make()
        engine = create_engine(url)
        sync_indexes(engine)
        engine.dispose()
        app = build_app(Settings(database_url=url, config_path=None))
        try:
            bench_pages(app, url, label, args.repeat)
            bench_totals(app, label, max(3, args.repeat // 3))
            bench_daily(app, label, max(3, args.repeat // 3))
        finally:
            app.close()


if __name__ == "__main__":
    main()

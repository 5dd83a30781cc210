"""The Audit workspace's pages over 1,000,000 audit rows, SQLite and PostgreSQL.

For each filter (none, a common and a rare staff member, a common and a rare action, one
customer, one local day, one month, staff + action + month): the first page of 100 (the
workspace's page) and a deep page (after the row in the middle of the log, half a million rows
back) through ``AuditService.page`` (the median of repeats), the same SQL through the bare driver
(sqlite3 / psycopg2, fetchall) in the same run, and the plan. Then a whole-chain Verify.

The data, spread over two years in id order (as desks write them), hash-chained in Python and
bulk-inserted with the append guards off (the head then set to the last row, as an append
would leave it; the build ends with a Verify that must pass): 40 % rows about a customer
(entity 'customer', 20,000 customers), 30 % about a payment (100,000 payments), 10 %
``voucher.redeem`` (100,000 redemptions of 20,000 five-use vouchers), 20 % other (staff,
voucher issue, exports, plan edits at 0.1 %); written by 20 staff, and by a rare "auditor"
(0.05 %). The SQLite file is cached under /tmp/bench_audit/ and the PostgreSQL database kept
between runs (``--fresh`` rebuilds both).

Run: .venv/bin/python benchmarks/bench_audit.py [--skip-postgres] [--rows N] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench_payments_review import Bare, Capture, maintain, median_ms
from bench_payments_review import _customers as customer_rows
from bench_payments_review import _payments as payment_rows
from sqlalchemy import create_engine, insert, select, text, update
from sqlalchemy.engine import Connection, make_url

from billing_desk.bootstrap import App, build_app
from billing_desk.config import Settings
from billing_desk.database import head_revision, upgrade
from billing_desk.domain.enums import Role
from billing_desk.domain.permissions import Actor
from billing_desk.models import AuditEntry, AuditHead, Customer, Payment, StaffUser, Voucher, VoucherRedemption
from billing_desk.services.audit import AuditFilters
from billing_desk.services.audit.chain import CURRENT_HASH_VERSION, GENESIS_HASH, canonical_json, row_hash

PG_ADMIN = os.environ.get("BILLING_DESK_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
CACHE = Path("/tmp/bench_audit")
MANAGER = Actor(1, "bench-manager", Role.MANAGER)
END = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
SPAN = timedelta(days=730)
CUSTOMERS, PAYMENTS, VOUCHERS, USES = 20_000, 100_000, 20_000, 5
STAFF = [f"staff{i:02d}" for i in range(1, 21)]
CUSTOMER_ACTIONS = ("customer.update", "credit.topup", "usage.record", "credit.adjust", "plan.subscribe")
PAYMENT_ACTIONS = ("payment.create", "payment.checkout", "payment.settle", "payment.fail")
OTHER_ACTIONS = ("staff.set_password", "voucher.issue", "export.payments", "export.credit_history", "voucher.revoke")


# --- building ---------------------------------------------------------------------------------------
def _redemptions(rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    for v in range(1, VOUCHERS + 1):
        for c in rng.sample(range(1, CUSTOMERS + 1), USES):
            rows.append({"id": len(rows) + 1, "voucher_id": v, "customer_id": c, "amount": 50_000, "currency": "VND",
                         "redeemed_at": END - SPAN, "staff_id": 1})
    return rows


def _audit_rows(n: int, payments: list[dict[str, Any]], redemptions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rng = random.Random(7)
    step = SPAN / n
    rows: list[dict[str, Any]] = []
    prev = GENESIS_HASH
    used = 0
    for i in range(1, n + 1):
        roll = rng.random()
        if roll < 0.40:
            cid = rng.randint(1, CUSTOMERS)
            action, entity, entity_id = rng.choice(CUSTOMER_ACTIONS), "customer", str(cid)
            summary: dict[str, Any] = {"changes": {"address": {"before": f"{cid} Old Road", "after": f"{i} New Road"}}}
        elif roll < 0.70:
            p = payments[rng.randrange(len(payments))]
            action, entity, entity_id = rng.choice(PAYMENT_ACTIONS), "payment", str(p["id"])
            summary = {"customer": f"C{p['customer_id']:08d}", "amount": {"minor": p["amount"], "currency": "VND"}}
        elif roll < 0.80 and used < len(redemptions):
            r = redemptions[used]
            used += 1
            action, entity, entity_id = "voucher.redeem", "voucher", str(r["voucher_id"])
            summary = {"customer_id": r["customer_id"], "redemption_id": r["id"], "amount": {"minor": 50_000}}
        elif roll < 0.801:
            action, entity, entity_id = "plan.edit", "plan", str(rng.randint(1, 5))
            summary = {"before": {"name": "Basic"}, "after": {"name": f"Basic {i}"}}
        else:
            action, entity, entity_id = rng.choice(OTHER_ACTIONS), "staff", str(rng.randint(1, 20))
            summary = {"name": rng.choice(STAFF)}
        staff = "auditor" if rng.random() < 0.0005 else STAFF[min(int(rng.expovariate(0.25)), 19)]
        row = {"id": i, "hash_version": CURRENT_HASH_VERSION, "prev_hash": prev,
               "at": END - SPAN + step * i, "staff_id": None, "staff_name": staff, "action": action,
               "entity": entity, "entity_id": entity_id, "summary": canonical_json(summary), "reason": None}
        row["hash"] = prev = row_hash(row)  # type: ignore[assignment]
        rows.append(row)
    return rows


def _guards(conn: Connection, off: bool, saved: list[str]) -> list[str]:
    """The append guards off for the bulk load and back on after (as tests/reliability's tamperer)."""
    if conn.dialect.name == "postgresql":
        for table in ("audit_log", "audit_head"):
            conn.exec_driver_sql(f"ALTER TABLE {table} {'DISABLE' if off else 'ENABLE'} TRIGGER USER")
        return []
    if not off:
        for sql in saved:
            conn.exec_driver_sql(sql)
        return []
    triggers = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                 "AND tbl_name IN ('audit_log', 'audit_head')")).all()
    for name, _ in triggers:
        conn.exec_driver_sql(f"DROP TRIGGER {name}")
    return [sql for _, sql in triggers]


def build(url: str, n: int) -> None:
    upgrade(url)
    engine = create_engine(url)
    started = time.perf_counter()
    people = customer_rows(CUSTOMERS)
    pays = payment_rows(PAYMENTS, people, 0, PAYMENTS)
    rng = random.Random(3)
    redemptions = _redemptions(rng)
    with engine.begin() as conn:
        conn.execute(insert(StaffUser), [{"id": i, "name": name, "role": "manager", "password_hash": "x",
                                          "disabled": False, "failed_logins": 0, "created_at": END - SPAN}
                                         for i, name in enumerate(STAFF, start=1)])
        for k in range(0, CUSTOMERS, 20_000):
            conn.execute(insert(Customer), people[k:k + 20_000])
        for k in range(0, PAYMENTS, 20_000):
            conn.execute(insert(Payment), pays[k:k + 20_000])
        conn.execute(insert(Voucher), [{"id": v, "code_hash": f"{v:064x}", "last4": f"{v % 10_000:04d}",
                                        "amount": 50_000, "currency": "VND", "max_redemptions": USES,
                                        "redemption_count": USES, "created_at": END - SPAN}
                                       for v in range(1, VOUCHERS + 1)])
        for k in range(0, len(redemptions), 20_000):
            conn.execute(insert(VoucherRedemption), redemptions[k:k + 20_000])
    rows = _audit_rows(n, pays, redemptions)
    print(f"  chained {n:,} audit rows in Python in {time.perf_counter() - started:.0f} s")
    with engine.begin() as conn:
        saved = _guards(conn, True, [])
        for k in range(0, n, 20_000):
            conn.execute(insert(AuditEntry), rows[k:k + 20_000])
        last = rows[-1]
        conn.execute(update(AuditHead).where(AuditHead.id == 1)
                     .values(last_id=last["id"], last_hash=last["hash"], row_count=n))
        _guards(conn, False, saved)
    print(f"  built {n:,} audit rows in {time.perf_counter() - started:.0f} s")
    maintain(engine)
    engine.dispose()


def sqlite_url(n: int, fresh: bool) -> str:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"{head_revision()}_{n}.sqlite3"
    if fresh and path.exists():
        path.unlink()
    if not path.exists():
        temp = path.with_suffix(".building")
        temp.unlink(missing_ok=True)
        build(f"sqlite:///{temp}", n)
        temp.rename(path)
    return f"sqlite:///{path}"


def pg_url(n: int, fresh: bool) -> str:
    name = f"bench_audit_{head_revision()[:4]}_{n}"
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
        build(url, n)
    return url


class Statements(Capture):
    """Every statement the engine sent, not only the last."""

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self.seen: list[tuple[str, Any]] = []

    def _seen(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        self.seen.append((statement, parameters))


# --- measuring --------------------------------------------------------------------------------------
def cases(customer: str) -> list[tuple[str, AuditFilters]]:
    day, month = date(2026, 6, 15), (date(2026, 10, 1), date(2026, 10, 31))
    return [
        ("no filter", AuditFilters()),
        ("staff, common (staff01)", AuditFilters(staff="staff01")),
        ("staff, rare (auditor)", AuditFilters(staff="auditor")),
        ("action, common", AuditFilters(action="customer.update")),
        ("action, rare (plan.edit)", AuditFilters(action="plan.edit")),
        ("customer", AuditFilters(customer=customer)),
        ("one local day", AuditFilters(first_day=day, last_day=day)),
        ("one month", AuditFilters(first_day=month[0], last_day=month[1])),
        ("staff+action+month", AuditFilters(staff="staff02", action="payment.settle", first_day=month[0],
                                            last_day=month[1])),
    ]


def bench(app: App, url: str, label: str, repeat: int, verify: bool) -> None:
    capture, bare = Statements(app.database.engine), Bare(url)
    with app.database.engine.connect() as conn:
        count = conn.execute(text("SELECT max(id) FROM audit_log")).scalar_one()
        middle = conn.execute(select(AuditEntry.at, AuditEntry.id).where(AuditEntry.id == count // 2)).one()
        redeemer = conn.execute(text("SELECT customer_id FROM voucher_redemptions WHERE id = 4242")).scalar_one()
    customer, deep = f"C{redeemer:08d}", (middle[0], middle[1])
    print(f"  {label}: {count:,} rows; a page of 100 (median of {repeat}): service ms / bare driver ms; rows; plan")
    for name, filters in cases(customer):
        for where, after in (("first", None), ("deep", deep)):
            service = median_ms(lambda f=filters, a=after: app.audit.page(MANAGER, f, a, 100), repeat)
            capture.seen.clear()
            page = app.audit.page(MANAGER, filters, after, 100)
            # The page's own query, not the customer look-ups around it.
            statement, parameters = next(s for s in capture.seen if "ORDER BY" in s[0] and "audit_log" in s[0])
            driver = median_ms(lambda s=statement, p=parameters: bare.run(s, p), repeat)
            print(f"    {name:<24} {where:<5} {service:7.2f} / {driver:7.2f}  ({len(page.rows):3} rows) "
                  f"{bare.plan(statement, parameters)[:160]}")
    if not verify:
        return
    started = time.perf_counter()
    result = app.audit.verify(MANAGER)
    print(f"  {label}: verify of the whole chain: {time.perf_counter() - started:.1f} s, ok={result.ok}, "
          f"{result.checked:,} rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--skip-verify", action="store_true", help="no whole-chain verify (minutes)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the cached databases")
    args = parser.parse_args()
    os.environ.setdefault("BILLING_DESK_TIMEZONE", "Asia/Ho_Chi_Minh")
    targets = [("sqlite", lambda: sqlite_url(args.rows, args.fresh))]
    if not args.skip_postgres:
        targets.append(("postgresql", lambda: pg_url(args.rows, args.fresh)))
    for label, make in targets:
        url = make()
        app = build_app(Settings(database_url=url, config_path=None))
        try:
            bench(app, url, label, args.repeat, not args.skip_verify)
        finally:
            app.close()


if __name__ == "__main__":
    main()

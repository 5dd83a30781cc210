"""Month-end credit report over 10,000,000 ledger rows on PostgreSQL: the service call against
the same answer from hand-written SQL through bare psycopg2, in the same run.

    .venv/bin/python benchmarks/bench_credit_report.py [--fresh] [--runs 5]

The database is bench_ledger.py's verify database (10,000,000 rows over 100,000 customers,
every credit with its payment or voucher, balances equal to the rows), built under its own
name, ``bench_credit_report``, and reused. Its rows are one a second back from when it was
built, so about 116 days: the report is run for the last complete month inside them, in the
currency with the most rows, with rows before it (the opening), in it and after it (which the
balances path takes back). Prints a Markdown table for docs/performance/credit_report.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg2
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))
import bench_ledger

from billing_desk.bootstrap import build_app
from billing_desk.config import Settings
from billing_desk.domain.enums import Role
from billing_desk.domain.permissions import Actor
from billing_desk.services.ledger.credit_report import parse_month
from billing_desk.services.ledger.spending import day_bounds

NAME = "bench_credit_report"
FINANCE = Actor(None, "bench", Role.FINANCE)
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")

LEDGER_SQL = """
SELECT b.topup, b.voucher, l.kind, l.before, l.during, l.after
FROM (SELECT coalesce(sum(topup), 0) AS topup, coalesce(sum(voucher), 0) AS voucher
      FROM customer_balances WHERE currency = %(cur)s) AS b
LEFT JOIN (SELECT kind, source, service,
                  sum(amount) FILTER (WHERE created_at < %(start)s) AS before,
                  sum(amount) FILTER (WHERE created_at >= %(start)s AND created_at < %(end)s) AS during,
                  sum(amount) FILTER (WHERE created_at >= %(end)s) AS after
           FROM ledger_entries WHERE currency = %(cur)s AND status = 'success'
           GROUP BY kind, source, service) AS l ON true
"""
GATEWAY_SQL = """
SELECT ((settled_at AT TIME ZONE 'UTC') AT TIME ZONE %(zone)s)::date AS day, method, count(*), sum(amount)
FROM payments WHERE status = 'success' AND currency = %(cur)s AND settled_at >= %(start)s AND settled_at < %(end)s
GROUP BY 1, 2 ORDER BY 1, 2
"""


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float, list[float]]:
    """(median, best, all) in seconds, after one warm-up run."""
    fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), min(samples), samples


def bare(url: str, month: str, cur: str) -> Callable[[], tuple[int, int, list[tuple[object, ...]]]]:
    first, next_first = parse_month(month)
    days = [first + timedelta(days=i) for i in range((next_first - first).days)]
    bounds = day_bounds(days, ZONE)
    # Naive UTC, as the columns hold it (and as the service binds it): an aware value would be
    # compared as timestamptz, converting every row's timestamp in the server's zone.
    params = {"start": bounds[0].replace(tzinfo=None), "end": bounds[-1].replace(tzinfo=None), "cur": cur,
              "zone": ZONE.key}
    conn = psycopg2.connect(url.replace("postgresql+psycopg2", "postgresql"))
    conn.autocommit = True
    with conn.cursor() as c:
        c.execute("SET jit = off")  # as the service does for its transaction

    def run() -> tuple[int, int, list[tuple[object, ...]]]:
        with conn.cursor() as c:
            c.execute(LEDGER_SQL, params)
            closing = stored = after = 0
            for topup, voucher, _kind, before, during, later in c.fetchall():
                stored = int(topup) + int(voucher)
                closing += int(before or 0) + int(during or 0)
                after += int(later or 0)
            c.execute(GATEWAY_SQL, params)
            gateways = [(day, method, int(n), int(amount)) for day, method, n, amount in c.fetchall()]
        return closing, stored - after, gateways

    return run


def plan(app, month: str, cur: str) -> str:  # type: ignore[no-untyped-def]
    from billing_desk.services.ledger.credit_report import report_query

    first, next_first = parse_month(month)
    bounds = day_bounds([first, next_first - timedelta(days=1)], ZONE)
    query = report_query(cur, bounds[0], bounds[-1])
    with app.uow.read() as uow:
        uow.session.execute(text("SET LOCAL jit = off"))
        compiled = query.compile(uow.session.get_bind(), compile_kwargs={"literal_binds": True})
        rows = uow.session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")).scalars()
        return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="rebuild the 10,000,000-row database")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ["BILLING_DESK_TIMEZONE"] = ZONE.key
    url = bench_ledger.build_verify_database(args.fresh, NAME)
    app = build_app(Settings(database_url=url, config_path=None))
    with app.uow.read() as uow:
        rows = int(uow.session.execute(text("SELECT count(*) FROM ledger_entries")).scalar() or 0)
        last = uow.session.execute(text("SELECT max(created_at) FROM ledger_entries")).scalar()
        cur = str(uow.session.execute(text(
            "SELECT currency FROM ledger_entries GROUP BY currency ORDER BY count(*) DESC LIMIT 1")).scalar())
        in_cur = int(uow.session.execute(text("SELECT count(*) FROM ledger_entries WHERE currency = :c"),
                                         {"c": cur}).scalar() or 0)
    local_last = last.astimezone(ZONE).date()
    month = f"{(local_last.replace(day=1) - timedelta(days=1)):%Y-%m}"
    report = app.ledger.month_report(FINANCE, month, cur)
    print(f"  {rows:,} rows, {in_cur:,} in {cur}; report {month}: opening {report.opening.total}, "
          f"closing {report.closing.total}, balances {report.balances}, difference {report.difference}, "
          f"{len(report.gateways)} gateway-days", flush=True)
    load = os.getloadavg()[0]
    service_median, service_best, service_all = timed(lambda: app.ledger.month_report(FINANCE, month, cur), args.runs)
    floor = bare(url, month, cur)
    closing, balances, gateways = floor()
    assert (closing, balances) == (report.closing.total.minor, report.balances.minor), (closing, balances)
    assert gateways == [(g.day, g.method, g.count, g.amount.minor) for g in report.gateways], gateways
    bare_median, bare_best, bare_all = timed(floor, args.runs)
    explained = plan(app, month, cur)
    app.close()
    lines = [
        f"load average at start: {load:.1f} (2 cores, shared)", "",
        f"{rows:,} ledger rows ({in_cur:,} in {cur}), month {month} in {cur}, {args.runs} warm runs each", "",
        "| path | median s | best s | runs (s) |", "|---|---:|---:|---|",
        f"| `LedgerService.month_report` (session, query, DTOs) | {service_median:.2f} | {service_best:.2f} | "
        f"{', '.join(f'{s:.2f}' for s in service_all)} |",
        f"| bare psycopg2, hand-written SQL (the floor) | {bare_median:.2f} | {bare_best:.2f} | "
        f"{', '.join(f'{s:.2f}' for s in bare_all)} |",
        f"| ratio service / floor (median) | {service_median / bare_median:.2f} | | |",
        "", "Plan of the ledger statement (EXPLAIN ANALYZE):", "", "```", explained, "```",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()

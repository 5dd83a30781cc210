"""Money under concurrency: N real processes x mixed operations on a handful of shared customers.

Each process (tests/reliability/money_worker.py) has its own desk and runs a seeded random
sequence through the real services, all released together by a barrier: usage (30% with keys
other processes resend, many shaped like the system's own keys: payment-14, voucher-3,
expire-lot-2, plan-...), staff adjustments and promotions, voucher redemptions (codes of its
own, and contested codes every process tries), top-ups started against the gateway sandbox
and paid (or cancelled) there, reconciliations racing each other, plan changes, reads. It
reports every attempt and what it returned. Afterwards, with every payment settled by one
more reconcile, the database must show:

  * `ledger verify` and `audit verify` clean; each balance = topup + voucher = the sum of its
    successful rows = what the processes were told they moved; no figure, lot or balance
    negative;
  * each payment at most one top-up row, and every payment paid at the gateway exactly one, of
    its customer, amount and currency; each settled or failed payment reported by exactly one
    reconciler; a cancelled one failed and never credited;
  * each staff or feed key charged at most once per customer (one posting, the amount the
    one non-duplicate attempt charged), and exactly once where any attempt was told success;
    never mistaken for a system key;
  * each voucher redeemed at most its limit, each redemption credited once; one attempt row
    per redemption call;
  * one audit row per successful staff write (and per audited refusal), by action, against
    the successes the processes reported.

Quick: PostgreSQL 4 x 60 and SQLite 2 x 40, one seed. Long (``--long``): PostgreSQL 8 x 1,000
with 3 seeds, SQLite 4 x 1,000 with 2 seeds.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from billing_desk.bootstrap import App, build_app
from billing_desk.config import Settings
from billing_desk.domain.money import Money
from billing_desk.sandbox import SandboxHandle
from billing_desk.services.vouchers.dtos import IssueRequest
from tests.reliability import money_worker
from tests.reliability.money_worker import FINANCE, MANAGER, UNIT
from tests.support.customers import add_customer
from tests.support.database import raw
from tests.support.payments import gateway_settings

pytestmark = pytest.mark.usefixtures("voucher_key")  # every desk of a run shares the test code key

# (currency, racer): racers only receive the contested voucher codes.
CUSTOMERS = (("VND", False), ("VND", False), ("JPY", False), ("USD", False), ("EUR", False),
             ("USD", True), ("USD", True))
PLANS = {"free": 0, "starter": 100, "pro": 300, "business": 600, "enterprise": 1200}  # price in units
CONTESTED = 6


@dataclass
class Outcome:
    """A run's figures and every broken invariant, in words."""

    label: str
    seconds: float = 0.0
    attempts: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)

    def summary(self) -> str:
        kinds: dict[str, dict[str, int]] = defaultdict(dict)
        for key, n in sorted(self.attempts.items()):
            op, outcome = key.split(" ", 1)
            kinds[op][outcome] = n
        total = sum(n for k, n in self.attempts.items() if not k.startswith("gateway "))
        return (f"{self.label}: {total} operations in {self.seconds:.1f} s, "
                f"{json.dumps(kinds, sort_keys=True)}, {len(self.violations)} violations")


# --- setting up the shared customers, plans and vouchers ---------------------------------------


def _setup(app: App, staff, workers: int, operations: int) -> dict[str, Any]:
    customers = []
    for n, (cur, racer) in enumerate(CUSTOMERS):
        dto = add_customer(app, staff.support, cur, name=f"Busy {cur} {'Racer' if racer else 'Main'} {n}")
        customers.append({"id": dto.id, "currency": cur, "racer": racer})
        # Opening credit, so that early usage and upgrades are not all refused.
        app.ledger.adjust(staff.manager, dto.id, Money(UNIT[cur] * 300, cur), "Opening credit", promotion=True)
    for rank, (code, units) in enumerate(PLANS.items()):
        app.plans.add_plan(staff.manager, code=code, name=code.title(), rank=rank,
                           prices={cur: Money(UNIT[cur] * units, cur) for cur in UNIT})
    main = Counter(c["currency"] for c in customers if not c["racer"])
    # Each process redeems its own codes, each at most once per main customer, so these never
    # refuse; enough for every redemption a process could draw.
    per_process = max(4, operations // 8)
    private = [{cur: list(app.vouchers.issue(staff.manager, IssueRequest(
        Money(UNIT[cur] * 20, cur), count=per_process, max_redemptions=n,
        credit_days=30 if w % 2 else None)).codes) for cur, n in main.items()} for w in range(workers)]
    contested = list(app.vouchers.issue(staff.manager, IssueRequest(Money(UNIT["USD"] * 20, "USD"),
                                                                    count=CONTESTED)).codes)
    return {"customers": customers, "plans": list(PLANS), "private": private, "contested": contested}


def _run_workers(url: str, sandbox: SandboxHandle, setup: dict[str, Any], workers: int, operations: int,
                 seed: int) -> list[dict[str, Any]]:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(workers), ctx.Queue()
    procs = []
    for w in range(workers):
        spec = {"url": url, "sandbox": sandbox.url, "worker": w, "seed": seed, "operations": operations,
                "customers": setup["customers"], "plans": setup["plans"], "private": setup["private"][w],
                "contested": setup["contested"]}
        procs.append(ctx.Process(target=money_worker.run, args=(spec, barrier, results), daemon=True))
    for p in procs:
        p.start()
    try:
        reports = [json.loads(results.get(timeout=3600)) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=60)
            if p.is_alive():
                p.kill()
    assert [p.exitcode for p in procs] == [0] * workers
    return reports


# --- the checks --------------------------------------------------------------------------------


def _rows(app: App, sql: str, **params: Any) -> list[Any]:
    return raw(app, sql, **params)


def _balances(app: App) -> Counter[int]:
    return Counter(dict(_rows(app, "SELECT customer_id, total FROM customer_balances")))


def _check_balances(app: App, before: Counter[int], attempts: list[dict[str, Any]],
                    changes: list[list[Any]]) -> list[str]:
    """Each balance: topup + voucher, the sum of its successful rows, the balance before plus
    what the processes were told they moved; nothing negative."""
    problems = []
    told: Counter[int] = Counter(before)
    for a in attempts:
        moved = a["outcome"] == ("ok" if a["op"] == "redeem" else "success")
        if moved and a["op"] in ("usage", "adjust", "redeem"):
            told[a["cid"]] += -a["amount"] if a["op"] == "usage" else a["amount"]
        if a["op"] == "plan" and a["outcome"] == "ok":
            told[a["cid"]] -= a["charge"]
    for _, cid, status, amount in changes:
        if status == "success":
            told[cid] += amount
    expired = dict(_rows(app, "SELECT customer_id, sum(amount) FROM ledger_entries WHERE kind = 'expiry' "
                              "AND status = 'success' GROUP BY customer_id"))
    sums = dict(_rows(app, "SELECT customer_id, sum(amount) FROM ledger_entries WHERE status = 'success' "
                           "GROUP BY customer_id"))
    for cid, total, topup, voucher in _rows(app, "SELECT customer_id, total, topup, voucher FROM customer_balances"):
        if min(total, topup, voucher) < 0 or total != topup + voucher:
            problems.append(f"customer {cid}: total {total}, topup {topup}, voucher {voucher}")
        if total != (sums.get(cid) or 0):
            problems.append(f"customer {cid}: balance {total} but its rows sum to {sums.get(cid)}")
        if total != told[cid] + (expired.get(cid) or 0):
            problems.append(f"customer {cid}: balance {total} but the processes were told {told[cid]}")
    for lot, remaining, granted in _rows(app, "SELECT id, remaining, granted FROM voucher_credit_lots"):
        if not 0 <= remaining <= granted:
            problems.append(f"lot {lot}: {remaining} left of {granted}")
    return problems


def _check_payments(app: App, attempts: list[dict[str, Any]], changes: list[list[Any]]) -> list[str]:
    problems = []
    credited: dict[int, list[Any]] = defaultdict(list)
    for row in _rows(app, "SELECT payment_id, customer_id, amount, currency, status FROM ledger_entries "
                          "WHERE kind = 'topup'"):
        credited[row[0]].append(tuple(row[1:]))
    payments = {r[0]: r[1:] for r in _rows(app, "SELECT id, customer_id, amount, currency, status FROM payments")}
    for pid, (cid, amount, cur, status) in payments.items():
        want = [(cid, amount, cur, "success")] if status == "success" else []
        if credited.pop(pid, []) != want:
            problems.append(f"payment {pid} ({status}): top-up rows {credited.get(pid)} instead of {want}")
    problems += [f"top-up rows {rows} name no payment ({pid})" for pid, rows in credited.items()]
    reported = Counter(ch[0] for ch in changes)
    problems += [f"payment {pid} reported settled {n} times" for pid, n in reported.items() if n > 1]
    settled = {ch[0]: ch[2] for ch in changes}
    for pid, (_, _, _, status) in payments.items():
        if status != "pending" and settled.get(pid) != status:
            problems.append(f"payment {pid} is {status}, but reconcilers reported {settled.get(pid)}")
    for a in attempts:
        if a["op"] == "gateway" and a["outcome"] == "ok":
            want_status = "success" if a["action"] == "pay" else "failed"
            if payments[a["payment_id"]][3] != want_status:
                problems.append(f"payment {a['payment_id']}: {a['action']} at the gateway, "
                                f"but {payments[a['payment_id']][3]} after the last reconcile")
    return problems


def _check_keys(app: App, attempts: list[dict[str, Any]]) -> list[str]:
    """Each external key: one posting per customer, charged as the one non-duplicate attempt said."""
    problems = []
    rows = defaultdict(list)
    for cid, key, status, amount, created in _rows(
            app, "SELECT customer_id, idempotency_key, status, amount, created_at FROM ledger_entries "
                 "WHERE key_scope = 'external' AND idempotency_key IS NOT NULL"):
        rows[(cid, key)].append((status, amount, created))
    tried = defaultdict(list)
    for a in attempts:
        if a["op"] in ("usage", "adjust") and a.get("key"):
            tried[(a["cid"], a["key"])].append(a)
    audited = Counter((r[0], json.loads(r[1]).get("key")) for r in _rows(
        app, "SELECT entity_id, summary FROM audit_log WHERE action IN "
             "('usage.record', 'credit.adjustment', 'credit.promotion')"))
    for (cid, key), tries in tried.items():
        found = rows.pop((cid, key), [])
        first = [a for a in tries if a["outcome"] in ("success", "failed")]
        if len(first) != (1 if found else 0):
            problems.append(f"{key} of customer {cid}: {len(first)} attempts charged it, {len(found)} rows")
            continue
        if audited[(str(cid), key)] != len(first):
            problems.append(f"{key} of customer {cid}: {audited[(str(cid), key)]} audit rows")
        if not found:
            continue
        sign = -1 if first[0]["op"] == "usage" else 1
        statuses, created = {r[0] for r in found}, {r[2] for r in found}
        if len(statuses) != 1 or len(created) != 1 or sum(r[1] for r in found) != sign * first[0]["amount"]:
            problems.append(f"{key} of customer {cid}: rows {found} for one charge of {first[0]['amount']}")
        for a in tries:
            if a["outcome"].endswith("success") and (statuses != {"success"} or a["amount"] != first[0]["amount"]):
                problems.append(f"{key} of customer {cid}: told success, rows {found}")
            if a["outcome"] == "refused:Conflict" and a["amount"] == first[0]["amount"]:
                problems.append(f"{key} of customer {cid}: the same amount refused as a conflict")
    problems += [f"key {key} of customer {cid} has rows nobody sent" for (cid, key) in rows]
    return problems


def _check_vouchers(app: App, attempts: list[dict[str, Any]]) -> list[str]:
    problems = []
    for vid, count, limit, amount in _rows(app, "SELECT id, redemption_count, max_redemptions, amount FROM vouchers"):
        redeemed = _rows(app, "SELECT r.id, r.customer_id, (SELECT count(*) FROM ledger_entries l WHERE "
                              "l.voucher_redemption_id = r.id AND l.kind = 'voucher' AND l.amount = :a "
                              "AND l.customer_id = r.customer_id) FROM voucher_redemptions r "
                              "WHERE r.voucher_id = :v", v=vid, a=amount)
        if count != len(redeemed) or count > limit:
            problems.append(f"voucher {vid}: count {count}, {len(redeemed)} redemptions, limit {limit}")
        problems += [f"redemption {r[0]}: {r[2]} credit rows" for r in redeemed if r[2] != 1]
    ok = sum(1 for a in attempts if a["op"] == "redeem" and a["outcome"] == "ok")
    calls = sum(1 for a in attempts if a["op"] == "redeem" and a["outcome"] != "error")
    [(redemptions,)] = _rows(app, "SELECT count(*) FROM voucher_redemptions")
    [(tries, won)] = _rows(app, "SELECT count(*), coalesce(sum(CASE WHEN succeeded THEN 1 ELSE 0 END), 0) "
                                "FROM voucher_attempts")
    if (redemptions, won, tries) != (ok, ok, calls):
        problems.append(f"{ok} redemptions and {calls} calls reported; the database has {redemptions} "
                        f"redemptions and {tries} attempts ({won} won)")
    return problems


def _check_plans(app: App, attempts: list[dict[str, Any]]) -> list[str]:
    problems = []
    charged: Counter[int] = Counter()
    for a in attempts:
        if a["op"] == "plan" and a["outcome"] == "ok":
            charged[a["cid"]] += a["charge"]
    stored = dict(_rows(app, "SELECT customer_id, -sum(amount) FROM ledger_entries WHERE kind = 'plan_charge' "
                             "AND status = 'success' GROUP BY customer_id"))
    for cid in set(charged) | set(stored):
        if charged[cid] != (stored.get(cid) or 0):
            problems.append(f"customer {cid}: upgrades told {charged[cid]}, plan charges {stored.get(cid)}")
    for key, n in _rows(app, "SELECT idempotency_key, count(DISTINCT created_at) FROM ledger_entries "
                             "WHERE kind = 'plan_charge' GROUP BY customer_id, idempotency_key"):
        if n != 1:
            problems.append(f"plan charge {key} posted {n} times")
    return problems


def _expected_audit(attempts: list[dict[str, Any]], changes: list[list[Any]]) -> Counter[str]:
    want: Counter[str] = Counter()
    for a in attempts:
        op, out = a["op"], a["outcome"]
        if op == "usage" and out in ("success", "failed"):
            want["usage.record"] += 1
        elif op == "adjust" and out == "success":
            want[f"credit.{a['kind']}"] += 1
        elif op == "redeem" and out in ("ok", "refused:VoucherLocked"):
            want["voucher.redeem" if out == "ok" else "voucher.redeem_locked"] += 1
        elif op == "topup" and out == "ok":
            want["payment.create"] += 1
        elif op == "plan" and out == "ok":
            want[f"plan.{a['kind']}"] += 1
        elif op == "plan" and out == "refused:InsufficientCredit":
            want["plan.upgrade_refused"] += 1
    for _, _, status, _ in changes:
        want["payment.settle" if status == "success" else "payment.fail"] += 1
    return want


def _audit_counts(app: App) -> Counter[str]:
    return Counter(dict(_rows(app, "SELECT action, count(*) FROM audit_log GROUP BY action")))


def _check_audit(app: App, before: Counter[str], attempts: list[dict[str, Any]],
                 changes: list[list[Any]]) -> list[str]:
    """The rows the processes (and the last reconcile) added, by action, against their reports."""
    want = _expected_audit(attempts, changes)
    [(linked,)] = _rows(app, "SELECT count(*) FROM payments WHERE gateway_reference IS NOT NULL")
    want["payment.checkout"] = linked
    have = _audit_counts(app)
    have.subtract(before)
    problems = [f"audit {action}: {have[action]} rows for {n} reported" for action, n in sorted(want.items())
                if have[action] != n]
    problems += [f"audit {action}: {n} rows nobody reported" for action, n in sorted(have.items())
                 if n and action not in want]
    verified = app.audit.verify(MANAGER)
    if not verified.ok:
        problems.append(f"audit verify: {verified.problem}")
    return problems


@dataclass(frozen=True)
class Before:
    """What the database held when the processes started."""

    balances: Counter[int]
    audit: Counter[str]


def check(app: App, before: Before, reports: list[dict[str, Any]],
          final: list[list[Any]]) -> tuple[Counter[str], list[str]]:
    attempts = [a for r in reports for a in r["attempts"]]
    changes = [ch for a in attempts if a["op"] in ("reconcile_all", "refresh") and a["outcome"] == "ok"
               for ch in a["changes"]] + final
    problems = [f"worker error in {a['op']}: {a['error']}\n{a.get('trace', '')}" for a in attempts
                if a["outcome"] == "error"]
    verified = app.ledger.verify(FINANCE)
    problems += [f"ledger verify: {m.describe()}" for m in verified.mismatches]
    problems += _check_balances(app, before.balances, attempts, changes)
    problems += _check_payments(app, attempts, changes)
    problems += _check_keys(app, attempts)
    problems += _check_vouchers(app, attempts)
    problems += _check_plans(app, attempts)
    problems += _check_audit(app, before.audit, attempts, changes)
    return Counter(f"{a['op']} {a['outcome']}" for a in attempts), problems


# --- the runs ------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh SQLite database only (the SQLite half of the suite)."""
    target = tmp_path / "billing.sqlite3"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


def run_suite(url: str, sandbox: SandboxHandle, staff, workers: int, operations: int, seed: int,
              label: str) -> Outcome:
    app = build_app(Settings(database_url=url, config_path=None, gateways=gateway_settings(sandbox.url)))
    outcome = Outcome(f"{label}: {workers} processes x {operations} operations, seed {seed}")
    try:
        setup = _setup(app, staff, workers, operations)
        before = Before(_balances(app), _audit_counts(app))
        started = time.monotonic()
        reports = _run_workers(url, sandbox, setup, workers, operations, seed)
        outcome.seconds = time.monotonic() - started
        # One more reconcile settles what the customers paid after the processes' last one.
        final = [[ch.payment_id, ch.customer_id, ch.status, ch.amount.minor]
                 for ch in app.payments.reconcile(FINANCE)]
        outcome.attempts, outcome.violations = check(app, before, reports, final)
    finally:
        app.close()
    print(outcome.summary())
    with Path(os.environ.get("BILLING_DESK_CONCURRENCY_REPORT", "/dev/null")).open("a") as report:
        report.write(outcome.summary() + "\n")
    return outcome


def _seeds(count: int) -> Iterator[int]:
    first = int(os.environ.get("BILLING_DESK_CONCURRENCY_SEED", "1"))
    return iter(range(first, first + count))


@pytest.mark.slow
@pytest.mark.xdist_group("concurrency")  # one at a time: each starts several processes
def test_quick_postgresql_four_processes(pg_url: str, sandbox: SandboxHandle, staff) -> None:
    outcome = run_suite(pg_url, sandbox, staff, 4, 60, next(_seeds(1)), "postgresql quick")
    assert outcome.violations == []


@pytest.mark.slow
@pytest.mark.xdist_group("concurrency")
def test_quick_sqlite_two_processes(sqlite_url: str, sandbox: SandboxHandle, staff) -> None:
    outcome = run_suite(sqlite_url, sandbox, staff, 2, 40, next(_seeds(1)), "sqlite quick")
    assert outcome.violations == []


@pytest.mark.long
@pytest.mark.parametrize("seed_index", range(3))
def test_long_postgresql_eight_processes(pg_url: str, sandbox: SandboxHandle, staff, seed_index: int) -> None:
    seed = list(_seeds(3))[seed_index]
    outcome = run_suite(pg_url, sandbox, staff, 8, 1000, seed, "postgresql long")
    assert outcome.violations == []


@pytest.mark.long
@pytest.mark.parametrize("seed_index", range(2))
def test_long_sqlite_four_processes(sqlite_url: str, sandbox: SandboxHandle, staff, seed_index: int) -> None:
    seed = list(_seeds(2))[seed_index]
    outcome = run_suite(sqlite_url, sandbox, staff, 4, 1000, seed, "sqlite long")
    assert outcome.violations == []

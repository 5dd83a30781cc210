"""The Vouchers workspace's two speed figures (run through ``bench_vouchers.py --funnel / --gui``).

Funnel: 1,000 campaigns of 1,000 codes each (1,000,000 vouchers; a fifth of the campaigns in
VND), 100,000 redemptions by 50,000 customers, a credit lot per redemption (a third past their
expiry), 20,000 expiry rows in the ledger among 1,000,000 other ledger rows; then the service
call the campaigns list makes (``campaign_funnels``), warm, median of 7, and the same through
the workspace's table model in a window.

GUI: a manager's desk issues 100,000 codes from the Issue dialog (Confirm, progress, the codes
dialog) while ``bench_gui_load``'s stall meter (a 2 ms precise timer) records the longest time
the event loop could not run.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text

from billing_desk.bootstrap import build_app
from billing_desk.config import Settings
from billing_desk.domain.enums import Role
from billing_desk.domain.permissions import SYSTEM_ACTOR, Actor
from billing_desk.models import (
    Customer,
    CustomerBalance,
    LedgerEntry,
    Voucher,
    VoucherCampaign,
    VoucherCampaignCodes,
    VoucherCreditLot,
    VoucherRedemption,
    utcnow,
)

CAMPAIGNS, PER_CAMPAIGN, CUSTOMERS = 1_000, 1_000, 50_000
REDEMPTIONS, EXPIRIES, LEDGER_NOISE = 100_000, 20_000, 1_000_000
BATCH = 20_000


def _chunks(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [rows[k:k + BATCH] for k in range(0, len(rows), BATCH)]


def _billed(customer_id: int) -> str:
    return "VND" if customer_id % 5 == 0 else "USD"


def build(url: str) -> None:
    started = time.perf_counter()
    rng = random.Random(13)
    now = utcnow()
    engine = create_engine(url)
    currency = {c: ("VND" if c % 5 == 0 else "USD") for c in range(1, CAMPAIGNS + 1)}
    amount = {"USD": 1000, "VND": 50_000}
    with engine.begin() as conn:
        conn.execute(insert(VoucherCampaign), [{"id": c, "name": f"Campaign {c:04d}", "created_at": now - timedelta(
            days=CAMPAIGNS - c)} for c in range(1, CAMPAIGNS + 1)])
        people = [{"id": i, "account": f"C{i:08d}", "billing_type": "personal", "name": f"Customer {i}",
                   "email": f"c{i}@bench.example", "address": "", "country": "US", "currency": _billed(i),
                   "search_text": f"customer {i}", "created_at": now, "updated_at": now}
                  for i in range(1, CUSTOMERS + 1)]
        for chunk in _chunks(people):
            conn.execute(insert(Customer), chunk)
        for chunk in _chunks([{"customer_id": p["id"], "currency": p["currency"], "total": 0, "topup": 0,
                               "voucher": 0, "updated_at": now} for p in people]):
            conn.execute(insert(CustomerBalance), chunk)
    vid = 0
    for c in range(1, CAMPAIGNS + 1):
        rows = []
        for _ in range(PER_CAMPAIGN):
            vid += 1
            rows.append({"id": vid, "campaign_id": c, "code_hash": uuid.uuid4().hex + uuid.uuid4().hex,
                         "last4": f"{vid % 10000:04d}", "amount": amount[currency[c]], "currency": currency[c],
                         "max_redemptions": 1, "redemption_count": 0, "created_at": now})
        with engine.begin() as conn:
            conn.execute(insert(Voucher), rows)
            # What an issue moves in its transaction (these rows bypass the service).
            conn.execute(insert(VoucherCampaignCodes).values(campaign_id=c, currency=currency[c], codes=len(rows)))
    # Redemptions: voucher v by a customer of its currency (customers 5, 10, ... bill in VND).
    redemptions, lots, ledger = [], [], []
    chosen = rng.sample(range(1, vid + 1), REDEMPTIONS)
    for rid, v in enumerate(chosen, start=1):
        c = (v - 1) // PER_CAMPAIGN + 1
        cur = currency[c]
        customer = rng.randrange(1, CUSTOMERS // 5) * 5  # bills in VND
        if cur == "USD":
            customer -= rng.randrange(1, 5)
        granted = amount[cur]
        lapsed = rid % 3 == 0
        redemptions.append({"id": rid, "voucher_id": v, "customer_id": customer, "amount": granted, "currency": cur,
                            "redeemed_at": now - timedelta(days=rng.randrange(60)), "campaign_id": c})
        written_off = lapsed and rid <= EXPIRIES * 3
        lots.append({"id": rid, "customer_id": customer, "redemption_id": rid, "granted": granted,
                     "remaining": 0 if written_off else rng.randrange(granted + 1),
                     "expires_at": now - timedelta(days=1) if lapsed else now + timedelta(days=30),
                     "created_at": now})
        if written_off:
            ledger.append({"customer_id": customer, "created_at": now, "kind": "expiry", "service": "Expiry",
                           "description": "Voucher credit expired unused", "status": "success",
                           "amount": -rng.randrange(1, granted + 1), "currency": cur, "source": "voucher",
                           "voucher_redemption_id": rid, "idempotency_key": f"expire-lot-{rid}",
                           "key_scope": "system"})
    for _ in range(LEDGER_NOISE):
        customer = rng.randrange(1, CUSTOMERS + 1)
        ledger.append({"customer_id": customer, "created_at": now, "kind": "usage", "service": "AI Inference",
                       "description": "", "status": "success", "amount": -10, "currency": _billed(customer),
                       "source": "topup", "key_scope": "system", "idempotency_key": None,
                       "voucher_redemption_id": None})
    with engine.begin() as conn:
        for table, rows in ((VoucherRedemption, redemptions), (VoucherCreditLot, lots), (LedgerEntry, ledger)):
            for chunk in _chunks(rows):
                conn.execute(insert(table), chunk)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE"))
        if conn.dialect.name == "postgresql":
            for table in ("vouchers", "voucher_campaigns", "voucher_redemptions", "voucher_credit_lots",
                          "ledger_entries", "customers"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT MAX(id) FROM {table}))"))
    engine.dispose()
    print(f"  built {vid:,} vouchers in {CAMPAIGNS:,} campaigns, {REDEMPTIONS:,} redemptions and lots, "
          f"{sum(1 for r in ledger if r['kind'] == 'expiry'):,} expiry rows among {len(ledger):,} ledger rows "
          f"in {time.perf_counter() - started:.0f} s", flush=True)


def run_funnel(label: str, url: str) -> None:
    build(url)
    app = build_app(Settings(database_url=url, config_path=None))
    try:
        app.vouchers.campaign_funnels(SYSTEM_ACTOR)  # warm
        times = []
        for _ in range(7):
            started = time.perf_counter()
            funnels = app.vouchers.campaign_funnels(SYSTEM_ACTOR)
            times.append((time.perf_counter() - started) * 1000)
        lines = sum(len(f.lines) for f in funnels)
        assert sum(f.codes for f in funnels) == CAMPAIGNS * PER_CAMPAIGN, "the build missed the stored figures"
        print(f"{label}: campaigns list with funnels ({len(funnels):,} campaigns, {lines:,} currency lines, "
              f"{sum(f.codes for f in funnels):,} vouchers): median {statistics.median(times):.0f} ms, "
              f"worst {max(times):.0f} ms", flush=True)
        _funnel_in_window(label, app)
    finally:
        app.close()


def _desk(app: Any) -> Any:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from billing_desk.views.app import apply_look, build_desk, keep_event_loop_responsive
    qt = QApplication.instance() or QApplication([])
    apply_look(qt)  # type: ignore[arg-type]
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat)
    desk = build_desk(app, Actor(staff_id=None, name="bench-manager", role=Role.MANAGER), settings)
    keep_event_loop_responsive()
    desk.window.resize(1280, 800)
    desk.window.show()
    return desk


def _funnel_in_window(label: str, app: Any) -> None:
    from bench_gui_load import StallMeter, wait_until
    desk = _desk(app)
    meter = StallMeter()
    meter.start()
    idle = lambda: desk.runner.pending == 0  # noqa: E731
    started = time.perf_counter()
    desk.window.workspaces.show_workspace("vouchers")
    workspace = desk.window.workspaces.page("vouchers")
    wait_until(lambda: idle() and workspace.model.rowCount() > 0)
    opened = (time.perf_counter() - started) * 1000
    meter.reset()
    started = time.perf_counter()
    workspace.reload()
    wait_until(lambda: idle() and workspace.model.rowCount() > 0)
    print(f"{label}: Vouchers workspace opened with {workspace.model.rowCount():,} campaign rows in {opened:.0f} ms; "
          f"reload {(time.perf_counter() - started) * 1000:.0f} ms, longest stall {meter.worst:.1f} ms", flush=True)
    desk.close()


def run_gui(label: str, url: str) -> None:
    from bench_gui_load import StallMeter, wait_until
    app = build_app(Settings(database_url=url, config_path=None))
    desk = _desk(app)
    idle = lambda: desk.runner.pending == 0  # noqa: E731
    desk.window.workspaces.show_workspace("vouchers")
    workspace = desk.window.workspaces.page("vouchers")
    wait_until(idle)
    meter = StallMeter()
    meter.start()
    idle_started = time.perf_counter()
    wait_until(lambda: time.perf_counter() - idle_started > 5)
    print(f"{label}: the same desk idle for 5 s (the machine's own noise): longest stall {meter.worst:.1f} ms",
          flush=True)
    workspace.open_issue()
    dialog = workspace.issue_dialog
    dialog.campaign_edit.setText(f"GUI bench {uuid.uuid4().hex[:6]}")
    dialog.amount_edit.setText("10.00")
    dialog.count_spin.setValue(100_000)
    meter.reset()
    stalls: list[tuple[float, float]] = []
    if os.environ.get("BENCH_STALLS"):  # where each long stall falls, to find its cause
        last = [time.perf_counter()]

        def tick() -> None:
            now = time.perf_counter()
            if now - last[0] > 0.03:
                stalls.append((now, (now - last[0]) * 1000))
            last[0] = now
        meter.timer.timeout.connect(tick)
    started = time.perf_counter()
    dialog.confirm_button.click()
    wait_until(lambda: workspace.codes_dialog is not None and idle())
    took = time.perf_counter() - started
    worst = meter.worst
    if os.environ.get("BENCH_STALLS"):
        for at, gap in stalls:
            print(f"  stall {gap:.0f} ms at {at - started:.2f} s (clock {at:.2f})")
    rows = workspace.codes_dialog.list.model().rowCount()
    print(f"{label}: issue 100,000 codes from the dialog: {took:.1f} s to the codes dialog ({rows:,} codes shown), "
          f"longest event-loop stall {worst:.1f} ms", flush=True)
    workspace.codes_dialog.saved = True
    workspace.codes_dialog.reject()
    desk.close()
    app.close()

"""GUI benchmark: the longest event-loop stall in the Payments workspace on 1,000,000 payments.

On the database ``bench_payments_review.py`` builds (1,000,000 payments over 100,000 customers;
give a copy of its cached SQLite file with ``--db``: reconcile writes its checks), a finance
desk opens the Payments workspace (first page, totals, 30-day charts), changes filters (status,
currency, an amount range, a reason), sorts by amount both ways and back to date, scrolls 20
pages, switches the charts to 90 days, and reconciles 20 selected pending payments against the
local gateway sandbox while it answers every status request late (past the read timeout).

The stall meter is ``bench_gui_load.py``'s: a 2 ms precise QTimer in the GUI thread; the
longest gap between two ticks minus 2 ms is the longest time the window could not answer. The
floor is the same meter over 3 s of an idle event loop, at the start and at the end: on a
machine busy with other work the idle loop alone stalls tens of milliseconds, and a phase's
figure means something only beside it.

Run: ``.venv/bin/python benchmarks/bench_gui_payments.py --db sqlite:////tmp/copy.sqlite3``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_gui_load import StallMeter, wait_until
from PySide6.QtCore import QItemSelectionModel, QSettings, Qt
from PySide6.QtWidgets import QApplication

from billing_desk.bootstrap import build_app
from billing_desk.config import Settings
from billing_desk.domain.enums import Role
from billing_desk.domain.permissions import Actor
from billing_desk.sandbox import demo_gateway_settings, start_sandbox
from billing_desk.sandbox.state import Fault
from billing_desk.views.app import apply_look, build_desk, keep_event_loop_responsive
from billing_desk.views.finance.payments_workspace import PaymentsWorkspace
from billing_desk.views.table_models.payment_review_model import AMOUNT_COLUMN, DATE_COLUMN


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="database URL (a copy: reconcile writes)")
    parser.add_argument("--late", type=float, default=1.5, help="the sandbox answers this late (s)")
    args = parser.parse_args()
    sandbox = start_sandbox()
    gateways = demo_gateway_settings(sandbox.url)
    for section in gateways.values():
        section.update({"connect_timeout": 2.0, "read_timeout": 1.0, "max_retries": 1, "retry_base_delay": 0.01})
    qt = QApplication([])
    apply_look(qt)
    app = build_app(Settings(database_url=args.db, config_path=None, gateways=gateways))
    actor = Actor(staff_id=1, name="bench-finance", role=Role.FINANCE)  # the benchmark's first staff row
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat)
    desk = build_desk(app, actor, settings)
    keep_event_loop_responsive()
    window = desk.window
    window.resize(1280, 800)
    window.show()
    meter = StallMeter()
    meter.start()
    idle = lambda: desk.runner.pending == 0  # noqa: E731
    results: list[tuple[str, float, float]] = []

    def phase(name: str, action) -> None:  # type: ignore[no-untyped-def]
        wait_until(idle)
        meter.reset()
        started = time.perf_counter()
        action()
        wait_until(lambda: idle() and not review.filters_bar.pending())
        took = (time.perf_counter() - started) * 1000
        results.append((name, took, meter.worst))
        print(f"{name:<52} {took:9.0f} ms   longest stall {meter.worst:6.1f} ms", flush=True)

    window.workspaces.show_workspace("payments")
    workspace = window.workspaces.page("payments")
    assert isinstance(workspace, PaymentsWorkspace)
    review = workspace.review
    bar = review.filters_bar
    header = review.table.horizontalHeader()
    wait_until(idle)
    if os.environ.get("BENCH_PROFILE"):  # where the GUI thread's own time goes
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    print(f"opened: {review.model.rowCount()} rows, {len(review.totals.lines if review.totals else [])} total lines")

    def combo(box, data) -> None:  # type: ignore[no-untyped-def]
        box.setCurrentIndex(box.findData(data))
        bar.apply()

    def text(edit, value: str) -> None:  # type: ignore[no-untyped-def]
        edit.setText(value)
        bar.apply()

    def idle_floor() -> None:  # nothing to do: what the machine alone costs the event loop
        deadline = time.perf_counter() + 3.0
        wait_until(lambda: time.perf_counter() >= deadline)

    phase("floor: the idle event loop for 3 s", idle_floor)
    phase("reload: first page, totals, 30-day charts", review.reload)
    phase("filter: status Failed", lambda: combo(bar.status_combo, "failed"))
    phase("filter: + currency VND", lambda: combo(bar.currency_combo, "VND"))
    phase("filter: + amount 1,000,000 to 5,000,000", lambda: (bar.min_edit.setText("1,000,000"),
                                                            text(bar.max_edit, "5,000,000")))
    phase("filter: + reason contains 'declined'", lambda: text(bar.reason_edit, "declined"))
    phase("filter: cleared", bar.clear)
    phase("sort: amount (first click)", lambda: header.setSortIndicator(AMOUNT_COLUMN, Qt.SortOrder.DescendingOrder))
    phase("sort: amount ascending", lambda: header.setSortIndicator(AMOUNT_COLUMN, Qt.SortOrder.AscendingOrder))
    phase("sort: newest first again", lambda: header.setSortIndicator(DATE_COLUMN, Qt.SortOrder.DescendingOrder))

    def scroll() -> None:
        for _ in range(20):
            review.table.scrollToBottom()
            wait_until(lambda: not review.model.loading)

    phase("scroll: 20 pages (fetchMore)", scroll)
    phase("charts: 90 days", lambda: review.charts.period_combo.setCurrentIndex(1))
    if os.environ.get("BENCH_PROFILE"):
        import pstats
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)

    combo(bar.status_combo, "pending")
    wait_until(lambda: idle() and review.model.rowCount() > 0)
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in range(20):
        review.table.selectionModel().select(review.model.index(row, 0), flags)
    sandbox.state.faults.append(Fault("late_reply", "/", None, times=1000, delay=args.late))
    phase(f"reconcile 20 selected, every answer {args.late} s late",
          lambda: (review.reconcile_button.run("selected"), wait_until(lambda: not review.progress.busy)))
    print(review.status_label.text())
    phase("floor: the idle event loop for 3 s, again", idle_floor)
    worst = max(r[2] for r in results if not r[0].startswith("floor"))
    floor = max(r[2] for r in results if r[0].startswith("floor"))
    print(f"\nlongest event-loop stall over all phases: {worst:.1f} ms (the idle loop's own: {floor:.1f} ms)")
    desk.close()
    sandbox.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

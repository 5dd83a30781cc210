"""GUI benchmark: the longest event-loop stall while the desk works on big data.

Measures, on a database with 1,000,000 customers and one customer with 1,000,000 ledger
rows (``billing-desk demo seed --customers 1000000 --whale``):

* search latency: last keystroke to results shown, for several queries;
* opening the 1,000,000-row customer on Credit History: time to the first page and to the
  count/sum, and the longest stall meanwhile;
* scrolling through 30 pages, two filter changes, the Overview tab (90-day chart);
* exporting the whole history to Excel (progress bar running), or ``--export-seconds`` of it.

The stall meter is a 2 ms precise QTimer in the GUI thread: the longest gap between two of
its ticks, minus 2 ms, is the longest time the event loop could not answer the person.

Run: ``.venv/bin/python benchmarks/bench_gui_load.py [--db URL] [--export-seconds N]``.
Without ``--db`` it uses (and on first run creates, which takes several minutes)
``/tmp/billing-desk-bench/bench.sqlite3``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from billing_desk.bootstrap import build_app
from billing_desk.config import Settings
from billing_desk.services.demo.seed import DEMO_PASSWORD
from billing_desk.views.app import apply_look, build_desk, keep_event_loop_responsive

DEFAULT_DB = Path("/tmp/billing-desk-bench/bench.sqlite3")
TICK_MS = 2


class StallMeter:
    def __init__(self) -> None:
        self.timer = QTimer(interval=TICK_MS, timerType=Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.worst = 0.0
        self._last = 0

    def start(self) -> None:
        self._last = time.perf_counter_ns()
        self.timer.start()

    def reset(self) -> None:
        self.worst = 0.0
        self._last = time.perf_counter_ns()

    def _tick(self) -> None:
        now = time.perf_counter_ns()
        gap = (now - self._last) / 1e6 - TICK_MS
        self.worst = max(self.worst, gap)
        self._last = now


def wait_until(predicate: Callable[[], bool], timeout_s: float = 600) -> float:
    """Run the event loop until ``predicate()``; returns the seconds waited."""
    started = time.perf_counter()
    loop = QEventLoop()
    poll = QTimer(interval=1)
    poll.timeout.connect(lambda: (predicate() or time.perf_counter() - started > timeout_s) and loop.quit())
    poll.start()
    if not predicate():
        loop.exec()
    poll.stop()
    if not predicate():
        raise TimeoutError("the desk did not finish in time")
    return time.perf_counter() - started


def ensure_database(url: str | None) -> str:
    if url:
        return url
    if not DEFAULT_DB.exists():
        DEFAULT_DB.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "BILLING_DESK_DATABASE_URL": f"sqlite:///{DEFAULT_DB}"}
        exe = [sys.executable, "-m", "billing_desk"]
        print("creating the benchmark database (1,000,000 customers and the whale); this takes minutes…")
        subprocess.run([*exe, "db", "upgrade", "--demo"], env=env, check=True)
        subprocess.run([*exe, "demo", "seed", "--customers", "1000000", "--whale"], env=env, check=True)
    return f"sqlite:///{DEFAULT_DB}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: the seeded benchmark SQLite file)")
    parser.add_argument("--export-seconds", type=float, default=0, help="cancel the export after this long (0: full)")
    args = parser.parse_args()
    url = ensure_database(args.db)
    qt = QApplication([])
    apply_look(qt)
    app = build_app(Settings(database_url=url, config_path=None))
    actor = app.staff.authenticate("manager", DEMO_PASSWORD)
    whale = app.customers.find(actor, "billing@whale-ai.example.com", 1)[0]
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat)
    desk = build_desk(app, actor, settings)
    keep_event_loop_responsive()  # as run_gui does
    window = desk.window
    window.resize(1360, 860)
    window.show()
    meter = StallMeter()
    meter.start()
    wait_until(lambda: True)
    results: list[tuple[str, str, float]] = []

    def phase(name: str, figure: str) -> None:
        results.append((name, figure, meter.worst))
        print(f"{name:<44} {figure:<28} longest stall {meter.worst:6.1f} ms", flush=True)
        meter.reset()

    # --- search ------------------------------------------------------------------------------
    search = window.search
    for query in ("whale", "nguyen van anh", "billing1234", "C0000099", "sato.haruto", "VN0101999999"):
        search.clear()
        search.setFocus()
        wait_until(lambda: desk.runner.pending == 0)
        meter.reset()
        QTest.keyClicks(search, query)
        started = time.perf_counter()
        shown: list[int] = []
        record = shown.append
        search.results_shown.connect(record)
        wait_until(lambda shown=shown: bool(shown) and desk.runner.pending == 0)
        search.results_shown.disconnect(record)
        phase(f"search '{query}'", f"{(time.perf_counter() - started) * 1000:7.1f} ms to results")
    search.hide_popup()

    # --- open the whale on Credit History -------------------------------------------------------
    window.tabs.setCurrentIndex(1)
    tab = window.tab_pages[1]
    meter.reset()
    started = time.perf_counter()
    window.open_customer(whale.id)
    first = wait_until(lambda: tab.model.rowCount() > 0)
    counted = wait_until(lambda: "transactions" in tab.totals_label.text()) + first
    phase("open 1M-row customer: first page", f"{first * 1000:7.1f} ms")
    results.append(("open 1M-row customer: count and sum", f"{counted * 1000:7.1f} ms", 0.0))
    print(f"{'  count and sum shown after':<44} {counted * 1000:7.1f} ms   ({tab.totals_label.text()})")

    # --- scroll 30 pages ------------------------------------------------------------------------
    started = time.perf_counter()
    for _ in range(30):
        before = tab.model.rowCount()
        tab.table.scrollToBottom()
        wait_until(lambda b=before: tab.model.rowCount() > b and not tab.model.loading)
    phase("scroll 30 pages (fetchMore)", f"{(time.perf_counter() - started) * 1000 / 30:7.1f} ms a page")

    # --- filters --------------------------------------------------------------------------------
    for label, apply in (
        ("filter status = Failed", lambda: tab.filters.status_combo.setCurrentIndex(2)),
        ("filter + description 'H100'", lambda: (tab.filters.text_edit.setText("H100"), tab.filters._emit())),
    ):
        started = time.perf_counter()
        apply()
        wait_until(lambda: tab.model.rowCount() > 0 and not tab.model.loading)
        page = time.perf_counter() - started
        wait_until(lambda: desk.runner.pending == 0)
        phase(label, f"{page * 1000:7.1f} ms page, {(time.perf_counter() - started) * 1000:7.0f} ms total")
    tab.filters.clear()
    wait_until(lambda: desk.runner.pending == 0)
    meter.reset()

    # --- overview (90-day chart over the whale) -------------------------------------------------
    started = time.perf_counter()
    window.tabs.setCurrentIndex(0)
    wait_until(lambda: desk.runner.pending == 0)
    phase("Overview tab (chart, plan, recent)", f"{(time.perf_counter() - started) * 1000:7.0f} ms")

    # --- export ---------------------------------------------------------------------------------
    window.tabs.setCurrentIndex(1)
    wait_until(lambda: desk.runner.pending == 0)
    meter.reset()
    target = Path(tempfile.mkdtemp()) / "whale.xlsx"
    started = time.perf_counter()
    tab.export_to(str(target))
    rows = 0
    if args.export_seconds:
        wait_until(lambda: time.perf_counter() - started > args.export_seconds or not tab.progress.isVisible())
        rows = tab.progress.value()
        tab.cancel_export()
    wait_until(lambda: not tab.progress.isVisible(), timeout_s=3600)
    seconds = time.perf_counter() - started
    if not args.export_seconds:  # "Exported 1,000,000 rows to …"
        rows = int(tab.totals_label.text().split()[1].replace(",", ""))
    phase("export to Excel" + (" (cancelled)" if args.export_seconds else ""),
          f"{rows:,} rows in {seconds:5.1f} s")
    print(tab.totals_label.text())
    worst = max(r[2] for r in results)
    print(f"\nlongest event-loop stall over all phases: {worst:.1f} ms")
    desk.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

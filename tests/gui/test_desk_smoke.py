"""Smoke tests: the whole desk on each database, and `billing-desk gui --demo` from an empty home."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from billing_desk.bootstrap import App
from billing_desk.views import app as desk_app
from billing_desk.views.main_window import MainWindow
from tests.support.desk import DeskFactory, open_customer, wait_idle
from tests.support.ledger import seed_history
from tests.support.staff import StaffActors


def test_the_desk_walks_every_tab(qtbot, make_desk: DeskFactory, staff: StaffActors, desk_app: App) -> None:
    lan = desk_app.customers.create(staff.admin, name="Nguyen Thi Lan", email="lan@example.com", country="VN",
                                  billing_type="personal", address="Ha Noi")
    lan = desk_app.customers.set_currency(staff.admin, lan.id, "VND")
    seed_history(desk_app, staff, lan, 4)
    desk = make_desk(staff.support, desk_app)
    desk.window.search.setFocus()
    with qtbot.waitSignal(desk.window.search.results_shown, timeout=5000):
        qtbot.keyClicks(desk.window.search, "lan@example")
    open_customer(qtbot, desk, lan.id)
    for index in range(6):
        desk.window.tabs.setCurrentIndex(index)
        wait_idle(qtbot, desk)
    history = desk.window.tab_pages[1]
    assert history.model.rowCount() == 6 and "6 transactions" in history.totals_label.text()
    assert desk.window.header.balance_label.text() == "4,990,000 ₫"


def test_gui_demo_creates_seeds_and_logs_in_as_the_manager(qtbot, monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    seen: list[str] = []

    def close_when_shown() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if not windows:
            QTimer.singleShot(50, close_when_shown)
            return
        seen.append(windows[0].staff_label.text())
        windows[0].close()

    QTimer.singleShot(50, close_when_shown)
    assert desk_app.run_gui(demo=True) == 0
    assert seen == ["manager · Manager"]
    assert (tmp_path / "data" / "billing-desk" / desk_app.DEMO_DB_NAME).exists()
    assert desk_app._SANDBOX is not None  # the demo gateways point at the local sandbox

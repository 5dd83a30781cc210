"""The desk while another task holds the database's write lock (issue 11): applying a voucher or
exporting says the database is busy, in words, then works once the lock is let go."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from billing_desk.bootstrap import App, build_app
from billing_desk.config import Settings
from billing_desk.domain.money import Money
from billing_desk.services.customers.dtos import CustomerDTO
from billing_desk.services.vouchers.dtos import IssueRequest
from billing_desk.views.credit_history_tab import CreditHistoryTab
from billing_desk.views.vouchers_tab import VouchersTab
from tests.support.desk import open_customer, show_tab, wait_idle
from tests.support.ledger import seed_history
from tests.support.locks import write_lock_held
from tests.support.staff import StaffActors


@pytest.fixture
def quick_app(desk_app: App) -> Iterator[App]:
    """The desk's database with a one-second busy wait."""
    app = build_app(Settings(database_url=desk_app.settings.database_url, config_path=None, busy_wait=1.0))
    yield app
    app.close()


def test_voucher_on_a_busy_database_says_so_then_applies(qtbot, make_desk, quick_app: App,  # type: ignore[no-untyped-def]
                                                        staff: StaffActors, customers: dict[str, CustomerDTO],
                                                        voucher_key: str) -> None:
    code = quick_app.vouchers.issue(staff.manager, IssueRequest(amount=Money(200_000, "VND"), campaign="Busy")).codes[0]
    desk = make_desk(staff.support, quick_app)
    open_customer(qtbot, desk, customers["lan"].id)
    tab = show_tab(qtbot, desk, 3)
    assert isinstance(tab, VouchersTab)
    entry = tab.entry
    qtbot.keyClicks(entry.code_edit, code)
    with write_lock_held(quick_app.settings.database_url):
        with qtbot.waitSignal(entry.refused, timeout=15000):
            qtbot.keyClick(entry.code_edit, Qt.Key.Key_Return)
        shown = entry.result_label.text()
        assert "The database is busy with another task" in shown and "try again in a moment" in shown
        assert "unexpected" not in shown
        assert entry.apply_button.isEnabled() and entry.code_edit.text() == code  # ready to try again
    with qtbot.waitSignal(entry.redeemed, timeout=10000):
        entry.apply_button.click()
    wait_idle(qtbot, desk)
    assert "added 200,000 ₫" in entry.result_label.text()


@pytest.mark.slow
def test_export_on_a_busy_database_says_so_and_leaves_no_file(qtbot, make_desk, quick_app: App,  # type: ignore[no-untyped-def]
                                                              staff: StaffActors,
                                                              customers: dict[str, CustomerDTO],
                                                              tmp_path: Path) -> None:
    """The export runs in a child process; its audit row comes before its file, so a database
    too busy for the row leaves no file and the desk says busy, not 'export failed'."""
    seed_history(quick_app, staff, customers["lan"], 3)
    desk = make_desk(staff.finance, quick_app)
    open_customer(qtbot, desk, customers["lan"].id)
    tab = show_tab(qtbot, desk, 1)
    assert isinstance(tab, CreditHistoryTab)
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "history.xlsx"
    with write_lock_held(quick_app.settings.database_url):
        tab.export_to(str(target))
        qtbot.waitUntil(lambda: tab.findChild(QMessageBox, "errorDialog") is not None, timeout=30000)
    box = tab.findChild(QMessageBox, "errorDialog")
    assert box.windowTitle() == "Database busy"
    assert "The database is busy with another task" in box.text() and "unexpected" not in box.text()
    assert list(folder.iterdir()) == []
    box.close()
    box.setObjectName("answered")
    wait_idle(qtbot, desk)
    tab.export_to(str(target))
    qtbot.waitUntil(lambda: not tab.progress.isVisibleTo(tab), timeout=30000)
    assert tab.findChild(QMessageBox, "errorDialog") is None
    assert target.exists() and tab.totals_label.text().startswith("Exported ")
    wait_idle(qtbot, desk)

"""Credit History tab driven like a person: first page, totals, filters, export, cancel, roles."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from billing_desk.bootstrap import App
from billing_desk.domain.errors import Cancelled
from billing_desk.domain.permissions import Actor
from billing_desk.services.customers.dtos import CustomerDTO
from billing_desk.services.exports import ExportResult
from billing_desk.views.credit_history_tab import CreditHistoryTab
from billing_desk.views.export_process import ProcessExporter
from billing_desk.views.tasks import QueryOp
from tests.support.desk import DeskFactory, open_customer, show_tab, wait_idle
from tests.support.ledger import seed_history
from tests.support.staff import StaffActors


def _history_tab(qtbot, make_desk: DeskFactory, actor, customer: CustomerDTO):  # type: ignore[no-untyped-def]
    desk = make_desk(actor)
    open_customer(qtbot, desk, customer.id)
    tab = show_tab(qtbot, desk, 1)
    assert isinstance(tab, CreditHistoryTab)
    return desk, tab


def test_history_shows_rows_totals_and_filters(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                               customers: dict[str, CustomerDTO], desk_app: App) -> None:
    seed_history(desk_app, staff, customers["lan"], 5)
    desk, tab = _history_tab(qtbot, make_desk, staff.finance, customers["lan"])
    assert tab.model.rowCount() == 7
    assert tab.totals_label.text() == "7 transactions  ·  net 4,985,000 ₫ (successful rows)"
    services = [tab.filters.service_combo.itemText(i) for i in range(tab.filters.service_combo.count())]
    assert "AI Inference" in services and "Storage" in services
    tab.filters.status_combo.setCurrentIndex(tab.filters.status_combo.findText("Failed"))
    wait_idle(qtbot, desk)
    assert tab.model.rowCount() == 1 and tab.model.row(0).description == "Storage usage for 1 model"
    assert tab.totals_label.text() == "1 transactions  ·  net 0 ₫ (successful rows)"
    tab.filters.clear_button.click()
    wait_idle(qtbot, desk)
    qtbot.keyClicks(tab.filters.text_edit, "batch 3")
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1, timeout=3000)  # after the typing pause
    wait_idle(qtbot, desk)
    assert tab.model.row(0).description == "Inference batch 3"


def test_export_excel_writes_the_filtered_rows(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                               customers: dict[str, CustomerDTO], desk_app: App,
                                               tmp_path: Path) -> None:
    seed_history(desk_app, staff, customers["lan"], 5)
    desk, tab = _history_tab(qtbot, make_desk, staff.finance, customers["lan"])
    target = tmp_path / "lan.xlsx"
    tab.export_to(str(target))
    assert tab.progress.isVisibleTo(tab) and tab.cancel_button.isVisibleTo(tab)
    assert not tab.export_button.isEnabled()
    # the child process starts a fresh interpreter: allow for a slow, shared machine
    qtbot.waitUntil(lambda: not tab.progress.isVisibleTo(tab), timeout=30000)
    assert tab.totals_label.text() == f"Exported 7 rows to {target}"
    book = load_workbook(target, read_only=True)
    text = " ".join(str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                    for c in row if c is not None)
    assert "Inference batch 4" in text and "Storage usage for 1 model" in text
    assert tab.export_button.isEnabled()
    wait_idle(qtbot, desk)


def test_cancel_stops_the_export_and_leaves_no_file(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                                    customers: dict[str, CustomerDTO], desk_app: App,
                                                    tmp_path: Path) -> None:
    seed_history(desk_app, staff, customers["lan"], 3)
    desk, tab = _history_tab(qtbot, make_desk, staff.finance, customers["lan"])
    gate = threading.Event()
    QueryOp(desk.runner, gate.wait, lambda _v: None, long=True).run()  # hold the export worker
    target = tmp_path / "cancelled.xlsx"
    tab.export_to(str(target))
    qtbot.mouseClick(tab.cancel_button, Qt.MouseButton.LeftButton)
    gate.set()
    qtbot.waitUntil(lambda: not tab.progress.isVisibleTo(tab), timeout=30000)
    assert "cancelled" in tab.totals_label.text() and "no file was written" in tab.totals_label.text()
    assert not target.exists() and list(tmp_path.glob("*.part")) == []


class RecordingExporter:
    """Stands in for the launcher the composition root hands the tab: writes nothing, says 3 rows."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def export_credit_history(self, actor: Actor, customer_ref: str | int, filters: object, path: str | Path,
                              fmt: str | None = None, progress: Callable[[int, int], None] | None = None,
                              cancel: object = None) -> ExportResult:
        self.calls.append((actor.name, customer_ref, str(path)))
        if progress is not None:
            progress(3, 3)
        return ExportResult(str(path), "xlsx", 3, 0.0)


class HeldExporter(RecordingExporter):
    """Holds its export until released, then reports 5 of 10 rows."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def export_credit_history(self, actor: Actor, customer_ref: str | int, filters: object, path: str | Path,
                              fmt: str | None = None, progress: Callable[[int, int], None] | None = None,
                              cancel: object = None) -> ExportResult:
        self.release.wait(10)
        if progress is not None:
            progress(5, 10)
        return ExportResult(str(path), "xlsx", 10, 0.0)


def test_export_progress_starts_from_its_own_total(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                                   customers: dict[str, CustomerDTO], tmp_path: Path) -> None:
    desk, tab = _history_tab(qtbot, make_desk, staff.finance, customers["lan"])
    desk.window.ctx.exporter = RecordingExporter()  # type: ignore[assignment]
    tab.export_to(str(tmp_path / "first.xlsx"))
    qtbot.waitUntil(lambda: not tab.progress.isVisibleTo(tab), timeout=5000)
    assert tab.progress.text() == "3 of 3 rows"
    held = HeldExporter()
    desk.window.ctx.exporter = held  # type: ignore[assignment]
    tab.export_to(str(tmp_path / "second.xlsx"))
    assert tab.progress.isVisibleTo(tab) and tab.progress.maximum() == 0  # busy, not the last export's 3 of 3
    assert "3" not in tab.progress.text()
    with qtbot.waitSignal(tab._export_progress.changed, timeout=5000):  # type: ignore[union-attr]
        held.release.set()
    assert tab.progress.text() == "5 of 10 rows"
    qtbot.waitUntil(lambda: not tab.progress.isVisibleTo(tab), timeout=5000)
    fm = tab.progress.fontMetrics()
    assert tab.progress.minimumWidth() > fm.horizontalAdvance("10,000,000 of 10,000,000 rows")
    wait_idle(qtbot, desk)


def test_the_tab_exports_through_the_launcher_it_was_handed(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                                            customers: dict[str, CustomerDTO],
                                                            tmp_path: Path) -> None:
    desk, tab = _history_tab(qtbot, make_desk, staff.finance, customers["lan"])
    assert isinstance(desk.window.ctx.exporter, ProcessExporter)  # built once by build_desk
    fake = RecordingExporter()
    desk.window.ctx.exporter = fake  # type: ignore[assignment]
    target = tmp_path / "handed.xlsx"
    tab.export_to(str(target))
    qtbot.waitUntil(lambda: not tab.progress.isVisibleTo(tab), timeout=5000)
    assert fake.calls == [("finance", customers["lan"].id, str(target))]
    assert tab.totals_label.text() == f"Exported 3 rows to {target}"
    wait_idle(qtbot, desk)


def test_a_stuck_export_process_is_ended_and_leaves_no_file(desk_app: App, staff: StaffActors,
                                                              customers: dict[str, CustomerDTO],
                                                              tmp_path: Path) -> None:
    """With no grace at all, Cancel ends the child at once instead of waiting for it to stop."""
    seed_history(desk_app, staff, customers["lan"], 3)
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "ended.xlsx"
    exporter = ProcessExporter(desk_app.settings.database_url, stop_grace=0)
    with pytest.raises(Cancelled, match="no file was written"):
        exporter.export_credit_history(staff.finance, customers["lan"].id, None, target, cancel=lambda: True)
    assert list(target.parent.iterdir()) == []


def test_export_error_from_the_child_process_is_shown(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                                      customers: dict[str, CustomerDTO], desk_app: App,
                                                      tmp_path: Path) -> None:
    seed_history(desk_app, staff, customers["lan"], 2)
    desk, tab = _history_tab(qtbot, make_desk, staff.support, customers["lan"])
    target = tmp_path / "gone" / "refused.xlsx"
    tab.export_to(str(target))  # the folder vanished after it was chosen: the service in the child refuses
    qtbot.waitUntil(lambda: tab.findChild(QMessageBox, "errorDialog") is not None, timeout=30000)
    box = tab.findChild(QMessageBox, "errorDialog")
    assert "does not exist" in box.text() and "Traceback" not in box.text()
    assert not tab.progress.isVisibleTo(tab) and not target.exists()
    box.close()
    wait_idle(qtbot, desk)


def test_support_exports_a_customers_credit_history(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                                     customers: dict[str, CustomerDTO], desk_app: App,
                                                     tmp_path: Path) -> None:
    seed_history(desk_app, staff, customers["lan"], 3)
    desk, tab = _history_tab(qtbot, make_desk, staff.support, customers["lan"])
    assert tab.export_button.isEnabled() and "Ctrl+E" in tab.export_button.toolTip()
    target = tmp_path / "for-the-customer.xlsx"
    tab.export_to(str(target))
    qtbot.waitUntil(lambda: "Exported" in tab.totals_label.text(), timeout=30000)
    wait_idle(qtbot, desk)
    assert tab.totals_label.text().startswith("Exported 5 rows")
    assert load_workbook(target).active.max_row > 5  # the heading block, then the five rows
    audited = [r for r in desk_app.audit.list(staff.admin) if r.action == "export.credit_history"]
    assert [r.staff_name for r in audited] == ["support"]


def test_a_new_usage_refreshes_the_open_history(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                                customers: dict[str, CustomerDTO], desk_app: App) -> None:
    from billing_desk.domain.changes import Changes

    seed_history(desk_app, staff, customers["lan"], 2)
    desk, tab = _history_tab(qtbot, make_desk, staff.manager, customers["lan"])
    assert tab.model.rowCount() == 4
    desk_app.ledger.record_usage(staff.manager, customers["lan"].id, service="Storage", amount="1,000",
                                   description="Storage top-off")
    desk.bus.publish(Changes.for_customer(customers["lan"].id, ledger=True))
    qtbot.waitUntil(lambda: tab.model.rowCount() == 5, timeout=5000)
    wait_idle(qtbot, desk)
    assert desk.window.header.balance_label.text() == "4,996,000 ₫"


def test_column_widths_are_remembered(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                      customers: dict[str, CustomerDTO]) -> None:
    desk, tab = _history_tab(qtbot, make_desk, staff.finance, customers["lan"])
    tab.table.setColumnWidth(1, 233)
    desk.window.close()
    _again, tab2 = _history_tab(qtbot, make_desk, staff.finance, customers["lan"])
    assert tab2.table.columnWidth(1) == 233

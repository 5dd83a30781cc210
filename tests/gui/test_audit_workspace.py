"""The Audit workspace: managers and admins get it (Ctrl+6), support and finance neither see it
nor may read the log through the service; the filter bar narrows the table; a row's detail
shows its before and after; Verify finds a row changed in SQL behind the desk's back and names
it; Export writes what the table shows and is itself audited."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import QDate, Qt
from sqlalchemy import text

from billing_desk.bootstrap import App
from billing_desk.domain.dates import local_zone
from billing_desk.domain.errors import PermissionDenied
from billing_desk.services.customers import CustomerDTO
from billing_desk.views.app import Desk
from billing_desk.views.audit.audit_workspace import AuditWorkspace
from tests.support.audit_tamper import tamper_audit
from tests.support.desk import DeskFactory, wait_idle
from tests.support.staff import StaffActors

CTRL = Qt.KeyboardModifier.ControlModifier


def _today() -> date:
    """Today in the desk's time zone (the one the filter's days are in)."""
    return datetime.now(local_zone()).date()


def _open(qtbot, desk: Desk) -> AuditWorkspace:  # type: ignore[no-untyped-def]
    qtbot.keyClick(desk.window, Qt.Key.Key_6, CTRL)
    workspace = desk.window.workspaces.stack.currentWidget()
    assert isinstance(workspace, AuditWorkspace)
    wait_idle(qtbot, desk)
    return workspace


def _settle(qtbot, desk: Desk, workspace: AuditWorkspace) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not workspace.filters_bar.pending(), timeout=3000)
    wait_idle(qtbot, desk)


def _actions(workspace: AuditWorkspace) -> list[str]:
    m = workspace.model
    return [m.row(r).action for r in range(m.rowCount())]


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_managers_and_admins_get_the_audit_workspace(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                                      customers: dict[str, CustomerDTO], role: str) -> None:
    desk = make_desk(getattr(staff, role))
    assert desk.window.workspaces.keys().count("audit") == 1
    workspace = _open(qtbot, desk)
    assert desk.window.workspaces.current_key() == "audit"
    rows = workspace.model.rowCount()
    assert rows == len(desk.app.audit.list(staff.admin, limit=1000)) > 0
    first = workspace.model.row(0)
    assert workspace.model.data(workspace.model.index(0, 1)) == first.staff_name
    assert "rows" in workspace.status_label.text()


@pytest.mark.parametrize("role", ["support", "finance"])
def test_support_and_finance_get_no_audit_workspace_and_the_service_refuses(
        qtbot, make_desk: DeskFactory, staff: StaffActors, role: str) -> None:
    actor = getattr(staff, role)
    desk = make_desk(actor)
    window = desk.window
    assert window.workspaces.keys().count("audit") == 0
    before = window.workspaces.current_key()
    qtbot.keyClick(window, Qt.Key.Key_6, CTRL)
    assert window.workspaces.current_key() == before
    assert window.workspaces.show_workspace("audit") is False
    with pytest.raises(PermissionDenied):
        desk.app.audit.page(actor)
    with pytest.raises(PermissionDenied):
        desk.app.audit.verify(actor)


def test_filters_and_a_row_s_before_and_after(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                              customers: dict[str, CustomerDTO], desk_app: App) -> None:
    lan, sato = customers["lan"], customers["sato"]
    desk_app.customers.update(staff.manager, lan.id, address="48 Hang Bac, Ha Noi")
    desk = make_desk(staff.manager)
    workspace = _open(qtbot, desk)
    bar = workspace.filters_bar
    everything = workspace.model.rowCount()
    assert bar.staff_combo.findData("manager") > 0 and bar.action_combo.findData("customer.update") > 0

    bar.staff_combo.setCurrentIndex(bar.staff_combo.findData("manager"))
    _settle(qtbot, desk, workspace)
    assert _actions(workspace) == ["customer.update"]
    bar.staff_combo.setCurrentIndex(0)
    bar.action_combo.setCurrentIndex(bar.action_combo.findData("customer.create"))
    _settle(qtbot, desk, workspace)
    assert _actions(workspace) == ["customer.create"] * 3
    bar.action_combo.setCurrentIndex(0)
    qtbot.keyClicks(bar.customer_edit, sato.account)
    _settle(qtbot, desk, workspace)
    assert {workspace.model.row(r).customer for r in range(workspace.model.rowCount())} == {sato.account}
    assert set(_actions(workspace)) == {"customer.create", "customer.set_currency"}
    bar.customer_edit.clear()
    qtbot.keyClicks(bar.customer_edit, "C99999999")
    _settle(qtbot, desk, workspace)
    assert bar.error_label.isVisible() and "C99999999" in bar.error_label.text()
    bar.customer_edit.clear()
    qtbot.keyClicks(bar.customer_edit, lan.account)
    _settle(qtbot, desk, workspace)
    assert not bar.error_label.isVisible()
    assert _actions(workspace) == ["customer.update", "customer.set_currency", "customer.create"]

    # The profile edit in full: each changed field before and after.
    workspace.table.selectRow(0)
    detail = workspace.detail
    assert detail.changes.isVisible() and detail.changes.rowCount() == 1
    cells = [detail.changes.item(0, c).text() for c in range(3)]
    assert cells == ["address", lan.address, "48 Hang Bac, Ha Noi"]
    assert "manager" in detail.facts.text() and lan.account in detail.facts.text()
    workspace.table.selectRow(1)  # the currency chosen: from none to VND
    assert [detail.changes.item(0, c).text() for c in range(3)] == ["currency", "—", "VND"]
    assert not detail.rest.isVisible()
    workspace.table.selectRow(2)  # created: every field "after", and the rest of the summary in words
    fields = {detail.changes.item(r, 0).text(): detail.changes.item(r, 2).text()
              for r in range(detail.changes.rowCount())}
    assert fields["name"] == lan.name and fields["email"] == lan.email
    assert detail.rest.isVisible() and f"account: {lan.account}" in detail.rest.toPlainText()

    # Local days: up to yesterday holds nothing; today holds everything.
    bar.customer_edit.clear()
    bar.to_date.setDate(QDate(_today() - timedelta(days=1)))
    bar.to_check.setChecked(True)
    _settle(qtbot, desk, workspace)
    assert workspace.model.rowCount() == 0 and "No audit row" in workspace.status_label.text()
    bar.from_date.setDate(QDate(_today()))
    bar.from_check.setChecked(True)
    _settle(qtbot, desk, workspace)
    assert bar.error_label.isVisible()  # ends before it starts: said beside the bar, no query
    bar.to_date.setDate(QDate(_today()))
    _settle(qtbot, desk, workspace)
    assert workspace.model.rowCount() == everything
    qtbot.keyClick(bar, Qt.Key.Key_Escape)
    _settle(qtbot, desk, workspace)
    assert not bar.from_check.isChecked() and workspace.model.rowCount() == everything


def test_verify_names_a_row_changed_in_sql(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                          customers: dict[str, CustomerDTO], desk_app: App) -> None:
    desk = make_desk(staff.admin)
    workspace = _open(qtbot, desk)
    workspace.verify_button.click()
    qtbot.waitUntil(lambda: workspace.verify_result.isVisible(), timeout=10000)
    wait_idle(qtbot, desk)
    assert workspace.last_verification is not None and workspace.last_verification.ok
    assert "intact" in workspace.verify_result.text()
    assert not workspace.progress.isVisible() and workspace.verify_button.isEnabled()

    victim = workspace.model.row(workspace.model.rowCount() // 2)
    tamper_audit(desk_app.database.engine, lambda conn: conn.execute(
        text("UPDATE audit_log SET staff_name = 'nobody' WHERE id = :id"), {"id": victim.id}))
    workspace.verify_result.hide()
    workspace.verify_button.click()
    qtbot.waitUntil(lambda: workspace.verify_result.isVisible(), timeout=10000)
    wait_idle(qtbot, desk)
    result = workspace.last_verification
    assert result is not None and not result.ok and result.broken_id == victim.id
    assert f"row {victim.id}" in workspace.verify_result.text()
    assert "does not match its hash" in workspace.verify_result.text()


def test_export_reads_back_and_is_audited(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                          customers: dict[str, CustomerDTO], desk_app: App,
                                          tmp_path: Path) -> None:
    desk = make_desk(staff.manager)
    workspace = _open(qtbot, desk)
    bar = workspace.filters_bar
    bar.action_combo.setCurrentIndex(bar.action_combo.findData("customer.create"))
    _settle(qtbot, desk, workspace)
    shown = [workspace.model.row(r).id for r in range(workspace.model.rowCount())]
    target = tmp_path / "audit.xlsx"
    workspace.export_to(str(target))
    assert workspace.progress.isVisible() and not workspace.verify_button.isEnabled()
    qtbot.waitUntil(lambda: "Exported" in workspace.status_label.text(), timeout=60000)
    wait_idle(qtbot, desk)
    rows = list(load_workbook(target)["Audit"].iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == shown and {r[3] for r in rows} == {"customer.create"}
    assert {r[6] for r in rows} == {c.account for c in customers.values()}
    newest = desk_app.audit.list(staff.admin, limit=1)[0]
    assert newest.action == "export.audit" and newest.staff_name == "manager"
    assert newest.summary["rows"] == len(shown) and newest.summary["filter"]["action"] == "customer.create"

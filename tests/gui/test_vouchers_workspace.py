"""The Vouchers workspace at a manager's desk: who gets it, the issue dialog (validation as typed,
the total face value, 10,000 codes with progress, Cancel leaving nothing), the codes shown once
(Copy, Export read back, the question on closing), the campaigns' funnels and revoking."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from billing_desk.bootstrap import App
from billing_desk.domain.errors import PermissionDenied
from billing_desk.domain.money import Money
from billing_desk.services.vouchers import IssueRequest
from billing_desk.views.app import Desk
from billing_desk.views.vouchers.codes_dialog import IssuedCodesDialog
from billing_desk.views.vouchers.issue_dialog import IssueVouchersDialog
from billing_desk.views.vouchers.vouchers_workspace import VouchersWorkspace
from tests.support.customers import make_customer
from tests.support.database import audit_rows, raw
from tests.support.desk import DeskFactory, wait_idle
from tests.support.staff import StaffActors

pytestmark = pytest.mark.usefixtures("voucher_key")
CTRL = Qt.KeyboardModifier.ControlModifier


def _workspace(qtbot, desk: Desk) -> VouchersWorkspace:  # type: ignore[no-untyped-def]
    qtbot.keyClick(desk.window, Qt.Key.Key_3, CTRL)
    workspace = desk.window.workspaces.stack.currentWidget()
    assert isinstance(workspace, VouchersWorkspace)
    wait_idle(qtbot, desk)
    return workspace


def _dialog(qtbot, desk: Desk, workspace: VouchersWorkspace) -> IssueVouchersDialog:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(workspace.issue_button, Qt.MouseButton.LeftButton)
    dialog = workspace.issue_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def _fill(dialog: IssueVouchersDialog, amount: str, count: int, campaign: str, currency: str = "USD") -> None:
    dialog.currency_combo.setCurrentIndex(dialog.currency_combo.findData(currency))
    dialog.campaign_edit.setText(campaign)
    dialog.amount_edit.setText(amount)
    dialog.count_spin.setValue(count)


def _voucher_count(app: App) -> int:
    return int(raw(app, "SELECT COUNT(*) FROM vouchers")[0][0])


def test_only_managers_and_admins_get_vouchers_and_the_service_refuses_the_others(
        qtbot, make_desk: DeskFactory, staff: StaffActors, desk_app: App) -> None:
    for actor in (staff.manager, staff.admin):
        desk = make_desk(actor)
        assert "vouchers" in list(desk.window.workspaces.keys())
        _workspace(qtbot, desk)
    issued = desk_app.vouchers.issue(staff.manager, IssueRequest(Money(1000, "USD"), count=2, campaign="Kept"))
    for actor in (staff.support, staff.finance):
        desk = make_desk(actor)
        assert "vouchers" not in list(desk.window.workspaces.keys())
        before = desk.window.workspaces.stack.currentWidget()
        qtbot.keyClick(desk.window, Qt.Key.Key_3, CTRL)
        assert desk.window.workspaces.stack.currentWidget() is before
        with pytest.raises(PermissionDenied):
            desk_app.vouchers.issue(actor, IssueRequest(Money(1000, "USD"), count=5, campaign="Sneaky"))
        with pytest.raises(PermissionDenied):
            desk_app.vouchers.revoke(actor, issued.voucher_ids[0], "no")
        with pytest.raises(PermissionDenied):
            desk_app.vouchers.revoke_campaign(actor, "Kept", "no")
        with pytest.raises(PermissionDenied):
            desk_app.vouchers.campaign_funnels(actor)
    assert _voucher_count(desk_app) == 2 and not audit_rows(desk_app, "voucher.revoke")


def test_issue_dialog_validates_as_typed_and_shows_the_total_face_value(
        qtbot, make_desk: DeskFactory, staff: StaffActors, desk_app: App) -> None:
    desk = make_desk(staff.manager)
    dialog = _dialog(qtbot, desk, _workspace(qtbot, desk))
    assert "Enter the amount" in dialog.field_error("amount")
    assert not dialog.confirm_button.isEnabled()
    _fill(dialog, "ten", 3, "Spring")
    assert dialog.field_error("amount") and not dialog.confirm_button.isEnabled()
    dialog.amount_edit.setText("12.50")
    assert dialog.field_error("amount") == "" and dialog.confirm_button.isEnabled()
    assert "3 × $12.50 = $37.50" in dialog.total_label.text()
    dialog.max_spin.setValue(4)
    assert "$150.00" in dialog.total_label.text()  # the most it can grant, every code used 4 times
    dialog.until_check.setChecked(True)
    dialog.until_edit.setDate(QDate.currentDate().addDays(-3))
    assert "past" in dialog.field_error("valid_until") and not dialog.confirm_button.isEnabled()
    dialog.from_check.setChecked(True)
    dialog.from_edit.setDate(QDate.currentDate().addDays(10))
    dialog.until_edit.setDate(QDate.currentDate().addDays(5))
    assert "after valid-from" in dialog.field_error("valid_until")
    dialog.until_edit.setDate(QDate.currentDate().addDays(30))
    assert dialog.field_error("valid_until") == "" and dialog.confirm_button.isEnabled()
    dialog.campaign_edit.setText("x" * 201)
    assert "1 to 200 characters" in dialog.field_error("campaign")
    dialog.reject()
    assert _voucher_count(desk_app) == 0


def test_issue_10000_codes_with_progress_copy_and_export_read_back(
        qtbot, make_desk: DeskFactory, staff: StaffActors, desk_app: App, tmp_path: Path) -> None:
    desk = make_desk(staff.manager)
    workspace = _workspace(qtbot, desk)
    dialog = _dialog(qtbot, desk, workspace)
    _fill(dialog, "5.00", 10_000, "Big newsletter")
    dialog.credit_check.setChecked(True)
    dialog.credit_spin.setValue(60)
    reports: list[tuple[int, int]] = []
    dialog.confirm_button.click()
    assert dialog.progress.isVisible() and dialog.progress._progress is not None
    dialog.progress._progress.changed.connect(lambda d, t: reports.append((d, t)))
    qtbot.waitUntil(lambda: workspace.codes_dialog is not None, timeout=60_000)
    assert reports and reports[-1] == (20_000, 20_000) and len(reports) >= 2
    codes = workspace.codes_dialog
    assert isinstance(codes, IssuedCodesDialog) and codes.isVisible()
    assert codes.list.model().rowCount() == 10_000 and len(set(codes.issued.codes)) == 10_000
    assert "$50,000.00" in codes.summary.text()

    # Closing before the codes were kept asks first; Cancel keeps the dialog open.
    codes.close_button.click()
    assert codes.confirm_box is not None and codes.confirm_box.isVisible()
    codes.confirm_box.button(QMessageBox.StandardButton.Cancel).click()
    assert codes.isVisible()

    codes.export_to(str(tmp_path / "codes.csv"))
    qtbot.waitUntil(lambda: codes.saved, timeout=30_000)
    with (tmp_path / "codes.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["code"] for r in rows] == list(codes.issued.codes)
    assert {r["campaign"] for r in rows} == {"Big newsletter"} and {r["credit_days"] for r in rows} == {"60"}
    codes.export_to(str(tmp_path / "codes.xlsx"))
    wait_idle(qtbot, desk, 60_000)
    sheet = load_workbook(tmp_path / "codes.xlsx", read_only=True).active
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == list(codes.issued.codes)
    assert [a["summary"]["codes"] for a in audit_rows(desk_app, "voucher.export_codes")] == [10_000, 10_000]

    codes.copy_button.click()
    assert QApplication.clipboard().text().split() == list(codes.issued.codes)
    codes.close_button.click()
    assert not codes.isVisible()
    assert _voucher_count(desk_app) == 10_000
    wait_idle(qtbot, desk)
    (row,) = [workspace.model.row(i) for i in range(workspace.model.rowCount())]
    assert row.campaign.name == "Big newsletter" and row.line is not None and row.line.codes == 10_000


def test_cancel_while_issuing_leaves_no_code(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                             desk_app: App) -> None:
    desk = make_desk(staff.manager)
    workspace = _workspace(qtbot, desk)
    dialog = _dialog(qtbot, desk, workspace)
    _fill(dialog, "1.00", 60_000, "Stopped")
    dialog.confirm_button.click()
    progress = dialog.progress._progress
    assert progress is not None
    with qtbot.waitSignal(progress.changed, timeout=30_000):
        pass
    dialog.progress.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.progress.busy, timeout=60_000)
    assert dialog.status_label.text() == "Cancelled: no code was issued."
    assert dialog.isVisible() and dialog.confirm_button.isEnabled() and workspace.codes_dialog is None
    assert _voucher_count(desk_app) == 0
    assert raw(desk_app, "SELECT COUNT(*) FROM voucher_campaigns")[0][0] == 0
    assert not audit_rows(desk_app, "voucher.issue")


def test_funnel_and_revoking_one_voucher_and_a_campaign(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                                        desk_app: App) -> None:
    issued = desk_app.vouchers.issue(staff.manager, IssueRequest(Money(1000, "USD"), count=4, campaign="Revocable"))
    customer = make_customer(desk_app, staff.admin, "USD", name="Revoke Tester")
    desk_app.vouchers.redeem(staff.support, customer, issued.codes[0])
    desk = make_desk(staff.manager)
    workspace = _workspace(qtbot, desk)
    line = workspace.model.row(0).line
    assert line is not None and (line.codes, line.redeemed, line.granted) == (4, 1, Money(1000, "USD"))
    assert workspace.model.data(workspace.model.index(0, 5)) == "25.0%"
    view = workspace.campaign
    assert view.campaign is not None and view.campaign.name == "Revocable"
    qtbot.waitUntil(lambda: view.model.rowCount() == 4 and view.chart.data is not None, timeout=5000)
    assert sum(view.chart.data.counts) == 1

    view.status_combo.setCurrentIndex(view.status_combo.findData("used_up"))
    wait_idle(qtbot, desk)
    assert [view.model.row(i).last4 for i in range(view.model.rowCount())] == [issued.codes[0][-4:]]
    view.status_combo.setCurrentIndex(view.status_combo.findData("active"))
    wait_idle(qtbot, desk)
    assert view.model.rowCount() == 3
    target = view.model.row(0)
    view.table.selectRow(0)
    assert view.revoke_button.isEnabled()
    view.revoke_button.click()
    dialog = view.reason_dialog
    assert dialog is not None and not dialog.action_button.isEnabled()  # a reason is required
    dialog.reason_edit.setText("Posted on a forum")
    dialog.action_button.click()
    wait_idle(qtbot, desk)
    assert view.model.rowCount() == 2
    (audit,) = audit_rows(desk_app, "voucher.revoke")
    assert audit["entity_id"] == str(target.id) and audit["reason"] == "Posted on a forum"

    view.revoke_all_button.click()
    view.reason_dialog.reason_edit.setText("Campaign ended")
    view.reason_dialog.action_button.click()
    wait_idle(qtbot, desk)
    assert view.model.rowCount() == 0
    view.status_combo.setCurrentIndex(view.status_combo.findData("revoked"))
    wait_idle(qtbot, desk)
    assert view.model.rowCount() == 3
    (campaign_audit,) = audit_rows(desk_app, "voucher.revoke_campaign")
    assert campaign_audit["summary"]["revoked"] == 2 and campaign_audit["reason"] == "Campaign ended"

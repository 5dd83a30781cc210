"""Payment History as a new user reads it (issue 11): a failed payment's reason in full in its own
column, the gateway reference copied whole (context menu, Ctrl+C), and found by any part of it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from billing_desk.bootstrap import App
from billing_desk.sandbox import SandboxHandle
from billing_desk.views.payment_history_tab import PaymentHistoryTab
from billing_desk.views.table_models.paged_model import ROW_ROLE
from tests.support.desk import DeskFactory, open_customer, show_tab, wait_idle
from tests.support.payments import pay
from tests.support.staff import StaffActors

STATUS, REFERENCE, REASON = 3, 4, 6


def _emma(app: App, staff: StaffActors) -> int:
    emma = app.customers.create(staff.admin, name="Emma Stone", email="emma@example.com", country="US",
                                billing_type="personal", address="1 Main St")
    app.customers.set_currency(staff.admin, emma.id, "USD")
    return emma.id


def _tab(qtbot, make_desk: DeskFactory, staff: StaffActors, app: App, cid: int) -> PaymentHistoryTab:  # type: ignore[no-untyped-def]
    desk = make_desk(staff.support, app)
    open_customer(qtbot, desk, cid)
    tab = show_tab(qtbot, desk, 2)
    assert isinstance(tab, PaymentHistoryTab)
    tab.wait_idle = lambda: wait_idle(qtbot, desk)  # type: ignore[attr-defined]
    return tab


def test_reason_in_full_and_reference_copied_whole(qtbot, make_desk: DeskFactory, staff: StaffActors,  # type: ignore[no-untyped-def]
                                                   pay_app: App, sandbox: SandboxHandle) -> None:
    cid = _emma(pay_app, staff)
    started = pay_app.payments.create_topup(staff.support, cid, "30").payment
    pay(sandbox, started.checkout_url, action="cancel")
    pay_app.payments.reconcile(staff.finance, cid)
    failed = pay_app.payments.get(staff.support, started.id)
    assert failed.status == "failed" and failed.reason
    tab = _tab(qtbot, make_desk, staff, pay_app, cid)
    model = tab.model
    assert model.headerData(REASON, Qt.Orientation.Horizontal) == "Reason"
    assert model.data(model.index(0, STATUS)) == "Failed"
    assert model.data(model.index(0, REASON)) == failed.reason  # all of it, in its own column
    reference = failed.gateway_reference
    assert reference and model.data(model.index(0, REFERENCE)) == reference
    QApplication.clipboard().clear()
    tab.table.setFocus()
    tab.table.selectRow(0)
    qtbot.keyClick(tab.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.clipboard().text() == reference
    QApplication.clipboard().clear()
    rect = tab.table.visualRect(model.index(0, REFERENCE))
    tab.table.customContextMenuRequested.emit(rect.center())
    menu = tab.context_menu
    actions = {a.text(): a for a in menu.actions()}
    assert actions["Copy reference"].isEnabled() and not actions["Copy checkout link"].isEnabled()
    actions["Copy reference"].trigger()
    menu.close()
    assert QApplication.clipboard().text() == reference
    assert reference in tab.status_label.text()


def test_find_by_part_of_the_reference(qtbot, make_desk: DeskFactory, staff: StaffActors,  # type: ignore[no-untyped-def]
                                       pay_app: App, sandbox: SandboxHandle) -> None:
    cid = _emma(pay_app, staff)
    payments = [pay_app.payments.create_topup(staff.support, cid, amount).payment for amount in ("30", "40", "50")]
    tab = _tab(qtbot, make_desk, staff, pay_app, cid)
    assert tab.model.rowCount() == 3
    wanted = payments[1]
    ref = wanted.gateway_reference
    assert ref
    qtbot.keyClicks(tab.find_edit, ref[-12:-2].lower())
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1, timeout=5000)
    tab.wait_idle()  # type: ignore[attr-defined]
    assert tab.model.data(tab.model.index(0, 0), ROW_ROLE).id == wanted.id
    tab.find_edit.clear()
    qtbot.keyClicks(tab.find_edit, "cs_te")
    qtbot.waitUntil(lambda: "at least 8 characters" in tab.status_label.text(), timeout=5000)
    tab.find_edit.clear()
    qtbot.waitUntil(lambda: tab.model.rowCount() == 3, timeout=5000)

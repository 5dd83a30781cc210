"""Vouchers tab and Add voucher dialog: type a code like a person, apply, read the answer."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from billing_desk.bootstrap import App
from billing_desk.domain.money import Money
from billing_desk.services.customers.dtos import CustomerDTO
from billing_desk.services.vouchers.dtos import IssueRequest
from billing_desk.views.dialogs.add_voucher_dialog import AddVoucherDialog
from billing_desk.views.vouchers_tab import VouchersTab
from billing_desk.views.widgets.voucher_entry import normalise_as_typed
from tests.support.desk import DeskFactory, open_customer, show_tab, wait_idle
from tests.support.staff import StaffActors


def _issue(app: App, staff: StaffActors, amount: Money) -> str:
    return app.vouchers.issue(staff.manager, IssueRequest(amount=amount, campaign="Welcome")).codes[0]


def test_code_is_normalised_as_typed() -> None:
    assert normalise_as_typed("abcd efgh-ijkl_mn") == "ABCD-EFGH-IJKL-MN"
    assert normalise_as_typed("ab") == "AB"
    assert len(normalise_as_typed("x" * 40)) == 24


def test_apply_code_in_the_vouchers_tab(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                        customers: dict[str, CustomerDTO], desk_app: App) -> None:
    code = _issue(desk_app, staff, Money(200_000, "VND"))
    desk = make_desk(staff.support)
    open_customer(qtbot, desk, customers["lan"].id)
    tab = show_tab(qtbot, desk, 3)
    assert isinstance(tab, VouchersTab)
    assert tab.model.rowCount() == 0 and tab.empty_label.isVisibleTo(tab)
    entry = tab.entry
    qtbot.keyClicks(entry.code_edit, code.replace("-", " ").lower())
    assert entry.code_edit.text() == code
    with qtbot.waitSignal(entry.redeemed, timeout=5000):
        qtbot.keyClick(entry.code_edit, Qt.Key.Key_Return)
    wait_idle(qtbot, desk)
    assert "added 200,000 ₫" in entry.result_label.text()
    assert tab.model.rowCount() == 1
    assert tab.model.data(tab.model.index(0, 0)) == f"…{code[-4:]}"
    assert tab.model.data(tab.model.index(0, 4)) == "200,000 ₫"
    assert desk.window.header.balance_label.text() == "200,000 ₫"
    # the same code again: the service's exact reason
    qtbot.keyClicks(entry.code_edit, code)
    with qtbot.waitSignal(entry.refused, timeout=5000) as blocker:
        entry.apply_button.click()
    assert entry.result_label.text().startswith("Not applied: ") and blocker.args[0] in entry.result_label.text()


def test_add_voucher_dialog_from_the_header(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                            customers: dict[str, CustomerDTO], desk_app: App) -> None:
    desk = make_desk(staff.support)
    open_customer(qtbot, desk, customers["sato"].id)
    qtbot.mouseClick(desk.window.header.add_voucher_button, Qt.MouseButton.LeftButton)
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, AddVoucherDialog) and w.isVisible())
    qtbot.keyClicks(dialog.entry.code_edit, "not a code")
    with qtbot.waitSignal(dialog.entry.refused, timeout=5000):
        dialog.entry.apply_button.click()
    assert "is not a voucher code" in dialog.entry.result_label.text()
    code = _issue(desk_app, staff, Money(5_000, "JPY"))
    dialog.entry.code_edit.clear()
    qtbot.keyClicks(dialog.entry.code_edit, code)
    with qtbot.waitSignal(desk.window.customer_opened, timeout=5000):  # header re-reads the balance
        dialog.entry.apply_button.click()
    assert desk.window.header.balance_label.text() == "¥5,000"
    dialog.close()
    wait_idle(qtbot, desk)


def test_finance_cannot_apply_codes(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                    customers: dict[str, CustomerDTO]) -> None:
    desk = make_desk(staff.finance)
    open_customer(qtbot, desk, customers["lan"].id)
    entry = show_tab(qtbot, desk, 3).entry
    assert not entry.apply_button.isEnabled() and "may not redeem vouchers" in entry.apply_button.toolTip()
    assert not desk.window.header.add_voucher_button.isEnabled()

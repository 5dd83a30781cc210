"""Settings tab (profile validation beside each field, currency locked once chosen), the
login dialog, and the no-display message of `billing-desk gui`."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from billing_desk.bootstrap import App
from billing_desk.services.customers.dtos import CustomerDTO
from billing_desk.views.app import NO_DISPLAY, has_display, run_gui
from billing_desk.views.dialogs.login_dialog import LoginDialog
from billing_desk.views.settings_tab import SettingsTab
from billing_desk.views.tasks import TaskRunner
from tests.support.desk import DeskFactory, open_customer, show_tab, wait_idle
from tests.support.staff import STAFF_PASSWORD, StaffActors


def _settings_tab(qtbot, make_desk: DeskFactory, actor, customer: CustomerDTO):  # type: ignore[no-untyped-def]
    desk = make_desk(actor)
    open_customer(qtbot, desk, customer.id)
    tab = show_tab(qtbot, desk, 5)
    assert isinstance(tab, SettingsTab)
    return desk, tab


def test_a_bad_email_is_shown_beside_the_field_and_nothing_saved(
        qtbot, make_desk: DeskFactory, staff: StaffActors, customers: dict[str, CustomerDTO],
        desk_app: App) -> None:
    desk, tab = _settings_tab(qtbot, make_desk, staff.support, customers["lan"])
    tab.form.email_edit.clear()
    qtbot.keyClicks(tab.form.email_edit, "not-an-email")
    qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, desk)
    assert "not an email address" in tab.form.errors["email"].text()
    assert tab.form.errors["email"].isVisibleTo(tab)
    assert desk_app.customers.get(staff.support, customers["lan"].id).email == "lan.nguyen@example.com"


def test_company_needs_a_tax_code_then_saves_and_header_follows(
        qtbot, make_desk: DeskFactory, staff: StaffActors, customers: dict[str, CustomerDTO],
        desk_app: App) -> None:
    desk, tab = _settings_tab(qtbot, make_desk, staff.support, customers["lan"])
    tab.form.type_combo.setCurrentIndex(tab.form.type_combo.findData("company"))
    tab.form.name_edit.clear()
    qtbot.keyClicks(tab.form.name_edit, "Lan Analytics JSC")
    qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, desk)
    assert tab.form.errors["tax_code"].text() == "A company needs a tax code."
    qtbot.keyClicks(tab.form.tax_edit, "0101234567")
    with qtbot.waitSignal(desk.window.customer_opened, timeout=5000):  # the header re-reads the customer
        qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, desk)
    assert tab.status_label.text() == "Saved."
    assert desk.window.header.name_label.text() == "Lan Analytics JSC"
    assert "Company" in desk.window.header.details_label.text()
    saved = desk_app.customers.get(staff.support, customers["lan"].id)
    assert (saved.billing_type, saved.tax_code) == ("company", "0101234567")
    actions = [e.action for e in desk_app.audit.list(staff.admin)]
    assert "customer.update" in actions


def test_currency_is_offered_by_country_and_locked_once_chosen(
        qtbot, make_desk: DeskFactory, staff: StaffActors, customers: dict[str, CustomerDTO],
        desk_app: App) -> None:
    desk, tab = _settings_tab(qtbot, make_desk, staff.support, customers["emma"])
    combo = tab.currency_combo
    assert [combo.itemData(i) for i in range(combo.count())] == ["USD", "EUR"]
    assert tab.currency_button.isVisibleTo(tab)
    combo.setCurrentIndex(combo.findData("EUR"))
    with qtbot.waitSignal(desk.window.customer_opened, timeout=5000):
        qtbot.mouseClick(tab.currency_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, desk)
    assert "EUR" in tab.currency_locked.text() and "Locked" in tab.currency_locked.text()
    assert not tab.currency_button.isVisibleTo(tab)
    assert "EUR" in desk.window.header.details_label.text()
    assert desk.window.header.balance_label.text() == "€0.00"


def test_finance_cannot_edit_the_profile(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                         customers: dict[str, CustomerDTO]) -> None:
    _desk, tab = _settings_tab(qtbot, make_desk, staff.finance, customers["lan"])
    assert not tab.save_button.isEnabled()
    assert "may not create and edit customers" in tab.save_button.toolTip()


def test_login_refuses_a_wrong_password_then_accepts(qtbot, desk_app: App) -> None:
    runner = TaskRunner()
    try:
        dialog = LoginDialog(desk_app, runner, desk_app.database.url)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.keyClicks(dialog.name_edit, "support")
        qtbot.keyClicks(dialog.password_edit, "wrong")
        with qtbot.waitSignal(dialog.login_failed, timeout=10000):
            dialog.submit()
        assert "Wrong name or password" in dialog.message.text()
        assert dialog.password_edit.text() == ""
        qtbot.keyClicks(dialog.password_edit, STAFF_PASSWORD)
        with qtbot.waitSignal(dialog.logged_in, timeout=10000):
            qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
        assert dialog.actor is not None and dialog.actor.name == "support"
    finally:
        runner.shutdown()


def test_no_display_gives_a_clear_message(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert not has_display({}, "linux")
    assert has_display({"DISPLAY": ":0"}, "linux") and has_display({}, "win32")
    assert has_display({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    for var in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert run_gui(demo=False) == 1
    err = capsys.readouterr().err
    assert err == NO_DISPLAY and "QT_QPA_PLATFORM=offscreen" in err and "xvfb-run" in err

"""The Plans (Ctrl+4) and Staff (Ctrl+5) workspaces: who sees them, a plan's prices validated
in each currency's own format beside the field with nothing written, retiring a plan with
subscribers (who keep it), and the staff rules through the dialogs (the passwords must match,
a common or short one is refused, the last enabled admin stays an admin), each write audited."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from billing_desk.bootstrap import App
from billing_desk.domain.money import Money
from billing_desk.views.app import Desk
from billing_desk.views.catalog.plans_workspace import PlansWorkspace
from billing_desk.views.staff.staff_form_dialog import StaffFormDialog
from billing_desk.views.staff.staff_workspace import StaffWorkspace
from tests.support.customers import make_customer
from tests.support.database import audit_rows
from tests.support.desk import DeskFactory, wait_idle
from tests.support.ledger import top_up
from tests.support.plans import seed_plans
from tests.support.staff import STAFF_PASSWORD, StaffActors

pytestmark = pytest.mark.usefixtures("voucher_key")
CTRL = Qt.KeyboardModifier.ControlModifier


def _workspace(qtbot, desk: Desk, key: Qt.Key, kind: type):  # type: ignore[no-untyped-def]
    qtbot.keyClick(desk.window, key, CTRL)
    page = desk.window.workspaces.stack.currentWidget()
    assert isinstance(page, kind)
    wait_idle(qtbot, desk)
    qtbot.waitUntil(lambda: not page.model.loading, timeout=5000)
    return page


@pytest.mark.parametrize("role, seen", [
    ("support", ["customers"]),
    ("finance", ["customers", "payments"]),
    ("manager", ["customers", "payments", "plans"]),
    ("admin", ["customers", "payments", "plans", "staff"]),
])
def test_each_role_sees_its_workspaces(qtbot, make_desk: DeskFactory, staff: StaffActors, role: str,
                                       seen: list[str]) -> None:
    desk = make_desk(getattr(staff, role))
    window = desk.window
    shown = window.workspaces.keys()
    assert [k for k in shown if k in ("customers", "payments", "plans", "staff")] == seen
    before = window.workspaces.current_key()
    for key, name in ((Qt.Key.Key_4, "plans"), (Qt.Key.Key_5, "staff")):
        qtbot.keyClick(window, key, CTRL)
        assert (window.workspaces.current_key() == name) == (name in seen)
        if name not in seen:
            assert window.workspaces.current_key() in (before, "plans")
    wait_idle(qtbot, desk)


def test_plan_prices_are_checked_per_currency_beside_the_field(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                                               desk_app: App) -> None:
    seed_plans(desk_app, staff.manager)
    desk = make_desk(staff.manager)
    plans = _workspace(qtbot, desk, Qt.Key.Key_4, PlansWorkspace)
    assert [e.plan.code for e in plans.entries()] == ["free", "starter", "pro", "enterprise"]
    assert plans.model.data(plans.model.index(2, 3)) == "750,000 ₫   $29.00"
    plans.select_code("pro")
    plans.edit_button.click()
    form = plans.form
    assert form is not None and form.isVisible() and form.code_edit.isReadOnly()
    assert form.prices["USD"].edit.text() == "29.00" and form.prices["VND"].edit.text() == "750,000"
    form.prices["VND"].edit.setText("750,000.5")
    form.prices["JPY"].edit.setText("3.000,5")
    form.prices["USD"].edit.setText("29.999")
    form.prices["EUR"].edit.setText("abc")
    assert "VND has no decimals" in form.prices["VND"].error.text()
    assert "JPY has no decimals" in form.prices["JPY"].error.text()
    assert "at most 2 decimals" in form.prices["USD"].error.text()
    assert "not an amount" in form.prices["EUR"].error.text()
    with qtbot.waitSignal(form.refused, timeout=2000):
        form.buttons.accepted.emit()
    assert form.isVisible() and "nothing was saved" in form.message.text()
    form.prices["VND"].edit.clear()
    assert "cannot" in form.prices["VND"].error.text() or "not removed" in form.prices["VND"].error.text()
    assert not audit_rows(desk_app, "plan.edit")

    form.prices["VND"].edit.setText("800.000 ₫")
    form.prices["JPY"].edit.setText("¥3,000")
    form.prices["USD"].edit.setText("$31.50")
    form.prices["EUR"].edit.clear()
    assert not any(f.error.text() for f in form.prices.values())
    with qtbot.waitSignal(plans.loaded, timeout=10000):
        form.buttons.accepted.emit()
    pro = {e.plan.code: e.plan for e in plans.entries()}["pro"]
    assert pro.prices == {"VND": Money(800_000, "VND"), "JPY": Money(3000, "JPY"), "USD": Money(3150, "USD")}
    assert "Plan pro saved." in plans.status_label.text()
    [edit] = audit_rows(desk_app, "plan.edit")
    assert edit["staff"] == "manager" and edit["summary"]["after"]["prices"] == {"JPY": 3000, "USD": 3150,
                                                                               "VND": 800_000}


def test_adding_a_plan_and_a_service_refusal_beside_its_field(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                                              desk_app: App) -> None:
    seed_plans(desk_app, staff.manager)
    desk = make_desk(staff.admin)
    plans = _workspace(qtbot, desk, Qt.Key.Key_4, PlansWorkspace)
    plans.add_button.click()
    form = plans.form
    assert form is not None
    form.code_edit.setText("pro")  # taken
    form.name_edit.setText("Another Pro")
    with qtbot.waitSignal(form.refused, timeout=2000):
        form.buttons.accepted.emit()
    assert "at least one monthly price" in form.prices["VND"].error.text()
    form.prices["USD"].edit.setText("49")
    with qtbot.waitSignal(form.refused, timeout=10000):
        form.buttons.accepted.emit()
    assert "already exists" in form.errors["code"].text() and form.isVisible()
    form.code_edit.setText("team")
    with qtbot.waitSignal(plans.loaded, timeout=10000):
        form.buttons.accepted.emit()
    team = {e.plan.code: e for e in plans.entries()}["team"]
    assert team.plan.prices == {"USD": Money(4900, "USD")} and team.subscribers == 0
    assert [r["staff"] for r in audit_rows(desk_app, "plan.add") if r["summary"]["after"]["code"] == "team"] == [
        "admin"]


def test_retiring_a_plan_keeps_its_subscribers(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                               desk_app: App) -> None:
    seed_plans(desk_app, staff.manager)
    for i in range(2):
        customer = make_customer(desk_app, staff.support, "USD", name=f"Customer {i}")
        top_up(desk_app, customer, Money(100_00, "USD"))
        desk_app.plans.change(staff.support, customer, "pro")
    desk = make_desk(staff.manager)
    plans = _workspace(qtbot, desk, Qt.Key.Key_4, PlansWorkspace)
    plans.select_code("pro")
    plans.retire_button.click()
    box = plans.confirm_box
    assert box is not None and "Its 2 current subscribers keep it" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert not audit_rows(desk_app, "plan.retire")
    plans.retire_button.click()
    with qtbot.waitSignal(plans.loaded, timeout=10000):
        plans.confirm_box.button(QMessageBox.StandardButton.Ok).click()  # type: ignore[union-attr]
    pro = plans.entries()[-1]
    assert pro.plan.code == "pro" and pro.plan.retired and pro.subscribers == 2
    plans.select_code("pro")
    assert not plans.retire_button.isEnabled() and plans.edit_button.isEnabled()
    assert len(audit_rows(desk_app, "plan.retire")) == 1


def _staff_form(qtbot, workspace: StaffWorkspace, button) -> StaffFormDialog:  # type: ignore[no-untyped-def]
    button.click()
    form = workspace.form
    assert form is not None and form.isVisible()
    return form


def test_adding_staff_checks_the_password_twice_and_its_strength(qtbot, make_desk: DeskFactory,
                                                                 staff: StaffActors, desk_app: App) -> None:
    desk = make_desk(staff.admin)
    page = _workspace(qtbot, desk, Qt.Key.Key_5, StaffWorkspace)
    assert [m.name for m in page.members()] == ["admin", "finance", "manager", "support"]
    form = _staff_form(qtbot, page, page.add_button)
    form.name_edit.setText("ana")
    form.role_combo.setCurrentIndex(form.role_combo.findData("finance"))
    qtbot.keyClicks(form.password_edit, "qwerty123456")
    assert "most common" in form.errors["password"].text()
    form.password_edit.setText("short")
    assert "at least 12 characters" in form.errors["password"].text()
    form.password_edit.setText("a-fine-long-phrase")
    form.repeat_edit.setText("a-fine-long-phrase!")
    with qtbot.waitSignal(form.refused, timeout=2000):
        form.buttons.accepted.emit()
    assert "differ" in form.errors["repeat_password"].text() and not form.errors["password"].text()
    assert not audit_rows(desk_app, "staff.add")[4:]  # only the four seeded staff
    form.repeat_edit.setText("a-fine-long-phrase")
    with qtbot.waitSignal(page.loaded, timeout=15000):
        form.buttons.accepted.emit()
    assert "Added ana." in page.status_label.text()
    ana = {m.name: m for m in page.members()}["ana"]
    assert ana.role == "finance" and not ana.disabled
    assert desk_app.staff.authenticate("ana", "a-fine-long-phrase").name == "ana"
    assert audit_rows(desk_app, "staff.add")[-1]["staff"] == "admin"


def test_the_last_admin_keeps_the_role_and_disable_enable_are_audited(qtbot, make_desk: DeskFactory,
                                                                      staff: StaffActors, desk_app: App) -> None:
    desk = make_desk(staff.admin)
    page = _workspace(qtbot, desk, Qt.Key.Key_5, StaffWorkspace)
    page.select_name("admin")
    form = _staff_form(qtbot, page, page.role_button)
    form.role_combo.setCurrentIndex(form.role_combo.findData("manager"))
    with qtbot.waitSignal(form.refused, timeout=10000):
        form.buttons.accepted.emit()
    assert "last enabled admin" in form.errors["role"].text()
    form.reject()
    assert not audit_rows(desk_app, "staff.role")

    page.select_name("support")
    page.toggle_button.click()
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.confirm_box.button(QMessageBox.StandardButton.Ok).click()  # type: ignore[union-attr]
    page.select_name("support")
    assert page.selected().disabled and page.toggle_button.text() == "Enable"  # type: ignore[union-attr]
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.toggle_button.click()
    assert not {m.name: m for m in page.members()}["support"].disabled
    assert [r["staff"] for r in audit_rows(desk_app, "staff.disable") + audit_rows(desk_app, "staff.enable")] == [
        "admin", "admin"]

    page.select_name("support")
    form = _staff_form(qtbot, page, page.password_button)
    form.password_edit.setText("another-fine-phrase")
    form.repeat_edit.setText("another-fine-phrase")
    with qtbot.waitSignal(page.loaded, timeout=15000):
        form.buttons.accepted.emit()
    assert desk_app.staff.authenticate("support", "another-fine-phrase").name == "support"
    assert [r["summary"]["name"] for r in audit_rows(desk_app, "staff.set_password")] == ["support"]
    assert STAFF_PASSWORD != "another-fine-phrase"

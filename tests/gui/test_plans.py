"""Plans tab: current plan, catalog side by side, Upgrade with the prorated charge confirmed,
a scheduled downgrade shown, roles."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from billing_desk.bootstrap import App
from billing_desk.domain.money import Money
from billing_desk.services.customers.dtos import CustomerDTO
from billing_desk.views.plans_tab import PlansTab
from tests.support.desk import DeskFactory, open_customer, show_tab, wait_idle
from tests.support.staff import StaffActors


@pytest.fixture
def plans(desk_app: App, staff: StaffActors) -> None:
    add = desk_app.plans.add_plan
    add(staff.manager, code="starter", name="Starter", rank=1, features=["1 GPU notebook"],
        prices={"VND": Money(200_000, "VND"), "JPY": Money(1_000, "JPY")})
    add(staff.manager, code="pro", name="Pro", rank=2, features=["4 GPU notebooks", "Priority support"],
        prices={"VND": Money(1_000_000, "VND"), "JPY": Money(5_000, "JPY")})


def _plans_tab(qtbot, desk, customer: CustomerDTO) -> PlansTab:  # type: ignore[no-untyped-def]
    open_customer(qtbot, desk, customer.id)
    tab = show_tab(qtbot, desk, 4)
    assert isinstance(tab, PlansTab)
    return tab


def _card(tab: PlansTab, name: str):  # type: ignore[no-untyped-def]
    return next(c for c in tab.cards if c.plan.name == name)


def test_upgrade_shows_the_charge_and_balance_after(qtbot, make_desk: DeskFactory, staff: StaffActors, plans: None,
                                                    customers: dict[str, CustomerDTO], desk_app: App) -> None:
    lan = customers["lan"]
    desk_app.ledger.adjust(staff.manager, lan.id, "3,000,000", "Welcome credit", promotion=True)
    desk = make_desk(staff.support)
    tab = _plans_tab(qtbot, desk, lan)
    assert tab.current_label.text() == "Free (no plan)"
    assert [c.plan.name for c in tab.cards] == ["Starter", "Pro"]
    pro = _card(tab, "Pro")
    assert pro.button.text() == "Upgrade" and pro.button.isEnabled()
    pro.button.click()
    qtbot.waitUntil(lambda: tab.confirm_box is not None and tab.confirm_box.isVisible(), timeout=5000)
    text = tab.confirm_box.text()
    assert "Upgrade to Pro now" in text and "Balance now: 3,000,000 ₫" in text and "Balance after:" in text
    assert tab.confirm_box.windowTitle() == "Upgrade plan?"
    with qtbot.waitSignal(desk.window.customer_opened, timeout=5000):  # the balance moved
        tab.confirm_box.button(QMessageBox.StandardButton.Ok).click()
    wait_idle(qtbot, desk)
    assert tab.current_label.text() == "Pro"
    assert "Upgraded to Pro" in tab.status_label.text()
    balance = desk_app.customers.get(staff.support, lan.id).balance
    assert balance is not None and balance.total.minor < 3_000_000
    assert desk.window.header.balance_label.text() == f"{balance.total.minor:,} ₫"
    # now a downgrade is scheduled, not charged
    _card(tab, "Starter").button.click()
    qtbot.waitUntil(lambda: tab.confirm_box is not None and "Downgrade to Starter" in tab.confirm_box.text(),
                    timeout=5000)
    assert tab.confirm_box.windowTitle() == "Downgrade plan?"
    tab.confirm_box.button(QMessageBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: tab.scheduled_label.text().startswith("Scheduled: downgrade to Starter"), timeout=5000)
    assert _card(tab, "Pro").button.text() == "Keep this plan"
    _card(tab, "Pro").button.click()
    qtbot.waitUntil(lambda: tab.confirm_box is not None and "Cancel the scheduled downgrade" in tab.confirm_box.text(),
                    timeout=5000)
    assert tab.confirm_box.windowTitle() == "Keep this plan?"  # one phrase, not "{verb} plan?" around a verb
    assert tab.confirm_box.button(QMessageBox.StandardButton.Ok).text() == "Keep this plan"
    tab.confirm_box.reject()
    wait_idle(qtbot, desk)


def test_a_short_balance_cannot_confirm(qtbot, make_desk: DeskFactory, staff: StaffActors, plans: None,
                                        customers: dict[str, CustomerDTO]) -> None:
    desk = make_desk(staff.support)
    tab = _plans_tab(qtbot, desk, customers["sato"])
    _card(tab, "Pro").button.click()
    qtbot.waitUntil(lambda: tab.confirm_box is not None and tab.confirm_box.isVisible(), timeout=5000)
    assert "short: add credit first" in tab.confirm_box.text()
    assert not tab.confirm_box.button(QMessageBox.StandardButton.Ok).isEnabled()
    tab.confirm_box.reject()


def test_finance_and_no_currency_cannot_change_plans(qtbot, make_desk: DeskFactory, staff: StaffActors, plans: None,
                                                     customers: dict[str, CustomerDTO]) -> None:
    tab = _plans_tab(qtbot, make_desk(staff.finance), customers["lan"])
    assert not _card(tab, "Pro").button.isEnabled()
    assert "may not change a customer's plan" in _card(tab, "Pro").button.toolTip()
    tab = _plans_tab(qtbot, make_desk(staff.support), customers["emma"])
    assert not _card(tab, "Pro").button.isEnabled()
    assert "billing currency first" in _card(tab, "Pro").button.toolTip()

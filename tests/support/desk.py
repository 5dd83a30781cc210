"""Driving a desk in GUI tests: open a customer, bring a tab to the front, wait for its queries."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from billing_desk.bootstrap import App
from billing_desk.domain.permissions import Actor
from billing_desk.views.app import Desk
from billing_desk.views.dialogs.add_credit_dialog import AddCreditDialog
from tests.support.staff import StaffActors

DeskFactory = Callable[[Actor], Desk]


def open_customer(qtbot, desk: Desk, customer_id: int) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(desk.window.customer_opened, timeout=5000):
        desk.window.open_customer(customer_id)
    wait_idle(qtbot, desk)


def show_tab(qtbot, desk: Desk, index: int) -> QWidget:  # type: ignore[no-untyped-def]
    """Bring tab ``index`` to the front, wait for the queries its showing starts, return its page."""
    desk.window.tabs.setCurrentIndex(index)
    wait_idle(qtbot, desk)
    return desk.window.tabs.currentWidget()


def wait_idle(qtbot, desk: Desk, timeout: int = 10000) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: desk.runner.pending == 0, timeout=timeout)


def shown_add_credit() -> AddCreditDialog:
    """The Add credit dialog on screen."""
    return next(w for w in QApplication.topLevelWidgets() if isinstance(w, AddCreditDialog) and w.isVisible())


def open_add_credit(qtbot, make_desk: DeskFactory, staff: StaffActors,  # type: ignore[no-untyped-def]
                    app: App) -> tuple[Desk, AddCreditDialog]:
    """A VND customer with a complete profile open at support's desk, and Add credit (Ctrl+T) at its
    amount step, following the payment every 100 ms."""
    lan = app.customers.create(staff.admin, name="Nguyen Thi Lan", email="lan@example.com", country="VN",
                               billing_type="personal", address="12 Le Loi, Ha Noi")
    app.customers.set_currency(staff.admin, lan.id, "VND")
    desk = make_desk(staff.support, app)
    open_customer(qtbot, desk, lan.id)
    qtbot.keyClick(desk.window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    dialog = shown_add_credit()
    dialog.follow._timer.setInterval(100)
    qtbot.waitUntil(lambda: dialog.amount is not None and dialog.isVisible(), timeout=5000)
    return desk, dialog

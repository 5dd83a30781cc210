"""Driving a desk in GUI tests: open a customer, bring a tab to the front, wait for its queries."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from billing_desk.domain.permissions import Actor
from billing_desk.views.app import Desk

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

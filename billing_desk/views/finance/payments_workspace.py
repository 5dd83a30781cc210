"""The Payments workspace (finance, managers, admins): every payment across customers.

Three sub-tabs: Review (the table, its filters, totals, charts, export and reconcile),
Exceptions (the payments that need a person) and Month report (the month-end credit report).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from billing_desk.views.base_tab import Placeholder
from billing_desk.views.context import ViewContext
from billing_desk.views.formatting import tr


class PaymentsWorkspace(QWidget):
    customer_requested = Signal(int)  # open this customer in the Customers workspace

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paymentsWorkspace")
        self.ctx = ctx
        self.tabs = QTabWidget()
        self.tabs.setObjectName("paymentsTabs")
        self.tabs.addTab(Placeholder(tr("Review")), tr("Review"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)

    def save_state(self) -> None:
        pass

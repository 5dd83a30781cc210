"""PaymentHistoryTab: the top-ups (date, amount, method, status, gateway reference) with Refresh status.

Shows a placeholder until its service lands in the App (built by bootstrap)."""

from __future__ import annotations

from PySide6.QtWidgets import QStackedLayout, QWidget

from billing_desk.views.base_tab import CustomerTab, Placeholder, no_customer_text
from billing_desk.views.context import ViewContext
from billing_desk.views.formatting import tr


class PaymentHistoryTab(CustomerTab):
    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.placeholder = Placeholder(no_customer_text(tr("the top-ups (date, amount, method, status, gateway reference) with Refresh status")))
        self.stack = QStackedLayout(self)
        self.stack.addWidget(self.placeholder)

    def reload(self) -> None:
        self.stack.setCurrentIndex(0)

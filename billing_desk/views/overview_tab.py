"""OverviewTab: the total balance with its breakdown (top-ups, vouchers), the current plan, a chart of daily spending per service over 90 days and recent activity.

Shows a placeholder until its service lands in the App (built by bootstrap)."""

from __future__ import annotations

from PySide6.QtWidgets import QStackedLayout, QWidget

from billing_desk.views.base_tab import CustomerTab, Placeholder, no_customer_text
from billing_desk.views.context import ViewContext
from billing_desk.views.formatting import tr


class OverviewTab(CustomerTab):
    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.placeholder = Placeholder(no_customer_text(tr("the total balance with its breakdown (top-ups, vouchers), the current plan, a chart of daily spending per service over 90 days and recent activity")))
        self.stack = QStackedLayout(self)
        self.stack.addWidget(self.placeholder)

    def reload(self) -> None:
        self.stack.setCurrentIndex(0)

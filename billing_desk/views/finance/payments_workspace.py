"""The Payments workspace (finance, managers, admins; PAYMENT_REVIEW): every payment across
customers. Three sub-tabs: Review (the table, its filters, totals, charts, export and
reconcile), Exceptions (the payments that need a person, with why) and Month report (the
month-end credit report). It only composes them; each is its own class and file. A payment
activated anywhere here opens its story; a customer asked for opens in the Customers workspace
(the main window connects ``customer_requested``)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from billing_desk.domain.permissions import Permission
from billing_desk.views.context import ViewContext
from billing_desk.views.finance.credit_report_view import CreditReportView
from billing_desk.views.finance.exceptions_view import ExceptionsView
from billing_desk.views.finance.payment_story_dialog import open_payment_story
from billing_desk.views.finance.payments_review import PaymentsReview
from billing_desk.views.formatting import tr

SETTINGS_KEY = "payments/tab"


class PaymentsWorkspace(QWidget):
    customer_requested = Signal(int)  # open this customer in the Customers workspace

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paymentsWorkspace")
        self.ctx = ctx
        self.tabs = QTabWidget()
        self.tabs.setObjectName("paymentsTabs")
        self.review = PaymentsReview(ctx)
        self.tabs.addTab(self.review, tr("Review"))
        self.exceptions = self._exceptions(ctx)
        self.tabs.addTab(self.exceptions, tr("Exceptions"))
        self.report: CreditReportView | None = None
        if ctx.can(Permission.CREDIT_REPORT):
            self.report = CreditReportView(ctx)
            self.tabs.addTab(self.report, tr("Month report"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        self.review.customer_requested.connect(self.customer_requested.emit)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        last = ctx.settings.value(SETTINGS_KEY, 0)
        self.tabs.setCurrentIndex(int(last) if str(last).isdigit() else 0)

    def _exceptions(self, ctx: ViewContext) -> ExceptionsView:
        view = ExceptionsView(ctx)
        view.payment_activated.connect(self.open_story)
        return view

    def _on_tab_changed(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.exceptions:
            # The queue loaded while its tab was hidden, so its rows were fitted to the narrow
            # columns of a widget never shown: fit them again at the width they have now.
            self.exceptions.table.resizeRowsToContents()

    def open_story(self, payment_id: int) -> None:
        open_payment_story(self, self.ctx, payment_id)

    def export_excel(self) -> None:
        """Ctrl+E: the filtered payments, from the Review tab."""
        self.tabs.setCurrentWidget(self.review)
        self.review.ask_export()

    def refresh(self) -> None:
        """F5: the tab in front reads again."""
        page = self.tabs.currentWidget()
        if page is self.review or page is self.exceptions:
            page.reload()
        elif self.report is not None and page is self.report and self.report.run_button.isEnabled():
            self.report.run()

    def save_state(self) -> None:
        self.ctx.settings.setValue(SETTINGS_KEY, self.tabs.currentIndex())
        self.review.save_state()

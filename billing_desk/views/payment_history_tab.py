"""Payment History tab: the customer's top-ups (date and time, amount, method, status with
the reason, gateway reference), Refresh status (asks the gateway about this customer's
pending payments) and Copy checkout link of a pending one."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from billing_desk.domain.changes import Changes
from billing_desk.domain.permissions import Permission
from billing_desk.services.payments import PaymentChange, PaymentFilters, PaymentRow
from billing_desk.views.base_tab import CustomerTab
from billing_desk.views.context import ViewContext
from billing_desk.views.dialogs.error_dialog import show_error
from billing_desk.views.formatting import tr
from billing_desk.views.table_models.paged_model import ROW_ROLE, keyset_source
from billing_desk.views.table_models.payment_model import PaymentHistoryModel
from billing_desk.views.table_models.view_state import data_table, save_columns
from billing_desk.views.widgets.customer_header import role_tooltip
from billing_desk.views.widgets.icons import button_icon


class PaymentHistoryTab(CustomerTab):
    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.model = PaymentHistoryModel(ctx.runner)
        self.model.load_failed.connect(lambda e: show_error(self, e))
        self.table = data_table(self.model, ctx.settings, "payments", name="paymentTable")
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.refresh_button = QPushButton(button_icon("refresh"), tr("Refresh status"))
        self.refresh_button.clicked.connect(self.refresh_status)
        allowed = ctx.can(Permission.PAYMENT_REFRESH)
        self.refresh_button.setEnabled(allowed)
        self.refresh_button.setToolTip(role_tooltip(ctx.actor, Permission.PAYMENT_REFRESH,
                                                    tr("Ask the gateway about this customer's pending payments")))
        self.copy_button = QPushButton(tr("Copy checkout link"))
        self.copy_button.setEnabled(False)
        self.copy_button.setToolTip(tr("Select a pending payment to copy its checkout link"))
        self.copy_button.clicked.connect(self.copy_link)
        self.status_label = QLabel()
        self.status_label.setObjectName("statusLabel")
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self._build()

    def _build(self) -> None:
        bar = QHBoxLayout()
        bar.addWidget(self.status_label, 1)
        bar.addWidget(self.copy_button)
        bar.addWidget(self.refresh_button)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(self.table, 1)
        layout.addLayout(bar)
        self.set_content(content, tr("Find a customer with the search box above (Ctrl+K) to see their "
                                     "top-up payments here."))

    def wants(self, changes: Changes) -> bool:
        return changes.payments

    def reload(self) -> None:
        if self.customer is None:
            self.model.set_source(None)
            return
        payments, actor, filters = self.ctx.app.payments, self.ctx.actor, PaymentFilters(customer=self.customer.id)
        self.model.set_source(keyset_source(lambda after, limit: payments.list_payments(actor, filters, after, limit)))
        self._on_selection()

    def selected(self) -> PaymentRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.data(rows[0], ROW_ROLE) if rows else None

    def _on_selection(self, *_args: object) -> None:
        row = self.selected()
        self.copy_button.setEnabled(bool(row and row.status == "pending" and row.checkout_url))

    def copy_link(self) -> None:
        row = self.selected()
        if row and row.checkout_url:
            QGuiApplication.clipboard().setText(row.checkout_url)
            self.status_label.setText(tr("Checkout link of payment {id} copied.").format(id=row.id))

    def refresh_status(self) -> None:
        if self.customer is None:
            return
        payments, actor, cid = self.ctx.app.payments, self.ctx.actor, self.customer.id
        self.refresh_button.setEnabled(False)
        self.status_label.setText(tr("Asking the gateway…"))
        self.ctx.write(lambda: payments.reconcile(actor, cid),
                       lambda _changes: Changes.for_customer(cid, payments=True, ledger=True),
                       self._on_refreshed, gateway=True).failure(self._on_refresh_failed).run()

    def _on_refreshed(self, changes: list[PaymentChange]) -> None:
        self.refresh_button.setEnabled(True)
        if not changes:
            self.status_label.setText(tr("No pending payment changed."))
            return
        self.status_label.setText("; ".join(
            tr("payment {id} is now {status}").format(id=c.payment_id, status=c.status) for c in changes))

    def _on_refresh_failed(self, error: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        self.status_label.clear()
        show_error(self, error)

    def save_state(self) -> None:
        save_columns(self.table, self.ctx.settings, "payments")

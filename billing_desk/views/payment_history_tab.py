"""Payment History tab: the customer's top-ups (date and time, amount, method, status, gateway
reference, settled, reason), Refresh status (asks the gateway about this customer's pending
payments), Copy checkout link of a pending one, and a find box that narrows the list to the
payments whose reference contains what is typed (8 characters or more).

A reference is long (a Stripe session id is 66 characters) and is what a customer quotes: it is
copied whole from the row's context menu or with Ctrl+C, never retyped from a cut-off cell."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from billing_desk.domain.changes import Changes
from billing_desk.domain.enums import PaymentMethod
from billing_desk.domain.permissions import Permission
from billing_desk.services.payments import MIN_REFERENCE_PART, PaymentChange, PaymentFilters, PaymentRow
from billing_desk.views.base_tab import CustomerTab
from billing_desk.views.context import ViewContext
from billing_desk.views.dialogs.error_dialog import show_error
from billing_desk.views.formatting import money_text, tr
from billing_desk.views.table_models.paged_model import ROW_ROLE, keyset_source
from billing_desk.views.table_models.payment_model import PaymentHistoryModel, status_label
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
        self.table.setWordWrap(True)  # a long reason wraps in its row rather than being cut off
        self.model.rowsInserted.connect(self._fit_rows)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_context_menu)
        copy = QShortcut(QKeySequence(QKeySequence.StandardKey.Copy), self.table)
        copy.setContext(Qt.ShortcutContext.WidgetShortcut)
        copy.activated.connect(self.copy_reference)
        self.find_edit = QLineEdit()
        self.find_edit.setObjectName("paymentFind")
        self.find_edit.setClearButtonEnabled(True)
        self.find_edit.setPlaceholderText(tr("Find by gateway reference (any 8 or more characters)"))
        self._find_timer = QTimer(self, singleShot=True, interval=300)
        self._find_timer.timeout.connect(self.reload)
        self.find_edit.textChanged.connect(lambda _t: self._find_timer.start())
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
        layout.addWidget(self.find_edit)
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
        part = self.find_edit.text().strip()
        if 0 < len(part) < MIN_REFERENCE_PART:
            self.status_label.setText(tr("Type at least {n} characters of the reference to find it.").format(
                n=MIN_REFERENCE_PART))
            return
        self.status_label.clear()
        filters = PaymentFilters(customer=self.customer.id, reference=part or None)
        payments, actor = self.ctx.app.payments, self.ctx.actor
        self.model.set_source(keyset_source(lambda after, limit: payments.list_payments(actor, filters, after, limit)))
        self._on_selection()

    def selected(self) -> PaymentRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.data(rows[0], ROW_ROLE) if rows else None

    def _on_selection(self, *_args: object) -> None:
        row = self.selected()
        self.copy_button.setEnabled(bool(row and row.status == "pending" and row.checkout_url))

    def _fit_rows(self, _parent: QModelIndex, first: int, last: int) -> None:
        for row in range(first, last + 1):
            self.table.resizeRowToContents(row)

    def _on_context_menu(self, at: QPoint) -> None:
        index = self.table.indexAt(at)
        if not index.isValid():
            return
        self.table.selectRow(index.row())
        row = self.selected()
        menu = QMenu(self)
        reference = menu.addAction(tr("Copy reference"), self.copy_reference)
        reference.setEnabled(bool(row and row.gateway_reference))
        link = menu.addAction(tr("Copy checkout link"), self.copy_link)
        link.setEnabled(self.copy_button.isEnabled())
        menu.popup(self.table.viewport().mapToGlobal(at))
        self.context_menu = menu  # kept for tests and so it is not collected while shown

    def copy_reference(self) -> None:
        row = self.selected()
        if row and row.gateway_reference:
            QGuiApplication.clipboard().setText(row.gateway_reference)
            self.status_label.setText(tr("Gateway reference {reference} copied.").format(
                reference=row.gateway_reference))

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
        self.status_label.setText(" ".join(_change_sentence(c) for c in changes))

    def _on_refresh_failed(self, error: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        self.status_label.clear()
        show_error(self, error)

    def save_state(self) -> None:
        save_columns(self.table, self.ctx.settings, "payments")


def _change_sentence(change: PaymentChange) -> str:
    """A refreshed payment as people say it: its amount and gateway, not its id; "Success", not "success"."""
    figures = {"amount": money_text(change.amount), "method": PaymentMethod(change.method).label,
               "status": status_label(change.status)}
    if change.reason and change.status == "failed":
        return tr("The top-up of {amount} ({method}) is now {status}: {reason}").format(reason=change.reason,
                                                                                        **figures)
    return tr("The top-up of {amount} ({method}) is now {status}.").format(**figures)

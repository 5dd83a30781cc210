"""The exceptions queue: pending payments that need a person, each with why (past its expiry, a
gateway answer that contradicts it, no usable answer after several checks, a checkout never
started), oldest first.

Finance re-checks the selected ones with the gateway, or closes one as failed with a reason
(asked in a dialog that is also the confirmation); closing never moves credit. Double-click or
Enter emits ``payment_activated`` so the workspace opens the payment's story. The list loads in
the task runner and reloads after any payments change published on the bus.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from billing_desk.domain.changes import Changes
from billing_desk.domain.enums import PaymentMethod
from billing_desk.domain.permissions import Permission
from billing_desk.services.payments import PaymentException, PaymentRow, ReconcileSummary
from billing_desk.views.context import ViewContext
from billing_desk.views.dialogs.error_dialog import show_error
from billing_desk.views.dialogs.reason_dialog import ReasonDialog
from billing_desk.views.finance.payment_story_dialog import summary_text
from billing_desk.views.formatting import AMOUNT_ALIGN, NEGATIVE, local_time, money_text, tr
from billing_desk.views.table_models.paged_model import ROW_ROLE, Column, PagedTableModel, amount_column
from billing_desk.views.table_models.view_state import data_table, save_columns
from billing_desk.views.widgets.customer_header import role_tooltip

KINDS = {"expired": "Past its expiry", "contradicted": "Contradicting answer", "unknown": "No answer",
         "not_started": "Never started"}


def kind_label(kind: str) -> str:
    return tr(KINDS.get(kind, kind))


def exception_columns() -> list[Column]:
    return [
        Column("kind", tr("Kind"), lambda e: kind_label(e.kind), color=lambda e: NEGATIVE
               if e.kind == "contradicted" else None, width=150),
        Column("why", tr("Why"), lambda e: e.why, tooltip=lambda e: e.why, width=320, stretch=True),
        Column("id", tr("Payment"), lambda e: str(e.payment.id), AMOUNT_ALIGN, numeric=True,
               sort_key=lambda e: e.payment.id, width=84),
        Column("customer", tr("Customer"), lambda e: tr("{account}  {name}").format(
            account=e.payment.customer_account, name=e.payment.customer_name), width=200),
        amount_column("amount", tr("Amount"), lambda e: e.payment.amount),
        Column("method", tr("Gateway"), lambda e: PaymentMethod(e.payment.method).label, width=80),
        Column("created", tr("Created"), lambda e: local_time(e.payment.created_at), width=140),
        Column("checks", tr("Checks"), lambda e: str(e.checks), AMOUNT_ALIGN, numeric=True,
               sort_key=lambda e: e.checks, width=74),
    ]


class CloseReasonDialog(ReasonDialog):
    """Asks why, and is the confirmation: Close as failed stays disabled until a reason is typed."""

    def __init__(self, payment: PaymentRow, parent: QWidget | None = None) -> None:
        super().__init__(tr("Close payment {id} as failed").format(id=payment.id), tr(
            "Close payment {id} ({amount}, {account}) as failed? It will never be credited by a reconcile run. "
            "Crediting a customer by hand stays a manager's credit adjustment.").format(
            id=payment.id, amount=money_text(payment.amount), account=payment.customer_account),
            tr("Close as failed"), parent)
        self.setObjectName("closeReasonDialog")
        self.reason_edit.setObjectName("closeReason")
        self.reason_edit.setPlaceholderText(tr("Why it is closed (required, kept in the audit log)"))
        self.close_button = self.action_button


class ExceptionsView(QWidget):
    payment_activated = Signal(int)
    loaded = Signal(int)  # how many payments need a person
    closed = Signal(object)  # the closed PaymentRow
    rechecked = Signal(object)  # ReconcileSummary

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exceptionsView")
        self.ctx = ctx
        self.model = PagedTableModel(ctx.runner, exception_columns())
        self.model.load_failed.connect(lambda e: show_error(self, e))
        self.model.page_loaded.connect(self._on_loaded)
        self.table = data_table(self.model, ctx.settings, "payment_exceptions", name="exceptionsTable")
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setWordWrap(True)  # a long why wraps in its row rather than being cut off
        self.model.rowsInserted.connect(lambda _p, first, last: [self.table.resizeRowToContents(r)
                                                                 for r in range(first, last + 1)])
        self.table.activated.connect(self._on_activated)  # double-click, or Enter
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.status_label = QLabel()
        self.status_label.setObjectName("statusLabel")
        self.status_label.setWordWrap(True)
        self.reload_button = QPushButton(tr("Reload"))
        self.reload_button.clicked.connect(self.reload)
        self.recheck_button = QPushButton(tr("Re-check selected"))
        self.recheck_button.setObjectName("recheckSelected")
        self.recheck_button.setToolTip(role_tooltip(ctx.actor, Permission.PAYMENT_RECONCILE,
                                                    tr("Ask the gateway about the selected payments now")))
        self.recheck_button.clicked.connect(self.recheck_selected)
        self.close_button = QPushButton(tr("Close as failed…"))
        self.close_button.setObjectName("closeAsFailed")
        self.close_button.setToolTip(role_tooltip(ctx.actor, Permission.PAYMENT_CLOSE,
                                                  tr("Close the selected payment as failed, with a reason")))
        self.close_button.clicked.connect(self.close_selected)
        self.close_dialog: CloseReasonDialog | None = None
        self._busy = False
        self._note: str | None = None  # what the last re-check or close did, shown after the reload
        ctx.bus.changed.connect(self._on_changes)
        self._build()
        self._on_selection()
        self.reload()

    def _build(self) -> None:
        bar = QHBoxLayout()
        bar.addWidget(self.status_label, 1)
        for button in (self.reload_button, self.recheck_button, self.close_button):
            bar.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(bar)

    # -- loading ------------------------------------------------------------------------
    def reload(self) -> None:
        payments, actor = self.ctx.app.payments, self.ctx.actor
        self.status_label.setText(tr("Loading…"))
        # One query gives the whole queue: a single "page" with no next cursor.
        self.model.set_source(lambda _after, _limit: (payments.exceptions(actor), None))

    def _on_loaded(self, count: int) -> None:
        queue = (tr("No payment needs a person.") if not count else tr("1 payment needs a person.") if count == 1
                 else tr("{n} payments need a person.").format(n=f"{count:,}"))
        note, self._note = self._note, None
        self.status_label.setText(tr("{note} {queue}").format(note=note, queue=queue) if note else queue)
        self._on_selection()
        self.loaded.emit(count)

    def _on_changes(self, changes: Changes, initiator: object) -> None:
        if changes.payments and initiator is not self:
            self.reload()

    def selected(self) -> list[PaymentException]:
        return [self.model.data(i, ROW_ROLE) for i in self.table.selectionModel().selectedRows()]

    def _on_selection(self, *_args: object) -> None:
        chosen = self.selected()
        idle = not self._busy
        self.recheck_button.setEnabled(idle and bool(chosen) and self.ctx.can(Permission.PAYMENT_RECONCILE))
        self.close_button.setEnabled(idle and len(chosen) == 1 and self.ctx.can(Permission.PAYMENT_CLOSE))

    def _on_activated(self, index: QModelIndex) -> None:
        row = self.model.data(index, ROW_ROLE)
        if row is not None:
            self.payment_activated.emit(row.payment.id)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._on_selection()

    # -- re-check -----------------------------------------------------------------------
    def recheck_selected(self) -> None:
        chosen = self.selected()
        if not chosen or self._busy:
            return
        ids = [e.payment.id for e in chosen]
        customers = frozenset(e.payment.customer_id for e in chosen)
        payments, actor = self.ctx.app.payments, self.ctx.actor
        self._set_busy(True)
        self.status_label.setText(tr("Asking the gateway about {n} payments…").format(n=len(ids)))
        self.ctx.write(lambda: payments.reconcile_run(actor, ids),
                       lambda _s: Changes(customer_ids=customers, payments=True, ledger=True),
                       self._on_rechecked, gateway=True, initiator=self).failure(self._on_failed).run()

    def _on_rechecked(self, summary: ReconcileSummary) -> None:
        self._set_busy(False)
        self._note = summary_text(summary)
        self.reload()
        self.rechecked.emit(summary)

    # -- close as failed ----------------------------------------------------------------
    def close_selected(self) -> None:
        chosen = self.selected()
        if len(chosen) != 1 or self._busy:
            return
        payment = chosen[0].payment
        dialog = CloseReasonDialog(payment, self)
        dialog.accepted.connect(lambda: self._close(payment, dialog.reason()))
        self.close_dialog = dialog  # kept for tests, and so it is not collected while open
        dialog.open()

    def _close(self, payment: PaymentRow, reason: str) -> None:
        payments, actor = self.ctx.app.payments, self.ctx.actor
        self._set_busy(True)
        self.ctx.write(lambda: payments.close(actor, payment.id, reason),
                       lambda row: Changes.for_customer(row.customer_id, payments=True),
                       self._on_closed, initiator=self).failure(self._on_failed).run()

    def _on_closed(self, row: PaymentRow) -> None:
        self._set_busy(False)
        self._note = tr("Payment {id} closed as failed.").format(id=row.id)
        self.reload()
        self.closed.emit(row)

    def _on_failed(self, error: BaseException) -> None:
        self._set_busy(False)
        self.reload()  # it may have been settled meanwhile: show the queue as it is now
        show_error(self, error)

    def save_state(self) -> None:
        save_columns(self.table, self.ctx.settings, "payment_exceptions")

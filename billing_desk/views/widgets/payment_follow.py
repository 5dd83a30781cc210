"""After Confirm: the checkout link with Copy and Open, and the payment's status followed
until it settles (or the agent closes the dialog).

Every few seconds the gateway is asked about this customer's pending payments (in the
gateway pool), then the payment is re-read; a settled payment publishes a change notice so
the header balance and the history tabs refresh.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from billing_desk.domain.changes import Changes
from billing_desk.services.payments import PaymentRow, TopUpResult
from billing_desk.views.context import ViewContext
from billing_desk.views.formatting import money_text, tr
from billing_desk.views.table_models.payment_model import payment_status_text

POLL_MS = 3000


class PaymentFollow(QWidget):
    settled = Signal(object)  # PaymentRow
    status_seen = Signal(str)

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None, poll_ms: int = POLL_MS) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.payment: PaymentRow | None = None
        self.headline = QLabel()
        self.headline.setObjectName("customerName")
        self.link_edit = QLineEdit()
        self.link_edit.setReadOnly(True)
        self.copy_button = QPushButton(tr("Copy"))
        self.open_button = QPushButton(tr("Open"))
        self.copy_button.clicked.connect(self.copy_link)
        self.open_button.clicked.connect(self.open_link)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.note_label = QLabel()
        self.note_label.setWordWrap(True)
        self.note_label.setObjectName("fieldError")
        link_row = QHBoxLayout()
        link_row.addWidget(self.link_edit, 1)
        link_row.addWidget(self.copy_button)
        link_row.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.headline)
        layout.addWidget(QLabel(tr("Send this checkout link to the customer:")))
        layout.addLayout(link_row)
        layout.addWidget(self.status_label)
        layout.addWidget(self.note_label)
        self._timer = QTimer(self, interval=poll_ms)
        self._timer.timeout.connect(self.check_now)
        self._asking = False

    def start(self, result: TopUpResult) -> None:
        self.payment = result.payment
        p = result.payment
        self.link_edit.setText(p.checkout_url or "")
        has_link = bool(p.checkout_url)
        self.copy_button.setEnabled(has_link)
        self.open_button.setEnabled(has_link)
        self.note_label.setText(" ".join(t for t in (result.problem, result.warning) if t))
        self._show(p)
        if p.status == "pending":
            self._timer.start()

    def copy_link(self) -> None:
        QGuiApplication.clipboard().setText(self.link_edit.text())
        status = self.status_label.text().split("\n")[0]  # the status line, without an earlier "copied"
        self.status_label.setText(tr("{status}\nLink copied.").format(status=status))

    def open_link(self) -> None:
        if not QDesktopServices.openUrl(QUrl(self.link_edit.text())):
            # No browser on this computer (a locked-down desk, a remote session): say so, and
            # leave the link selected to copy, rather than a button that does nothing.
            self.link_edit.setFocus()
            self.link_edit.selectAll()
            self.note_label.setText(tr("No web browser could be opened here. Copy the link above (Copy, or "
                                       "Ctrl+C) and open it in a browser, or send it to the customer."))

    def stop(self) -> None:
        self._timer.stop()

    def check_now(self) -> None:
        if self.payment is None or self._asking:
            return
        self._asking = True
        payments, actor, p = self.ctx.app.payments, self.ctx.actor, self.payment

        def ask() -> PaymentRow:
            payments.reconcile(actor, p.customer_id)
            return payments.get(actor, p.id)

        self.ctx.query(ask, self._on_row, gateway=True).failure(self._on_failed).run()

    def _on_row(self, row: PaymentRow) -> None:
        self._asking = False
        changed = self.payment is not None and row.status != self.payment.status
        self.payment = row
        self._show(row)
        if row.status != "pending":
            self._timer.stop()
            if changed:
                self.ctx.bus.publish(Changes.for_customer(row.customer_id, payments=True, ledger=True), self)
            self.settled.emit(row)

    def _on_failed(self, error: BaseException) -> None:
        self._asking = False  # keep polling: the gateway may answer next time
        self.status_label.setText(tr("Could not reach the gateway just now ({why}); trying again.").format(
            why=getattr(error, "message", type(error).__name__)))

    def _show(self, row: PaymentRow) -> None:
        amount = money_text(row.amount)
        headlines = {"pending": tr("Top-up of {amount} started"), "success": tr("Top-up of {amount} succeeded")}
        self.headline.setText(headlines.get(row.status, tr("Top-up of {amount} did not go through")).format(
            amount=amount))
        status = payment_status_text(row)
        if row.status == "pending":
            text = tr("Status: {status}  (checking every few seconds)").format(status=status)
        elif row.status == "success":
            text = tr("Status: {status}  The credit has been added to the balance.").format(status=status)
        else:
            text = tr("Status: {status}").format(status=status)
        self.status_label.setText(text)
        self.status_seen.emit(row.status)

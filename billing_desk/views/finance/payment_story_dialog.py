"""A payment's detail, its whole story: the facts (customer, amount, gateway, status with its
reason, checkout link and reference to copy, who started it and when, when it settled), every
status check the desk made (when, who or which run, what the gateway said), the ledger row it
produced and its audit entries. A pending one can be re-checked from here.

The story loads in the task runner; the re-check runs in the gateway pool and publishes what
changed, so the payments tables and the customer's balance refresh, then the story reloads.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from billing_desk.domain.changes import Changes
from billing_desk.domain.enums import PaymentMethod
from billing_desk.domain.permissions import Permission
from billing_desk.services.payments import PaymentStory, ReconcileSummary
from billing_desk.views.context import ViewContext
from billing_desk.views.dialogs.error_dialog import show_error
from billing_desk.views.formatting import local_time, money_text, tr
from billing_desk.views.table_models.payment_model import status_label
from billing_desk.views.widgets.customer_header import role_tooltip

TRIGGERS = {"reconcile": "Reconcile run", "refresh": "Customer refresh", "recheck": "Re-check"}
OUTCOMES = {"paid": "Paid", "failed": "Failed", "expired": "Expired", "pending": "Not paid yet",
            "unknown": "No answer", "refused": "Answer refused", "error": "Error on our side"}


def trigger_label(trigger: str) -> str:
    return tr(TRIGGERS.get(trigger, trigger))


def outcome_label(outcome: str) -> str:
    return tr(OUTCOMES.get(outcome, outcome))


def summary_text(summary: ReconcileSummary) -> str:
    """What a re-check found, in one sentence."""
    if summary.asked == 0:
        return tr("Nothing to ask: the payment is no longer pending.")
    return tr("Asked the gateway about {asked}: {settled} settled, {failed} failed, {pending} still pending, "
              "{unreachable} without an answer, {held} held for finance.").format(
        asked=summary.asked, settled=summary.settled, failed=summary.failed, pending=summary.still_pending,
        unreachable=summary.unreachable, held=len(summary.flagged))


def _copy_field(name: str) -> tuple[QWidget, QLineEdit, QPushButton]:
    """A read-only, selectable line with a Copy button: a link or a reference is copied whole."""
    edit = QLineEdit()
    edit.setReadOnly(True)
    edit.setObjectName(name)
    button = QPushButton(tr("Copy"))
    button.setEnabled(False)
    button.clicked.connect(lambda: QGuiApplication.clipboard().setText(edit.text()))
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(edit, 1)
    row.addWidget(button)
    return box, edit, button


def _table(headers: Sequence[str], name: str) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setWordWrap(True)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    table.horizontalHeader().setSectionResizeMode(len(headers) - 1, QHeaderView.ResizeMode.Stretch)
    return table


def _fill(table: QTableWidget, rows: Sequence[Sequence[str]]) -> None:
    table.setRowCount(len(rows))
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            table.setItem(r, c, item)
    for column in range(table.columnCount() - 1):  # the last one stretches and wraps
        table.resizeColumnToContents(column)
    table.resizeRowsToContents()


class PaymentStoryDialog(QDialog):
    loaded = Signal(object)  # PaymentStory, after each (re)load
    rechecked = Signal(object)  # ReconcileSummary

    def __init__(self, parent: QWidget | None, ctx: ViewContext, payment_id: int) -> None:
        super().__init__(parent)
        self.setObjectName("paymentStoryDialog")
        self.ctx = ctx
        self.payment_id = payment_id
        self.story: PaymentStory | None = None
        self._note: str | None = None  # what the last re-check found, shown after the reload
        self.setWindowTitle(tr("Payment {id}").format(id=payment_id))
        self.resize(860, 640)
        self.facts = QFormLayout()
        self._build_facts()
        self.checks_table = _table([tr("Checked"), tr("Asked by"), tr("Why asked"), tr("Outcome"),
                                    tr("Gateway's answer")], "paymentChecks")
        self.ledger_label = QLabel()
        self.ledger_label.setObjectName("storyLedger")
        self.ledger_label.setWordWrap(True)
        self.ledger_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.audit_table = _table([tr("When"), tr("Staff"), tr("Action"), tr("Details")], "paymentAudit")
        self.status_label = QLabel(tr("Loading…"))
        self.status_label.setObjectName("statusLabel")
        self.status_label.setWordWrap(True)
        self.recheck_button = QPushButton(tr("Re-check with the gateway"))
        self.recheck_button.setObjectName("recheckButton")
        self.recheck_button.setEnabled(False)
        self.recheck_button.setToolTip(role_tooltip(ctx.actor, Permission.PAYMENT_RECONCILE,
                                                    tr("Ask the gateway about this pending payment now")))
        self.recheck_button.clicked.connect(self.recheck)
        self._build()
        self.reload()

    def _build(self) -> None:
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.addButton(self.recheck_button, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addLayout(self.facts)
        for title, widget in ((tr("Status checks"), self.checks_table), (tr("Ledger"), self.ledger_label),
                              (tr("Audit entries"), self.audit_table)):
            group = QGroupBox(title)
            QVBoxLayout(group).addWidget(widget)
            layout.addWidget(group, 0 if widget is self.ledger_label else 1)
        layout.addWidget(self.status_label)
        layout.addWidget(buttons)

    # -- loading ------------------------------------------------------------------------
    def reload(self) -> None:
        payments, actor, pid = self.ctx.app.payments, self.ctx.actor, self.payment_id
        self.ctx.query(lambda: payments.story(actor, pid), self._show).failure(self._on_failed).run()

    def _on_failed(self, error: BaseException) -> None:
        self.status_label.setText(tr("The payment could not be loaded."))
        show_error(self, error)

    def _show(self, story: PaymentStory) -> None:
        self.story = story
        self._show_facts(story)
        _fill(self.checks_table, [
            [local_time(c.checked_at, seconds=True),
             c.staff_name or tr("Scheduled run {run}").format(run=(c.run_id or "")[:8]),
             trigger_label(c.trigger), outcome_label(c.outcome), c.answer or ""] for c in story.checks])
        ledger = story.ledger
        self.ledger_label.setText(
            tr("Entry {id}, {when}: {amount}. {description}").format(
                id=ledger.entry_id, when=local_time(ledger.created_at), amount=money_text(ledger.amount),
                description=ledger.description) if ledger else tr("No ledger row: nothing was credited."))
        _fill(self.audit_table, [[local_time(a.created_at, seconds=True), a.staff_name or "—", a.action, a.details]
                                 for a in story.audit])
        pending = story.payment.status == "pending"
        self.recheck_button.setEnabled(pending and self.ctx.can(Permission.PAYMENT_RECONCILE))
        if self._note:
            self.status_label.setText(self._note)
        elif not story.checks:
            self.status_label.setText(tr("No status check recorded yet."))
        else:
            self.status_label.setText(tr("{n} status checks recorded.").format(n=len(story.checks)))
        self.loaded.emit(story)

    def _build_facts(self) -> None:
        """The facts' widgets, made once and filled on each load (rebuilding them while their
        events were still queued crashed Qt)."""
        self.link_box, self.link_edit, self.link_copy = _copy_field("checkoutLink")
        self.reference_box, self.reference_edit, self.reference_copy = _copy_field("gatewayReference")
        self.values = {key: QLabel() for key in ("customer", "amount", "gateway", "status", "started", "expires",
                                                 "settled")}
        for label in self.values.values():
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
        self.status_value = self.values["status"]
        self.status_value.setObjectName("storyStatus")
        rows: list[tuple[str, QWidget]] = [
            (tr("Customer"), self.values["customer"]), (tr("Amount"), self.values["amount"]),
            (tr("Gateway"), self.values["gateway"]), (tr("Status"), self.status_value),
            (tr("Checkout link"), self.link_box), (tr("Gateway reference"), self.reference_box),
            (tr("Started"), self.values["started"]), (tr("Expires"), self.values["expires"]),
            (tr("Settled"), self.values["settled"]),
        ]
        for label, widget in rows:
            self.facts.addRow(label, widget)

    def _show_facts(self, story: PaymentStory) -> None:
        p = story.payment
        status = status_label(p.status)
        if p.reason:
            status = tr("{status}: {reason}").format(status=status, reason=p.reason)
        texts = {
            "customer": tr("{account}  {name}").format(account=p.customer_account, name=p.customer_name),
            "amount": money_text(p.amount), "gateway": PaymentMethod(p.method).label, "status": status,
            "started": tr("{when} by {who}").format(when=local_time(p.created_at, seconds=True),
                                                   who=story.started_by or "—"),
            "expires": local_time(p.expires_at) or "—", "settled": local_time(p.settled_at, seconds=True) or "—",
        }
        for key, text in texts.items():
            self.values[key].setText(text)
        for edit, button, text in ((self.link_edit, self.link_copy, p.checkout_url),
                                   (self.reference_edit, self.reference_copy, p.gateway_reference)):
            edit.setText(text or "")
            button.setEnabled(bool(text))

    # -- re-check -----------------------------------------------------------------------
    def recheck(self) -> None:
        story = self.story
        if story is None or story.payment.status != "pending":
            return
        payments, actor, pid, cid = self.ctx.app.payments, self.ctx.actor, self.payment_id, story.payment.customer_id
        self.recheck_button.setEnabled(False)
        self.status_label.setText(tr("Asking the gateway…"))
        self.ctx.write(lambda: payments.reconcile_run(actor, [pid]),
                       lambda _s: Changes.for_customer(cid, payments=True, ledger=True),
                       self._on_rechecked, gateway=True, initiator=self).failure(self._on_recheck_failed).run()

    def _on_rechecked(self, summary: ReconcileSummary) -> None:
        self._note = summary_text(summary)
        self.rechecked.emit(summary)
        self.reload()

    def _on_recheck_failed(self, error: BaseException) -> None:
        self.recheck_button.setEnabled(True)
        self.status_label.clear()
        show_error(self, error)


def open_payment_story(parent: QWidget | None, ctx: ViewContext, payment_id: int) -> PaymentStoryDialog:
    """Open a payment's story beside the window (not modal: finance may open several)."""
    dialog = PaymentStoryDialog(parent, ctx, payment_id)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog

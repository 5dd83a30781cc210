"""Enter a voucher code (normalised as typed: upper case, grouped by four) and Apply it.

Used by the Vouchers tab and the Add voucher dialog. The voucher service decides; this
widget shows its answer: the credit added, or the exact reason for refusal.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from billing_desk.domain.changes import Changes
from billing_desk.domain.permissions import Permission
from billing_desk.services.customers import CustomerDTO
from billing_desk.services.vouchers import CODE_LENGTH, GROUP, RedemptionResult
from billing_desk.views.context import ViewContext
from billing_desk.views.error_text import error_message
from billing_desk.views.formatting import local_time, money_text, set_style_flag, tr
from billing_desk.views.widgets.customer_header import role_tooltip


def normalise_as_typed(text: str) -> str:
    """'abcd efgh-ij' -> 'ABCD-EFGH-IJ': letters and digits only, dashes every four."""
    chars = "".join(ch for ch in text.upper() if ch.isalnum())[:CODE_LENGTH]
    return "-".join(chars[i:i + GROUP] for i in range(0, len(chars), GROUP))


class VoucherEntry(QWidget):
    redeemed = Signal(object)  # RedemptionResult
    refused = Signal(str)

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.customer: CustomerDTO | None = None
        self.code_edit = QLineEdit()
        self.code_edit.setObjectName("voucherCode")
        self.code_edit.setPlaceholderText(tr("XXXX-XXXX-XXXX-XXXX-XXXX"))
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.code_edit.setFont(mono)
        self.code_edit.setMaxLength(CODE_LENGTH + CODE_LENGTH // GROUP)
        self.apply_button = QPushButton(tr("Apply Code"))
        self.apply_button.setObjectName("primaryButton")
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setObjectName("voucherResult")
        row = QHBoxLayout()
        row.addWidget(self.code_edit, 1)
        row.addWidget(self.apply_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.result_label)
        self.code_edit.textEdited.connect(self._on_edited)
        self.code_edit.returnPressed.connect(self.apply)
        self.apply_button.clicked.connect(self.apply)
        allowed = ctx.can(Permission.VOUCHER_REDEEM)
        self.apply_button.setEnabled(allowed)
        self.code_edit.setEnabled(allowed)
        self.apply_button.setToolTip(role_tooltip(ctx.actor, Permission.VOUCHER_REDEEM,
                                                  tr("Redeem the code for this customer")))

    def set_customer(self, customer: CustomerDTO | None) -> None:
        self.customer = customer

    def _on_edited(self, text: str) -> None:
        clean = normalise_as_typed(text)
        if clean != text:
            self.code_edit.setText(clean)  # the cursor goes to the end: codes are typed or pasted whole
        self.result_label.clear()

    def apply(self) -> None:
        if self.customer is None or not self.apply_button.isEnabled():
            return
        code, cid = self.code_edit.text(), self.customer.id
        vouchers, actor = self.ctx.app.vouchers, self.ctx.actor
        self.apply_button.setEnabled(False)
        self.result_label.setText(tr("Applying…"))
        self.ctx.write(lambda: vouchers.redeem(actor, cid, code),
                       lambda r: Changes.for_customer(r.customer_id, vouchers=True, ledger=True),
                       self._on_redeemed).failure(self._on_refused).run()

    def _on_redeemed(self, result: RedemptionResult) -> None:
        self.apply_button.setEnabled(True)
        self.code_edit.clear()
        figures = {"last4": result.last4, "amount": money_text(result.amount),
                   "voucher": money_text(result.balance_voucher), "total": money_text(result.balance_total)}
        if result.credit_expires_at:
            text = tr("Voucher …{last4} added {amount}. Voucher credit is now {voucher}; total balance {total}. "
                      "This credit expires on {day}.").format(day=local_time(result.credit_expires_at), **figures)
        else:
            text = tr("Voucher …{last4} added {amount}. Voucher credit is now {voucher}; "
                      "total balance {total}.").format(**figures)
        set_style_flag(self.result_label, "ok", True)
        self.result_label.setText(text)
        self.redeemed.emit(result)

    def _on_refused(self, error: BaseException) -> None:
        self.apply_button.setEnabled(True)
        message = error_message(error)
        set_style_flag(self.result_label, "ok", False)
        self.result_label.setText(tr("Not applied: {reason}").format(reason=message))
        self.refused.emit(message)

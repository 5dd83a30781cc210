"""Add voucher dialog: enter a code (normalised as typed), Apply, and read the result or
the exact reason for refusal."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from billing_desk.services.customers import CustomerDTO
from billing_desk.views.context import ViewContext
from billing_desk.views.formatting import tr
from billing_desk.views.widgets.voucher_entry import VoucherEntry


class AddVoucherDialog(QDialog):
    def __init__(self, ctx: ViewContext, customer: CustomerDTO, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("addVoucherDialog")
        self.setWindowTitle(tr("Add voucher — {name}").format(name=customer.name))
        self.entry = VoucherEntry(ctx)
        self.entry.set_customer(customer)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(tr("Enter the voucher code the customer received and click Apply Code.")))
        layout.addWidget(self.entry)
        layout.addWidget(buttons)
        self.resize(520, 0)
        self.entry.code_edit.setFocus()


def open_add_voucher(parent: QWidget, ctx: ViewContext, customer: CustomerDTO) -> AddVoucherDialog:
    dialog = AddVoucherDialog(ctx, customer, parent)
    dialog.open()
    return dialog

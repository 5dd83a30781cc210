"""Vouchers tab: the customer's Voucher List (redeemed and active, remaining credit, expiry)
and Apply Code."""

from __future__ import annotations

from PySide6.QtWidgets import QGroupBox, QLabel, QVBoxLayout, QWidget

from billing_desk.domain.changes import Changes
from billing_desk.views.base_tab import CustomerTab
from billing_desk.views.context import ViewContext
from billing_desk.views.dialogs.error_dialog import show_error
from billing_desk.views.formatting import tr
from billing_desk.views.table_models.view_state import data_table, save_columns
from billing_desk.views.table_models.voucher_model import VoucherListModel
from billing_desk.views.widgets.voucher_entry import VoucherEntry


class VouchersTab(CustomerTab):
    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.entry = VoucherEntry(ctx)
        self.model = VoucherListModel(ctx.runner)
        self.model.load_failed.connect(lambda e: show_error(self, e))
        self.table = data_table(self.model, ctx.settings, "vouchers")
        self.empty_label = QLabel(tr("No vouchers redeemed yet."))
        self.empty_label.setObjectName("statusLabel")
        self.model.page_loaded.connect(lambda n: self.empty_label.setVisible(self.model.rowCount() == 0))
        apply_box = QGroupBox(tr("Add voucher"))
        QVBoxLayout(apply_box).addWidget(self.entry)
        list_box = QGroupBox(tr("Voucher List"))
        ll = QVBoxLayout(list_box)
        ll.addWidget(self.table)
        ll.addWidget(self.empty_label)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(apply_box)
        layout.addWidget(list_box, 1)
        self.set_content(content, tr("Find a customer with the search box above (Ctrl+K) to see their "
                                     "Voucher List and Apply Code here."))

    def wants(self, changes: Changes) -> bool:
        return changes.vouchers or changes.ledger

    def reload(self) -> None:
        customer = self.customer
        self.entry.set_customer(customer)
        if customer is None:
            self.model.set_source(None)
            return
        vouchers, actor, cid = self.ctx.app.vouchers, self.ctx.actor, customer.id
        self.model.set_source(lambda _after, _limit: (vouchers.customer_vouchers(actor, cid), None))

    def save_state(self) -> None:
        save_columns(self.table, self.ctx.settings, "vouchers")

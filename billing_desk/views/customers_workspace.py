"""The Customers workspace: the customer desk everyone has. The search box, the open customer's
header and its six tabs; opening a customer and keeping it fresh after writes; the dialogs its
header opens. The main window places it, routes the window's shortcuts here, and puts the
search box in its own top row: a customer can be found from any workspace, and a row of its
own here would make the window taller than a 700-px screen."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from billing_desk.domain.changes import Changes
from billing_desk.services.customers import CustomerDTO
from billing_desk.views.base_tab import CustomerTab
from billing_desk.views.context import ViewContext
from billing_desk.views.credit_history_tab import CreditHistoryTab
from billing_desk.views.formatting import tr
from billing_desk.views.overview_tab import OverviewTab
from billing_desk.views.payment_history_tab import PaymentHistoryTab
from billing_desk.views.plans_tab import PlansTab
from billing_desk.views.settings_tab import SettingsTab
from billing_desk.views.vouchers_tab import VouchersTab
from billing_desk.views.widgets.customer_header import CustomerHeader
from billing_desk.views.widgets.search_box import RecentCustomer, SearchBox

TAB_ORDER = ("Overview", "Credit History", "Payment History", "Vouchers", "Plans", "Settings")


class CustomersWorkspace(QWidget):
    customer_opened = Signal(object)  # CustomerDTO, after the header and tabs have it

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("customersWorkspace")
        self.ctx = ctx
        self.customer: CustomerDTO | None = None
        self.search = SearchBox(ctx)
        self.header = CustomerHeader(ctx.actor)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("customerTabs")
        self.history_tab, self.vouchers_tab = CreditHistoryTab(ctx), VouchersTab(ctx)
        self.tab_pages: list[CustomerTab] = [
            OverviewTab(ctx), self.history_tab, PaymentHistoryTab(ctx),
            self.vouchers_tab, PlansTab(ctx), SettingsTab(ctx),
        ]
        for page, title in zip(self.tab_pages, TAB_ORDER, strict=True):
            self.tabs.addTab(page, tr(title))
        self._build()
        self.header.balance_clicked.connect(lambda: self.tabs.setCurrentIndex(0))
        self.header.add_credit_requested.connect(self.add_credit)
        self.header.add_voucher_requested.connect(self.add_voucher)
        ctx.bus.changed.connect(self._on_bus_changed)
        last = ctx.settings.value("window/tab", 0)
        self.tabs.setCurrentIndex(int(last) if str(last).isdigit() else 0)

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.tabs, 1)

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()
        if not self.search.text().strip():
            self.search.show_recent()

    # --- the open customer -------------------------------------------------------------
    def open_customer(self, customer_id: int) -> None:
        service, actor = self.ctx.app.customers, self.ctx.actor
        self.ctx.query(lambda: service.get(actor, customer_id), self._show_customer).run()

    def refresh_customer(self) -> None:
        if self.customer is not None:
            self.open_customer(self.customer.id)

    def _show_customer(self, customer: CustomerDTO) -> None:
        first = self.customer is None or self.customer.id != customer.id
        self.customer = customer
        self.header.set_customer(customer)
        for page in self.tab_pages:
            page.set_customer(customer)
        if first:
            self.search.remember(RecentCustomer(customer.id, customer.account, customer.name))
            self.search.clear()
            self.search.hide_popup()
            self.tabs.currentWidget().setFocus()
        self.customer_opened.emit(customer)

    def _on_bus_changed(self, changes: Changes, _initiator: object) -> None:
        if self.customer is not None and changes.touches(self.customer.id) and (changes.profile or changes.balance):
            self.refresh_customer()

    # --- dialogs ------------------------------------------------------------------------
    def add_credit(self) -> None:
        if self.customer is None or not self.header.add_credit_button.isEnabled():
            return
        from billing_desk.views.dialogs.add_credit_dialog import open_add_credit
        open_add_credit(self.window(), self.ctx, self.customer)

    def add_voucher(self) -> None:
        if self.customer is None or not self.header.add_voucher_button.isEnabled():
            return
        entry = self.vouchers_tab.entry
        if self.tabs.currentWidget() is self.vouchers_tab and entry.code_edit.text().strip():
            entry.apply()  # a code typed on the Vouchers tab is applied where it was typed
            return
        from billing_desk.views.dialogs.add_voucher_dialog import open_add_voucher
        open_add_voucher(self.window(), self.ctx, self.customer)

    def export_history(self) -> None:
        """Ctrl+E: the open customer's credit history with the Credit History tab's filters."""
        if self.customer is None:
            return
        self.tabs.setCurrentWidget(self.history_tab)
        self.history_tab.ask_export()

    export_excel = export_history  # what Ctrl+E exports in this workspace
    refresh = refresh_customer  # what F5 re-reads

    def save_state(self) -> None:
        self.ctx.settings.setValue("window/tab", self.tabs.currentIndex())
        for page in self.tab_pages:
            page.save_state()

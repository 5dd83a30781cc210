"""The main window: only builds and wires. Header (the staff member's menu, database), search,
the customer header and the six tabs; opening a customer and keeping it fresh after writes;
the keyboard shortcuts, which work wherever focus is in the window."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QTabWidget, QVBoxLayout, QWidget

from billing_desk.domain.changes import Changes
from billing_desk.services.customers import CustomerDTO
from billing_desk.views.base_tab import CustomerTab
from billing_desk.views.context import ViewContext
from billing_desk.views.credit_history_tab import CreditHistoryTab
from billing_desk.views.dialogs.error_dialog import show_error
from billing_desk.views.formatting import tr
from billing_desk.views.overview_tab import OverviewTab
from billing_desk.views.payment_history_tab import PaymentHistoryTab
from billing_desk.views.plans_tab import PlansTab
from billing_desk.views.settings_tab import SettingsTab
from billing_desk.views.shortcuts import WindowShortcuts
from billing_desk.views.vouchers_tab import VouchersTab
from billing_desk.views.widgets.customer_header import CustomerHeader
from billing_desk.views.widgets.focus_keeper import FocusKeeper
from billing_desk.views.widgets.search_box import RecentCustomer, SearchBox
from billing_desk.views.widgets.user_menu import UserMenu

TAB_ORDER = ("Overview", "Credit History", "Payment History", "Vouchers", "Plans", "Settings")


def database_label_text(url: str, limit: int = 48) -> str:
    """Long SQLite paths keep their start and the file name: 'sqlite:////home/…/billing.sqlite3'."""
    if len(url) <= limit:
        return url
    head, _, name = url.rpartition("/")
    return f"{head[: max(12, limit - len(name) - 2)]}…/{name}"


class MainWindow(QMainWindow):
    customer_opened = Signal(object)  # CustomerDTO, after the header and tabs have it
    log_out_requested = Signal()  # the desk closes this window and asks who logs in next

    def __init__(self, ctx: ViewContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.customer: CustomerDTO | None = None
        self.setObjectName("mainWindow")
        self.setWindowTitle(tr("Billing Desk"))
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
        self._build(ctx)
        self._wire()
        self._restore_state()

    def _build(self, ctx: ViewContext) -> None:
        staff = UserMenu(ctx.actor)
        url = ctx.app.database.url  # already has the password masked
        database = QLabel(database_label_text(url))
        database.setObjectName("databaseLabel")
        database.setToolTip(tr("Connected to {url}").format(url=url))
        top = QHBoxLayout()
        # Room for the short placeholder; more would keep the window wider than a 1024-px screen.
        self.search.setMinimumWidth(320)
        top.addWidget(self.search, 1)
        top.addSpacing(16)
        top.addWidget(staff)
        top.addWidget(database)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(top)
        layout.addWidget(self.header)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.staff_label, self.database_label = staff, database

    def _wire(self) -> None:
        self.search.customer_chosen.connect(self.open_customer)
        self.header.balance_clicked.connect(lambda: self.tabs.setCurrentIndex(0))
        self.header.add_credit_requested.connect(self.add_credit)
        self.header.add_voucher_requested.connect(self.add_voucher)
        self.ctx.bus.changed.connect(self._on_bus_changed)
        self.staff_label.change_password_requested.connect(self.change_password)
        self.staff_label.log_out_requested.connect(self.log_out_requested.emit)
        self.staff_label.quit_requested.connect(self.close)
        self.focus_keeper = FocusKeeper(self)
        keys = self.shortcuts = WindowShortcuts(self)
        keys.add(("Ctrl+K", "Ctrl+F"), self.focus_search)
        for i in range(len(self.tab_pages)):
            keys.add(f"Alt+{i + 1}", lambda i=i: self.tabs.setCurrentIndex(i))
        keys.add("Ctrl+T", self.add_credit)
        keys.add("Ctrl+U", self.add_voucher)
        keys.add("Ctrl+E", self.export_history)
        keys.add("F5", self.refresh_customer)
        keys.add("Ctrl+Q", self.close)  # the last window closing ends the application

    def show_failure(self, error: BaseException) -> None:
        """The error dialog over this window: the default for operations with no failure callback."""
        show_error(self, error)

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
            self.setWindowTitle(tr("Billing Desk — {name} ({account})").format(
                name=customer.name, account=customer.account))
        self.customer_opened.emit(customer)

    def _on_bus_changed(self, changes: Changes, _initiator: object) -> None:
        if self.customer is not None and changes.touches(self.customer.id) and (changes.profile or changes.balance):
            self.refresh_customer()

    # --- dialogs ------------------------------------------------------------------------
    def add_credit(self) -> None:
        if self.customer is None or not self.header.add_credit_button.isEnabled():
            return
        from billing_desk.views.dialogs.add_credit_dialog import open_add_credit
        open_add_credit(self, self.ctx, self.customer)

    def add_voucher(self) -> None:
        if self.customer is None or not self.header.add_voucher_button.isEnabled():
            return
        entry = self.vouchers_tab.entry
        if self.tabs.currentWidget() is self.vouchers_tab and entry.code_edit.text().strip():
            entry.apply()  # a code typed on the Vouchers tab is applied where it was typed
            return
        from billing_desk.views.dialogs.add_voucher_dialog import open_add_voucher
        open_add_voucher(self, self.ctx, self.customer)

    def export_history(self) -> None:
        """Ctrl+E: the open customer's credit history with the Credit History tab's filters."""
        if self.customer is None:
            return
        self.tabs.setCurrentWidget(self.history_tab)
        self.history_tab.ask_export()

    def change_password(self) -> None:
        from billing_desk.views.dialogs.change_password_dialog import open_change_password
        open_change_password(self, self.ctx)

    # --- remembered state ---------------------------------------------------------------
    def _restore_state(self) -> None:
        settings = self.ctx.settings
        geometry = settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 820)
        last = settings.value("window/tab", 0)
        self.tabs.setCurrentIndex(int(last) if str(last).isdigit() else 0)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.ctx.settings.setValue("window/geometry", self.saveGeometry())
        self.ctx.settings.setValue("window/tab", self.tabs.currentIndex())
        for page in self.tab_pages:
            page.save_state()
        self.ctx.settings.sync()
        super().closeEvent(event)

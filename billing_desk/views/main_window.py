"""The main window: only builds and wires. The top row (the workspaces this person may open,
the search, the staff member's menu), the workspaces under it (``views/workspaces.py``: the
customer desk for everyone, and each role's own), the database at the foot, and the keyboard
shortcuts, which work wherever focus is in the window."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QTabWidget, QVBoxLayout, QWidget

from billing_desk.services.customers import CustomerDTO
from billing_desk.views.base_tab import CustomerTab
from billing_desk.views.context import ViewContext
from billing_desk.views.credit_history_tab import CreditHistoryTab
from billing_desk.views.customers_workspace import TAB_ORDER, CustomersWorkspace
from billing_desk.views.dialogs.error_dialog import show_error
from billing_desk.views.formatting import tr
from billing_desk.views.shortcuts import WindowShortcuts
from billing_desk.views.vouchers_tab import VouchersTab
from billing_desk.views.widgets.customer_header import CustomerHeader
from billing_desk.views.widgets.focus_keeper import FocusKeeper
from billing_desk.views.widgets.search_box import SearchBox
from billing_desk.views.widgets.user_menu import UserMenu
from billing_desk.views.workspaces import WorkspaceSwitcher

__all__ = ["TAB_ORDER", "MainWindow", "database_label_text"]


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
        self.setObjectName("mainWindow")
        self.setWindowTitle(tr("Billing Desk"))
        self.workspaces = WorkspaceSwitcher(ctx)
        self.workspaces.created.connect(self._on_workspace_created)
        desk = self.workspaces.page("customers")
        assert isinstance(desk, CustomersWorkspace)
        self.customers = desk
        self._build(ctx)
        self._wire()
        self._restore_state()

    # The customer desk's parts, by the names the rest of the desk (and its tests) use.
    @property
    def search(self) -> SearchBox:
        return self.customers.search

    @property
    def header(self) -> CustomerHeader:
        return self.customers.header

    @property
    def tabs(self) -> QTabWidget:
        return self.customers.tabs

    @property
    def tab_pages(self) -> list[CustomerTab]:
        return self.customers.tab_pages

    @property
    def history_tab(self) -> CreditHistoryTab:
        return self.customers.history_tab

    @property
    def vouchers_tab(self) -> VouchersTab:
        return self.customers.vouchers_tab

    @property
    def customer(self) -> CustomerDTO | None:
        return self.customers.customer

    def _build(self, ctx: ViewContext) -> None:
        staff = UserMenu(ctx.actor)
        url = ctx.app.database.url  # already has the password masked
        several = len(self.workspaces.specs) > 1  # the workspace buttons take room in the top row
        database = QLabel(database_label_text(url))
        database.setObjectName("databaseLabel")
        database.setToolTip(tr("Connected to {url}").format(url=url))
        top = QHBoxLayout()
        top.addWidget(self.workspaces.bar)
        # Room for the short placeholder; more would keep the window wider than a 1024-px screen
        # with an admin's six workspace buttons.
        self.search.setMinimumWidth(200 if several else 320)
        top.addWidget(self.search, 1)
        top.addSpacing(16)
        top.addWidget(staff)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(top)
        layout.addWidget(self.workspaces, 1)
        self.setCentralWidget(central)
        # Which database this desk works on: at the foot of the window, out of the crowded top row.
        self.statusBar().addPermanentWidget(database)
        self.statusBar().setSizeGripEnabled(False)
        self.staff_label, self.database_label = staff, database

    def _wire(self) -> None:
        self.customers.customer_opened.connect(self._on_customer_opened)
        self.search.customer_chosen.connect(self.open_customer)  # from any workspace, into Customers
        self.staff_label.change_password_requested.connect(self.change_password)
        self.staff_label.log_out_requested.connect(self.log_out_requested.emit)
        self.staff_label.quit_requested.connect(self.close)
        self.focus_keeper = FocusKeeper(self)
        keys = self.shortcuts = WindowShortcuts(self)
        for spec in self.workspaces.specs:  # only those this person may open: Ctrl+2 is nothing for support
            keys.add(spec.shortcut, lambda key=spec.key: self.workspaces.show_workspace(key))
        keys.add(("Ctrl+K", "Ctrl+F"), self.focus_search)
        for i in range(len(self.tab_pages)):
            keys.add(f"Alt+{i + 1}", lambda i=i: self._customer_desk().tabs.setCurrentIndex(i))
        keys.add("Ctrl+T", lambda: self._customer_desk().add_credit())
        keys.add("Ctrl+U", lambda: self._customer_desk().add_voucher())
        keys.add("Ctrl+E", self.export_history)
        keys.add("F5", self.refresh_customer)
        keys.add("Ctrl+Q", self.close)  # the last window closing ends the application

    def _on_workspace_created(self, _key: str, widget: QWidget) -> None:
        asked = getattr(widget, "customer_requested", None)
        if asked is not None:
            asked.connect(self.open_customer)

    def _customer_desk(self) -> CustomersWorkspace:
        """The customer desk, brought to the front: its keys act on what the person then sees."""
        self.workspaces.show_workspace("customers")
        return self.customers

    def show_failure(self, error: BaseException) -> None:
        """The error dialog over this window: the default for operations with no failure callback."""
        show_error(self, error)

    def focus_search(self) -> None:
        self._customer_desk().focus_search()

    # --- the open customer -------------------------------------------------------------
    def open_customer(self, customer_id: int) -> None:
        """Open a customer in the Customers workspace (from anywhere: a payment's customer too)."""
        self._customer_desk().open_customer(customer_id)

    def refresh_customer(self) -> None:
        """F5: re-read what the current workspace shows (the open customer, the payments)."""
        refresh = getattr(self.workspaces.page(self.workspaces.current_key()), "refresh", None)
        if callable(refresh):
            refresh()

    def _on_customer_opened(self, customer: CustomerDTO) -> None:
        self.setWindowTitle(tr("Billing Desk — {name} ({account})").format(
            name=customer.name, account=customer.account))
        self.customer_opened.emit(customer)

    # --- dialogs ------------------------------------------------------------------------
    def add_credit(self) -> None:
        self.customers.add_credit()

    def add_voucher(self) -> None:
        self.customers.add_voucher()

    def export_history(self) -> None:
        """Ctrl+E: the open customer's credit history, or the payments in the Payments workspace."""
        export = getattr(self.workspaces.page(self.workspaces.current_key()), "export_excel", None)
        if callable(export):
            export()

    def change_password(self) -> None:
        from billing_desk.views.dialogs.change_password_dialog import open_change_password
        open_change_password(self, self.ctx)

    # --- remembered state ---------------------------------------------------------------
    def _restore_state(self) -> None:
        geometry = self.ctx.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 820)
        self.workspaces.restore()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.ctx.settings.setValue("window/geometry", self.saveGeometry())
        self.workspaces.save_state()
        self.ctx.settings.sync()
        super().closeEvent(event)

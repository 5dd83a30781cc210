"""Top-level workspaces: what a staff member works on, chosen at the top of the window.

Each workspace is one class (a QWidget with ``save_state()``), described once in ``WORKSPACES``
by a title, the permission that shows it, a shortcut and a factory. The main window asks
``WorkspaceSwitcher`` for the ones the logged-in person may see: support sees Customers only;
finance, managers and admins see Payments too. A new workspace (Vouchers, Plans, Staff, Audit)
is one class and one line here. A workspace's widget is built the first time it is shown
(Frescobaldi builds its panels on first use), so a desk that never opens Payments never runs
its queries. The last workspace shown is remembered per person in QSettings.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, cast

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QPushButton, QStackedWidget, QWidget

from billing_desk.domain.permissions import Permission
from billing_desk.views.context import ViewContext
from billing_desk.views.formatting import tr

SETTINGS_KEY = "window/workspace"


class Workspace(Protocol):
    """What the window asks of a workspace besides being a QWidget. It may also have a
    ``customer_requested(int)`` signal (open that customer in Customers), an ``export_excel()``
    method (what Ctrl+E exports there) and a ``refresh()`` method (what F5 re-reads)."""

    def save_state(self) -> None: ...


@dataclass(frozen=True)
class WorkspaceSpec:
    key: str  # remembered in QSettings; also the widget's object name stem
    title: str  # untranslated: shown through tr()
    shortcut: str
    factory: Callable[[ViewContext], QWidget]
    permission: Permission | None = None  # None: everyone
    tooltip: str = ""


def _customers(ctx: ViewContext) -> QWidget:
    from billing_desk.views.customers_workspace import CustomersWorkspace
    return CustomersWorkspace(ctx)


def _payments(ctx: ViewContext) -> QWidget:
    from billing_desk.views.finance.payments_workspace import PaymentsWorkspace
    return PaymentsWorkspace(ctx)


def _vouchers(ctx: ViewContext) -> QWidget:
    from billing_desk.views.vouchers.vouchers_workspace import VouchersWorkspace
    return VouchersWorkspace(ctx)


def _plans(ctx: ViewContext) -> QWidget:
    from billing_desk.views.catalog.plans_workspace import PlansWorkspace
    return PlansWorkspace(ctx)


def _staff(ctx: ViewContext) -> QWidget:
    from billing_desk.views.staff.staff_workspace import StaffWorkspace
    return StaffWorkspace(ctx)


def _audit(ctx: ViewContext) -> QWidget:
    from billing_desk.views.audit.audit_workspace import AuditWorkspace
    return AuditWorkspace(ctx)


WORKSPACES: tuple[WorkspaceSpec, ...] = (
    WorkspaceSpec("customers", "Customers", "Ctrl+1", _customers,
                  tooltip="One customer: search, balance, history, payments, vouchers, plans (Ctrl+1)"),
    WorkspaceSpec("payments", "Payments", "Ctrl+2", _payments, Permission.PAYMENT_REVIEW,
                  tooltip="Every payment across customers: review, reconcile, exceptions, month report (Ctrl+2)"),
    WorkspaceSpec("vouchers", "Vouchers", "Ctrl+3", _vouchers, Permission.VOUCHER_ISSUE,
                  tooltip="Voucher campaigns: issue codes, each campaign's funnel, revoke (Ctrl+3)"),
    WorkspaceSpec("plans", "Plans", "Ctrl+4", _plans, Permission.PLAN_MANAGE,
                  tooltip="The plans catalog: prices per currency, subscribers, add, edit, retire (Ctrl+4)"),
    WorkspaceSpec("staff", "Staff", "Ctrl+5", _staff, Permission.STAFF_MANAGE,
                  tooltip="Staff accounts: roles, disabling, passwords (Ctrl+5)"),
    WorkspaceSpec("audit", "Audit", "Ctrl+6", _audit, Permission.AUDIT_READ,
                  tooltip="The audit log of every staff write: filter, see before and after, verify, export (Ctrl+6)"),
)


class WorkspaceSwitcher(QWidget):
    """A row of buttons, one per workspace the person may see, over a stack of their widgets.

    The button row (``bar``) goes where the window wants it; this widget is the stack. With a
    single workspace the row is hidden: there is nothing to switch to.
    """

    switched = Signal(str)  # the key of the workspace now shown
    created = Signal(str, object)  # key, widget: a workspace was just built (the window wires it)

    def __init__(self, ctx: ViewContext, specs: tuple[WorkspaceSpec, ...] = WORKSPACES,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.specs = tuple(s for s in specs if s.permission is None or ctx.can(s.permission))
        self.stack = QStackedWidget(self)
        self.bar = QWidget()
        self.bar.setObjectName("workspaceBar")
        self.buttons = QButtonGroup(self)
        self._pages: dict[str, QWidget] = {}
        row = QHBoxLayout(self.bar)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        for i, spec in enumerate(self.specs):
            self.stack.addWidget(QWidget())  # a stand-in until first shown
            button = QPushButton(tr(spec.title))
            button.setObjectName(f"{spec.key}WorkspaceButton")
            button.setCheckable(True)
            button.setToolTip(tr(spec.tooltip))
            self.buttons.addButton(button, i)
            row.addWidget(button)
        self.bar.setVisible(len(self.specs) > 1)
        self.buttons.idClicked.connect(lambda i: self.show_workspace(self.specs[i].key))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

    def keys(self) -> list[str]:
        return [s.key for s in self.specs]

    def page(self, key: str) -> QWidget:
        """The workspace's widget, built now if it was not yet."""
        if key not in self._pages:
            i = self.keys().index(key)
            widget = self.specs[i].factory(self.ctx)
            widget.setObjectName(widget.objectName() or f"{key}Workspace")
            stand_in = self.stack.widget(i)
            self.stack.insertWidget(i, widget)
            self.stack.removeWidget(stand_in)
            stand_in.deleteLater()
            self._pages[key] = widget
            # Like everything alive once the window was built (app.keep_event_loop_responsive),
            # a workspace lives until the window closes: out of the collector's sight, so that a
            # worker's allocations do not start full collections that walk it holding the GIL.
            gc.freeze()
            self.created.emit(key, widget)
        return self._pages[key]

    def current_key(self) -> str:
        return self.specs[self.stack.currentIndex()].key

    def show_workspace(self, key: str) -> bool:
        """Bring ``key`` to the front; False (and nothing happens) if this person may not see it."""
        if key not in self.keys():
            return False
        widget = self.page(key)
        self.stack.setCurrentWidget(widget)
        self.buttons.button(self.keys().index(key)).setChecked(True)
        self.switched.emit(key)
        return True

    def restore(self) -> None:
        last = str(self.ctx.settings.value(SETTINGS_KEY, "") or "")
        self.show_workspace(last if last in self.keys() else self.specs[0].key)

    def save_state(self) -> None:
        self.ctx.settings.setValue(SETTINGS_KEY, self.current_key())
        for widget in self._pages.values():
            cast(Workspace, widget).save_state()

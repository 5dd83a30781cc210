"""What the six customer tabs share: the open customer, lazy loading, reloading on change.

A tab runs its first query when it is first shown (Frescobaldi's panels are built on first
use the same way), and after a change notice it reloads at once if visible, else the next
time it is shown.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QStackedLayout, QWidget

from billing_desk.domain.changes import Changes
from billing_desk.services.customers import CustomerDTO
from billing_desk.views.context import ViewContext


class Placeholder(QLabel):
    """Says what a tab will hold, until its content (or its customer) exists."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setObjectName("placeholder")
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)


class CustomerTab(QWidget):
    """Subclasses call ``set_content()`` once, implement ``reload()`` and may narrow ``wants()``."""

    stack: QStackedLayout

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.customer: CustomerDTO | None = None
        self._stale = True
        ctx.bus.changed.connect(self._on_bus_changed)

    # A tab whose content is the customer record itself (Settings) reloads when the main
    # window hands it a fresher record; the others reload on change notices only.
    reload_on_refreshed_customer = False

    def set_customer(self, customer: CustomerDTO | None) -> None:
        same = self.customer is not None and customer is not None and self.customer.id == customer.id
        self.customer = customer
        if same and not self.reload_on_refreshed_customer:
            return
        self.customer_changed(same)
        self._stale = True
        if self.isVisible():
            self._load()

    def set_content(self, content: QWidget, placeholder: str, *, scroll: bool = False) -> None:
        """Two pages: ``placeholder``, the whole sentence saying what the tab will show once a
        customer is open, and ``content`` (shown whenever a customer is open). ``scroll`` for
        a tall form: it scrolls on a small screen instead of holding the window taller than
        the screen (not for stretching content such as a chart, which a scroll area would
        grow to its preferred height)."""
        self.stack = QStackedLayout(self)
        self.stack.addWidget(Placeholder(placeholder))
        if scroll:
            area = QScrollArea()
            area.setWidgetResizable(True)
            area.setFrameShape(QFrame.Shape.NoFrame)
            area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            area.setWidget(content)
            content = area
        self.stack.addWidget(content)

    def save_state(self) -> None:
        """Hook: remember per-person UI state (column widths) when the window closes."""

    def is_open(self, customer_id: int) -> bool:
        """An answer may arrive after another customer was opened: then it is dropped."""
        return self.customer is not None and self.customer.id == customer_id

    def customer_changed(self, same_customer: bool) -> None:
        """Hook: reset filters etc. when another customer opens."""

    def wants(self, changes: Changes) -> bool:
        return True

    def reload(self) -> None:
        raise NotImplementedError

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self._load()

    def _load(self) -> None:
        self._stale = False
        self.stack.setCurrentIndex(0 if self.customer is None else 1)
        self.reload()

    def _on_bus_changed(self, changes: Changes, _initiator: object) -> None:
        if self.customer is None or not changes.touches(self.customer.id) or not self.wants(changes):
            return
        self._stale = True
        if self.isVisible():
            self._load()


"""The customer search box with its results popup and recent customers.

As the agent types, the newest text is searched in the task runner; while one search runs,
later keystrokes only update the wanted text, and the search that finishes starts the next
one if the text moved on. So there is never a queue of stale searches and the last
keystroke is answered as soon as the previous search returns. Up/Down move in the popup,
Enter opens, Escape closes. With an empty box the popup lists recently opened customers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import QLineEdit, QListWidget, QListWidgetItem, QWidget

from billing_desk.domain.errors import BillingDeskError
from billing_desk.domain.permissions import Actor
from billing_desk.services.customers import CustomerMatch
from billing_desk.views.context import ViewContext
from billing_desk.views.formatting import tr

RECENT_MAX = 10
ID_ROLE = Qt.ItemDataRole.UserRole + 1
# The ways a person moves into the box; focus the program moves (a dialog closing, a widget
# disabling itself) does not open the recent customers.
PERSON_FOCUS = (Qt.FocusReason.MouseFocusReason, Qt.FocusReason.TabFocusReason,
                Qt.FocusReason.BacktabFocusReason, Qt.FocusReason.ShortcutFocusReason)


def recent_key(actor: Actor) -> str:
    """Where this staff member's recent customers are kept. Staff share a machine (and so its
    QSettings), and one agent's recent customers are nobody else's business; the id stays
    the same if an account is renamed."""
    who = actor.staff_id if actor.staff_id is not None else actor.name
    return f"search/recent/{who}"


@dataclass(frozen=True, slots=True)
class RecentCustomer:
    id: int
    account: str
    name: str

    def encode(self) -> str:
        return f"{self.id}\t{self.account}\t{self.name}"

    @classmethod
    def decode(cls, text: str) -> RecentCustomer | None:
        parts = str(text).split("\t")
        if len(parts) != 3 or not parts[0].isdigit():
            return None
        return cls(int(parts[0]), parts[1], parts[2])


class SearchBox(QLineEdit):
    customer_chosen = Signal(int)
    results_shown = Signal(int)  # number of rows in the popup, after each search (tests wait on it)

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("searchBox")
        # Short enough to fit the box at 1024 px; the tooltip has the whole list.
        self.setPlaceholderText(tr("Find a customer (Ctrl+K)"))
        self.setToolTip(tr("Search customers by account, name, email, company, tax code, payment reference or a "
                           "voucher's last four characters (Ctrl+K)"))
        self.setClearButtonEnabled(True)
        self.popup = QListWidget()
        self.popup.setObjectName("searchPopup")
        self.popup.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.popup.itemClicked.connect(self._on_popup_item_clicked)
        self.popup.hide()
        self._busy = False
        self._searched: str | None = None
        self.textEdited.connect(self._on_text_edited)
        self.installEventFilter(self)

    # --- searching -------------------------------------------------------------------
    def _on_text_edited(self, text: str) -> None:
        if not text.strip():
            self.show_recent()
            return
        if not self._busy:
            self._start(text)

    def _start(self, text: str) -> None:
        self._busy = True
        self._searched = text
        customers = self.ctx.app.customers
        actor = self.ctx.actor
        run: Callable[[], list[CustomerMatch]] = lambda: customers.find(actor, text, 12)  # noqa: E731
        self.ctx.query(run, self._on_results).failure(self._on_failed).run()

    def _on_results(self, matches: list[CustomerMatch]) -> None:
        self._busy = False
        current = self.text()
        if current.strip() and current != self._searched:
            self._start(current)  # the agent kept typing: answer the newest text
            return
        if not current.strip():
            return
        self._fill([(m.id, f"{m.name}   {m.account}",
                     tr("{email} · {country} · matched {what}").format(email=m.email, country=m.country,
                                                                     what=m.matched)) for m in matches],
                   tr("No customer matches '{q}'.").format(q=current.strip()))

    def _on_failed(self, error: BaseException) -> None:
        self._busy = False
        text = error.message if isinstance(error, BillingDeskError) else tr("Search failed; try again.")
        self._fill([], text)

    # --- the popup --------------------------------------------------------------------
    def _fill(self, rows: list[tuple[int, str, str]], empty_text: str) -> None:
        self.popup.clear()
        for cid, title, detail in rows:
            item = QListWidgetItem(f"{title}\n{detail}")
            item.setData(ID_ROLE, cid)
            self.popup.addItem(item)
        if not rows:
            item = QListWidgetItem(empty_text)
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.popup.addItem(item)
        else:
            self.popup.setCurrentRow(0)
        self._place_popup()
        self.results_shown.emit(len(rows))

    def _place_popup(self) -> None:
        window = self.window()
        if self.popup.parent() is not window:
            self.popup.setParent(window)  # a child, not a separate window: no focus stealing
        pos = self.mapTo(window, QPoint(0, self.height()))
        rows = max(1, min(self.popup.count(), 8))
        # As wide as its widest match (the search box is narrower beside the workspace buttons),
        # never past the window's right edge.
        widest = self.popup.sizeHintForColumn(0) + 2 * self.popup.frameWidth() + 24
        width = min(max(self.width(), 420, widest), window.width() - pos.x() - 8)
        self.popup.setGeometry(pos.x(), pos.y() + 2, width, rows * 44 + 8)
        self.popup.show()
        self.popup.raise_()

    def hide_popup(self) -> None:
        self.popup.hide()

    def recent(self) -> list[RecentCustomer]:
        values = self.ctx.settings.value(recent_key(self.ctx.actor), []) or []
        if isinstance(values, str):
            values = [values]
        return [r for v in values if (r := RecentCustomer.decode(v)) is not None]

    def remember(self, customer: RecentCustomer) -> None:
        kept = [r for r in self.recent() if r.id != customer.id]
        self.ctx.settings.setValue(recent_key(self.ctx.actor), [r.encode() for r in [customer, *kept][:RECENT_MAX]])

    def show_recent(self) -> None:
        recent = self.recent()
        self._fill([(r.id, f"{r.name}   {r.account}", tr("recently opened")) for r in recent],
                   tr("Recently opened customers will be listed here."))

    def _choose(self, item: QListWidgetItem | None) -> None:
        if item is None or item.data(ID_ROLE) is None:
            return
        self.hide_popup()
        self.customer_chosen.emit(int(item.data(ID_ROLE)))

    def _on_popup_item_clicked(self, item: QListWidgetItem) -> None:
        self._choose(item)

    # --- keys -------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self and isinstance(event, QFocusEvent) and event.type() == QEvent.Type.FocusIn \
                and event.reason() in PERSON_FOCUS and not self.text().strip():
            # Next turn of the loop: focus that only passes through (a button disabling itself
            # hands it on, see FocusKeeper) has moved on by then and opens nothing.
            QTimer.singleShot(0, self._show_recent_if_focused)
        elif watched is self and event.type() == QEvent.Type.FocusOut:
            self.hide_popup()
        return super().eventFilter(watched, event)

    def _show_recent_if_focused(self) -> None:
        if self.hasFocus() and not self.text().strip():
            self.show_recent()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.popup.count():
            if not self.popup.isVisible():
                self._place_popup()
            step = 1 if key == Qt.Key.Key_Down else -1
            row = min(max(self.popup.currentRow() + step, 0), self.popup.count() - 1)
            self.popup.setCurrentRow(row)
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self.popup.isVisible():
                self._choose(self.popup.currentItem())
            return
        if key == Qt.Key.Key_Escape:
            self.hide_popup()
            return
        super().keyPressEvent(event)

"""Keeps focus where the person was when a button disables itself while it works.

Qt moves focus off a widget that becomes disabled to the next one in the tab chain, which
from Refresh status or Export Excel wraps round to the search box: its recent-customers list
then popped over the header although nobody asked for it. Here focus is parked on the
button's parent instead (which nothing reacts to), and handed back to the button when it is
enabled again, unless the person has gone elsewhere in the meantime.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget


class FocusKeeper(QObject):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._parked: tuple[QAbstractButton, QWidget] | None = None
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_app_focus_changed)

    def _on_app_focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        if self._parking(old, new):
            return
        if (isinstance(old, QAbstractButton) and not old.isEnabled() and old.window() is self._window
                and new is not None and new.window() is self._window):
            holder = old.parentWidget() or self._window
            self._parked = (old, holder)
            old.installEventFilter(self)
            holder.setFocus()

    def _parking(self, old: QWidget | None, new: QWidget | None) -> bool:
        """True while our own parking move is reported; any other move ends the parking."""
        if self._parked is None:
            return False
        holder = self._parked[1]
        if new is holder:
            return True
        if old is holder:  # the person (or the program) chose a new place: leave it there
            self._release()
        return False

    def _release(self) -> None:
        if self._parked is not None:
            self._parked[0].removeEventFilter(self)
            self._parked = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.EnabledChange and self._parked is not None
                and watched is self._parked[0] and self._parked[0].isEnabled()):
            button, holder = self._parked
            self._release()
            if holder.hasFocus():
                button.setFocus()
        return False

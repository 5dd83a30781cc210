"""The main window's keyboard shortcuts, and the filter that keeps child widgets from eating them.

Qt asks the focused widget first (a ``ShortcutOverride`` event) whether it wants a key itself;
a line edit says yes to Ctrl+E, Ctrl+K and Ctrl+U on Linux (the Emacs-style end of line,
delete to end, delete to start), and a date edit or an editable combo box says so through its
inner line edit. So Ctrl+E did nothing in a date field and Ctrl+U nothing in the voucher code
field. The desk's own keys are documented as working wherever focus is in the window, so for
exactly those keys the override is refused before the widget sees it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QWidget


def key_of(event: QKeyEvent) -> QKeySequence:
    return QKeySequence(event.keyCombination())


class WindowShortcuts(QObject):
    """Shortcuts on one window, each firing wherever focus is inside that window."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._keys: set[str] = set()
        app = QApplication.instance()
        if app is not None:  # a child of the window: Qt drops the filter when the window goes
            app.installEventFilter(self)

    def add(self, keys: str | Iterable[str], slot: Callable[[], object]) -> None:
        for key in [keys] if isinstance(keys, str) else keys:
            shortcut = QShortcut(QKeySequence(key), self._window, slot)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            self._keys.add(QKeySequence(key).toString(QKeySequence.SequenceFormat.PortableText))

    def owns(self, event: QKeyEvent) -> bool:
        return key_of(event).toString(QKeySequence.SequenceFormat.PortableText) in self._keys

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.ShortcutOverride and isinstance(watched, QWidget)
                and watched.window() is self._window and isinstance(event, QKeyEvent) and self.owns(event)):
            event.ignore()  # not overridden: the shortcut map delivers the key to our QShortcut
            return True
        return False

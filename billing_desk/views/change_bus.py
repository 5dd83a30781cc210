"""The change bus: after a committed write, a typed notice of what changed.

Each tab listens and decides for itself whether it must reload (after Anki's
``operation_did_execute``); tabs never call each other. A notice names the customers
touched and which areas changed, so the Plans tab ignores a voucher redemption of another
customer, and so on.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from billing_desk.domain.changes import Changes


class ChangeBus(QObject):
    """``changed(changes, initiator)`` is emitted in the GUI thread after each committed write."""

    changed = Signal(object, object)

    def publish(self, changes: Changes, initiator: object = None) -> None:
        self.changed.emit(changes, initiator)

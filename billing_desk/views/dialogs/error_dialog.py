"""The error dialog: an error's title and words (``error_text``) in a non-blocking message box."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from billing_desk.domain.errors import BillingDeskError
from billing_desk.views.error_text import error_message, error_title


def show_error(parent: QWidget | None, error: BaseException) -> QMessageBox:
    """Non-blocking (tests and the event loop keep running); returns the box for tests."""
    box = QMessageBox(QMessageBox.Icon.Warning if isinstance(error, BillingDeskError) else QMessageBox.Icon.Critical,
                      error_title(error), error_message(error), QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorDialog")
    box.setModal(True)
    box.open()
    return box

"""Small pieces the forms share: the red reason shown beside a field, and a password field."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QLineEdit


def field_error(name: str) -> QLabel:
    """An empty label for the reason a field is refused (styled by ``#fieldError``), wrapping."""
    label = QLabel()
    label.setObjectName("fieldError")
    label.setAccessibleName(name)
    label.setWordWrap(True)
    return label


def password_edit(name: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit

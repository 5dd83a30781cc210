"""Asks why, and is the confirmation: the action's button stays disabled until a reason is typed
(the reason goes to the audit log with the action)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from billing_desk.views.formatting import tr


class ReasonDialog(QDialog):
    def __init__(self, title: str, question: str, action: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reasonDialog")
        self.setWindowTitle(title)
        text = QLabel(question)
        text.setWordWrap(True)
        self.reason_edit = QLineEdit()
        self.reason_edit.setObjectName("reasonEdit")
        self.reason_edit.setPlaceholderText(tr("Why (required, kept in the audit log)"))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.action_button = self.buttons.addButton(action, QDialogButtonBox.ButtonRole.AcceptRole)
        self.action_button.setEnabled(False)
        self.reason_edit.textChanged.connect(lambda t: self.action_button.setEnabled(bool(t.strip())))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(QLabel(tr("Reason")))
        layout.addWidget(self.reason_edit)
        layout.addWidget(self.buttons)
        self.resize(480, 0)

    def reason(self) -> str:
        return self.reason_edit.text().strip()

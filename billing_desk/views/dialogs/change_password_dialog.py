"""Change password: the current password and the new one twice, checked and saved by the staff
service off the GUI thread (Argon2 takes a moment on purpose), audited there."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from billing_desk.domain.errors import ValidationError
from billing_desk.views.context import ViewContext
from billing_desk.views.error_text import error_message
from billing_desk.views.formatting import tr
from billing_desk.views.widgets.form_fields import password_edit


class ChangePasswordDialog(QDialog):
    password_changed = Signal()
    refused = Signal(str)

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("changePasswordDialog")
        self.setWindowTitle(tr("Change password — {name}").format(name=ctx.actor.name))
        self.ctx = ctx
        self.current_edit = password_edit("currentPassword")
        self.new_edit = password_edit("newPassword")
        self.repeat_edit = password_edit("repeatPassword")
        self.message = QLabel()
        self.message.setObjectName("fieldError")
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("Change password"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(tr("Current password"), self.current_edit)
        form.addRow(tr("New password"), self.new_edit)
        form.addRow(tr("New password again"), self.repeat_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.current_edit.setFocus()
        self.setMinimumWidth(420)

    def submit(self) -> None:
        current, new = self.current_edit.text(), self.new_edit.text()
        if new != self.repeat_edit.text():
            self._refuse(ValidationError(tr("The two new passwords differ; type the same one twice."),
                                         field="repeat_password"))
            return
        self.buttons.setEnabled(False)
        self.message.setText(tr("Checking…"))
        staff, actor = self.ctx.app.staff, self.ctx.actor
        self.ctx.query(lambda: staff.change_password(actor, current, new), self._on_changed
                       ).failure(self._refuse).run()

    def _on_changed(self, _none: None) -> None:
        self.password_changed.emit()
        self.accept()

    def _refuse(self, error: BaseException) -> None:
        self.buttons.setEnabled(True)
        field = getattr(error, "field", None)
        edit = self.current_edit if field in (None, "current_password") else self.new_edit
        if edit is self.new_edit:
            self.repeat_edit.clear()
        edit.selectAll()
        edit.setFocus()
        text = error_message(error)
        self.message.setText(text)
        self.refused.emit(text)


def open_change_password(parent: QWidget, ctx: ViewContext) -> ChangePasswordDialog:
    dialog = ChangePasswordDialog(ctx, parent)
    dialog.open()
    return dialog

"""The login dialog: staff name and password, checked by the staff service off the GUI thread
(Argon2 takes a noticeable moment on purpose)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from billing_desk.domain.permissions import Actor
from billing_desk.views.error_text import error_message
from billing_desk.views.formatting import tr
from billing_desk.views.tasks import QueryOp, TaskRunner

if TYPE_CHECKING:
    from billing_desk.bootstrap import App


class LoginDialog(QDialog):
    logged_in = Signal(object)  # Actor
    login_failed = Signal(str)

    def __init__(self, app: App, runner: TaskRunner, database_url: str, last_user: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("loginDialog")
        self.setWindowTitle(tr("Billing Desk — log in"))
        self._app = app
        self._runner = runner
        self.actor: Actor | None = None
        self.name_edit = QLineEdit(last_user)
        self.name_edit.setObjectName("loginName")
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("loginPassword")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = QLabel()
        self.message.setObjectName("fieldError")
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("Log in"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(tr("Staff name"), self.name_edit)
        form.addRow(tr("Password"), self.password_edit)
        database = QLabel(tr("Database: {url}").format(url=database_url))
        database.setObjectName("databaseLabel")
        database.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(database)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        (self.password_edit if last_user else self.name_edit).setFocus()
        self.setMinimumWidth(440)

    def submit(self) -> None:
        name, password = self.name_edit.text().strip(), self.password_edit.text()
        if not name or not password:
            self._fail(tr("Enter your staff name and password."))
            return
        self.buttons.setEnabled(False)
        self.message.setText(tr("Checking…"))
        staff = self._app.staff
        QueryOp(self._runner, lambda: staff.authenticate(name, password), self._on_success
                ).failure(self._on_failure).run()

    def _on_success(self, actor: Actor) -> None:
        self.actor = actor
        self.logged_in.emit(actor)
        self.accept()

    def _on_failure(self, error: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.password_edit.clear()
        self.password_edit.setFocus()
        self._fail(error_message(error))

    def _fail(self, text: str) -> None:
        self.message.setText(text)
        self.login_failed.emit(text)

"""One dialog for the three staff forms: add a staff member (name, role, password twice),
change a role, and set a new password (twice).

A new password is checked as typed by the staff service's own rule (``check_new_password``: at
least 12 characters, not among the most common), and the two copies must match, each reason
beside its field; the service checks again, permissions first, and audits the write.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QVBoxLayout, QWidget

from billing_desk.domain.changes import Changes
from billing_desk.domain.enums import Role
from billing_desk.domain.errors import ValidationError
from billing_desk.services.staff import MIN_PASSWORD, StaffDTO, check_new_password
from billing_desk.views.context import ViewContext
from billing_desk.views.error_text import error_message
from billing_desk.views.formatting import tr
from billing_desk.views.widgets.form_fields import field_error, password_edit

ROLE_LABELS = {"support": "Support", "finance": "Finance", "manager": "Manager", "admin": "Admin"}


class StaffForm(Enum):
    ADD = "add"
    ROLE = "role"
    PASSWORD = "password"


class StaffFormDialog(QDialog):
    saved = Signal(object)  # the StaffDTO (or None after a password change)
    refused = Signal(str)

    def __init__(self, ctx: ViewContext, form: StaffForm, member: StaffDTO | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("staffFormDialog")
        self.ctx, self.form, self.member = ctx, form, member
        self.setWindowTitle({StaffForm.ADD: tr("Add a staff member"),
                             StaffForm.ROLE: tr("Change the role of {name}"),
                             StaffForm.PASSWORD: tr("Set a new password for {name}")}[form].format(
            name=member.name if member else ""))
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("staffName")
        self.name_edit.setPlaceholderText(tr("login name without spaces, e.g. ana"))
        self.role_combo = QComboBox()
        self.role_combo.setObjectName("staffRole")
        for role in Role:
            self.role_combo.addItem(tr(ROLE_LABELS[role.value]), role.value)
        if member is not None:
            self.role_combo.setCurrentIndex(self.role_combo.findData(member.role))
        self.password_edit = password_edit("staffPassword")
        self.password_edit.setPlaceholderText(tr("at least {n} characters, not a common one").format(n=MIN_PASSWORD))
        self.repeat_edit = password_edit("staffPasswordRepeat")
        self.errors = {key: field_error(f"{key}Error") for key in ("name", "role", "password", "repeat_password")}
        self.message = field_error("formError")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.password_edit.textChanged.connect(lambda _t: self._check_passwords(final=False))
        self.repeat_edit.textChanged.connect(lambda _t: self._check_passwords(final=False))
        self._lay_out()
        self.setMinimumWidth(560)

    def _lay_out(self) -> None:
        form = QFormLayout()
        rows: list[tuple[str, QWidget, str]] = []
        if self.form is StaffForm.ADD:
            rows.append((tr("Name"), self.name_edit, "name"))
        if self.form in (StaffForm.ADD, StaffForm.ROLE):
            rows.append((tr("Role"), self.role_combo, "role"))
        if self.form in (StaffForm.ADD, StaffForm.PASSWORD):
            rows += [(tr("Password"), self.password_edit, "password"),
                     (tr("Password again"), self.repeat_edit, "repeat_password")]
        for label, widget, key in rows:
            form.addRow(label, widget)
            form.addRow("", self.errors[key])
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def _check_passwords(self, *, final: bool) -> bool:
        """Show why the password will not do, beside its field; ``final`` also flags an empty repeat."""
        if self.form is StaffForm.ROLE:
            return True
        password, repeat = self.password_edit.text(), self.repeat_edit.text()
        ok = True
        try:
            if password or final:
                check_new_password(password)
            self.errors["password"].clear()
        except ValidationError as refused:
            self.errors["password"].setText(refused.message)
            ok = False
        if password != repeat and (final or repeat):
            self.errors["repeat_password"].setText(tr("The two passwords differ; type the same one twice."))
            ok = False
        else:
            self.errors["repeat_password"].clear()
        self._fit()
        return ok

    def _fit(self) -> None:
        """Grow to show a reason that wraps to more lines (a dialog keeps its size once shown)."""
        self.layout().activate()
        wanted = max(self.sizeHint().height(), self.layout().totalHeightForWidth(self.width()))
        if wanted > self.height():
            self.resize(self.width(), wanted)

    def _operation(self) -> Callable[[], StaffDTO | None]:
        staff, actor, member = self.ctx.app.staff, self.ctx.actor, self.member
        name, role, password = self.name_edit.text(), str(self.role_combo.currentData()), self.password_edit.text()
        if self.form is StaffForm.ADD:
            return lambda: staff.add(actor, name, role, password)
        assert member is not None
        if self.form is StaffForm.ROLE:
            return lambda: staff.set_role(actor, member.name, role)

        def set_password() -> None:
            staff.set_password(actor, member.name, password)
        return set_password

    def submit(self) -> None:
        self.message.clear()
        if not self._check_passwords(final=True):
            self.message.setText(tr("Correct the fields marked above; nothing was saved."))
            self.refused.emit(self.message.text())
            return
        self.save_button.setEnabled(False)
        self.ctx.write(self._operation(), lambda _r: Changes(), self._on_saved).failure(self._on_failed).run()

    def _on_saved(self, result: StaffDTO | None) -> None:
        self.saved.emit(result)
        self.accept()

    def _on_failed(self, error: BaseException) -> None:
        self.save_button.setEnabled(True)
        text = error_message(error)
        field = getattr(error, "field", None) or ""
        (self.errors[field] if field in self.errors and self._shows(field) else self.message).setText(text)
        self._fit()
        self.refused.emit(text)

    def _shows(self, field: str) -> bool:
        return {"name": self.form is StaffForm.ADD, "role": self.form is not StaffForm.PASSWORD}.get(
            field, self.form is not StaffForm.ROLE)

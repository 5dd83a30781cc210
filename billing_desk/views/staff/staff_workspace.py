"""The Staff workspace (admins; STAFF_MANAGE): every staff account with its role, whether it is
disabled, its failed log-in attempts (and the last one) and any lock-out in force.

Add, Change role and Set password open ``StaffFormDialog``; Disable asks first, Enable does not.
The staff service enforces the rules (only admins; nobody disables themselves; the last enabled
admin is neither disabled nor demoted) and audits every write; a refusal is shown as it words it.
A last successful log-in is not stored (staff_users has no column for it), so it is not shown.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from billing_desk.domain.changes import Changes
from billing_desk.domain.permissions import Actor
from billing_desk.services.staff import StaffDTO, StaffService
from billing_desk.views.context import ViewContext
from billing_desk.views.dialogs.error_dialog import show_error
from billing_desk.views.formatting import AMOUNT_ALIGN, NEGATIVE, local_time, tr
from billing_desk.views.record_list import RecordList
from billing_desk.views.staff.staff_form_dialog import ROLE_LABELS, StaffForm, StaffFormDialog
from billing_desk.views.table_models.paged_model import Column

TABLE_KEY = "staff_accounts"


def _when(value: datetime | None) -> str:
    return local_time(value) if value else "—"


def staff_columns() -> list[Column]:
    return [
        Column("name", tr("Name"), lambda s: s.name, width=160),
        Column("role", tr("Role"), lambda s: tr(ROLE_LABELS.get(s.role, s.role)), width=100),
        Column("state", tr("State"), lambda s: tr("Disabled") if s.disabled else tr("Active"),
               color=lambda s: NEGATIVE if s.disabled else None, width=90),
        Column("last_login", tr("Last log-in"), lambda s: _when(s.last_login_at), width=150),
        Column("failed", tr("Failed attempts"), lambda s: str(s.failed_logins), AMOUNT_ALIGN, numeric=True,
               sort_key=lambda s: s.failed_logins, width=130),
        Column("last_failed", tr("Last failed log-in"), lambda s: _when(s.last_failed_at), width=150),
        Column("locked", tr("Locked until"), lambda s: _when(s.locked_until), width=150),
        Column("created", tr("Added"), lambda s: local_time(s.created_at), width=150, stretch=True),
    ]


class StaffWorkspace(RecordList):
    changed = Signal(object)  # a StaffDTO just written (or None after a password)

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, staff_columns(), TABLE_KEY, "staffTable", parent)
        self.setObjectName("staffWorkspace")
        self.add_button = self.button(tr("Add staff…"), "addStaff", self.add_member, primary=True)
        self.role_button = self.button(tr("Change role…"), "changeRole", self.change_role)
        self.toggle_button = self.button(tr("Disable…"), "toggleDisabled", self.toggle_disabled)
        self.password_button = self.button(tr("Set password…"), "setPassword", self.set_password)
        self.form: StaffFormDialog | None = None
        self.confirm_box: QMessageBox | None = None
        self.lay_out([self.add_button, self.role_button, self.toggle_button, self.password_button])
        self.reload()

    def source(self) -> Callable[[], list[StaffDTO]]:
        staff, actor = self.ctx.app.staff, self.ctx.actor
        return lambda: staff.list(actor)

    def summary(self) -> str:
        members = self.members()
        return tr("{n} staff accounts, {disabled} disabled.").format(
            n=len(members), disabled=sum(m.disabled for m in members))

    def members(self) -> list[StaffDTO]:
        return self.rows()

    def select_name(self, name: str) -> None:
        self.select_where(lambda m: m.name == name)

    def on_selection(self) -> None:
        member: StaffDTO | None = self.selected()
        for button in (self.role_button, self.toggle_button, self.password_button):
            button.setEnabled(member is not None)
        self.toggle_button.setText(tr("Enable") if member is not None and member.disabled else tr("Disable…"))

    # -- writes -------------------------------------------------------------------------
    def _open(self, form: StaffForm, member: StaffDTO | None) -> None:
        dialog = StaffFormDialog(self.ctx, form, member, self)
        done = {StaffForm.ADD: tr("Added {name}."), StaffForm.ROLE: tr("Role of {name} changed."),
                StaffForm.PASSWORD: tr("Password of {name} set.")}[form]
        dialog.saved.connect(lambda dto: self._on_written(
            dto, done.format(name=dto.name if dto else member.name if member else "")))
        self.form = dialog  # kept for tests, and so it is not collected while open
        dialog.open()

    def add_member(self) -> None:
        self._open(StaffForm.ADD, None)

    def change_role(self) -> None:
        if (member := self.selected()) is not None:
            self._open(StaffForm.ROLE, member)

    def set_password(self) -> None:
        if (member := self.selected()) is not None:
            self._open(StaffForm.PASSWORD, member)

    def toggle_disabled(self) -> None:
        member: StaffDTO | None = self.selected()
        if member is None:
            return
        if member.disabled:
            self._write(lambda staff, actor: staff.enable(actor, member.name), tr("Enabled {name}."), member)
            return
        box = QMessageBox(QMessageBox.Icon.Question, tr("Disable staff member?"),
                          tr("Disable {name}? They can no longer log in until an admin enables them again; "
                             "what they did stays in the audit log.").format(name=member.name),
                          QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel, self)
        box.button(QMessageBox.StandardButton.Ok).setText(tr("Disable"))
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.accepted.connect(lambda: self._write(lambda staff, actor: staff.disable(actor, member.name),
                                                 tr("Disabled {name}."), member))
        self.confirm_box = box
        box.open()

    def _write(self, op: Callable[[StaffService, Actor], StaffDTO], done: str, member: StaffDTO) -> None:
        staff, actor = self.ctx.app.staff, self.ctx.actor
        self.ctx.write(lambda: op(staff, actor), lambda _r: Changes(),
                       lambda dto: self._on_written(dto, done.format(name=member.name))
                       ).failure(lambda e: show_error(self, e)).run()

    def _on_written(self, dto: StaffDTO | None, note: str) -> None:
        self.note(note)
        self.reload()  # staff changes have no area on the change bus: this page is the only reader
        self.changed.emit(dto)

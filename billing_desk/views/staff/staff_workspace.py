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
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QLabel, QMessageBox, QPushButton, QVBoxLayout, QWidget

from billing_desk.domain.changes import Changes
from billing_desk.domain.permissions import Actor
from billing_desk.services.staff import StaffDTO, StaffService
from billing_desk.views.context import ViewContext
from billing_desk.views.dialogs.error_dialog import show_error
from billing_desk.views.formatting import AMOUNT_ALIGN, NEGATIVE, local_time, tr
from billing_desk.views.staff.staff_form_dialog import ROLE_LABELS, StaffForm, StaffFormDialog
from billing_desk.views.table_models.paged_model import ROW_ROLE, Column, PagedTableModel
from billing_desk.views.table_models.view_state import data_table, save_columns

TABLE_KEY = "staff_accounts"


def _when(value: datetime | None) -> str:
    return local_time(value) if value else "—"


def staff_columns() -> list[Column]:
    return [
        Column("name", tr("Name"), lambda s: s.name, width=160),
        Column("role", tr("Role"), lambda s: tr(ROLE_LABELS.get(s.role, s.role)), width=100),
        Column("state", tr("State"), lambda s: tr("Disabled") if s.disabled else tr("Active"),
               color=lambda s: NEGATIVE if s.disabled else None, width=90),
        Column("failed", tr("Failed attempts"), lambda s: str(s.failed_logins), AMOUNT_ALIGN, numeric=True,
               sort_key=lambda s: s.failed_logins, width=130),
        Column("last_failed", tr("Last failed log-in"), lambda s: _when(s.last_failed_at), width=150),
        Column("locked", tr("Locked until"), lambda s: _when(s.locked_until), width=150),
        Column("created", tr("Added"), lambda s: local_time(s.created_at), width=150, stretch=True),
    ]


class StaffWorkspace(QWidget):
    loaded = Signal(int)
    changed = Signal(object)  # a StaffDTO just written (or None after a password)

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("staffWorkspace")
        self.ctx = ctx
        self.model = PagedTableModel(ctx.runner, staff_columns())
        self.model.load_failed.connect(lambda e: show_error(self, e))
        self.model.page_loaded.connect(self._on_loaded)
        self.table = data_table(self.model, ctx.settings, TABLE_KEY, name="staffTable")
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.status_label = QLabel()
        self.status_label.setObjectName("statusLabel")
        self.add_button = self._button(tr("Add staff…"), "addStaff", self.add_member, primary=True)
        self.role_button = self._button(tr("Change role…"), "changeRole", self.change_role)
        self.toggle_button = self._button(tr("Disable…"), "toggleDisabled", self.toggle_disabled)
        self.password_button = self._button(tr("Set password…"), "setPassword", self.set_password)
        self.form: StaffFormDialog | None = None
        self.confirm_box: QMessageBox | None = None
        self._note: str | None = None
        self._build()
        self._on_selection()
        self.reload()

    def _button(self, text: str, name: str, slot: object, primary: bool = False) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName("primaryButton" if primary else name)
        button.setAccessibleName(name)
        button.clicked.connect(slot)
        return button

    def _build(self) -> None:
        bar = QHBoxLayout()
        bar.addWidget(self.status_label, 1)
        for button in (self.add_button, self.role_button, self.toggle_button, self.password_button):
            bar.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)

    # -- loading ------------------------------------------------------------------------
    def reload(self) -> None:
        staff, actor = self.ctx.app.staff, self.ctx.actor
        self.status_label.setText(tr("Loading…"))
        self.model.set_source(lambda _after, _limit: (staff.list(actor), None))  # a staff is a few dozen

    refresh = reload  # F5

    def _on_loaded(self, count: int) -> None:
        members = self.members()
        disabled = sum(m.disabled for m in members)
        listed = tr("{n} staff accounts, {disabled} disabled.").format(n=count, disabled=disabled)
        note, self._note = self._note, None
        self.status_label.setText(f"{note} {listed}" if note else listed)
        self._on_selection()
        self.loaded.emit(count)

    def members(self) -> list[StaffDTO]:
        return [self.model.row(i) for i in range(self.model.rowCount())]

    def selected(self) -> StaffDTO | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.data(rows[0], ROW_ROLE) if rows else None

    def select_name(self, name: str) -> None:
        for i, member in enumerate(self.members()):
            if member.name == name:
                self.table.selectRow(i)

    def _on_selection(self, *_args: object) -> None:
        member = self.selected()
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
        member = self.selected()
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
        self._note = note
        self.reload()
        self.changed.emit(dto)

    def save_state(self) -> None:
        save_columns(self.table, self.ctx.settings, TABLE_KEY)

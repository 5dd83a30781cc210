"""The Audit workspace (managers and admins; AUDIT_READ): the hash-chained log of every staff
write, newest first and keyset-paged, under a filter bar (staff, action, customer, local days),
with the chosen row in full beside the table (its before and after values), Verify (the whole
chain checked in the task runner, with progress and Cancel, naming the first broken row) and
Export Excel (the filtered rows in a child process, formula-safe, itself audited).

It only composes: the filter bar (widgets/audit_filters.py), the table model
(table_models/audit_model.py) and the detail (audit_detail.py) are their own classes.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelection, QStandardPaths, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from billing_desk.domain.changes import Changes
from billing_desk.domain.errors import Cancelled
from billing_desk.domain.permissions import Permission
from billing_desk.services.audit import AuditFilters, AuditVerification
from billing_desk.services.ledger import ExportResult
from billing_desk.views.audit.audit_detail import AuditDetail
from billing_desk.views.audit.audit_model import AuditModel
from billing_desk.views.context import ViewContext
from billing_desk.views.dialogs.error_dialog import show_error
from billing_desk.views.formatting import set_style_flag, tr
from billing_desk.views.table_models.paged_model import keyset_source
from billing_desk.views.table_models.view_state import data_table, save_columns
from billing_desk.views.widgets.audit_filters import AuditFilterBar
from billing_desk.views.widgets.customer_header import role_tooltip
from billing_desk.views.widgets.icons import button_icon
from billing_desk.views.widgets.task_progress import TaskProgress

TABLE_KEY = "auditLog"


class AuditWorkspace(QWidget):
    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("auditWorkspace")
        self.ctx = ctx
        self.filters_bar = AuditFilterBar()
        self.model = AuditModel(ctx.runner)
        self.table = data_table(self.model, ctx.settings, TABLE_KEY, name="auditTable", row_height=24)
        self.detail = AuditDetail()
        self.status_label = QLabel()
        self.status_label.setObjectName("statusLabel")
        self.status_label.setWordWrap(True)
        self.verify_result = QLabel()
        self.verify_result.setObjectName("auditVerifyResult")
        self.verify_result.setWordWrap(True)
        self.verify_result.hide()
        self.progress = TaskProgress(_rows_done, _rows_done(10_000_000, 10_000_000))
        self.verify_button = QPushButton(tr("Verify chain"))
        self.verify_button.setObjectName("auditVerifyButton")
        self.verify_button.setToolTip(tr("Check every row's hash and its link to the row before it"))
        self.export_button = QPushButton(button_icon("export"), tr("Export Excel"))
        self.export_button.setObjectName("auditExportButton")
        self.can_export = ctx.can(Permission.EXPORT)
        self.export_button.setEnabled(self.can_export)
        self.export_button.setToolTip(role_tooltip(ctx.actor, Permission.EXPORT,
                                                   tr("Save the filtered rows as an Excel workbook (Ctrl+E)")))
        self._filters = AuditFilters()
        self.last_verification: AuditVerification | None = None
        self._stale = True
        self._build()
        self._wire()

    def _build(self) -> None:
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([680, 360])  # the detail wide enough for an address before and after
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.progress)
        bottom.addWidget(self.verify_button)
        bottom.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filters_bar)
        layout.addWidget(self.verify_result)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(bottom)

    def _wire(self) -> None:
        self.filters_bar.changed.connect(self._on_filters_changed)
        self.model.load_failed.connect(self._on_load_failed)
        self.model.page_loaded.connect(self._on_page_loaded)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.verify_button.clicked.connect(self.verify)
        self.export_button.clicked.connect(self.ask_export)
        self.ctx.bus.changed.connect(self._on_bus_changed)

    # --- loading --------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()

    def refresh(self) -> None:
        """F5."""
        self.reload()

    def reload(self) -> None:
        self._stale = False
        audit, actor = self.ctx.app.audit, self.ctx.actor
        self.ctx.query(lambda: audit.staff_names(actor), self.filters_bar.set_staff).run()
        self.ctx.query(lambda: audit.actions(actor), self.filters_bar.set_actions).run()
        self._requery()

    def _on_filters_changed(self, filters: AuditFilters) -> None:
        self._filters = filters
        self._requery()

    def _requery(self) -> None:
        audit, actor, filters = self.ctx.app.audit, self.ctx.actor, self._filters
        self.detail.show_row(None)
        self.model.set_source(keyset_source(lambda after, limit: audit.page(actor, filters, after, limit)))

    def _on_page_loaded(self, _added: int) -> None:
        rows = self.model.rowCount()
        self.status_label.setText(tr("No audit row matches this filter.") if rows == 0 else
                                  tr("{rows} rows shown, newest first; scroll for more.").format(rows=f"{rows:,}")
                                  if self.model.canFetchMore() else
                                  tr("{rows} rows, newest first.").format(rows=f"{rows:,}"))

    def _on_load_failed(self, error: BaseException) -> None:
        if getattr(error, "field", None) is not None or type(error).__name__ == "NotFound":
            self.filters_bar.show_problem(error)
        else:
            show_error(self, error)

    def _on_bus_changed(self, _changes: Changes, _initiator: object) -> None:
        # Every staff write appends a row, so any change makes the log stale.
        self._stale = True
        if self.isVisible():
            self.reload()

    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = self.table.selectionModel().selectedRows()
        self.detail.show_row(self.model.row(rows[0].row()) if rows else None)

    # --- verify ---------------------------------------------------------------------------
    def verify(self) -> None:
        if self.progress.busy:
            return
        audit, actor = self.ctx.app.audit, self.ctx.actor
        progress, token = self.progress.start(tr("Reading the chain…"), _rows_checked)
        self._busy(True)
        self.ctx.query(lambda: audit.verify(actor, progress=progress, cancel=token), self._on_verified,
                       long=True).failure(self._on_verify_failed).run()

    def _busy(self, busy: bool) -> None:
        self.verify_button.setEnabled(not busy)
        self.export_button.setEnabled(self.can_export and not busy)

    def _on_verified(self, result: AuditVerification) -> None:
        self.progress.finish()
        self._busy(False)
        self.last_verification = result
        if result.ok:
            text = tr("Audit chain intact: {rows} rows checked.").format(rows=f"{result.checked:,}")
        elif result.broken_id is not None:
            text = tr("Audit chain broken at row {id}: {problem}. The {rows} rows before it are intact.").format(
                id=result.broken_id, problem=result.problem, rows=f"{result.checked:,}")
        else:
            text = tr("Audit chain broken: {problem} ({rows} rows checked).").format(
                problem=result.problem, rows=f"{result.checked:,}")
        self.verify_result.setText(text)
        set_style_flag(self.verify_result, "invalid", not result.ok)
        self.verify_result.show()

    def _on_verify_failed(self, error: BaseException) -> None:
        self.progress.finish()
        self._busy(False)
        if isinstance(error, Cancelled):
            self.verify_result.setText(error.message)
            self.verify_result.show()
        else:
            show_error(self, error)

    # --- export ---------------------------------------------------------------------------
    def export_excel(self) -> None:
        """Ctrl+E."""
        self.ask_export()

    def ask_export(self) -> None:
        if not self.export_button.isEnabled():
            return
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        path, _ = QFileDialog.getSaveFileName(self, tr("Export the audit log"), str(Path(folder) / "audit.xlsx"),
                                              tr("Excel workbook (*.xlsx);;CSV (*.csv)"))
        if path:
            self.export_to(path)

    def export_to(self, path: str) -> None:
        """In a child process (the context's exporter), like the other exports."""
        if self.progress.busy or not self.can_export:
            return
        exporter, actor, filters = self.ctx.exporter, self.ctx.actor, self._filters
        progress, token = self.progress.start(tr("Counting rows…"), _rows_done)
        self._busy(True)
        self.ctx.query(lambda: exporter.export_audit(actor, filters, path, None, progress, token),
                       self._on_exported, long=True).failure(self._on_export_failed).run()

    def _on_exported(self, result: ExportResult) -> None:
        self.progress.finish()
        self._busy(False)
        self.status_label.setText(tr("Exported {rows} audit rows to {path}").format(
            rows=f"{result.rows:,}", path=result.path))

    def _on_export_failed(self, error: BaseException) -> None:
        self.progress.finish()
        self._busy(False)
        if isinstance(error, Cancelled):
            self.status_label.setText(error.message)
        else:
            show_error(self, error)

    def save_state(self) -> None:
        self.progress.cancel()
        save_columns(self.table, self.ctx.settings, TABLE_KEY)


def _rows_done(done: int, total: int) -> str:
    return tr("{done} of {total} rows").format(done=f"{done:,}", total=f"{total:,}")


def _rows_checked(done: int, total: int) -> str:
    return tr("{done} of {total} rows checked").format(done=f"{done:,}", total=f"{total:,}")

"""Credit History tab: the customer's credit transactions, paged from the database, with
filters, the count and sum for the filter, and Export Excel with a progress bar and Cancel.

A filter change re-queries (a proxy model would only filter the rows already loaded). The
first page is shown before the count and sum, which may take longer on a huge history.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from billing_desk.domain.changes import Changes
from billing_desk.domain.errors import Cancelled
from billing_desk.domain.permissions import Permission
from billing_desk.services.ledger import ExportResult, HistoryFilter, HistoryTotals
from billing_desk.views.base_tab import CustomerTab
from billing_desk.views.context import ViewContext
from billing_desk.views.dialogs.error_dialog import show_error
from billing_desk.views.formatting import money_text, tr
from billing_desk.views.table_models.credit_history_model import CreditHistoryModel
from billing_desk.views.table_models.paged_model import keyset_source
from billing_desk.views.table_models.view_state import data_table, save_columns
from billing_desk.views.tasks import CancelToken, Progress
from billing_desk.views.widgets.customer_header import role_tooltip
from billing_desk.views.widgets.history_filters import HistoryFilterBar
from billing_desk.views.widgets.icons import button_icon


class CreditHistoryTab(CustomerTab):
    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.filters = HistoryFilterBar()
        self.model = CreditHistoryModel(ctx.runner)
        self.table = data_table(self.model, ctx.settings, "creditHistory", name="creditHistoryTable", row_height=26)
        self.totals_label = QLabel()
        self.totals_label.setObjectName("statusLabel")
        self.export_button = QPushButton(button_icon("export"), tr("Export Excel"))
        self.export_button.clicked.connect(self.ask_export)
        self.progress = QProgressBar()
        self.progress.hide()
        # Wide enough for the longest text it will show, so it is never cut off.
        widest = _rows_done(10_000_000, 10_000_000)
        self.progress.setMinimumWidth(self.progress.fontMetrics().horizontalAdvance(widest) + 48)
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel_export)
        self._token: CancelToken | None = None
        self._export_progress: Progress | None = None
        self._totals_for: HistoryFilter | None = None
        self._build()
        self.filters.changed.connect(self._on_filters_changed)
        self.model.load_failed.connect(lambda e: show_error(self, e))
        allowed = ctx.can(Permission.HISTORY_EXPORT)
        self.export_button.setEnabled(allowed)
        self.export_button.setToolTip(role_tooltip(ctx.actor, Permission.HISTORY_EXPORT,
                                                   tr("Save the filtered history as an Excel workbook (Ctrl+E)")))

    def _build(self) -> None:
        bottom = QHBoxLayout()
        bottom.addWidget(self.totals_label, 1)
        bottom.addWidget(self.progress)
        bottom.addWidget(self.cancel_button)
        bottom.addWidget(self.export_button)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(self.filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self.set_content(content, tr("Find a customer with the search box above (Ctrl+K) to see their "
                                     "credit transactions here."))

    def wants(self, changes: Changes) -> bool:
        return changes.balance

    def customer_changed(self, same_customer: bool) -> None:
        if not same_customer:
            self.filters.reset()

    def reload(self) -> None:
        if self.customer is None:
            self.model.set_source(None)
            return
        ledger = self.ctx.app.ledger
        self.ctx.query(lambda: ledger.services(self.ctx.actor), self.filters.set_services).run()
        self._requery(self.filters.current())

    def _on_filters_changed(self, flt: HistoryFilter) -> None:
        if self.customer is not None:
            self._requery(flt)

    def _requery(self, flt: HistoryFilter) -> None:
        ledger, actor, cid = self.ctx.app.ledger, self.ctx.actor, self.customer.id  # type: ignore[union-attr]
        self.model.set_source(keyset_source(lambda after, limit: ledger.history_page(actor, cid, flt, after, limit)))
        self.totals_label.setText(tr("Counting…"))
        self._totals_for = flt
        self.ctx.query(lambda: ledger.history_totals(actor, cid, flt),
                       lambda t: self._show_totals(flt, t)).failure(lambda e: show_error(self, e)).run()

    def _show_totals(self, flt: HistoryFilter, totals: HistoryTotals) -> None:
        if flt is not self._totals_for:
            return  # totals of a filter that has since changed
        count = f"{totals.count:,}"
        if totals.total is None:
            text = tr("{count} transactions").format(count=count)
        else:
            text = tr("{count} transactions  ·  net {sum} (successful rows)").format(
                count=count, sum=money_text(totals.total))
        self.totals_label.setText(text)

    # --- export ---------------------------------------------------------------------------
    def ask_export(self) -> None:
        if self.customer is None or not self.export_button.isEnabled():
            return
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        suggested = str(Path(folder) / f"credit-history-{self.customer.account}.xlsx")
        path, _ = QFileDialog.getSaveFileName(self, tr("Export credit history"), suggested,
                                              tr("Excel workbook (*.xlsx);;CSV (*.csv)"))
        if path:
            self.export_to(path)

    def export_to(self, path: str) -> None:
        if self.customer is None or self._token is not None:
            return
        # A child process writes the file (the context's exporter): in a thread of this process
        # it would hold the GIL against the GUI thread for the whole export (issue 6).
        exports = self.ctx.exporter
        actor, cid, flt = self.ctx.actor, self.customer.id, self.filters.current()
        token, progress = CancelToken(), Progress(self)
        progress.changed.connect(self._on_export_progress)
        self._token, self._export_progress = token, progress
        self._set_exporting(True)
        self.ctx.query(lambda: exports.export_credit_history(actor, cid, flt, path, None, progress, token),
                       self._on_exported, long=True).failure(self._on_export_failed).run()

    def cancel_export(self) -> None:
        if self._token is not None:
            self._token.cancel()
            self.cancel_button.setEnabled(False)

    def _on_export_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(_rows_done(done, total))

    def _set_exporting(self, busy: bool) -> None:
        if busy:  # nothing of the last export's figures: busy until this one reports its own total
            self.progress.setRange(0, 0)
            self.progress.setFormat(tr("Counting rows…"))
        self.progress.setVisible(busy)
        self.progress.setValue(0)
        self.cancel_button.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        self.export_button.setEnabled(not busy and self.ctx.can(Permission.HISTORY_EXPORT))
        if not busy:
            self._token = None
            if self._export_progress is not None:  # one reporter per export, not one per export kept for ever
                self._export_progress.deleteLater()
                self._export_progress = None

    def _on_exported(self, result: ExportResult) -> None:
        self._set_exporting(False)
        self.totals_label.setText(tr("Exported {rows} rows to {path}").format(rows=f"{result.rows:,}",
                                                                           path=result.path))

    def _on_export_failed(self, error: BaseException) -> None:
        self._set_exporting(False)
        if isinstance(error, Cancelled):
            self.totals_label.setText(error.message)
        else:
            show_error(self, error)

    def save_state(self) -> None:
        self.cancel_export()
        save_columns(self.table, self.ctx.settings, "creditHistory")


def _rows_done(done: int, total: int) -> str:
    return tr("{done} of {total} rows").format(done=f"{done:,}", total=f"{total:,}")

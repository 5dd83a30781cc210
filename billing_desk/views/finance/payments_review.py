"""Payments review (finance): every payment across customers, newest first, keyset-paged.

The filter bar re-queries the database (page one, then the totals); clicking the Date or
Amount header asks the service for that order. Under the table: the totals for the filter per
currency and status (never adding two currencies), and the daily charts per gateway. Export
Excel writes the filtered payments in a child process with progress and Cancel; Reconcile
pending asks the gateways (``reconcile_control``). Double-click or Enter opens the payment's
story; the customer column offers to open the customer in the Customers workspace.

Every query runs in the task runner; an answer for a filter or order that has since changed
is dropped on arrival, so fast typing never shows stale figures.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, QPoint, QStandardPaths, Qt, Signal
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from billing_desk.domain.changes import Changes
from billing_desk.domain.errors import Cancelled
from billing_desk.domain.permissions import Permission
from billing_desk.services.ledger import ExportResult
from billing_desk.services.payments import PaymentDaily, PaymentFilters, PaymentRow, PaymentSort, PaymentTotals
from billing_desk.views.context import ViewContext
from billing_desk.views.dialogs.error_dialog import show_error
from billing_desk.views.finance.payment_story_dialog import open_payment_story
from billing_desk.views.finance.reconcile_control import ReconcileButton
from billing_desk.views.formatting import AMOUNT_ALIGN, MUTED, money_text, tabular_font, tr
from billing_desk.views.table_models.paged_model import ROW_ROLE, keyset_source
from billing_desk.views.table_models.payment_model import STATUS_COLORS, status_label
from billing_desk.views.table_models.payment_review_model import (
    PaymentReviewModel,
    indicator_for,
    sort_for,
)
from billing_desk.views.table_models.view_state import data_table, save_columns
from billing_desk.views.widgets.customer_header import role_tooltip
from billing_desk.views.widgets.icons import button_icon
from billing_desk.views.widgets.payment_charts import PaymentCharts
from billing_desk.views.widgets.payment_filters import PaymentFilterBar
from billing_desk.views.widgets.task_progress import TaskProgress

CUSTOMER_COLUMN = 1
STATUS_ORDER = ("success", "pending", "failed")


class _ReviewTable(QTableView):
    """Enter opens the current payment's story, as a double-click does."""

    activated_row = Signal(int)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.activated_row.emit(self.currentIndex().row())
            return
        super().keyPressEvent(event)


class TotalsTable(QTableWidget):
    """One row per currency and status under the filter: count and sum. Currencies are never
    added together; a narrow table (not a line of text) so many currencies never widen the window."""

    HEADERS = ("Currency", "Status", "Count", "Amount")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.HEADERS), parent)
        self.setObjectName("paymentTotals")
        self.setHorizontalHeaderLabels([tr(h) for h in self.HEADERS])
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(22)
        self.setFont(tabular_font(self.font()))
        for column, width in enumerate((74, 68, 52)):
            self.setColumnWidth(column, width)
        self.horizontalHeader().setStretchLastSection(True)  # the amount: "412,350,000 ₫" whole
        self.setMinimumWidth(330)
        self.setMaximumWidth(400)

    def show_totals(self, totals: PaymentTotals | None) -> None:
        order = {s: i for i, s in enumerate(STATUS_ORDER)}
        lines = sorted(totals.lines, key=lambda t: (t.currency, order.get(t.status, 9))) if totals else []
        self.setRowCount(len(lines))
        for row, line in enumerate(lines):
            cells = (line.currency, status_label(line.status), f"{line.count:,}", money_text(line.amount))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column >= 2:
                    item.setTextAlignment(AMOUNT_ALIGN)
                if column == 1:
                    item.setForeground(STATUS_COLORS.get(line.status, MUTED))
                self.setItem(row, column, item)


class PaymentsReview(QWidget):
    customer_requested = Signal(int)  # open this customer in the Customers workspace

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paymentsReview")
        self.ctx = ctx
        self.sort = PaymentSort.NEWEST
        self.filters_bar = PaymentFilterBar()
        self.model = PaymentReviewModel(ctx.runner)
        self.table = self._table()
        self.totals_table = TotalsTable()
        self.totals_label = QLabel(tr("Counting…"))
        self.totals_label.setObjectName("figureCaption")
        self.totals: PaymentTotals | None = None
        self.charts = PaymentCharts()
        self.status_label = QLabel()
        self.status_label.setObjectName("statusLabel")
        self.status_label.setWordWrap(True)
        self.progress = TaskProgress(_rows_done, _rows_done(10_000_000, 10_000_000))
        self.export_button = QPushButton(button_icon("export"), tr("Export Excel"))
        self.export_button.clicked.connect(self.ask_export)
        self.can_export = ctx.can(Permission.EXPORT)
        self.export_button.setEnabled(self.can_export)
        self.export_button.setToolTip(role_tooltip(ctx.actor, Permission.EXPORT,
                                                   tr("Save the filtered payments as an Excel workbook (Ctrl+E)")))
        self.reconcile_button = ReconcileButton(ctx, self.progress, self._current_filters, self.selected_ids)
        self._filters: PaymentFilters | None = PaymentFilters()
        self._totals_for: object = None
        self._stale = True
        self._build()
        self._wire()

    def _table(self) -> _ReviewTable:
        review = data_table(self.model, self.ctx.settings, "paymentReview", name="paymentReviewTable",
                            row_height=26, view=_ReviewTable())
        review.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        header = review.horizontalHeader()
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        column, order = indicator_for(self.sort)
        header.setSortIndicator(column, order)
        review.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        assert isinstance(review, _ReviewTable)
        return review

    def _build(self) -> None:
        lower = QWidget()
        below = QHBoxLayout(lower)
        below.setContentsMargins(0, 4, 0, 0)
        frame = QFrame()
        frame.setObjectName("totalsFrame")
        box = QVBoxLayout(frame)
        box.setContentsMargins(0, 0, 8, 0)
        box.addWidget(self.totals_label)
        box.addWidget(self.totals_table, 1)
        below.addWidget(frame)
        below.addWidget(self.charts, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(lower)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([600, 400])  # the table first; the figures below, dragged taller at will
        self.splitter.setChildrenCollapsible(True)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.progress)
        bottom.addWidget(self.reconcile_button)
        bottom.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filters_bar)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(bottom)

    def _wire(self) -> None:
        self.filters_bar.changed.connect(self._on_filters_changed)
        self.model.load_failed.connect(self._on_load_failed)
        self.table.horizontalHeader().sortIndicatorChanged.connect(self._on_sort_clicked)
        self.table.doubleClicked.connect(self._on_double_clicked)
        self.table.activated_row.connect(self.open_story)
        self.table.customContextMenuRequested.connect(self._on_context_menu)
        self.charts.period_changed.connect(lambda _d: self.load_charts())
        self.reconcile_button.said.connect(self.status_label.setText)
        self.ctx.bus.changed.connect(self._on_bus_changed)

    # --- loading --------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()

    def reload(self) -> None:
        """Page one and the totals of the current filter, the staff list and the charts."""
        self._stale = False
        payments, actor = self.ctx.app.payments, self.ctx.actor
        self.ctx.query(lambda: payments.staff_who_started(actor), self.filters_bar.set_staff).run()
        self._requery()
        self.load_charts()

    def _current_filters(self) -> PaymentFilters | None:
        return self._filters

    def _on_filters_changed(self, filters: PaymentFilters) -> None:
        self._filters = filters
        self._requery()

    def _requery(self, *, totals: bool = True) -> None:
        filters, sort = self._filters, self.sort
        if filters is None:
            return
        payments, actor = self.ctx.app.payments, self.ctx.actor
        self.model.set_source(keyset_source(
            lambda after, limit: payments.list_payments(actor, filters, after, limit, sort)))
        if not totals:
            return
        self._totals_for = filters
        self.totals_label.setText(tr("Counting…"))
        self.ctx.query(lambda: payments.totals(actor, filters),
                       lambda t: self._show_totals(filters, t)).failure(self._on_load_failed).run()

    def _show_totals(self, filters: PaymentFilters, totals: PaymentTotals) -> None:
        if filters is not self._totals_for:
            return  # totals of a filter that has since changed
        self.totals = totals
        count = sum(t.count for t in totals.lines)
        self.totals_label.setText(tr("Totals for this filter: {count} payments").format(count=f"{count:,}")
                                  if count else tr("No payment matches this filter."))
        self.totals_table.show_totals(totals)

    def load_charts(self) -> None:
        payments, actor, days = self.ctx.app.payments, self.ctx.actor, self.charts.days()
        self.ctx.query(lambda: payments.daily_figures(actor, days), self._show_daily).run()

    def _show_daily(self, data: PaymentDaily) -> None:
        if len(data.days) == self.charts.days():
            self.charts.show_daily(data)

    def _on_load_failed(self, error: BaseException) -> None:
        """A filter the service refuses (an unknown customer account) is shown beside the bar."""
        if getattr(error, "field", None) is not None or type(error).__name__ == "NotFound":
            self.filters_bar.show_problem(error)
            self.totals_label.setText("")
            self.totals_table.show_totals(None)
        else:
            show_error(self, error)

    def _on_bus_changed(self, changes: Changes, _initiator: object) -> None:
        if not changes.payments:
            return
        self._stale = True
        if self.isVisible():
            self.reload()

    # --- sorting --------------------------------------------------------------------------
    def _on_sort_clicked(self, column: int, order: Qt.SortOrder) -> None:
        sort = sort_for(column, order)
        header = self.table.horizontalHeader()
        if sort is None:  # only Date and Amount sort: put the arrow back where the order is
            header.blockSignals(True)
            header.setSortIndicator(*indicator_for(self.sort))
            header.blockSignals(False)
            return
        if sort != self.sort:
            self.sort = sort
            self._requery(totals=False)  # the same rows in another order: same totals

    def set_sort(self, sort: PaymentSort) -> None:
        self.table.horizontalHeader().setSortIndicator(*indicator_for(sort))

    # --- rows -----------------------------------------------------------------------------
    def selected_rows(self) -> list[PaymentRow]:
        return [self.model.data(i, ROW_ROLE) for i in self.table.selectionModel().selectedRows()]

    def selected_ids(self) -> list[int]:
        return [r.id for r in self.selected_rows()]

    def open_story(self, row: int) -> None:
        payment = self.model.row(row)
        open_payment_story(self, self.ctx, payment.id)

    def _on_double_clicked(self, index: QModelIndex) -> None:
        if index.column() == CUSTOMER_COLUMN:
            self._offer_customer(index)
        else:
            self.open_story(index.row())

    def _offer_customer(self, index: QModelIndex) -> None:
        rect = self.table.visualRect(index)
        self._row_menu(index.row()).popup(self.table.viewport().mapToGlobal(rect.bottomLeft()))

    def _on_context_menu(self, at: QPoint) -> None:
        index = self.table.indexAt(at)
        if index.isValid():
            self._row_menu(index.row()).popup(self.table.viewport().mapToGlobal(at))

    def _row_menu(self, row: int) -> QMenu:
        payment: PaymentRow = self.model.row(row)
        menu = QMenu(self)
        menu.setObjectName("paymentRowMenu")
        menu.addAction(tr("Open {name} ({account}) in Customers").format(
            name=payment.customer_name, account=payment.customer_account),
            lambda: self.customer_requested.emit(payment.customer_id))
        menu.addAction(tr("Show payment {id}'s story").format(id=payment.id), lambda: self.open_story(row))
        self.row_menu = menu  # kept for tests and so it is not collected while shown
        return menu

    # --- export ---------------------------------------------------------------------------
    def ask_export(self) -> None:
        if not self.export_button.isEnabled() or self._filters is None:
            return
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        path, _ = QFileDialog.getSaveFileName(self, tr("Export payments"), str(Path(folder) / "payments.xlsx"),
                                              tr("Excel workbook (*.xlsx);;CSV (*.csv)"))
        if path:
            self.export_to(path)

    def export_to(self, path: str) -> None:
        """In a child process (the context's exporter), like the credit history export."""
        if self._filters is None or self.progress.busy or not self.can_export:
            return
        exporter, actor, filters, sort = self.ctx.exporter, self.ctx.actor, self._filters, self.sort
        progress, token = self.progress.start(tr("Counting rows…"), _rows_done)
        self.export_button.setEnabled(False)
        self.reconcile_button.setEnabled(False)
        self.ctx.query(lambda: exporter.export_payments(actor, filters, sort, path, None, progress, token),
                       self._on_exported, long=True).failure(self._on_export_failed).run()

    def _export_done(self) -> None:
        self.progress.finish()
        self.export_button.setEnabled(self.can_export)
        self.reconcile_button.setEnabled(self.reconcile_button.allowed)

    def _on_exported(self, result: ExportResult) -> None:
        self._export_done()
        self.status_label.setText(tr("Exported {rows} payments to {path}").format(
            rows=f"{result.rows:,}", path=result.path))

    def _on_export_failed(self, error: BaseException) -> None:
        self._export_done()
        if isinstance(error, Cancelled):
            self.status_label.setText(error.message)
        else:
            show_error(self, error)

    def save_state(self) -> None:
        self.progress.cancel()
        save_columns(self.table, self.ctx.settings, "paymentReview")


def _rows_done(done: int, total: int) -> str:
    return tr("{done} of {total} rows").format(done=f"{done:,}", total=f"{total:,}")

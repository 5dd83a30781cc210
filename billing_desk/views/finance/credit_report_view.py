"""Finance's Month report: the credit owed at a month's end, proved from the ledger and from
the balances, laid out as a statement, with usage per service and settled top-ups per gateway
and day, and an Excel export.

The report reads the whole ledger (seconds at ten million rows), so it and its export run on
the task runner's long-work pool: the window stays responsive and page queries elsewhere do not
queue behind it. The export writes the report on screen, not a new one.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, QStandardPaths, Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from billing_desk.domain.dates import local_zone
from billing_desk.domain.enums import PaymentMethod
from billing_desk.domain.money import Money, format_money
from billing_desk.domain.permissions import Permission
from billing_desk.services.ledger import ExportResult, MonthReport
from billing_desk.views.context import ViewContext
from billing_desk.views.dialogs.error_dialog import show_error
from billing_desk.views.formatting import AMOUNT_ALIGN, NEGATIVE, POSITIVE, add_currency_items, tabular_font, tr

COLUMNS = ("topup", "voucher", "total")


def _gateway(method: str) -> str:
    try:
        return PaymentMethod(method).label
    except ValueError:  # a gateway this desk no longer offers: its stored name
        return method


def _row() -> tuple[QWidget, QHBoxLayout]:
    """A row as a widget owning its layout. Parentless layouts nested with addLayout crashed
    PySide6 here (a layout pass reached a child layout whose Python wrapper had been freed)."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    return row, layout


def _paint(label: QLabel, colour: QColor | None) -> None:
    """The label's text colour (None: the default). Through the palette: the weight and the
    colour are set once per label and never through a style sheet, since re-weighting a font
    with tabular digits on a shown label crashed PySide6 (segfault while repainting)."""
    palette = QPalette()
    if colour is not None:
        palette.setColor(QPalette.ColorRole.WindowText, colour)
    label.setPalette(palette)


def last_complete_month(today: date | None = None) -> date:
    today = today or datetime.now(local_zone()).date()
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def _line_labels() -> dict[str, str]:
    return {"opening": tr("Opening outstanding credit"), "topups": tr("+ Top-ups settled"),
            "voucher_granted": tr("+ Voucher credit granted"), "promotions": tr("+ Promotions"),
            "usage": tr("− Usage"), "plan_charges": tr("− Plan charges"), "adjustments": tr("± Adjustments"),
            "voucher_expired": tr("− Voucher credit expired"), "closing": tr("Closing outstanding credit")}


LINE_KEYS = ("opening", "topups", "voucher_granted", "promotions", "usage", "plan_charges", "adjustments",
             "voucher_expired", "closing")


class CreditReportView(QWidget):
    report_shown = Signal(object)  # the MonthReport now on screen
    exported = Signal(object)  # the ExportResult of a finished export

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.report: MonthReport | None = None
        self.month_edit = QDateEdit()
        self.month_edit.setDisplayFormat("yyyy-MM")
        first = last_complete_month()
        self.month_edit.setDate(QDate(first.year, first.month, 1))
        self.currency_box = QComboBox()
        self.currency_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.run_button = QPushButton(tr("Run"))
        self.run_button.setDefault(True)
        self.export_button = QPushButton(tr("Export Excel…"))
        self.status = QLabel(tr("Choose a month and a currency, then Run."))
        self.figures: dict[str, QLabel] = {}  # "opening.topup", "usage.total", ...: the statement's cells
        self.balances_label, self.difference_label = self._figure(), self._figure(bold=True)
        self.check_label = QLabel()
        self.check_label.setWordWrap(True)
        bold = self.check_label.font()
        bold.setBold(True)
        self.check_label.setFont(bold)
        self.usage_table = self._table((tr("Service"), tr("Usage")))
        self.gateway_table = self._table((tr("Settled on"), tr("Gateway"), tr("Count"), tr("Amount")))
        self._build()
        self.run_button.clicked.connect(self.run)
        self.export_button.clicked.connect(self.ask_export)
        self.run_button.setEnabled(False)
        self.export_button.setEnabled(False)
        self._load_currencies()

    # --- layout ---------------------------------------------------------------------------
    def _figure(self, *, bold: bool = False) -> QLabel:
        label = QLabel("—")
        font = tabular_font(label.font())
        font.setBold(bold)
        label.setFont(font)
        label.setAlignment(AMOUNT_ALIGN)
        return label

    def _table(self, headers: tuple[str, ...]) -> QTableWidget:
        table = QTableWidget(0, len(headers))
        table.setHorizontalHeaderLabels(list(headers))
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        return table

    def _build(self) -> None:
        bar_row, bar = _row()
        for caption, widget in ((tr("Month"), self.month_edit), (tr("Currency"), self.currency_box)):
            bar.addWidget(QLabel(caption))
            bar.addWidget(widget)
        bar.addWidget(self.run_button)
        bar.addStretch(1)
        bar.addWidget(self.export_button)
        top_row, top = _row()
        top.addWidget(self._statement_box(), 3)
        top.addWidget(self._check_box(), 2)
        usage = QGroupBox(tr("Usage by service"))
        QVBoxLayout(usage).addWidget(self.usage_table)
        gateways = QGroupBox(tr("Settled top-ups by gateway and day"))
        QVBoxLayout(gateways).addWidget(self.gateway_table)
        tables_row, tables = _row()
        tables.addWidget(usage, 1)
        tables.addWidget(gateways, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(bar_row)
        layout.addWidget(self.status)
        layout.addWidget(top_row)
        layout.addWidget(tables_row, 1)

    def _statement_box(self) -> QGroupBox:
        box = QGroupBox(tr("Statement: credit owed to customers"))
        grid = QGridLayout(box)
        grid.setHorizontalSpacing(24)  # amounts of nine digits and more stay apart
        for col, caption in enumerate((tr("Top-up credit"), tr("Voucher credit"), tr("Total")), start=1):
            header = QLabel(caption)
            header.setAlignment(AMOUNT_ALIGN)
            header.setObjectName("figureCaption")
            grid.addWidget(header, 0, col)
        labels = _line_labels()
        for row, key in enumerate(LINE_KEYS, start=1):
            name = QLabel(labels[key])
            strong = key in ("opening", "closing")
            if strong:
                font = name.font()
                font.setBold(True)
                name.setFont(font)
            grid.addWidget(name, row, 0)
            for col, part in enumerate(COLUMNS, start=1):
                cell = self._figure(bold=strong)
                self.figures[f"{key}.{part}"] = cell
                grid.addWidget(cell, row, col)
        grid.setColumnStretch(0, 1)
        return box

    def _check_box(self) -> QGroupBox:
        box = QGroupBox(tr("Check against the balances"))
        grid = QGridLayout(box)
        grid.addWidget(QLabel(tr("Customer balances at month end")), 0, 0)
        grid.addWidget(self.balances_label, 0, 1)
        grid.addWidget(QLabel(tr("Difference")), 1, 0)
        grid.addWidget(self.difference_label, 1, 1)
        grid.addWidget(self.check_label, 2, 0, 1, 2)
        grid.setRowStretch(3, 1)
        return box

    # --- queries --------------------------------------------------------------------------
    def _load_currencies(self) -> None:
        ledger, actor = self.ctx.app.ledger, self.ctx.actor
        if not self.ctx.can(Permission.CREDIT_REPORT):
            self.status.setText(tr("Your role does not include the month-end credit report."))
            return
        self.ctx.query(lambda: ledger.report_currencies(actor), self._on_currencies) \
            .failure(lambda e: show_error(self, e)).run()

    def _on_currencies(self, codes: tuple[str, ...]) -> None:
        self.currency_box.clear()
        add_currency_items(self.currency_box, codes)
        self.run_button.setEnabled(bool(codes))
        if not codes:
            self.status.setText(tr("No customer has a billing currency yet: there is nothing to report."))

    def month(self) -> str:
        d = self.month_edit.date()
        return f"{d.year():04d}-{d.month():02d}"

    def currency(self) -> str:
        return str(self.currency_box.currentData() or "")

    def run(self) -> None:
        if not self.run_button.isEnabled():
            return
        ledger, actor, month, code = self.ctx.app.ledger, self.ctx.actor, self.month(), self.currency()
        self.run_button.setEnabled(False)
        self.status.setText(tr("Adding up {month} in {currency}…").format(month=month, currency=code))
        self.ctx.query(lambda: ledger.month_report(actor, month, code), self._show, long=True) \
            .failure(self._on_failed).run()

    def _on_failed(self, error: BaseException) -> None:
        self.run_button.setEnabled(True)
        self.status.setText(tr("The report could not be made."))
        show_error(self, error)

    # --- showing --------------------------------------------------------------------------
    def _show(self, r: MonthReport) -> None:
        self.report = r
        self.run_button.setEnabled(True)
        self.export_button.setEnabled(self.ctx.can(Permission.EXPORT))
        self.status.setText(tr("{month} in {currency}, local days in {zone}").format(
            month=r.month, currency=r.currency, zone=r.zone))
        for key, o in (("opening", r.opening), ("closing", r.closing)):
            self._set_line(key, o.topup, o.voucher, o.total)
        for m in r.movements:
            self._set_line(m.key, m.topup, m.voucher, m.total)
        self.balances_label.setText(format_money(r.balances))
        self._show_check(r)
        self._fill(self.usage_table, [(s, m) for s, m in r.usage_by_service])
        self._fill(self.gateway_table, [(g.day.isoformat(), _gateway(g.method), g.count, g.amount) for g in r.gateways])
        self.report_shown.emit(r)

    def _set_line(self, key: str, *amounts: Money) -> None:
        for part, money in zip(COLUMNS, amounts, strict=True):
            cell = self.figures[f"{key}.{part}"]
            cell.setText(format_money(money))
            _paint(cell, NEGATIVE if money.minor < 0 else None)

    def _show_check(self, r: MonthReport) -> None:
        self.difference_label.setText(format_money(r.difference))
        colour = POSITIVE if r.balanced else NEGATIVE
        _paint(self.difference_label, colour)
        _paint(self.check_label, colour)
        if r.balanced:
            self.check_label.setText(tr("✓ The ledger and the customer balances agree."))
        else:
            self.check_label.setText(tr("Alarm: the ledger and the stored balances disagree by {amount}. Run "
                                        "“ledger verify” to find the customers, and tell an admin.")
                                     .format(amount=format_money(r.difference)))

    def _fill(self, table: QTableWidget, rows: list[tuple[object, ...]]) -> None:
        """Text per cell; amounts and counts right-aligned, their number kept for sorting."""
        table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                item = QTableWidgetItem(format_money(value) if isinstance(value, Money) else f"{value:,}"
                                        if isinstance(value, int) else str(value))
                if isinstance(value, Money | int):
                    item.setTextAlignment(AMOUNT_ALIGN)
                    item.setData(Qt.ItemDataRole.UserRole, value.minor if isinstance(value, Money) else value)
                table.setItem(i, j, item)

    # --- export ---------------------------------------------------------------------------
    def ask_export(self) -> None:
        if self.report is None or not self.export_button.isEnabled():
            return
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        suggested = str(Path(folder) / f"credit-report-{self.report.month}-{self.report.currency}.xlsx")
        path, _ = QFileDialog.getSaveFileName(self, tr("Export the month report"), suggested,
                                              tr("Excel workbook (*.xlsx)"))
        if path:
            self.export_to(path)

    def export_to(self, path: str) -> None:
        report = self.report
        if report is None:
            return
        exports, actor = self.ctx.app.exports, self.ctx.actor
        self.export_button.setEnabled(False)
        self.status.setText(tr("Writing {path}…").format(path=path))
        self.ctx.query(lambda: exports.export_month_report(actor, report.month, report.currency, path, report=report),
                       self._on_exported, long=True).failure(self._on_export_failed).run()

    def _on_exported(self, result: ExportResult) -> None:
        self.export_button.setEnabled(True)
        self.status.setText(tr("Saved to {path}").format(path=result.path))
        self.exported.emit(result)

    def _on_export_failed(self, error: BaseException) -> None:
        self.export_button.setEnabled(True)
        self.status.setText(tr("The export failed; nothing was written."))
        show_error(self, error)

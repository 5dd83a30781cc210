"""Streaming the credit history into an .xlsx file with openpyxl's write-only mode.

Rows go to disk as they arrive (write-only worksheets keep nothing but the current row, and
strings are written inline, not into a shared-strings table), so memory stays flat however
long the history is. The first sheet names the customer, the filter, the export time and
the staff member; the second holds the rows with a frozen header and an auto-filter. Dates
are real Excel dates in the staff member's time zone; amounts are numbers with the
currency's number format (no decimals for VND and JPY).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from openpyxl import Workbook

from billing_desk.domain.dates import zone_name
from billing_desk.domain.enums import EntryStatus
from billing_desk.services.exports import SheetCells, about_sheet, close_data_sheet, data_sheet
from billing_desk.services.ledger.dtos import HistoryRow

HEADERS = ("Date", "Service", "Description", "Status", "Amount")
WIDTHS = (20, 22, 60, 28, 18)
DATA_SHEET = "Credit history"


@dataclass(frozen=True, slots=True)
class ExportMeta:
    customer: str
    currency: str
    filter: str
    exported_at: datetime  # aware
    staff: str
    zone: tzinfo
    rows: int

    @property
    def zone_name(self) -> str:
        return zone_name(self.zone)


def status_text(row: HistoryRow) -> str:
    if row.status is EntryStatus.SUCCESS:
        return "Success"
    return f"Failed ({row.failure_reason})" if row.failure_reason else "Failed"


def _about_sheet(wb: Workbook, meta: ExportMeta) -> None:
    local = meta.exported_at.astimezone(meta.zone).replace(tzinfo=None)
    about_sheet(wb, "Credit history export", (
        ("Customer", meta.customer), ("Currency", meta.currency), ("Filter", meta.filter),
        ("Exported at", local), ("Time zone", meta.zone_name), ("Exported by", meta.staff), ("Rows", meta.rows)))


def write_xlsx(path: Path, meta: ExportMeta, pages: Iterable[list[HistoryRow]],
               on_rows: Callable[[int], None]) -> int:
    """Write the workbook to ``path``; ``on_rows(done)`` after each page may raise to stop."""
    wb = Workbook(write_only=True)
    _about_sheet(wb, meta)
    ws = data_sheet(wb, DATA_SHEET, HEADERS, WIDTHS)
    cells = SheetCells(ws, meta.currency)
    zone = meta.zone
    done = 0
    for page in pages:
        for row in page:
            ws.append([cells.date(row.created_at.astimezone(zone).replace(tzinfo=None)), cells.text(row.service),
                       cells.text(row.description), cells.text(status_text(row)), cells.money(row.amount.minor)])
        done += len(page)
        on_rows(done)
    close_data_sheet(ws, len(HEADERS), done)
    wb.active = 1  # open on the rows; the About sheet stays first for the record
    wb.save(path)
    return done

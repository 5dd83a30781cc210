"""The parts every write-only workbook export shares: an About sheet that says what the file
holds, and a data sheet's bold, frozen, sized header row. No domain knowledge here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from billing_desk.services.exports.xlsx_cells import DATE_FORMAT, text_cell


def about_sheet(wb: Workbook, title: str, lines: Iterable[tuple[str, str | int | datetime]]) -> None:
    """The first sheet: a bold title, then a (label, value) row each. Text passes the formula
    guard (a customer's or a filter's text may start with '='); a naive local datetime is a date cell."""
    ws: WriteOnlyWorksheet = wb.create_sheet("About")
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 60
    cell = WriteOnlyCell(ws, value=title)
    cell.font = Font(bold=True, size=14)
    ws.append([cell])
    for label, value in lines:
        if isinstance(value, datetime):
            shown: Any = WriteOnlyCell(ws, value=value)
            shown.number_format = DATE_FORMAT
        elif isinstance(value, str):
            shown = text_cell(ws, value)
        else:
            shown = value
        ws.append([label, shown])


def data_sheet(wb: Workbook, name: str, headers: Sequence[str], widths: Sequence[int]) -> WriteOnlyWorksheet:
    """A sheet with its header row in bold, frozen below it, columns sized."""
    ws: WriteOnlyWorksheet = wb.create_sheet(name)
    ws.freeze_panes = "A2"
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    bold = Font(bold=True)
    header = []
    for text in headers:
        cell = WriteOnlyCell(ws, value=text)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    return ws


def close_data_sheet(ws: WriteOnlyWorksheet, columns: int, rows: int) -> None:
    """The auto-filter over the header and the ``rows`` written (set last: rows are counted)."""
    ws.auto_filter.ref = f"A1:{get_column_letter(columns)}{rows + 1}"

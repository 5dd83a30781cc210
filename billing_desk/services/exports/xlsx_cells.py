"""Cells for openpyxl's write-only sheets, shared by every export.

Text passes the formula guard; dates and amounts get their number formats from template
cells built once per sheet (setting ``number_format`` per cell costs a lookup in the
workbook's style tables every time). Nothing here knows what is being exported.
"""

from __future__ import annotations

from copy import copy
from datetime import datetime
from decimal import Decimal
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from billing_desk.domain.money import CURRENCIES
from billing_desk.services.exports.guard import needs_guard, xml_safe

DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"


def currency_format(code: str) -> str:
    exponent = CURRENCIES[code].exponent
    digits = "#,##0" + ("." + "0" * exponent if exponent else "")
    return f'{digits} "{code}";-{digits} "{code}"'


def text_cell(ws: WriteOnlyWorksheet, value: str | None) -> Any:
    """A text value as a write-only sheet must hold it: exact, and never run as a formula."""
    raw = value or ""
    clean = xml_safe(raw)
    if not needs_guard(raw):
        return clean
    cell = WriteOnlyCell(ws, value=clean)
    cell.data_type = "s"  # never 'f': Excel must show it, not run it
    cell.quotePrefix = True
    return cell


class SheetCells:
    """Cell factories for one sheet; style objects are built once, not per cell."""

    def __init__(self, ws: WriteOnlyWorksheet, currency: str) -> None:
        self.ws = ws
        self.money_format = currency_format(currency)
        self.exponent = CURRENCIES[currency].exponent
        # Setting number_format looks the format up in the workbook's tables on every cell;
        # copying a template cell's style array gives the same result for a fraction of it.
        date_cell = WriteOnlyCell(ws)
        date_cell.number_format = DATE_FORMAT
        money_cell = WriteOnlyCell(ws)
        money_cell.number_format = self.money_format
        self._date_style = date_cell._style
        self._money_style = money_cell._style

    def text(self, value: str | None) -> Any:
        return text_cell(self.ws, value)

    def date(self, value: datetime) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.ws, value=value)
        cell._style = copy(self._date_style)
        return cell

    def money(self, minor: int) -> WriteOnlyCell:
        number: int | Decimal = minor if not self.exponent else Decimal(minor).scaleb(-self.exponent)
        cell = WriteOnlyCell(self.ws, value=number)
        cell._style = copy(self._money_style)
        return cell

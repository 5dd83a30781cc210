"""Export format helpers with no domain knowledge: the formula guard, the atomic file and
write-only xlsx cells. Each domain writes its own exports with these.
"""

from __future__ import annotations

from billing_desk.services.exports.atomic import atomic_file, leftover_temps, write_atomically
from billing_desk.services.exports.guard import csv_text
from billing_desk.services.exports.result import ExportResult, export_format
from billing_desk.services.exports.sheets import about_sheet, close_data_sheet, data_sheet
from billing_desk.services.exports.xlsx_cells import SheetCells, currency_format, text_cell

__all__ = [
    "ExportResult",
    "SheetCells",
    "about_sheet",
    "atomic_file",
    "close_data_sheet",
    "csv_text",
    "currency_format",
    "data_sheet",
    "export_format",
    "leftover_temps",
    "text_cell",
    "write_atomically",
]

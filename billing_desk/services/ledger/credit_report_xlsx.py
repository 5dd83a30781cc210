"""The month-end credit report as an .xlsx workbook: a sheet per section.

Statement (the identity as an accountant lays it out: a line per movement with its top-up
credit, voucher credit and total columns, the closing, the balances beside it and the
difference), Usage by service, Gateways by day (what finance ticks off against each gateway's
payout report) and About (what was reported, for whom, by whom, in which zone). Amounts are
real numbers in number cells with the currency's format; days are real dates; text passes the
formula guard. The report is a few hundred rows at most, so write-only mode is for habit, not need.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from billing_desk.services.exports import SheetCells
from billing_desk.services.ledger.credit_report import LABELS, MonthReport, Outstanding

DAY_FORMAT = "yyyy-mm-dd"


def _bold(ws: WriteOnlyWorksheet, value: str, size: int | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    cell.font = Font(bold=True, size=size) if size else Font(bold=True)
    return cell


def _widths(ws: WriteOnlyWorksheet, *widths: int) -> None:
    for letter, width in zip("ABCDEFG", widths, strict=False):
        ws.column_dimensions[letter].width = width


def _statement(wb: Workbook, r: MonthReport) -> None:
    ws = wb.create_sheet("Statement")
    _widths(ws, 34, 20, 20, 20)
    cells = SheetCells(ws, r.currency)
    ws.append([_bold(ws, f"Credit owed to customers, {r.month} ({r.currency})", 14)])
    ws.append([cells.text(f"Local days in {r.zone}")])
    ws.append([])
    ws.append([_bold(ws, h) for h in ("", "Top-up credit", "Voucher credit", "Total")])

    def outstanding(key: str, o: Outstanding) -> None:
        ws.append([_bold(ws, LABELS[key]), cells.money(o.topup.minor), cells.money(o.voucher.minor),
                   cells.money(o.total.minor)])

    outstanding("opening", r.opening)
    for m in r.movements:
        ws.append([cells.text(LABELS[m.key]), cells.money(m.topup.minor), cells.money(m.voucher.minor),
                   cells.money(m.total.minor)])
    outstanding("closing", r.closing)
    ws.append([])
    ws.append([LABELS["balances"], None, None, cells.money(r.balances.minor)])
    ws.append([_bold(ws, LABELS["difference"]), None, None, cells.money(r.difference.minor)])
    ws.append([cells.text("The two agree." if r.balanced else
                          "ALARM: the ledger and the stored balances disagree; run `billing-desk ledger verify`.")])
    ws.append([])
    ws.append([cells.text("Movements are signed by their effect on the credit owed: debits are negative.")])


def _usage(wb: Workbook, r: MonthReport) -> None:
    ws = wb.create_sheet("Usage by service")
    _widths(ws, 34, 20)
    ws.freeze_panes = "A2"
    cells = SheetCells(ws, r.currency)
    ws.append([_bold(ws, "Service"), _bold(ws, "Usage")])
    for service, amount in r.usage_by_service:
        ws.append([cells.text(service), cells.money(amount.minor)])
    ws.append([_bold(ws, "Total"), cells.money(r.usage.minor)])


def _gateways(wb: Workbook, r: MonthReport) -> None:
    ws = wb.create_sheet("Gateways by day")
    _widths(ws, 14, 12, 10, 20)
    ws.freeze_panes = "A2"
    cells = SheetCells(ws, r.currency)
    ws.append([_bold(ws, h) for h in ("Settled on", "Gateway", "Count", "Amount")])
    for g in r.gateways:
        day = WriteOnlyCell(ws, value=datetime(g.day.year, g.day.month, g.day.day))
        day.number_format = DAY_FORMAT
        ws.append([day, g.method, g.count, cells.money(g.amount.minor)])
    ws.append([_bold(ws, "Total"), None, sum(g.count for g in r.gateways),
               cells.money(sum(g.amount.minor for g in r.gateways))])
    if r.gateways:
        ws.auto_filter.ref = f"A1:D{len(r.gateways) + 1}"


def _about(wb: Workbook, r: MonthReport, staff: str, made_at: datetime, zone: tzinfo) -> None:
    ws = wb.create_sheet("About")
    _widths(ws, 18, 70)
    cells = SheetCells(ws, r.currency)
    ws.append([_bold(ws, "Month-end credit report", 14)])
    rows: list[tuple[str, Any]] = [
        ("Month", r.month), ("Currency", r.currency), ("Time zone", r.zone),
        ("From (UTC)", cells.date(r.starts_at.replace(tzinfo=None))),
        ("To (UTC)", cells.date(r.ends_at.replace(tzinfo=None))),
        ("Exported at", cells.date(made_at.astimezone(zone).replace(tzinfo=None))),
        ("Exported by", cells.text(staff)),
        ("Source", "The ledger's successful rows by kind; balances: stored balances minus later rows."),
    ]
    for label, value in rows:
        ws.append([label, value])


def write_month_report(path: Path, r: MonthReport, *, staff: str, made_at: datetime, zone: tzinfo) -> int:
    """Write the workbook; returns the number of data rows (statement lines, services, days)."""
    wb = Workbook(write_only=True)
    _statement(wb, r)
    _usage(wb, r)
    _gateways(wb, r)
    _about(wb, r, staff, made_at, zone)
    wb.save(path)
    return len(r.movements) + 2 + len(r.usage_by_service) + len(r.gateways)

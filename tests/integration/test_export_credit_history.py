"""Credit-history export: read the file back and check values, types, formats and the guard."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from openpyxl.utils.escape import unescape
from sqlalchemy import insert

from billing_desk.domain.enums import EntryStatus
from billing_desk.domain.errors import Cancelled, PermissionDenied, ValidationError
from billing_desk.models import LedgerEntry
from billing_desk.services.ledger.dtos import HistoryFilter
from tests.support.customers import make_customer
from tests.support.ledger import credit

NASTY = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+2", "-2+3", "@SUM(A1:A2)", "\tcmd", "\rcmd",
         "\x01ctrl", "plain text", "=1+1"]


RAW = {"\tcmd", "\rcmd", "\x01ctrl"}  # the service tidies these away; older or imported rows may hold them


def _history(app, staff, currency="VND", amount="1000"):
    cid = make_customer(app, staff.manager, currency, "Tran =Evil")
    credit(app, cid, 10**9, currency)
    for i, text in enumerate(NASTY):
        if text in RAW:
            with app.uow.write() as uow:
                uow.session.execute(insert(LedgerEntry), [dict(
                    customer_id=cid, created_at=datetime.now(UTC), kind="usage", service="Storage", description=text,
                    status="success", amount=0, currency=currency, source="topup")])
                uow.commit()
            continue
        app.ledger.record_usage(staff.manager, cid, service="Storage", amount=amount, description=text, key=f"n{i}")
    app.ledger.record_usage(staff.manager, cid, service="GPU Container", amount=str(10**8), key="big")
    app.ledger.record_usage(staff.manager, cid, service="GPU Container", amount=str(10**9), key="too-big")
    return cid


def test_xlsx_reads_back_with_types_formats_and_formula_guard(app, staff, tmp_path):
    cid = _history(app, staff)
    out = tmp_path / "history.xlsx"
    seen = []
    result = app.exports.export_credit_history(staff.finance, cid, None, out, progress=lambda d, t: seen.append((d, t)))
    assert result.rows == 12 and seen[-1] == (12, 12)
    wb = load_workbook(out)
    assert wb.sheetnames == ["About", "Credit history"] and wb.active.title == "Credit history"
    about = {r[0]: r[1] for r in wb["About"].iter_rows(min_row=2, values_only=True)}
    assert about["Customer"].startswith("Tran =Evil") and about["Exported by"] == "finance (finance)"
    assert about["Filter"] == "all transactions" and about["Rows"] == 12
    ws = wb["Credit history"]
    assert [c.value for c in ws[1]] == ["Date", "Service", "Description", "Status", "Amount"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:E13"
    assert ws.column_dimensions["C"].width == 60
    body = list(ws.iter_rows(min_row=2))
    for row in body:
        assert isinstance(row[0].value, datetime) and row[0].is_date
        assert row[4].data_type == "n" and row[4].number_format == '#,##0 "VND";-#,##0 "VND"'
    # Excel decodes OOXML's _xHHHH_ escapes (CR and control characters), openpyxl does not
    descriptions = {unescape(row[2].value): row[2] for row in body}
    for text in NASTY:
        cell = descriptions[text]
        assert cell.data_type == "s", text  # text, never a formula
        if text != "plain text":
            assert cell.quotePrefix, text
    amounts = [row[4].value for row in body]
    assert amounts[:2] == [-10**9, -10**8] and amounts[-1] == 10**9 and sum(amounts[1:]) == 10**9 - 10**8 - 6_000
    assert body[0][3].value == "Failed (insufficient credit)" and body[1][3].value == "Success"
    assert not list(tmp_path.glob(".*.part"))


def test_usd_amounts_are_exact_numbers_with_two_decimals(app, staff, tmp_path):
    cid = make_customer(app, staff.manager, "USD", "Emma Smith")
    credit(app, cid, 2_500, "USD")
    app.ledger.record_usage(staff.manager, cid, service="Storage", amount="12.34")
    out = tmp_path / "usd.xlsx"
    app.exports.export_credit_history(staff.manager, cid, None, out)
    ws = load_workbook(out)["Credit history"]
    cell = ws["E2"]
    assert Decimal(str(cell.value)) == Decimal("-12.34") and cell.number_format == '#,##0.00 "USD";-#,##0.00 "USD"'


def test_csv_has_the_same_guard_and_respects_the_filter(app, staff, tmp_path):
    cid = _history(app, staff)
    out = tmp_path / "history.csv"
    f = HistoryFilter(services=("Storage",), statuses=(EntryStatus.SUCCESS,))
    result = app.exports.export_credit_history(staff.admin, cid, f, out)
    assert result.format == "csv" and result.rows == len(NASTY)
    with out.open(encoding="utf-8-sig", newline="") as handle:
        everything = list(csv.reader(handle))
    meta, data = everything[:5], everything[5:]
    assert data[0] == ["Date", "Service", "Description", "Status", "Amount", "Currency"]
    by_text = {row[2] for row in data[1:]}
    for text in NASTY:
        expected = text if text == "plain text" else "'" + text
        assert expected in by_text, text
    assert all(row[4] in ("-1000", "0") and row[5] == "VND" for row in data[1:])
    assert meta[1][0] == "# Filter" and meta[1][1].startswith("service Storage")
    assert meta[0] == ["# Customer", f"Tran =Evil (C{cid:08d})"]


def test_cancel_leaves_no_file_and_keeps_an_older_export(app, staff, tmp_path):
    cid = _history(app, staff)
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "history.xlsx"
    out.write_bytes(b"older export")
    with pytest.raises(Cancelled):
        app.exports.export_credit_history(staff.finance, cid, None, out, cancel=lambda: True)
    assert out.read_bytes() == b"older export"
    assert sorted(p.name for p in folder.iterdir()) == ["history.xlsx"]
    with pytest.raises(Cancelled):  # cancelled mid-way, after the first page was written
        app.exports.export_credit_history(staff.finance, cid, None, folder / "new.csv",
                                          progress=lambda d, t: None, cancel=iter([False, True]).__next__)
    assert sorted(p.name for p in folder.iterdir()) == ["history.xlsx"]


def test_export_is_audited_and_checked(app, staff, tmp_path):
    cid = _history(app, staff)
    with pytest.raises(ValidationError, match="xlsx or csv"):
        app.exports.export_credit_history(staff.finance, cid, None, tmp_path / "x.pdf")
    with pytest.raises(ValidationError, match="does not exist"):
        app.exports.export_credit_history(staff.finance, cid, None, tmp_path / "nope" / "x.xlsx")
    app.exports.export_credit_history(staff.finance, cid, None, tmp_path / "x.xlsx")
    rows = [r for r in app.audit.list(staff.admin) if r.action == "export.credit_history"]
    assert len(rows) == 1 and rows[0].staff_name == "finance" and rows[0].summary["rows"] == 12


def test_support_exports_credit_history_but_not_voucher_lists(app, staff, tmp_path):
    """Customers ask support for their credit history; bulk exports stay with finance and managers."""
    cid = _history(app, staff)
    result = app.exports.export_credit_history(staff.support, cid, None, tmp_path / "for-customer.csv")
    assert result.rows == 12 and (tmp_path / "for-customer.csv").exists()
    audited = [r for r in app.audit.list(staff.admin) if r.action == "export.credit_history"]
    assert [(r.staff_name, r.summary["rows"]) for r in audited] == [("support", 12)]
    with pytest.raises(PermissionDenied):
        app.vouchers.export_list(staff.support, None, tmp_path / "codes.csv")
    assert not (tmp_path / "codes.csv").exists()

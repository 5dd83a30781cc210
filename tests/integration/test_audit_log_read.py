"""The audit log as the Audit workspace reads it: keyset pages newest first under each filter,
a customer's rows found exactly (their own rows, their payments', their voucher redemptions and
not another redeemer's), local-day ranges, Verify's progress and Cancel, the export read back,
and every read refused to support and finance by the service itself."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from billing_desk.bootstrap import App
from billing_desk.domain.dates import local_zone
from billing_desk.domain.errors import Cancelled, NotFound, PermissionDenied, ValidationError
from billing_desk.domain.money import Money
from billing_desk.services.audit import AuditFilters, AuditRow
from billing_desk.services.vouchers.dtos import IssueRequest
from tests.support.customers import add_customer, make_customer
from tests.support.staff import StaffActors

FORMULA = '=HYPERLINK("http://evil.example","click")'


def _today() -> date:
    """Today in the desk's time zone (the one the filter's days are in)."""
    return datetime.now(local_zone()).date()


def _every(app: App, staff: StaffActors) -> list[AuditRow]:
    return app.audit.list(staff.admin, limit=100_000)


def _paged(app: App, actor, filters: AuditFilters, size: int) -> list[AuditRow]:  # type: ignore[no-untyped-def]
    rows: list[AuditRow] = []
    after = None
    while True:
        page = app.audit.page(actor, filters, after, size)
        rows += page.rows
        if page.next_cursor is None:
            return rows
        after = page.next_cursor


def _theirs(row: AuditRow, customer_id: int, payment_ids: set[str]) -> bool:
    """The rule written out plainly, to hold the indexed query against."""
    return ((row.entity == "customer" and row.entity_id == str(customer_id))
            or (row.entity == "payment" and row.entity_id in payment_ids)
            or (row.action == "voucher.redeem" and row.summary.get("customer_id") == customer_id))


@pytest.fixture
def busy_log(pay_app: App, staff: StaffActors, voucher_key: str) -> dict[str, object]:
    app = pay_app
    lan = add_customer(app, staff.support, "VND", name="Lan")
    bao = add_customer(app, staff.support, "VND", name="Bao")
    app.customers.update(staff.manager, lan.id, address="99 Hang Bac, Ha Noi")
    lan_pay = app.payments.create_topup(staff.support, lan.id, "500,000").payment
    app.payments.create_topup(staff.support, bao.id, "700,000")
    shared = app.vouchers.issue(staff.manager, IssueRequest(amount=Money(50_000, "VND"), campaign="Shared",
                                                           max_redemptions=5)).codes[0]
    app.vouchers.redeem(staff.support, bao.id, shared)
    app.vouchers.redeem(staff.support, lan.id, shared)
    spare = app.vouchers.issue(staff.manager, IssueRequest(amount=Money(10_000, "VND"), campaign="Spare"))
    app.vouchers.revoke(staff.manager, spare.voucher_ids[0], FORMULA)
    return {"lan": lan, "bao": bao, "lan_payments": {str(lan_pay.id)}}


def test_pages_follow_each_filter_exactly(pay_app: App, staff: StaffActors, busy_log: dict) -> None:  # type: ignore[type-arg]
    app, lan = pay_app, busy_log["lan"]
    every = _every(app, staff)
    assert len(every) > 12
    # No filter: newest first, and small pages add up to the whole log with no row twice.
    paged = _paged(app, staff.manager, AuditFilters(), 3)
    assert [r.id for r in paged] == [r.id for r in every]

    mine = _paged(app, staff.admin, AuditFilters(customer=lan.account), 2)
    expected = [r.id for r in every if _theirs(r, lan.id, busy_log["lan_payments"])]
    assert [r.id for r in mine] == expected
    assert {r.action for r in mine} >= {"customer.create", "customer.update", "payment.create", "voucher.redeem"}
    redeem = next(r for r in mine if r.action == "voucher.redeem")
    assert redeem.summary["customer_id"] == lan.id and redeem.customer == lan.account  # not Bao's redemption
    assert all(r.customer == lan.account for r in mine)
    assert [r.id for r in _paged(app, staff.admin, AuditFilters(customer=str(lan.id)), 50)] == expected

    by_manager = _paged(app, staff.admin, AuditFilters(staff="manager"), 2)
    assert [r.id for r in by_manager] == [r.id for r in every if r.staff_name == "manager"] and by_manager
    updates = _paged(app, staff.admin, AuditFilters(action="customer.update"), 2)
    assert [r.id for r in updates] == [r.id for r in every if r.action == "customer.update"] and len(updates) == 1
    both = app.audit.page(staff.admin, AuditFilters(staff="support", action="voucher.redeem", customer=lan.account))
    assert [r.id for r in both.rows] == [redeem.id]

    today = _today()
    assert len(_paged(app, staff.admin, AuditFilters(first_day=today, last_day=today), 7)) == len(every)
    assert _paged(app, staff.admin, AuditFilters(last_day=today - timedelta(days=1)), 7) == []
    assert _paged(app, staff.admin, AuditFilters(first_day=today + timedelta(days=1)), 7) == []
    with pytest.raises(ValidationError, match="ends"):
        app.audit.page(staff.admin, AuditFilters(first_day=today, last_day=today - timedelta(days=1)))
    with pytest.raises(NotFound):
        app.audit.page(staff.admin, AuditFilters(customer="C99999999"))

    assert {"manager", "support", "admin"} <= set(app.audit.staff_names(staff.manager))
    assert set(app.audit.actions(staff.manager)) == {r.action for r in every}


def test_support_and_finance_are_refused_by_the_service(app: App, staff: StaffActors, tmp_path: Path) -> None:
    for actor in (staff.support, staff.finance):
        for call in (lambda a=actor: app.audit.page(a), lambda a=actor: app.audit.staff_names(a),
                     lambda a=actor: app.audit.actions(a), lambda a=actor: app.audit.verify(a),
                     lambda a=actor: app.audit.export(a, None, tmp_path / "a.xlsx")):
            with pytest.raises(PermissionDenied):
                call()
    assert not (tmp_path / "a.xlsx").exists()


def test_verify_reports_progress_and_stops_at_cancel(app: App, staff: StaffActors) -> None:
    make_customer(app, staff.support, "VND")
    reports: list[tuple[int, int]] = []
    result = app.audit.verify(staff.manager, progress=lambda done, total: reports.append((done, total)))
    assert result.ok and reports[-1] == (result.checked, result.checked)
    with pytest.raises(Cancelled, match="stopped"):
        app.audit.verify(staff.manager, cancel=lambda: True)


def test_export_reads_back_formula_safe_and_is_audited(pay_app: App, staff: StaffActors, busy_log: dict,  # type: ignore[type-arg]
                                                       tmp_path: Path) -> None:
    app, lan = pay_app, busy_log["lan"]
    target = tmp_path / "audit.xlsx"
    seen: list[tuple[int, int]] = []
    result = app.audit.export(staff.manager, None, target, progress=lambda d, t: seen.append((d, t)))
    every = _every(app, staff)
    exported = [r for r in every if r.action != "export.audit"]
    assert result.rows == len(exported) and seen[-1] == (len(exported), len(exported))
    ws = load_workbook(target)["Audit"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == [r.id for r in exported]
    revoked = next(r for r in rows if r[3] == "voucher.revoke")
    assert revoked[8] == FORMULA  # the text itself, shown, never run
    cell = next(c for c in ws.iter_rows(min_row=2) if c[3].value == "voucher.revoke")[8]
    assert cell.data_type == "s" and cell.quotePrefix
    assert json.loads(rows[0][7]) == exported[0].summary
    last = every[0]
    assert last.action == "export.audit" and last.summary["rows"] == len(exported) and last.staff_name == "manager"

    lan_file = tmp_path / "lan.csv"
    app.audit.export(staff.admin, AuditFilters(customer=lan.account), lan_file)
    lines = lan_file.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) - 1 == len(_paged(app, staff.admin, AuditFilters(customer=lan.account), 100))
    assert app.audit.verify(staff.admin).ok

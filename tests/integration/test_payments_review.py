"""Finance's payments review across customers, on both databases: each filter and their
combinations, the four orders paged by keyset across ties, totals per currency and status,
daily figures per local day, who may see what, the export and the CLI.

Payments are written straight into the table (as years of top-ups would have left them), so
the file stays fast and every row's facts are known to the test.
"""

from __future__ import annotations

import csv
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from itertools import product

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert

from billing_desk.domain.errors import Cancelled, PermissionDenied, ValidationError
from billing_desk.domain.money import Money
from billing_desk.models import Payment
from billing_desk.services.payments import PaymentFilters, PaymentSort
from tests.support.customers import make_customer

T0 = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 10:00 in Ho Chi Minh City


def _insert(app, rows: list[dict]) -> list[int]:
    ids = []
    with app.uow.write() as uow:
        for r in rows:
            values = {"idempotency_key": uuid.uuid4().hex, "gateway_data": "{}", "check_count": 0, **r}
            ids.append(uow.session.execute(insert(Payment).values(**values).returning(Payment.id)).scalar_one())
        uow.commit()
    return ids


def _seed(app, staff) -> tuple[list[dict], dict[str, int]]:
    """Sixteen payments over three customers, each fact varied; returned with their ids."""
    people = {"vn": make_customer(app, staff.manager, "VND", "Nguyen Van An"),
              "jp": make_customer(app, staff.manager, "JPY", "Sato Haruto"),
              "us": make_customer(app, staff.manager, "USD", "=Evil Smith")}
    kinds = {"vn": ("VND", "vnpay", 500_000), "jp": ("JPY", "stripe", 3_000), "us": ("USD", "paypal", 2_500)}
    reasons = {"failed": ("declined by the bank", "=HYPERLINK(\"http://x\")", "expired unpaid"), "success": (None,),
               "pending": (None,)}
    rows = []
    for i in range(16):
        who = ("vn", "jp", "us")[i % 3]
        cur, method, base = kinds[who]
        status = ("success", "failed", "pending", "success")[i % 4]
        created = T0 - timedelta(hours=5 * i)
        rows.append({"customer_id": people[who], "amount": base * (1 + i % 5), "currency": cur, "method": method,
                     "status": status, "reason": reasons[status][i % len(reasons[status])],
                     "gateway_reference": f"REF-{who.upper()}-{i:04d}-abcdef", "created_at": created,
                     "created_by": (staff.support.staff_id, staff.manager.staff_id)[i % 2],
                     "settled_at": created + timedelta(minutes=3) if status != "pending" else None})
    for r, pid in zip(rows, _insert(app, rows), strict=True):
        r["id"] = pid
    return rows, people


def _all(app, actor, filters=None, sort=PaymentSort.NEWEST, limit=500):
    out, cursor = [], None
    while True:
        page = app.payments.list_payments(actor, filters, cursor, limit, sort)
        out += page.rows
        if page.next_cursor is None:
            return out
        cursor = page.next_cursor


@pytest.mark.parametrize("probe", [2000, 1], ids=["amount-index", "walk-by-date"])
def test_each_filter_and_their_combinations(app, staff, probe, monkeypatch):
    """Both plans SQLite may get for an amount range sorted by date give the same rows."""
    from billing_desk.services.payments import review

    monkeypatch.setattr(review, "PROBE", probe)  # the probe counts up to it
    rows, people = _seed(app, staff)
    fin = staff.finance
    cases = [
        (PaymentFilters(), lambda r: True),
        (PaymentFilters(status="failed"), lambda r: r["status"] == "failed"),
        (PaymentFilters(reason="DECLINED"), lambda r: "declined" in (r["reason"] or "")),
        (PaymentFilters(method="stripe"), lambda r: r["method"] == "stripe"),
        (PaymentFilters(currency="usd"), lambda r: r["currency"] == "USD"),
        (PaymentFilters(created_from=T0 - timedelta(hours=30), created_to=T0 - timedelta(hours=10)),
         lambda r: T0 - timedelta(hours=30) <= r["created_at"] < T0 - timedelta(hours=10)),
        (PaymentFilters(amount_min=Money(1_000_000, "VND"), amount_max=Money(2_000_000, "VND")),
         lambda r: r["currency"] == "VND" and 1_000_000 <= r["amount"] <= 2_000_000),
        (PaymentFilters(staff_id=staff.manager.staff_id), lambda r: r["created_by"] == staff.manager.staff_id),
        (PaymentFilters(customer=people["jp"]), lambda r: r["customer_id"] == people["jp"]),
        (PaymentFilters(text=str(rows[5]["id"])), lambda r: r["id"] == rows[5]["id"]),
        (PaymentFilters(text="ref-us-0008"), lambda r: r["gateway_reference"].startswith("REF-US-0008")),
        (PaymentFilters(status="success", method="vnpay", staff_id=staff.support.staff_id),
         lambda r: r["status"] == "success" and r["method"] == "vnpay" and r["created_by"] == staff.support.staff_id),
        (PaymentFilters(currency="JPY", amount_min=Money(6_000, "JPY"), status="success",
                        created_from=T0 - timedelta(days=3)),
         lambda r: r["currency"] == "JPY" and r["amount"] >= 6_000 and r["status"] == "success"),
        (PaymentFilters(status="failed", reason="expired", currency="USD"),
         lambda r: r["status"] == "failed" and "expired" in (r["reason"] or "") and r["currency"] == "USD"),
    ]
    for filters, keep in cases:
        expected = sorted(r["id"] for r in rows if keep(r))  # newest first: the first inserted is the newest
        got = [p.id for p in _all(app, fin, filters, limit=3)]
        assert got and got == expected, filters
    one = _all(app, fin, PaymentFilters(text=str(rows[0]["id"])))[0]
    assert one.started_by == "support" and one.check_count == 0 and one.flagged_at is None
    assert one.to_json()["started_by"] == "support" and "flagged_at" in one.to_json()


@pytest.mark.parametrize("filters, field", [
    (PaymentFilters(amount_min=Money(500, "VND"), amount_max=Money(100, "VND")), "amount_min"),
    (PaymentFilters(currency="JPY", amount_min=Money(500, "VND")), "amount_min"),
    (PaymentFilters(currency="USD", amount_max=Money(500, "EUR")), "amount_max"),
    (PaymentFilters(currency="XXQ"), "currency"),
    (PaymentFilters(text="abc"), "text"),
    (PaymentFilters(text="0"), "text"),
    (PaymentFilters(status="paid"), "status"),
])
def test_refused_filters_name_their_field(app, staff, filters, field):
    with pytest.raises(ValidationError) as refused:
        app.payments.list_payments(staff.finance, filters)
    assert refused.value.field == field
    with pytest.raises(ValidationError):
        app.payments.totals(staff.finance, filters)


def test_each_order_pages_every_row_exactly_once_across_ties(app, staff):
    cid = make_customer(app, staff.manager, "VND", "Tie Person")
    specs = [{"customer_id": cid, "amount": amount, "currency": "VND", "method": "vnpay", "status": "success",
              "created_at": T0 - timedelta(minutes=minute), "created_by": staff.support.staff_id}
             for minute, amount in product((0, 7, 9), (700_000, 500_000, 900_000)) for _ in range(2)]
    _insert(app, specs[::-1])  # ids run against the dates, so neither order is the id order
    orders = {PaymentSort.NEWEST: lambda r: (-r["created_at"].timestamp(), -r["id"]),
              PaymentSort.OLDEST: lambda r: (r["created_at"].timestamp(), r["id"]),
              PaymentSort.AMOUNT_DESC: lambda r: (-r["amount"], -r["id"]),
              PaymentSort.AMOUNT_ASC: lambda r: (r["amount"], r["id"])}
    for sort, key in orders.items():
        got = _all(app, staff.finance, PaymentFilters(currency="VND"), sort, limit=4)
        facts = [(p.created_at, p.amount.minor, p.id) for p in got]
        assert len(facts) == 18 and len({f[2] for f in facts}) == 18, sort
        expected = sorted(facts, key=lambda f: key({"created_at": f[0], "amount": f[1], "id": f[2]}))
        assert facts == expected, sort
    first = app.payments.list_payments(staff.finance, None, None, 4, PaymentSort.NEWEST)
    with pytest.raises(ValidationError, match="sorted by date"):
        app.payments.list_payments(staff.finance, None, first.next_cursor, 4, PaymentSort.AMOUNT_DESC)
    with pytest.raises(ValidationError):
        app.payments.list_payments(staff.finance, None, None, 4, "cheapest")


def test_totals_per_currency_and_status_never_add_currencies(app, staff):
    rows, _ = _seed(app, staff)
    expected: dict[tuple[str, str], list[int]] = {}
    for r in rows:
        line = expected.setdefault((r["currency"], r["status"]), [0, 0])
        line[0] += 1
        line[1] += r["amount"]
    totals = app.payments.totals(staff.finance, PaymentFilters())
    assert {(t.currency, t.status): [t.count, t.amount.minor] for t in totals.lines} == expected
    assert all(t.amount.currency == t.currency for t in totals.lines)
    failed = app.payments.totals(staff.finance, PaymentFilters(status="failed", currency="JPY"))
    assert [(t.currency, t.status) for t in failed.lines] == [("JPY", "failed")]
    assert app.payments.totals(staff.finance, PaymentFilters(text="99999999999")).lines == ()


def test_daily_figures_per_local_day(app, staff, monkeypatch):
    monkeypatch.setenv("BILLING_DESK_TIMEZONE", "Asia/Ho_Chi_Minh")  # UTC+7, no DST
    cid = make_customer(app, staff.manager, "VND", "Day Person")
    jp = make_customer(app, staff.manager, "JPY", "Day Person JP")

    def paid(settled_utc: datetime, status="success", amount=500_000, customer=cid, cur="VND", method="vnpay"):
        return {"customer_id": customer, "amount": amount, "currency": cur, "method": method, "status": status,
                "created_at": settled_utc - timedelta(hours=1), "settled_at": settled_utc}

    _insert(app, [
        paid(datetime(2026, 11, 20, 16, 59, tzinfo=UTC)),  # 23:59 on the 20th, local
        paid(datetime(2026, 11, 20, 17, 0, tzinfo=UTC), amount=700_000),  # 00:00 on the 21st
        paid(datetime(2026, 11, 20, 18, 0, tzinfo=UTC), status="failed"),
        paid(datetime(2026, 11, 21, 2, 0, tzinfo=UTC), amount=3_000, customer=jp, cur="JPY", method="stripe"),
        paid(datetime(2026, 10, 22, 16, 0, tzinfo=UTC)),  # 23:00 on 22 Oct: the 30 days start on the 23rd
        {**paid(datetime(2026, 11, 21, 1, 0, tzinfo=UTC)), "status": "pending", "settled_at": None},
    ])
    daily = app.payments.daily_figures(staff.finance, 30, today=date(2026, 11, 21))
    assert daily.days[0] == date(2026, 10, 23) and daily.days[-1] == date(2026, 11, 21) and len(daily.days) == 30
    got = {(f.day, f.method, f.currency): (f.settled.minor, f.settled_count, f.failed_count) for f in daily.figures}
    assert got == {(date(2026, 11, 20), "vnpay", "VND"): (500_000, 1, 0),
                   (date(2026, 11, 21), "vnpay", "VND"): (700_000, 1, 1),
                   (date(2026, 11, 21), "stripe", "JPY"): (3_000, 1, 0)}
    rate = {f.day: f.success_rate for f in daily.figures if f.method == "vnpay"}
    assert rate == {date(2026, 11, 20): 1.0, date(2026, 11, 21): 0.5}
    longer = app.payments.daily_figures(staff.finance, 90, today=date(2026, 11, 21))
    assert len(longer.figures) == 4
    with pytest.raises(ValidationError):
        app.payments.daily_figures(staff.finance, 31)


def test_who_may_review(app, staff):
    _, people = _seed(app, staff)
    for actor in (staff.finance, staff.manager, staff.admin):
        assert len(_all(app, actor)) == 16
        assert app.payments.totals(actor, PaymentFilters()).lines
    for call in (lambda: app.payments.list_payments(staff.support),
                 lambda: app.payments.list_payments(staff.support, PaymentFilters(status="failed")),
                 lambda: app.payments.totals(staff.support, PaymentFilters()),
                 lambda: app.payments.daily_figures(staff.support, 30),
                 lambda: app.payments.staff_who_started(staff.support)):
        with pytest.raises(PermissionDenied):
            call()
    mine = app.payments.list_payments(staff.support, PaymentFilters(customer=people["vn"]))
    assert {r.customer_id for r in mine.rows} == {people["vn"]} and len(mine.rows) == 6
    assert app.payments.staff_who_started(staff.finance) == ((staff.manager.staff_id, "manager"),
                                                             (staff.support.staff_id, "support"))


def test_export_xlsx_reads_back_guarded_and_audited(app, staff, tmp_path):
    rows, _ = _seed(app, staff)
    out = tmp_path / "payments.xlsx"
    seen = []
    result = app.exports.export_payments(staff.finance, PaymentFilters(status="failed"), PaymentSort.AMOUNT_DESC,
                                         out, progress=lambda d, t: seen.append((d, t)))
    failed = sorted((r for r in rows if r["status"] == "failed"), key=lambda r: (-r["amount"], -r["id"]))
    assert result.rows == len(failed) == 4 and seen[-1] == (4, 4)
    wb = load_workbook(out)
    assert wb.sheetnames == ["About", "Payments"] and wb.active.title == "Payments"
    about = {r[0]: r[1] for r in wb["About"].iter_rows(min_row=2, values_only=True)}
    assert about["Filter"] == "status failed" and about["Order"] == "amount_desc" and about["Rows"] == 4
    assert about["Exported by"] == "finance (finance)" and about["Time zone"] == "Asia/Ho_Chi_Minh"
    ws = wb["Payments"]
    assert [c.value for c in ws[1]][:6] == ["Payment", "Date", "Account", "Customer", "Gateway", "Amount"]
    body = list(ws.iter_rows(min_row=2))
    assert [row[0].value for row in body] == [r["id"] for r in failed]
    for row, r in zip(body, failed, strict=True):
        assert row[1].is_date and row[5].data_type == "n" and row[6].value == r["currency"]
        assert f'"{r["currency"]}"' in row[5].number_format
    evil = [row for row in body if str(row[3].value).startswith("=") or str(row[8].value).startswith("=")]
    assert evil and all(c.data_type == "s" and c.quotePrefix for row in evil for c in (row[3], row[8])
                        if str(c.value).startswith("="))
    entry = next(a for a in app.audit.list(staff.admin) if a.action == "export.payments")
    assert entry.summary["rows"] == 4 and entry.summary["filter"]["status"] == "failed"

    out_csv = tmp_path / "payments.csv"
    assert app.exports.export_payments(staff.manager, None, "newest", out_csv).rows == 16
    lines = list(csv.reader(out_csv.open(encoding="utf-8-sig")))
    body_csv = [line for line in lines if line and line[0].isdigit()]
    assert len(body_csv) == 16 and all(not cell.startswith("=") for line in body_csv for cell in line)


def test_export_refusals_and_cancel_leave_no_file(app, staff, tmp_path):
    _seed(app, staff)
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "cancelled.xlsx"
    with pytest.raises(PermissionDenied):
        app.exports.export_payments(staff.support, None, "newest", out)
    with pytest.raises(Cancelled):
        app.exports.export_payments(staff.finance, None, "newest", out, cancel=lambda: True)
    assert list(folder.iterdir()) == []
    assert not [a for a in app.audit.list(staff.admin) if a.action == "export.payments"]


def test_cli_list_filters_sort_json_and_export(app, staff, cli, tmp_path):
    rows, people = _seed(app, staff)
    listed = lambda *a: json.loads(cli("payments", "list", *a, "--json", "--user", "finance").out)  # noqa: E731
    by_amount = listed("--currency", "VND", "--min", "600,000", "--max", "2000000", "--sort", "amount_asc")
    expected = sorted((r for r in rows if r["currency"] == "VND" and 600_000 <= r["amount"] <= 2_000_000),
                      key=lambda r: (r["amount"], r["id"]))
    assert [p["payment_id"] for p in by_amount] == [r["id"] for r in expected]
    assert {p["started_by"] for p in by_amount} <= {"support", "manager"} and "flagged_at" in by_amount[0]
    assert [p["payment_id"] for p in listed("--reason", "declined", "--staff", "manager")] == [
        r["id"] for r in rows if "declined" in (r["reason"] or "") and r["created_by"] == staff.manager.staff_id]
    assert [p["payment_id"] for p in listed("--text", str(rows[3]["id"]))] == [rows[3]["id"]]
    support = cli("payments", "list", "--user", "support")
    assert support.code == 4
    mine = cli("payments", "list", "--customer", str(people["jp"]), "--json", "--user", "support")
    assert mine.code == 0 and len(json.loads(mine.out)) == 5
    for bad in (("--min", "10"), ("--currency", "VND", "--min", "9", "--max", "1"), ("--staff", "nobody")):
        refused = cli("payments", "list", *bad, "--user", "finance")
        assert refused.code == 2 and refused.err.count("\n") == 1, bad
    text = cli("payments", "list", "--status", "failed", "--user", "finance")
    assert text.code == 0 and "REFERENCE" in text.out

    out = tmp_path / "p.xlsx"
    done = cli("export", "payments", "--currency", "JPY", "--sort", "oldest", "--out", str(out), "--json",
               "--user", "finance")
    assert done.code == 0 and json.loads(done.out)["rows"] == 5 and out.exists()
    assert cli("export", "payments", "--out", str(tmp_path / "s.xlsx"), "--user", "support").code == 4


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the child's side is the same on both
def test_process_exporter_runs_the_payments_export_in_a_child(app, staff, tmp_path):
    """The child (a spawned, niced interpreter) runs export_payments; the refusals and Cancel
    are the service's own, tested above."""
    from billing_desk.views.export_process import ProcessExporter

    _seed(app, staff)
    exporter = ProcessExporter(app.settings.database_url)
    seen = []
    out = tmp_path / "child.xlsx"
    result = exporter.export_payments(staff.finance, PaymentFilters(currency="USD"), PaymentSort.OLDEST, out,
                                      progress=lambda d, t: seen.append((d, t)))
    assert result.rows == 5 and seen[-1] == (5, 5) and load_workbook(out)["Payments"].max_row == 6

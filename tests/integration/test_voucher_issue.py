"""Issuing, revoking and listing vouchers, through the services and the CLI, on both databases."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from billing_desk.bootstrap import App
from billing_desk.domain.enums import VoucherStatus
from billing_desk.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from billing_desk.domain.money import Money
from billing_desk.models import Voucher, utcnow
from billing_desk.services.vouchers.codes import code_hash
from billing_desk.services.vouchers.dtos import IssueRequest
from billing_desk.services.vouchers.service import VoucherFilter
from tests.support.customers import make_customer
from tests.support.database import audit_rows, raw, run
from tests.support.vouchers import TEST_KEY

pytestmark = pytest.mark.usefixtures("voucher_key")  # every desk of a test shares the test code key

USD10 = Money(1000, "USD")


def test_single_voucher_is_stored_as_keyed_hash_and_last4_only(app: App, staff) -> None:
    issued = app.vouchers.issue(staff.manager, IssueRequest(USD10, credit_days=30))
    assert len(issued.codes) == 1 and issued.campaign is None
    plain = issued.codes[0].replace("-", "")
    rows = raw(app, "SELECT * FROM vouchers")
    assert len(rows) == 1
    row = rows[0]._mapping
    assert row["code_hash"] == code_hash(TEST_KEY.encode(), plain)
    assert row["last4"] == plain[-4:]
    # The plain code is nowhere in the row (nor any prefix longer than the last four).
    assert all(plain[:8] not in str(v) for v in row.values())
    [entry] = audit_rows(app, "voucher.issue")
    assert entry["summary"]["count"] == 1 and entry["staff"] == "manager"
    assert plain not in json.dumps(entry)


def test_batch_belongs_to_a_campaign_with_its_total_face_value(app: App, staff) -> None:
    request = IssueRequest(USD10, count=250, campaign="Black Friday", max_redemptions=3)
    preview = app.vouchers.preview_issue(staff.manager, request)
    assert preview.face_value == Money(250_000, "USD")
    assert preview.max_credit == Money(750_000, "USD")
    issued = app.vouchers.issue(staff.manager, request)
    assert len(set(issued.codes)) == 250 and len(issued.voucher_ids) == 250
    assert issued.face_value == Money(250_000, "USD")
    [campaign] = app.vouchers.campaigns(staff.manager)
    assert (campaign.name, campaign.codes, campaign.by_status) == ("Black Friday", 250, {"active": 250})
    unnamed = app.vouchers.issue(staff.admin, IssueRequest(USD10, count=2))
    assert unnamed.campaign is not None and unnamed.campaign.startswith("Batch ")


def test_support_cannot_issue_revoke_or_list(app: App, staff) -> None:
    issued = app.vouchers.issue(staff.manager, IssueRequest(USD10))
    for call in (lambda: app.vouchers.issue(staff.support, IssueRequest(USD10)),
                 lambda: app.vouchers.revoke(staff.support, issued.voucher_ids[0], "no"),
                 lambda: app.vouchers.revoke_campaign(staff.support, "x", "no"),
                 lambda: app.vouchers.list_vouchers(staff.support),
                 lambda: app.vouchers.issue(staff.finance, IssueRequest(USD10))):
        with pytest.raises(PermissionDenied):
            call()
    assert len(raw(app, "SELECT id FROM vouchers")) == 1


@pytest.mark.parametrize(("request_args", "field"), [
    ({"count": 0}, "count"),
    ({"count": 100_001}, "count"),
    ({"max_redemptions": 0}, "max_redemptions"),
    ({"credit_days": 0}, "credit_days"),
    ({"campaign": "   "}, "campaign"),
    ({"valid_until": utcnow() - timedelta(days=1)}, "valid_until"),
    ({"valid_from": utcnow() + timedelta(days=5), "valid_until": utcnow() + timedelta(days=2)}, "valid_until"),
    ({"customer_ref": "1", "max_redemptions": 2}, "max_redemptions"),
])
def test_bad_requests_are_refused_and_write_nothing(app: App, staff, request_args, field) -> None:
    with pytest.raises(ValidationError) as err:
        app.vouchers.issue(staff.manager, IssueRequest(USD10, **request_args))
    assert err.value.field == field
    assert raw(app, "SELECT count(*) FROM vouchers")[0][0] == 0


def test_zero_amount_and_named_customer_checks(app: App, staff) -> None:
    with pytest.raises(ValidationError, match="more than zero"):
        app.vouchers.issue(staff.manager, IssueRequest(Money(0, "USD")))
    with pytest.raises(NotFound):
        app.vouchers.issue(staff.manager, IssueRequest(USD10, customer_ref="C09999999"))
    vn = make_customer(app, staff.support, country="VN", currency="VND", name="Tran Thi Hoa")
    with pytest.raises(ValidationError, match="billed in VND"):
        app.vouchers.issue(staff.manager, IssueRequest(USD10, customer_ref=vn))
    issued = app.vouchers.issue(staff.manager, IssueRequest(Money(500_000, "VND"), customer_ref=str(vn)))
    assert app.vouchers.list_vouchers(staff.manager, VoucherFilter(customer_id=vn))[0].id == issued.voucher_ids[0]


def test_revoke_one_and_a_campaigns_unused_codes_with_reason(app: App, staff) -> None:
    single = app.vouchers.issue(staff.manager, IssueRequest(USD10))
    with pytest.raises(ValidationError, match="reason"):
        app.vouchers.revoke(staff.manager, single.voucher_ids[0], "  ")
    result = app.vouchers.revoke(staff.manager, single.voucher_ids[0], "printed twice")
    assert result.revoked == 1
    with pytest.raises(Conflict, match="already revoked"):
        app.vouchers.revoke(staff.manager, single.voucher_ids[0], "again")
    with pytest.raises(NotFound):
        app.vouchers.revoke(staff.manager, 999_999, "nope")
    batch = app.vouchers.issue(staff.manager, IssueRequest(USD10, count=5, campaign="Leaked"))
    run(app, update(Voucher).where(Voucher.id == batch.voucher_ids[0]).values(redemption_count=1))
    result = app.vouchers.revoke_campaign(staff.manager, "Leaked", "posted on a forum")
    assert result.revoked == 4  # the used-up code stays used up
    statuses = {r.id: r.status for r in app.vouchers.list_vouchers(staff.manager, VoucherFilter(campaign="Leaked"))}
    assert statuses[batch.voucher_ids[0]] is VoucherStatus.USED_UP
    assert sum(s is VoucherStatus.REVOKED for s in statuses.values()) == 4
    with pytest.raises(Conflict, match="no unused codes"):
        app.vouchers.revoke_campaign(staff.manager, "Leaked", "again")
    with pytest.raises(NotFound):
        app.vouchers.revoke_campaign(staff.manager, "Nope", "x")
    assert [r["reason"] for r in audit_rows(app, "voucher.revoke_campaign")] == ["posted on a forum"]
    assert audit_rows(app, "voucher.revoke")[0]["reason"] == "printed twice"


def test_manager_list_statuses_filters_and_keyset_pages(app: App, staff) -> None:
    now = utcnow()
    active = app.vouchers.issue(staff.manager, IssueRequest(USD10, count=3, campaign="A"))
    scheduled = app.vouchers.issue(staff.manager, IssueRequest(USD10, valid_from=now + timedelta(days=3)))
    expired = app.vouchers.issue(staff.manager, IssueRequest(Money(500, "EUR"), valid_until=now + timedelta(days=1)))
    run(app, update(Voucher).where(Voucher.id == expired.voucher_ids[0])
        .values(valid_until=now - timedelta(minutes=1)))
    listed = app.vouchers.list_vouchers
    by_status = {s: [r.id for r in listed(staff.manager, VoucherFilter(status=s))] for s in VoucherStatus}
    assert sorted(by_status[VoucherStatus.ACTIVE]) == sorted(active.voucher_ids)
    assert by_status[VoucherStatus.SCHEDULED] == list(scheduled.voucher_ids)
    assert by_status[VoucherStatus.EXPIRED] == list(expired.voucher_ids)
    assert [r.id for r in listed(staff.manager, VoucherFilter(currency="EUR"))] == list(expired.voucher_ids)
    last4 = app.vouchers.list_vouchers(staff.manager, VoucherFilter(last4=active.codes[1][-4:].lower()))
    assert active.voucher_ids[1] in [r.id for r in last4]
    first = app.vouchers.list_vouchers(staff.manager, limit=2)
    second = app.vouchers.list_vouchers(staff.manager, before_id=first[-1].id, limit=2)
    third = app.vouchers.list_vouchers(staff.manager, before_id=second[-1].id, limit=2)
    seen = [r.id for r in first + second + third]
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 5
    with pytest.raises(NotFound):
        app.vouchers.list_vouchers(staff.manager, VoucherFilter(campaign="missing"))


def test_cli_issue_prints_codes_one_a_line_and_json_and_files(cli, app: App, staff, tmp_path: Path) -> None:
    r = cli("voucher", "issue", "--amount", "10", "--currency", "usd", "--count", "3", "--campaign", "Spring",
            "--credit-days", "30", "--valid-until", "2099-12-31", "--user", "manager")
    assert r.code == 0, r.err
    codes = r.out.split()
    assert len(codes) == 3 and all(len(c) == 24 for c in codes)
    assert "face value $30.00" in r.err
    r = cli("voucher", "issue", "--amount", "500,000", "--currency", "VND", "--json", "--user", "manager")
    data = json.loads(r.out)
    assert len(data["codes"]) == 1 and len(data["voucher_ids"]) == 1
    assert data["amount"] == {"minor": 500000, "currency": "VND", "display": "500,000 ₫"}
    out_csv = tmp_path / "codes.csv"
    r = cli("voucher", "issue", "--amount", "5", "--currency", "EUR", "--count", "4", "--out", str(out_csv),
            "--user", "admin")
    assert r.code == 0 and "codes are in" in r.out and len(r.out.splitlines()) == 1  # no code on screen
    with out_csv.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4 and rows[0]["amount"] == "5.00" and rows[0]["currency"] == "EUR"
    assert out_csv.stat().st_mode & 0o077 == 0
    out_xlsx = tmp_path / "codes.xlsx"
    r = cli("voucher", "issue", "--amount", "3000", "--currency", "JPY", "--count", "2", "--out", str(out_xlsx),
            "--json", "--user", "manager")
    data = json.loads(r.out)
    sheet = load_workbook(out_xlsx, read_only=True).active
    cells = [row for row in sheet.iter_rows(values_only=True)]
    assert cells[0][0] == "code" and sorted(c[0] for c in cells[1:]) == sorted(data["codes"])


def test_cli_refusals_are_one_line_and_non_zero(cli) -> None:
    r = cli("voucher", "issue", "--amount", "10", "--currency", "USD", "--user", "support")
    assert r.code == 4 and "may not issue" in r.err and r.out == ""
    r = cli("voucher", "issue", "--amount", "10", "--currency", "XXX", "--user", "manager")
    assert r.code == 2 and "XXX" in r.err
    r = cli("voucher", "issue", "--amount", "10.001", "--currency", "USD", "--user", "manager")
    assert r.code == 2 and "decimals" in r.err
    r = cli("voucher", "revoke", "5", "--reason", "x", "--user", "support")
    assert r.code == 4
    r = cli("voucher", "list", "--status", "bogus", "--user", "manager")
    assert r.code == 2 and "active, scheduled" in r.err


def test_cli_list_json_campaigns_revoke_and_export(cli, app: App, staff, tmp_path: Path) -> None:
    app.vouchers.issue(staff.manager, IssueRequest(USD10, count=3, campaign="Promo"))
    r = cli("voucher", "list", "--json", "--user", "manager")
    rows = json.loads(r.out)
    assert len(rows) == 3 and rows[0]["status"] == "active"
    assert rows[0]["amount"] == {"minor": 1000, "currency": "USD", "display": "$10.00"}
    assert rows[0]["credit_granted"]["minor"] == 0
    r = cli("voucher", "list", "--campaigns", "--json", "--user", "manager")
    assert json.loads(r.out)[0]["codes"] == 3
    r = cli("voucher", "revoke", str(rows[0]["id"]), "--reason", "lost", "--json", "--user", "manager")
    assert json.loads(r.out)["revoked"] == 1
    r = cli("voucher", "revoke", "--campaign", "Promo", "--reason", "ended", "--user", "manager")
    assert r.code == 0 and "Revoked 2 unused" in r.out
    out = tmp_path / "list.xlsx"
    r = cli("voucher", "list", "--status", "revoked", "--out", str(out), "--user", "manager")
    assert r.code == 0 and "Exported 3" in r.out
    assert audit_rows(app, "voucher.export")[0]["summary"]["rows"] == 3
    r = cli("voucher", "list", "--out", str(tmp_path / "list.pdf"), "--user", "manager")
    assert r.code == 2 and ".csv or .xlsx" in r.err


def test_ten_thousand_codes_in_one_batch(app: App, staff) -> None:
    issued = app.vouchers.issue(staff.manager, IssueRequest(USD10, count=10_000, campaign="Big"))
    assert len(set(issued.codes)) == 10_000
    assert raw(app, "SELECT count(*) FROM vouchers")[0][0] == 10_000
    hashes = raw(app, "SELECT count(DISTINCT code_hash) FROM vouchers")[0][0]
    assert hashes == 10_000
    with app.uow.read() as uow:
        ids = list(uow.session.scalars(select(Voucher.id).order_by(Voucher.id)))
    assert ids == list(issued.voucher_ids)


def test_staff_typed_text_in_voucher_exports_is_never_a_formula(cli, app: App, staff, tmp_path: Path) -> None:
    """Campaign names and revoke reasons pass the same formula guard as the credit-history export."""
    app.vouchers.issue(staff.manager, IssueRequest(USD10, count=1, campaign="=HYPERLINK(\"http://x\")"))
    r = cli("voucher", "revoke", "--campaign", "=HYPERLINK(\"http://x\")", "--reason", "@SUM(A1)", "--user", "manager")
    assert r.code == 0, r.err
    out_csv, out_xlsx = tmp_path / "list.csv", tmp_path / "list.xlsx"
    for out in (out_csv, out_xlsx):
        assert cli("voucher", "list", "--out", str(out), "--user", "manager").code == 0
    with out_csv.open() as fh:
        row = next(csv.DictReader(fh))
    assert row["campaign"] == "'=HYPERLINK(\"http://x\")" and row["revoked_reason"] == "'@SUM(A1)"
    sheet = load_workbook(out_xlsx).active
    header = [c.value for c in sheet[1]]
    campaign, reason = sheet[2][header.index("campaign")], sheet[2][header.index("revoked_reason")]
    assert (campaign.value, campaign.data_type) == ("=HYPERLINK(\"http://x\")", "s")
    assert (reason.value, reason.data_type) == ("@SUM(A1)", "s")

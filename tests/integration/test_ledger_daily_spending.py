"""Daily spending per service (the Overview chart): sums per whole local day, in the database.

Rows are recorded through the ledger service (a usage file with timestamps, so each row lands
at a chosen instant) or, for the many-zone check, inserted directly; the expected figures are
worked out here in Python with ``astimezone(zone).date()``, the definition of a local day.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from billing_desk.domain.enums import EntryStatus, LedgerKind, Role
from billing_desk.domain.errors import PermissionDenied, ValidationError
from billing_desk.domain.money import Money
from billing_desk.domain.permissions import ROLE_PERMISSIONS, Actor, Permission
from billing_desk.models import LedgerEntry
from billing_desk.services.ledger import spending as ledger_spending
from billing_desk.services.ledger.history import query_plan
from billing_desk.services.ledger.posting import Posting, post
from tests.support.customers import make_customer
from tests.support.ledger import credit

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
BERLIN = ZoneInfo("Europe/Berlin")
SERVICES = ("AI Inference", "Storage", "GPU Container")


def _usage(app, actor: Actor, cid: int, *lines: tuple[str, str, str]) -> None:
    """(UTC timestamp, service, amount) lines, imported as one usage file."""
    csv = "customer,timestamp,service,description,amount,key\n" + "".join(
        f"{cid},{at},{service},test,{amount},\n" for at, service, amount in lines)
    app.ledger.import_usage(actor, "spending.csv", text=csv)


def _post(app, cid: int, kind: LedgerKind, minor: int, at: datetime, service: str | None = None) -> None:
    with app.uow.write() as uow:
        post(uow.session, Posting(cid, kind, Money(minor, "VND"), description=kind.value, service=service,
                                  created_at=at))
        uow.commit()


def _table(spending) -> dict[tuple[str, str], int]:
    """{(day, service): spent} for the days with spending."""
    return {(spending.days[i].isoformat(), s.service): v
            for s in spending.services for i, v in enumerate(s.per_day) if v}


def test_sums_per_local_day_and_service_exclude_failed_rows_and_credits(app, staff) -> None:
    cid = make_customer(app, staff.manager)
    other = make_customer(app, staff.manager, name="Tran Van Binh")
    credit(app, cid, 1_000_000, "VND")
    credit(app, cid, 500, "VND", voucher=True)  # the first usage draws it: two rows, one usage
    credit(app, other, 1_000_000, "VND")
    _usage(app, staff.manager, cid,
           ("2026-03-09T16:00:00Z", "AI Inference", "800"),  # 500 from the voucher lot, 300 from top-ups
           ("2026-03-05T16:59:59Z", "AI Inference", "50"),  # 03-05 23:59:59 local: before the period
           ("2026-03-05T17:00:00Z", "Storage", "70"),  # 03-06 00:00 local: the first day
           ("2026-03-09T16:59:59Z", "AI Inference", "1000"),  # 03-09 23:59:59 local
           ("2026-03-09T17:00:00Z", "AI Inference", "2000"),  # 03-10 00:00 local
           ("2026-03-10T16:59:59.999999Z", "Storage", "300"),
           ("2026-03-11T03:00:00Z", "Storage", "9000000"),  # more than the balance: a failed row
           ("2026-03-12T16:59:59Z", "GPU Container", "5"),  # the last second of the last day
           ("2026-03-12T17:00:00Z", "GPU Container", "7"))  # 03-13 local: after the period
    _usage(app, staff.manager, other, ("2026-03-10T05:00:00Z", "Storage", "123456"))
    in_period = datetime(2026, 3, 11, 2, 0, tzinfo=UTC)
    _post(app, cid, LedgerKind.TOPUP, 40_000, in_period)
    _post(app, cid, LedgerKind.PROMOTION, 30_000, in_period)
    _post(app, cid, LedgerKind.ADJUSTMENT, -20_000, in_period)  # a correction, not spending
    _post(app, cid, LedgerKind.PLAN_CHARGE, -2_900, in_period, service="Subscription")

    spending = app.ledger.daily_spending(staff.support, cid, days=7, today=date(2026, 3, 12), zone=HCM)

    assert spending.currency == "VND"
    assert spending.days == tuple(date(2026, 3, 6) + timedelta(days=i) for i in range(7))
    assert _table(spending) == {
        ("2026-03-06", "Storage"): 70,
        ("2026-03-09", "AI Inference"): 800 + 1000,
        ("2026-03-10", "AI Inference"): 2000,
        ("2026-03-10", "Storage"): 300,
        ("2026-03-11", "Subscription"): 2_900,
        ("2026-03-12", "GPU Container"): 5,
    }
    assert [s.service for s in spending.services] == ["AI Inference", "GPU Container", "Storage", "Subscription"]
    assert all(isinstance(v, int) for s in spending.services for v in s.per_day)
    assert spending.per_day("Storage") == (70, 0, 0, 0, 300, 0, 0)
    assert spending.per_day("AI Notebook") == (0,) * 7
    # the failed 9,000,000 row is in the ledger, but moved no money
    page = app.ledger.history_page(staff.support, cid)
    assert any(r.status is EntryStatus.FAILED and r.service == "Storage" for r in page.rows)


def test_days_follow_berlin_across_both_dst_changes(app, staff) -> None:
    cid = make_customer(app, staff.manager)
    credit(app, cid, 1_000_000, "VND")
    _usage(app, staff.manager, cid,
           # 2026-03-29 has 23 hours: 2026-03-28T23:00Z to 2026-03-29T22:00Z
           ("2026-03-28T22:59:59Z", "Storage", "1"),  # 03-28 23:59:59 CET
           ("2026-03-28T23:00:00Z", "Storage", "2"),  # 03-29 00:00 CET
           ("2026-03-29T00:59:59Z", "Storage", "4"),  # 01:59:59 CET, the last second before the jump
           ("2026-03-29T01:00:00Z", "Storage", "8"),  # 03:00 CEST
           ("2026-03-29T21:59:59Z", "Storage", "16"),  # 23:59:59 CEST
           ("2026-03-29T22:00:00Z", "Storage", "32"),  # 03-30 00:00 CEST
           # 2025-10-26 has 25 hours: 2025-10-25T22:00Z to 2025-10-26T23:00Z
           ("2025-10-25T21:59:59Z", "GPU Container", "1"),  # 10-25 23:59:59 CEST
           ("2025-10-25T22:00:00Z", "GPU Container", "2"),  # 10-26 00:00 CEST
           ("2025-10-26T00:30:00Z", "GPU Container", "4"),  # 02:30 CEST
           ("2025-10-26T01:30:00Z", "GPU Container", "8"),  # 02:30 CET, the hour again
           ("2025-10-26T22:59:59Z", "GPU Container", "16"),  # 23:59:59 CET
           ("2025-10-26T23:00:00Z", "GPU Container", "32"))  # 10-27 00:00 CET

    spring = app.ledger.daily_spending(staff.support, cid, days=3, today=date(2026, 3, 30), zone=BERLIN)
    assert spring.per_day("Storage") == (1, 2 + 4 + 8 + 16, 32)
    autumn = app.ledger.daily_spending(staff.support, cid, days=2, today=date(2025, 10, 27), zone=BERLIN)
    assert autumn.per_day("GPU Container") == (2 + 4 + 8 + 16, 32)
    assert [s.service for s in autumn.services] == ["GPU Container"]
    # the same rows in Ho Chi Minh City (UTC+7, no DST) fall on other days
    hcm = app.ledger.daily_spending(staff.support, cid, days=3, today=date(2026, 3, 30), zone=HCM)
    assert hcm.per_day("Storage") == (0, 1 + 2 + 4 + 8, 16 + 32)


ZONES = ("Asia/Ho_Chi_Minh", "Europe/Berlin", "Australia/Adelaide", "Asia/Kathmandu", "America/Santiago",
         "Pacific/Chatham", "America/St_Johns", "UTC")


def test_every_row_lands_on_its_local_day_in_many_zones(app, staff) -> None:
    """Rows a second either side of every UTC quarter hour for 12 days that include DST changes
    in Europe (03-29), Chile and South Australia (04-05); half- and three-quarter-hour offsets."""
    cid = make_customer(app, staff.manager)
    start = datetime(2026, 3, 26, tzinfo=UTC)
    rows = []
    for q in range(12 * 96):
        for second in (-1, 0):
            at = start + timedelta(minutes=15 * q, seconds=second)
            n = len(rows)
            kind = (LedgerKind.USAGE, LedgerKind.USAGE, LedgerKind.PLAN_CHARGE, LedgerKind.TOPUP)[n % 4]
            status = EntryStatus.FAILED if n % 11 == 0 else EntryStatus.SUCCESS
            amount = -(n % 97 + 1) if kind is not LedgerKind.TOPUP else 1_000
            service = "Subscription" if kind is LedgerKind.PLAN_CHARGE else SERVICES[n % 3]
            rows.append(dict(customer_id=cid, created_at=at, kind=kind.value, service=service, description="",
                             status=status.value, failure_reason=None, amount=amount, currency="VND",
                             source="topup"))
    with app.uow.write() as uow:
        uow.session.execute(insert(LedgerEntry), rows)
        uow.commit()
    today = date(2026, 4, 6)
    for name in ZONES:
        zone = ZoneInfo(name)
        spending = app.ledger.daily_spending(staff.support, cid, days=10, today=today, zone=zone)
        expected: dict[tuple[str, str], int] = defaultdict(int)
        for r in rows:
            day = r["created_at"].astimezone(zone).date()
            if (r["status"] == "success" and r["kind"] in ("usage", "plan_charge")
                    and today - timedelta(days=9) <= day <= today):
                expected[(day.isoformat(), r["service"])] -= r["amount"]
        assert _table(spending) == dict(expected), name


def test_empty_history_and_no_currency(app, staff) -> None:
    cid = make_customer(app, staff.manager)
    spending = app.ledger.daily_spending(staff.support, cid, today=date(2026, 3, 12), zone=HCM)
    assert spending.currency == "VND" and spending.services == () and len(spending.days) == 90
    assert spending.days[0] == date(2025, 12, 13) and spending.days[-1] == date(2026, 3, 12)
    bare = app.customers.create(staff.manager, name="Emma Muller", email="emma@example.de", country="DE",
                                billing_type="personal", address="")
    none = app.ledger.daily_spending(staff.support, bare.id, days=3)
    assert none.currency is None and none.services == () and len(none.days) == 3
    assert none.to_json()["services"] == {}


def test_default_day_is_today_in_the_staff_zone(app, staff, monkeypatch) -> None:
    cid = make_customer(app, staff.manager)
    credit(app, cid, 1_000, "VND")
    app.ledger.record_usage(staff.manager, cid, service="Storage", amount="250")
    monkeypatch.setenv("BILLING_DESK_TIMEZONE", "Pacific/Chatham")
    spending = app.ledger.daily_spending(staff.support, cid, days=2)
    assert spending.days[-1] == datetime.now(ZoneInfo("Pacific/Chatham")).date()
    assert spending.per_day("Storage")[-1] == 250  # recorded just now: today


def test_period_and_permission_are_checked(app, staff, monkeypatch) -> None:
    cid = make_customer(app, staff.manager)
    for days in (0, 367):
        with pytest.raises(ValidationError, match="1 to 366 days"):
            app.ledger.daily_spending(staff.support, cid, days=days)
    # every role reads history today; one that may not is refused
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.SUPPORT, ROLE_PERMISSIONS[Role.SUPPORT] - {Permission.HISTORY_READ})
    with pytest.raises(PermissionDenied):
        app.ledger.daily_spending(staff.support, cid)


def test_the_sum_walks_an_index_of_the_customers_period(app, staff) -> None:
    cid = make_customer(app, staff.manager)
    bounds = ledger_spending.day_bounds(ledger_spending.local_days(date(2026, 3, 12), 90), HCM)
    with app.uow.read() as uow:
        if uow.dialect == "postgresql":  # an empty table would be seq-scanned; ask how it would go at scale
            uow.session.connection().exec_driver_sql("SET enable_seqscan = off")
        plan = query_plan(uow.session, ledger_spending.spending_query(cid, bounds))
    assert "ix_ledger_entries_customer_" in plan, plan
    assert "SCAN ledger_entries\n" not in plan + "\n" and "Seq Scan" not in plan, plan

"""A campaign's funnel against the ledger, issue with progress and cancel, and who may see the
funnel, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from billing_desk.bootstrap import App
from billing_desk.domain.errors import Cancelled, PermissionDenied
from billing_desk.domain.money import Money
from billing_desk.models import utcnow
from billing_desk.services.vouchers import CampaignFunnel, FunnelLine, IssueRequest
from tests.support.customers import make_customer
from tests.support.database import audit_rows, raw

pytestmark = pytest.mark.usefixtures("voucher_key")

USD10 = Money(1000, "USD")


def _ledger(app: App, customer_ids: list[int]) -> dict[str, int]:
    """What the ledger says about these customers' voucher credit."""
    ids = ",".join(str(i) for i in customer_ids)
    row = raw(app, f"""
        SELECT COALESCE(SUM(CASE WHEN kind = 'voucher' THEN amount ELSE 0 END), 0),
               COALESCE(-SUM(CASE WHEN kind = 'expiry' THEN amount ELSE 0 END), 0),
               COALESCE(-SUM(CASE WHEN kind <> 'expiry' AND amount < 0 THEN amount ELSE 0 END), 0)
        FROM ledger_entries WHERE customer_id IN ({ids}) AND source = 'voucher' AND status = 'success'""")[0]
    balance = raw(app, f"SELECT COALESCE(SUM(voucher), 0) FROM customer_balances WHERE customer_id IN ({ids})")[0][0]
    return {"granted": int(row[0]), "expired": int(row[1]), "spent": int(row[2]), "outstanding": int(balance)}


def _figures(line: FunnelLine) -> dict[str, int]:
    return {"granted": line.granted.minor, "expired": line.expired.minor, "spent": line.spent.minor,
            "outstanding": line.outstanding.minor}


def _by_name(funnels: list[CampaignFunnel]) -> dict[str, CampaignFunnel]:
    return {f.name: f for f in funnels}


def test_funnel_after_redemptions_spending_and_expiry_equals_the_ledger(app: App, staff) -> None:
    spring = app.vouchers.issue(staff.manager, IssueRequest(USD10, count=3, campaign="Spring", credit_days=10))
    autumn = app.vouchers.issue(staff.manager, IssueRequest(USD10, count=2, campaign="Autumn"))
    c1, c2, c3 = (make_customer(app, staff.admin, "USD", name=f"Funnel {i}") for i in range(3))
    for customer, code in ((c1, spring.codes[0]), (c2, spring.codes[1]), (c3, autumn.codes[0])):
        app.vouchers.redeem(staff.support, customer, code)
    app.ledger.record_usage(staff.manager, c1, service="AI Inference", amount="3.00")
    app.ledger.record_usage(staff.manager, c3, service="AI Inference", amount="2.50")

    funnels = _by_name(app.vouchers.campaign_funnels(staff.manager))
    (line,) = funnels["Spring"].lines
    assert (line.currency, line.codes, line.redeemed) == ("USD", 3, 2)
    assert _figures(line) == {"granted": 2000, "expired": 0, "spent": 300, "outstanding": 1700}

    # Eleven days on, Spring's credit has lapsed: the funnel counts it as expired at once,
    # and after the expiry run the ledger's write-off rows say the same.
    later = utcnow() + timedelta(days=11)
    lapsed = _by_name(app.vouchers.campaign_funnels(staff.manager, now=later))["Spring"].lines[0]
    assert _figures(lapsed) == {"granted": 2000, "expired": 1700, "spent": 300, "outstanding": 0}
    app.vouchers.expire(staff.manager, now=later)
    funnels = _by_name(app.vouchers.campaign_funnels(staff.manager, now=later))
    assert _figures(funnels["Spring"].lines[0]) == _ledger(app, [c1, c2]) == {
        "granted": 2000, "expired": 1700, "spent": 300, "outstanding": 0}
    (autumn_line,) = funnels["Autumn"].lines
    assert (autumn_line.codes, autumn_line.redeemed) == (2, 1)
    assert _figures(autumn_line) == _ledger(app, [c3]) == {"granted": 1000, "expired": 0, "spent": 250,
                                                           "outstanding": 750}


def test_funnel_keeps_each_currency_apart(app: App, staff, tmp_path: Path) -> None:
    app.vouchers.issue(staff.manager, IssueRequest(USD10, count=2, campaign="Mixed"))
    app.vouchers.issue(staff.manager, IssueRequest(Money(50_000, "VND"), count=4, campaign="Mixed"))
    (funnel,) = app.vouchers.campaign_funnels(staff.manager)
    assert [(line.currency, line.codes, line.granted) for line in funnel.lines] == [
        ("USD", 2, Money(0, "USD")), ("VND", 4, Money(0, "VND"))]
    assert funnel.codes == 6
    # The stored figure equals the rows it stands for (issue_to_file moves it too).
    app.vouchers.issue_to_file(staff.manager, IssueRequest(USD10, count=3, campaign="Mixed"), tmp_path / "c.csv")
    stored = raw(app, "SELECT campaign_id, currency, codes FROM voucher_campaign_codes ORDER BY currency")
    counted = raw(app, "SELECT campaign_id, currency, COUNT(*) FROM vouchers GROUP BY campaign_id, currency "
                       "ORDER BY currency")
    assert [tuple(r) for r in stored] == [tuple(r) for r in counted] == [(funnel.id, "USD", 5), (funnel.id, "VND", 4)]


def test_redemptions_per_day(app: App, staff) -> None:
    issued = app.vouchers.issue(staff.manager, IssueRequest(USD10, count=2, campaign="Daily"))
    for i, code in enumerate(issued.codes):
        app.vouchers.redeem(staff.support, make_customer(app, staff.admin, "USD", name=f"Day {i}"), code)
    (funnel,) = app.vouchers.campaign_funnels(staff.manager)
    today = datetime.now(UTC).date()
    daily = app.vouchers.redemptions_by_day(staff.manager, funnel.id, 7, UTC, today)
    assert daily.days[-1] == today and daily.days[0] == today - timedelta(days=6)
    assert daily.counts == (0, 0, 0, 0, 0, 0, 2)
    assert sum(app.vouchers.redemptions_by_day(staff.manager, funnel.id, 7, UTC, date(2020, 1, 1)).counts) == 0


def test_issue_reports_progress_and_a_cancel_leaves_nothing(app: App, staff) -> None:
    seen: list[tuple[int, int]] = []
    issued = app.vouchers.issue(staff.manager, IssueRequest(USD10, count=12_000, campaign="Watched"),
                                progress=lambda done, total: seen.append((done, total)))
    assert len(issued.codes) == 12_000
    assert seen[-1] == (24_000, 24_000) and all(t == 24_000 for _d, t in seen)
    assert [d for d, _t in seen] == sorted(d for d, _t in seen)

    reports: list[int] = []

    def cancel_in_the_insert() -> bool:
        return bool(reports) and reports[-1] > 12_000  # some rows are already inserted

    with pytest.raises(Cancelled):
        app.vouchers.issue(staff.manager, IssueRequest(USD10, count=12_000, campaign="Stopped"),
                           progress=lambda done, _total: reports.append(done), cancel=cancel_in_the_insert)
    assert reports[-1] > 12_000
    assert raw(app, "SELECT COUNT(*) FROM vouchers")[0][0] == 12_000
    assert [f.name for f in app.vouchers.campaign_funnels(staff.manager)] == ["Watched"]
    assert len(audit_rows(app, "voucher.issue")) == 1


def test_only_voucher_staff_see_funnels(app: App, staff) -> None:
    for actor in (staff.support, staff.finance):
        with pytest.raises(PermissionDenied):
            app.vouchers.campaign_funnels(actor)
        with pytest.raises(PermissionDenied):
            app.vouchers.issue(actor, IssueRequest(USD10))
    assert app.vouchers.campaign_funnels(staff.admin) == []

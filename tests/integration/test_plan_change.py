"""Plans: the catalog, upgrades charged pro rata, downgrades at the next period, refusals."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from billing_desk.bootstrap import App
from billing_desk.domain.errors import Conflict, InsufficientCredit, NotFound, PermissionDenied, ValidationError
from billing_desk.domain.money import Money
from billing_desk.domain.proration import prorated_charge
from billing_desk.models import Subscription, utcnow
from tests.support.customers import make_customer
from tests.support.database import audit_rows, raw, run
from tests.support.ledger import top_up
from tests.support.plans import seed_plans

pytestmark = pytest.mark.usefixtures("voucher_key")  # every desk of a test shares the test code key



def usd(minor: int) -> Money:
    return Money(minor, "USD")


@pytest.fixture
def shop(app: App, staff) -> App:
    seed_plans(app, staff.manager)
    return app


def test_catalog_in_a_currency_and_retired_plans(shop: App, staff) -> None:
    plans = shop.plans.catalog(staff.support, "vnd")
    assert [p.code for p in plans] == ["free", "starter", "pro", "enterprise"]
    assert plans[2].price == Money(750_000, "VND") and plans[2].features == ("pro feature",)
    assert shop.plans.catalog(staff.support, "JPY")[1].price is None
    shop.plans.retire_plan(staff.manager, "starter")
    assert "starter" not in [p.code for p in shop.plans.catalog(staff.support)]
    assert [p.retired for p in shop.plans.catalog(staff.support, include_retired=True)][1] is True
    with pytest.raises(Conflict, match="already retired"):
        shop.plans.retire_plan(staff.manager, "starter")


def test_only_managers_manage_the_catalog_and_edits_are_audited(shop: App, staff) -> None:
    for call in (lambda: shop.plans.add_plan(staff.support, code="x", name="X", prices={"USD": usd(1)}),
                 lambda: shop.plans.edit_plan(staff.support, "pro", name="Pro+"),
                 lambda: shop.plans.retire_plan(staff.finance, "pro")):
        with pytest.raises(PermissionDenied):
            call()
    edited = shop.plans.edit_plan(staff.manager, "pro", name="Pro Plus", prices={"USD": usd(3900)})
    assert edited.name == "Pro Plus" and edited.prices["USD"] == usd(3900) and edited.prices["VND"].minor == 750_000
    [entry] = audit_rows(shop, "plan.edit")
    assert entry["summary"]["before"]["name"] == "Pro" and entry["summary"]["after"]["prices"]["USD"] == 3900
    with pytest.raises(Conflict, match="already exists"):
        shop.plans.add_plan(staff.manager, code="pro", name="Again", prices={"USD": usd(1)})
    with pytest.raises(ValidationError, match="plan code"):
        shop.plans.add_plan(staff.manager, code="Pro Max!", name="X", prices={"USD": usd(1)})
    with pytest.raises(ValidationError, match="at least one monthly price"):
        shop.plans.add_plan(staff.manager, code="empty", name="Empty", prices={})
    with pytest.raises(NotFound, match="the plans are: free, starter"):
        shop.plans.edit_plan(staff.manager, "platinum", name="P")


def test_first_upgrade_from_free_charges_a_full_month_and_starts_a_period(shop: App, staff) -> None:
    cid = make_customer(shop, staff.support, "USD")
    top_up(shop, cid, usd(5000))
    current = shop.plans.current(staff.support, cid)
    assert current.plan and current.plan.code == "free" and current.period_start is None
    preview = shop.plans.preview_change(staff.support, cid, "pro")
    assert (preview.kind, preview.charge, preview.balance_after, preview.affordable) == \
        ("upgrade", usd(2900), usd(2100), True)
    result = shop.plans.change(staff.support, cid, "pro")
    assert result.charge == usd(2900) and result.balance_after == usd(2100)
    [row] = raw(shop, "SELECT kind, service, amount, status FROM ledger_entries WHERE kind = 'plan_charge'")
    assert tuple(row) == ("plan_charge", "Subscription", -2900, "success")
    current = shop.plans.current(staff.support, cid)
    assert current.plan and current.plan.code == "pro" and current.period_end and current.period_start
    assert current.period_end - current.period_start >= timedelta(days=28)
    assert audit_rows(shop, "plan.upgrade")[0]["summary"]["after"]["plan"] == "pro"


def test_mid_period_upgrade_charges_the_prorated_difference_rounded_down(shop: App, staff) -> None:
    cid = make_customer(shop, staff.support, country="VN", currency="VND", name="Le Van Nam")
    top_up(shop, cid, Money(5_000_000, "VND"))
    shop.plans.change(staff.support, cid, "starter")
    start = utcnow() - timedelta(days=10, hours=5)
    end = start + timedelta(days=30)
    run(shop, update(Subscription).where(Subscription.customer_id == cid).values(period_start=start, period_end=end))
    low = prorated_charge(250_000, 2_500_000, start, end, utcnow() + timedelta(seconds=30))
    result = shop.plans.change(staff.support, cid, "enterprise")
    high = prorated_charge(250_000, 2_500_000, start, end, utcnow() - timedelta(seconds=30))
    assert low <= result.charge.minor <= high
    assert 1_400_000 < result.charge.minor < 1_600_000  # about two thirds of 2,250,000
    current = shop.plans.current(staff.support, cid)
    assert current.plan and current.plan.code == "enterprise" and current.period_end == end


def test_short_balance_refuses_the_upgrade_with_the_amount_missing_and_changes_nothing(shop: App, staff) -> None:
    cid = make_customer(shop, staff.support, "USD")
    top_up(shop, cid, usd(1000))
    preview = shop.plans.preview_change(staff.support, cid, "pro")
    assert preview.shortfall == usd(1900) and not preview.affordable
    with pytest.raises(InsufficientCredit) as err:
        shop.plans.change(staff.support, cid, "pro")
    assert "$19.00 is missing" in str(err.value)
    current = shop.plans.current(staff.support, cid)
    assert current.plan and current.plan.code == "free"
    assert raw(shop, "SELECT count(*) FROM subscriptions")[0][0] == 0
    assert raw(shop, "SELECT count(*) FROM ledger_entries WHERE kind = 'plan_charge'")[0][0] == 0
    assert shop.customers.get(staff.support, cid).balance.total == usd(1000)  # type: ignore[union-attr]
    [refused] = audit_rows(shop, "plan.upgrade_refused")
    assert refused["summary"]["missing"]["minor"] == 1900
    top_up(shop, cid, usd(1900), key="second")
    assert shop.plans.change(staff.support, cid, "pro").balance_after == usd(0)


def test_downgrade_waits_for_the_next_period_and_can_be_cancelled(shop: App, staff) -> None:
    cid = make_customer(shop, staff.support, "USD")
    top_up(shop, cid, usd(10_000))
    shop.plans.change(staff.support, cid, "pro")
    result = shop.plans.change(staff.support, cid, "starter")
    current = shop.plans.current(staff.support, cid)
    assert result.kind == "downgrade" and result.charge == usd(0) and result.effective_at == current.period_end
    assert current.plan and current.plan.code == "pro"
    assert current.scheduled_plan and current.scheduled_plan.code == "starter"
    assert shop.plans.change(staff.support, cid, "pro").kind == "cancel_downgrade"
    assert shop.plans.current(staff.support, cid).scheduled_plan is None
    with pytest.raises(Conflict, match="already on the Pro plan"):
        shop.plans.change(staff.support, cid, "pro")
    shop.plans.change(staff.support, cid, "free")
    # When the period ends, the downgrade applies and a new period starts (no charge here).
    run(shop, update(Subscription).where(Subscription.customer_id == cid).values(
        period_start=utcnow() - timedelta(days=31), period_end=utcnow() - timedelta(days=1)))
    current = shop.plans.current(staff.support, cid)
    assert current.plan and current.plan.code == "free" and current.scheduled_plan is None
    assert current.period_start and current.period_end and current.period_start <= utcnow() < current.period_end
    assert raw(shop, "SELECT count(*) FROM ledger_entries WHERE kind = 'plan_charge'")[0][0] == 1


def test_retired_plans_keep_subscribers_but_take_no_new_ones(shop: App, staff) -> None:
    old = make_customer(shop, staff.support, "USD")
    new = make_customer(shop, staff.support, "USD", name="Olivia Taylor")
    top_up(shop, old, usd(10_000))
    top_up(shop, new, usd(10_000))
    shop.plans.change(staff.support, old, "starter")
    shop.plans.retire_plan(staff.manager, "starter")
    assert shop.plans.current(staff.support, old).plan.code == "starter"  # type: ignore[union-attr]
    with pytest.raises(Conflict, match="retired"):
        shop.plans.change(staff.support, new, "starter")


def test_other_refusals(shop: App, staff) -> None:
    jp = make_customer(shop, staff.support, country="JP", currency="JPY", name="Ito Ren")
    with pytest.raises(Conflict, match="no price in JPY"):
        shop.plans.preview_change(staff.support, jp, "pro")
    nocur = make_customer(shop, staff.support, currency=None, name="Leon Martin")
    with pytest.raises(Conflict, match="no billing currency"):
        shop.plans.change(staff.support, nocur, "pro")
    us = make_customer(shop, staff.support, "USD", name="Chloe Rossi")
    top_up(shop, us, usd(10_000))
    with pytest.raises(PermissionDenied):
        shop.plans.change(staff.finance, us, "pro")
    with pytest.raises(NotFound):
        shop.plans.change(staff.support, us, "gold")
    with pytest.raises(Conflict, match="more than the"):
        shop.plans.change(staff.support, us, "pro", max_charge=usd(100))
    assert raw(shop, "SELECT count(*) FROM subscriptions")[0][0] == 0


def test_cli_plan_list_preview_change_show_and_manage(cli, shop: App, staff) -> None:
    cid = make_customer(shop, staff.support, "USD")
    top_up(shop, cid, usd(2000))
    r = cli("plan", "list", "--currency", "USD", "--json", "--user", "support")
    data = json.loads(r.out)
    assert [p["code"] for p in data] == ["free", "starter", "pro", "enterprise"]
    assert data[2]["price"] == {"minor": 2900, "currency": "USD", "display": "$29.00"}
    r = cli("plan", "change", str(cid), "pro", "--preview", "--json", "--user", "support")
    preview = json.loads(r.out)
    assert preview["charge"]["minor"] == 2900 and preview["shortfall"]["minor"] == 900
    assert preview["balance_after"]["minor"] == -900 and preview["affordable"] is False
    r = cli("plan", "change", str(cid), "pro", "--user", "support")
    assert r.code == 6 and "$9.00 is missing" in r.err
    r = cli("plan", "change", str(cid), "starter", "--json", "--user", "support")
    assert r.code == 0 and json.loads(r.out)["charge"]["minor"] == 900
    r = cli("plan", "show", str(cid), "--user", "support")
    assert "Plan Starter" in r.out
    r = cli("plan", "add", "team", "--name", "Team", "--price", "USD:49.50", "--price", "VND:1,000,000",
            "--feature", "5 seats", "--rank", "5", "--json", "--user", "manager")
    assert json.loads(r.out)["prices"]["USD"]["minor"] == 4950
    r = cli("plan", "edit", "team", "--price", "USD:-1", "--user", "manager")
    assert r.code == 2 and "negative" in r.err
    r = cli("plan", "edit", "team", "--price", "USD", "--user", "manager")
    assert r.code == 2 and "CUR:AMOUNT" in r.err
    r = cli("plan", "retire", "team", "--user", "support")
    assert r.code == 4
    assert cli("plan", "retire", "team", "--user", "manager").code == 0

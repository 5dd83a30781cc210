"""Overview tab: balance breakdown, current plan, daily spending chart, recent activity."""

from __future__ import annotations

from datetime import date, datetime

from billing_desk.bootstrap import App
from billing_desk.domain.dates import local_zone
from billing_desk.domain.money import Money
from billing_desk.services.dto import CustomerDTO
from billing_desk.services.voucher_dto import IssueRequest
from billing_desk.views.overview_tab import OverviewTab, daily_spending
from tests.conftest import StaffActors
from tests.gui.conftest import DeskFactory, open_customer, wait_idle
from tests.gui.test_table_models import _seed_history


def test_overview_shows_breakdown_chart_and_recent_rows(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                                        customers: dict[str, CustomerDTO], desk_app: App) -> None:
    lan = customers["lan"]
    _seed_history(desk_app, staff, lan, 3)  # 5,000,000 promotion, 1,000 + 2,000 + 3,000 usage, a failed row
    code = desk_app.vouchers.issue(staff.manager, IssueRequest(amount=Money(100_000, "VND"))).codes[0]
    desk_app.vouchers.redeem(staff.support, lan.id, code)
    desk = make_desk(staff.support)
    desk.window.tabs.setCurrentIndex(0)
    open_customer(qtbot, desk, lan.id)
    wait_idle(qtbot, desk)
    tab = desk.window.tabs.currentWidget()
    assert isinstance(tab, OverviewTab)
    balance = desk_app.customers.get(staff.support, lan.id).balance
    assert balance is not None
    assert tab.total_label.text() == f"{balance.total.minor:,} ₫"
    assert tab.voucher_label.text() == f"{balance.voucher.minor:,} ₫"
    assert tab.topup_label.text() == f"{balance.topup.minor:,} ₫"
    assert tab.plan_label.text() == "Free (no plan)"
    assert tab.recent.rowCount() == 6
    data = tab.chart.data
    assert data is not None and data.currency == "VND" and len(data.days) == 90
    assert sum(data.by_service["AI Inference"]) == 6_000 and "Storage" not in data.by_service  # failed: no money
    assert tab.chart.day_text(89) == f"{datetime.now(local_zone()).date().isoformat()}: AI Inference 6,000 ₫"
    assert tab.chart.day_text(0).endswith("no spending")


def test_daily_spending_caps_nothing_for_a_small_history(desk_app: App, staff: StaffActors,
                                                         customers: dict[str, CustomerDTO]) -> None:
    emma = customers["emma"]
    spending = daily_spending(desk_app.ledger, staff.support, emma, date.today())
    assert spending.by_service == {} and not spending.capped and spending.rows_read == 0

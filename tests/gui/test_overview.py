"""Overview tab: balance breakdown, current plan, daily spending chart, recent activity."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from billing_desk.bootstrap import App
from billing_desk.domain.dates import local_zone
from billing_desk.domain.money import Money
from billing_desk.services.customers.dtos import CustomerDTO
from billing_desk.services.ledger.dtos import DailySpending, ServiceSpending
from billing_desk.services.vouchers.dtos import IssueRequest
from billing_desk.views.overview_tab import OverviewTab
from billing_desk.views.widgets.spending_chart import SpendingChart
from tests.support.desk import DeskFactory, open_customer, wait_idle
from tests.support.ledger import seed_history
from tests.support.staff import StaffActors


def test_overview_shows_breakdown_chart_and_recent_rows(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                                        customers: dict[str, CustomerDTO], desk_app: App) -> None:
    lan = customers["lan"]
    seed_history(desk_app, staff, lan, 3)  # 5,000,000 promotion, 1,000 + 2,000 + 3,000 usage, a failed row
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
    assert [(s.service, s.total) for s in data.services] == [("AI Inference", 6_000)]  # failed Storage: no money
    assert tab.chart.day_text(89) == f"{datetime.now(local_zone()).date().isoformat()}: AI Inference 6,000 ₫"
    assert tab.chart.day_text(0).endswith("no spending")


def test_overview_chart_of_a_customer_without_currency_is_empty(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                                                 customers: dict[str, CustomerDTO]) -> None:
    desk = make_desk(staff.support)
    desk.window.tabs.setCurrentIndex(0)
    open_customer(qtbot, desk, customers["emma"].id)
    wait_idle(qtbot, desk)
    tab = desk.window.tabs.currentWidget()
    assert isinstance(tab, OverviewTab)
    data = tab.chart.data
    assert data is not None and data.currency is None and data.services == () and len(data.days) == 90
    assert tab.chart.hover_label.text() == "No billing currency chosen yet, so no spending."
    assert tab.chart.unit == ""
    assert tab.chart.day_text(89).endswith("no spending")


def test_spending_chart_keeps_one_curve_per_service_in_name_order(qtbot) -> None:
    chart = SpendingChart()
    qtbot.addWidget(chart)
    days = tuple(date(2026, 3, 1) + timedelta(days=i) for i in range(3))

    def show(**spent: tuple[int, ...]) -> list[str]:
        chart.show_spending(DailySpending("JPY", days, tuple(ServiceSpending(k.replace("_", " "), v)
                                                                  for k, v in sorted(spent.items()))))
        assert len(chart.plot.listDataItems()) == len(spent)
        names = chart.legend_names()
        assert all(name in chart.legend.text() for name in names)
        return names

    assert show(Storage=(1, 2, 3), AI_Inference=(0, 5, 0)) == ["AI Inference", "Storage"]
    first = chart._curves["Storage"]
    assert show(Storage=(4, 0, 0), GPU_Container=(1, 1, 1), AI_Inference=(0, 0, 7)) == [
        "AI Inference", "GPU Container", "Storage"]
    assert chart._curves["Storage"] is first  # reused, not rebuilt
    assert list(first.getData()[1]) == [4.0, 0.0, 0.0]
    assert chart.day_text(0) == "2026-03-01: GPU Container ¥1, Storage ¥4"
    assert show(GPU_Container=(0, 0, 2)) == ["GPU Container"]
    assert show() == [] and chart.hover_label.text() == "No usage in the last 90 days."


def test_plan_charges_are_left_out_until_asked_for_and_an_empty_chart_keeps_no_old_scale(qtbot) -> None:
    chart = SpendingChart()
    qtbot.addWidget(chart)
    chart.show()
    days = tuple(date(2026, 3, 1) + timedelta(days=i) for i in range(4))
    usage = ServiceSpending("AI Inference", (1_000, 2_000, 1_500, 1_200))
    upgrade = ServiceSpending("Subscription", (0, 0, 225_000, 0), plan_charges=True)
    chart.show_spending(DailySpending("VND", days, (usage, upgrade)))
    assert chart.legend_names() == ["AI Inference"] and "Subscription" not in chart.legend.text()
    ticks = chart.plot.getAxis("bottom")._tickLevels[0]
    assert ticks[-1] == (3.0, "Mar 04")  # today is labelled, and nothing crowds it
    assert chart.plan_charges.isVisible() and not chart.plan_charges.isChecked()
    assert 2_000 <= chart.plot.viewRange()[1][1] < 3_000  # the daily pattern fills the height
    assert chart.day_text(2) == "2026-03-03: AI Inference 1,500 ₫"
    chart.plan_charges.setChecked(True)
    assert chart.legend_names() == ["AI Inference", "Subscription"]
    assert chart.plot.viewRange()[1][1] >= 225_000
    assert chart.day_text(2) == "2026-03-03: AI Inference 1,500 ₫, Subscription 225,000 ₫"
    # the next customer has no spending: an empty frame in their currency, not the last scale
    chart.show_spending(DailySpending("JPY", days, ()))
    assert chart.legend_names() == [] and not chart.plan_charges.isVisible()
    assert chart.plot.viewRange()[1] == [0.0, 1.0]
    assert chart.unit == "Spent per day in JPY:" and chart.unit in chart.legend.text()
    assert chart.hover_label.text() == "No usage in the last 90 days."

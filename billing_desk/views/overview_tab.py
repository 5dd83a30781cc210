"""Overview tab: the Total Balance with its breakdown (top-ups, vouchers), the current plan,
daily spending per service over the last 90 days, and recent activity."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from billing_desk.domain.changes import Changes
from billing_desk.services.customers import CustomerDTO
from billing_desk.services.plans import SubscriptionDTO
from billing_desk.views.base_tab import CustomerTab
from billing_desk.views.context import ViewContext
from billing_desk.views.formatting import local_time, money_text, set_style_flag, tabular_font, tr
from billing_desk.views.table_models.credit_history_model import CreditHistoryModel
from billing_desk.views.table_models.view_state import data_table, save_columns
from billing_desk.views.widgets.spending_chart import SpendingChart

DAYS = 90
RECENT_ROWS = 8


class OverviewTab(CustomerTab):
    reload_on_refreshed_customer = True  # the balance figures come with the customer record

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.total_label, self.topup_label, self.voucher_label = (self._figure() for _ in range(3))
        self.plan_label = QLabel()
        self.plan_label.setObjectName("bigFigure")
        self.plan_period = QLabel()
        self.plan_period.setObjectName("figureCaption")
        self.chart = SpendingChart()
        self.recent = CreditHistoryModel(ctx.runner, page_size=RECENT_ROWS)
        self.recent_table = data_table(self.recent, ctx.settings, "overviewRecent", select_rows=False, row_height=26)
        self.recent_table.setMinimumHeight(3 * 26 + 30)  # 3 rows at least: the window fits a 700-px screen
        self._build()

    def _figure(self) -> QLabel:
        label = QLabel("—")
        label.setObjectName("bigFigure")
        label.setFont(tabular_font(label.font()))
        return label

    def _build(self) -> None:
        balance = QGroupBox(tr("Balance"))
        grid = QGridLayout(balance)
        for col, (caption, label) in enumerate(((tr("Total Balance"), self.total_label),
                                                (tr("From top-ups"), self.topup_label),
                                                (tr("From vouchers"), self.voucher_label))):
            cap = QLabel(caption)
            cap.setObjectName("figureCaption")
            grid.addWidget(cap, 0, col)
            grid.addWidget(label, 1, col)
        plan = QGroupBox(tr("Current plan"))
        pl = QVBoxLayout(plan)
        pl.addWidget(self.plan_label)
        pl.addWidget(self.plan_period)
        top = QHBoxLayout()
        top.addWidget(balance, 3)
        top.addWidget(plan, 1)
        chart = QGroupBox(tr("Daily spending per service, last 90 days"))
        QVBoxLayout(chart).addWidget(self.chart)
        recent = QGroupBox(tr("Recent activity"))
        QVBoxLayout(recent).addWidget(self.recent_table)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addLayout(top)
        layout.addWidget(chart, 1)
        layout.addWidget(recent, 1)
        self.set_content(content, tr("Find a customer with the search box above (Ctrl+K) to see their "
                                     "balance, plan, spending and recent activity here."))

    def wants(self, changes: Changes) -> bool:
        return False  # every change that matters here also refreshes the customer record

    def reload(self) -> None:
        customer = self.customer
        if customer is None:
            self.recent.set_source(None)
            return
        self._show_balance(customer)
        ledger, plans, actor, cid = self.ctx.app.ledger, self.ctx.app.plans, self.ctx.actor, customer.id

        def recent(after, limit):  # type: ignore[no-untyped-def]
            page = ledger.history_page(actor, cid, None, after, limit)
            return page.rows, None  # one page only: the Credit History tab has the rest

        self.recent.set_source(recent)
        self.ctx.query(lambda: plans.current(actor, cid), lambda sub: self.is_open(cid) and self._show_plan(sub)).run()
        # Summed per local day in the database: one short query, so it queues with the page
        # queries rather than behind an export on the long-work pool.
        self.ctx.query(lambda: ledger.daily_spending(actor, cid, days=DAYS),
                       lambda data: self.is_open(cid) and self.chart.show_spending(data)).run()

    def save_state(self) -> None:
        save_columns(self.recent_table, self.ctx.settings, "overviewRecent")

    def _show_balance(self, customer: CustomerDTO) -> None:
        b = customer.balance
        if b is None:
            for label in (self.total_label, self.topup_label, self.voucher_label):
                label.setText("—")
            self.total_label.setToolTip(tr("No billing currency chosen yet."))
            return
        for label, money in ((self.total_label, b.total), (self.topup_label, b.topup), (self.voucher_label, b.voucher)):
            label.setText(money_text(money))
            set_style_flag(label, "negative", money.minor < 0)

    def _show_plan(self, sub: SubscriptionDTO) -> None:
        self.plan_label.setText(sub.plan.name if sub.plan else tr("Free (no plan)"))
        end = local_time(sub.period_end) if sub.period_end else None
        then = sub.scheduled_plan.name if sub.scheduled_plan else None
        if end and then:
            text = tr("until {end}  then {plan}").format(end=end, plan=then)
        elif end:
            text = tr("until {end}").format(end=end)
        elif then:
            text = tr("then {plan}").format(plan=then)
        else:
            text = ""
        self.plan_period.setText(text)


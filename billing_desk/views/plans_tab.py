"""Plans tab: the current plan and period (and a scheduled downgrade), the catalog side by
side, and Upgrade/Downgrade with the prorated charge and the balance after shown for
confirmation before anything is charged."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from billing_desk.domain.changes import Changes
from billing_desk.domain.permissions import Permission
from billing_desk.services.plans import PlanChangePreview, PlanChangeResult, PlanRow, SubscriptionDTO
from billing_desk.views.base_tab import CustomerTab
from billing_desk.views.context import ViewContext
from billing_desk.views.dialogs.error_dialog import show_error
from billing_desk.views.formatting import local_time, money_text, tr
from billing_desk.views.widgets.customer_header import role_tooltip

# Per kind of change: the confirmation's title and its OK button, each a whole phrase to translate.
CONFIRM_WORDS = {
    "upgrade": ("Upgrade plan?", "Upgrade"),
    "downgrade": ("Downgrade plan?", "Downgrade"),
    "cancel_downgrade": ("Keep this plan?", "Keep this plan"),
}


def confirm_text(p: PlanChangePreview) -> str:
    """What the change will do, one whole template per case (an unaffordable upgrade included)."""
    if p.kind == "upgrade":
        figures = {"plan": p.to_plan.name, "end": local_time(p.period_end), "charge": money_text(p.charge),
                   "balance": money_text(p.balance), "after": money_text(p.balance_after)}
        if p.affordable:
            return tr("Upgrade to {plan} now.\n\nProrated charge until {end}: {charge}\nBalance now: {balance}\n"
                      "Balance after: {after}").format(**figures)
        return tr("Upgrade to {plan} now.\n\nProrated charge until {end}: {charge}\nBalance now: {balance}\n"
                  "Balance after: {after}\n\nThe balance is {short} short: add credit first.").format(
                      short=money_text(p.shortfall), **figures)
    if p.kind == "downgrade":
        return tr("Downgrade to {plan} at the end of the current period ({day}). Nothing is charged or "
                  "refunded now.").format(plan=p.to_plan.name, day=local_time(p.effective_at))
    return tr("Cancel the scheduled downgrade and keep {plan}.").format(plan=p.to_plan.name)


class PlanCard(QGroupBox):
    def __init__(self, plan: PlanRow, action: str | None, enabled: bool, tooltip: str) -> None:
        super().__init__(plan.name)
        self.plan = plan
        self.setObjectName("planCard")
        layout = QVBoxLayout(self)
        # The amount and its period on two lines: '2,475,000 ₫ / month' in one did not fit a card at 1024 px.
        price = QLabel(money_text(plan.price) if plan.price else tr("Not offered in this currency"))
        price.setObjectName("bigFigure" if plan.price else "")
        price.setWordWrap(True)
        layout.addWidget(price)
        if plan.price:
            period = QLabel(tr("per month"))
            period.setObjectName("figureCaption")
            layout.addWidget(period)
        for feature in plan.features:
            label = QLabel(f"✓ {feature}")
            label.setWordWrap(True)
            layout.addWidget(label)
        layout.addStretch(1)
        self.button = QPushButton(action or tr("Current plan"))
        self.button.setEnabled(bool(action) and enabled and plan.price is not None)
        self.button.setToolTip(tooltip)
        if action == tr("Upgrade"):
            self.button.setObjectName("primaryButton")
        layout.addWidget(self.button)
        self.setMinimumWidth(200)


class PlansTab(CustomerTab):
    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.current_label = QLabel()
        self.current_label.setObjectName("customerName")
        self.period_label = QLabel()
        self.scheduled_label = QLabel()
        self.scheduled_label.setObjectName("fieldError")
        self.status_label = QLabel()
        self.status_label.setObjectName("statusLabel")
        self.cards_row = QHBoxLayout()
        self.cards: list[PlanCard] = []
        self.confirm_box: QMessageBox | None = None
        self._build()

    def _build(self) -> None:
        current = QGroupBox(tr("Current plan"))
        cl = QVBoxLayout(current)
        for w in (self.current_label, self.period_label, self.scheduled_label):
            cl.addWidget(w)
        cards = QWidget()
        cards.setObjectName("planCards")
        column = QVBoxLayout(cards)
        column.addLayout(self.cards_row)
        column.addStretch(1)  # cards as tall as their content, not as the window
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(cards)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        catalog = QGroupBox(tr("Plans"))
        QVBoxLayout(catalog).addWidget(scroll)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(current)
        layout.addWidget(catalog, 1)
        layout.addWidget(self.status_label)
        self.set_content(content, tr("Find a customer with the search box above (Ctrl+K) to see their "
                                     "current plan and the plans catalog here."))

    # Prices follow the customer's currency: reload with the fresh record after any change.
    reload_on_refreshed_customer = True

    def wants(self, changes: Changes) -> bool:
        return changes.plans

    def reload(self) -> None:
        customer = self.customer
        if customer is None:
            return
        plans, actor, cid, cur = self.ctx.app.plans, self.ctx.actor, customer.id, customer.currency
        self.ctx.query(lambda: (plans.current(actor, cid), plans.catalog(actor, cur)),
                       lambda loaded: self.is_open(cid) and self._show(loaded)
                       ).run()

    def _show(self, loaded: tuple[SubscriptionDTO, list[PlanRow]]) -> None:
        sub, catalog = loaded
        plan = sub.plan
        self.current_label.setText(plan.name if plan else tr("Free (no plan)"))
        self.period_label.setText(
            tr("Current period {start} to {end}").format(start=local_time(sub.period_start),
                                                         end=local_time(sub.period_end))
            if sub.period_start else tr("No billing period yet."))
        self.scheduled_label.setText(
            tr("Scheduled: downgrade to {plan} on {day}.").format(plan=sub.scheduled_plan.name,
                                                                 day=local_time(sub.period_end))
            if sub.scheduled_plan else "")
        self.scheduled_label.setVisible(sub.scheduled_plan is not None)
        self._fill_cards(sub, catalog)

    def _fill_cards(self, sub: SubscriptionDTO, catalog: list[PlanRow]) -> None:
        for card in self.cards:
            card.setParent(None)
            card.deleteLater()
        self.cards = []
        allowed = self.ctx.can(Permission.PLAN_CHANGE) and self.customer is not None \
            and self.customer.currency is not None
        tip = role_tooltip(self.ctx.actor, Permission.PLAN_CHANGE, "")
        if self.ctx.can(Permission.PLAN_CHANGE) and self.customer is not None and self.customer.currency is None:
            tip = tr("Choose the customer's billing currency first (Settings tab).")
        rank = sub.plan.rank if sub.plan else -1
        for plan in catalog:
            if sub.plan and plan.id == sub.plan.id:
                action = tr("Keep this plan") if sub.scheduled_plan else None
            elif sub.scheduled_plan and plan.id == sub.scheduled_plan.id:
                action = None
            else:
                action = tr("Upgrade") if plan.rank > rank else tr("Downgrade")
            card = PlanCard(plan, action, allowed, tip)
            card.button.clicked.connect(lambda _c=False, p=plan: self.preview(p))
            self.cards_row.addWidget(card)
            self.cards.append(card)
        self.cards_row.addStretch(1)

    def preview(self, plan: PlanRow) -> None:
        if self.customer is None:
            return
        plans, actor, cid = self.ctx.app.plans, self.ctx.actor, self.customer.id
        self.ctx.query(lambda: plans.preview_change(actor, cid, plan.code), self._confirm
                       ).failure(lambda e: show_error(self, e)).run()

    def _confirm(self, p: PlanChangePreview) -> None:
        title, verb = (tr(words) for words in CONFIRM_WORDS[p.kind])
        box = QMessageBox(QMessageBox.Icon.Question, title, confirm_text(p),
                          QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel, self)
        box.button(QMessageBox.StandardButton.Ok).setText(verb)
        box.button(QMessageBox.StandardButton.Ok).setEnabled(p.kind != "upgrade" or p.affordable)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.accepted.connect(lambda: self._change(p))
        self.confirm_box = box
        box.open()

    def _change(self, p: PlanChangePreview) -> None:
        plans, actor, cid = self.ctx.app.plans, self.ctx.actor, p.customer_id
        self.status_label.setText(tr("Changing the plan…"))
        self.ctx.write(lambda: plans.change(actor, cid, p.to_plan.code, max_charge=p.charge),
                       lambda r: Changes.for_customer(r.customer_id, plans=True, ledger=r.charge.minor != 0),
                       lambda r: self._on_changed(r, p)).failure(self._on_failed).run()

    def _on_changed(self, result: PlanChangeResult, preview: PlanChangePreview) -> None:
        if result.kind == "upgrade":
            self.status_label.setText(tr("Upgraded to {plan}; charged {charge}, balance now {after}.").format(
                plan=preview.to_plan.name, charge=money_text(result.charge), after=money_text(result.balance_after)))
        else:
            self.status_label.setText(tr("Plan change saved."))

    def _on_failed(self, error: BaseException) -> None:
        self.status_label.clear()
        show_error(self, error)

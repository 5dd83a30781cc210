"""The Plans workspace (managers and admins; PLAN_MANAGE): the plans catalog with its monthly
prices per currency and how many customers are on each plan now, retired plans last.

Add and Edit open ``PlanFormDialog``; Retire asks first and says what retiring does: the
plan's current subscribers keep it, and no customer can choose it any more (the plans service
rules so and audits every write). The list is one service call in the task runner and reloads
after any plans change published on the bus.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from billing_desk.domain.changes import Changes
from billing_desk.services.plans import CatalogEntry, PlanRow
from billing_desk.views.catalog.plan_form_dialog import PlanFormDialog, ordered_currencies
from billing_desk.views.context import ViewContext
from billing_desk.views.dialogs.error_dialog import show_error
from billing_desk.views.formatting import AMOUNT_ALIGN, money_text, tr
from billing_desk.views.record_list import RecordList
from billing_desk.views.table_models.paged_model import Column

TABLE_KEY = "plans_catalog"

def prices_text(plan: PlanRow) -> str:
    shown = [money_text(plan.prices[c]) for c in ordered_currencies(plan.prices)]
    return "   ".join(shown) or tr("No price yet")

def prices_tooltip(entry: CatalogEntry) -> str:
    """Every price, one a line (the cell cuts a long list short), then the features."""
    plan = entry.plan
    return "\n".join([f"{c}  {money_text(plan.prices[c])}" for c in ordered_currencies(plan.prices)]
                     + ([""] + [f"✓ {f}" for f in plan.features] if plan.features else []))


def catalog_columns() -> list[Column]:
    return [
        Column("code", tr("Code"), lambda e: e.plan.code, width=110),
        Column("name", tr("Name"), lambda e: e.plan.name, width=160),
        Column("rank", tr("Rank"), lambda e: str(e.plan.rank), AMOUNT_ALIGN, numeric=True,
               sort_key=lambda e: e.plan.rank, width=60),
        Column("prices", tr("Monthly prices"), lambda e: prices_text(e.plan), numeric=True,
               tooltip=prices_tooltip, width=360, stretch=True),
        Column("subscribers", tr("Subscribers"), lambda e: f"{e.subscribers:,}", AMOUNT_ALIGN, numeric=True,
               sort_key=lambda e: e.subscribers, width=100),
        Column("state", tr("State"), lambda e: tr("Retired") if e.plan.retired else tr("Offered"), width=90),
    ]

def retire_text(entry: CatalogEntry) -> str:
    return tr("Retire the {name} plan ({code})?\n\nIts {n} current subscribers keep it: nobody is moved or "
              "charged. No customer can choose it from now on, and retiring cannot be undone here.").format(
        name=entry.plan.name, code=entry.plan.code, n=f"{entry.subscribers:,}")

class PlansWorkspace(RecordList):
    retired = Signal(object)  # the PlanRow retired

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, catalog_columns(), TABLE_KEY, "plansTable", parent)
        self.setObjectName("plansWorkspace")
        self.table.activated.connect(lambda _i: self.edit_selected())  # double-click, or Enter
        self.add_button = self.button(tr("Add plan…"), "addPlan", self.add_plan, primary=True)
        self.edit_button = self.button(tr("Edit…"), "editPlan", self.edit_selected)
        self.retire_button = self.button(tr("Retire…"), "retirePlan", self.retire_selected)
        self.form: PlanFormDialog | None = None
        self.confirm_box: QMessageBox | None = None
        ctx.bus.changed.connect(self._on_changes)
        self.lay_out([self.add_button, self.edit_button, self.retire_button])
        self.reload()

    def source(self) -> Callable[[], list[CatalogEntry]]:
        plans, actor = self.ctx.app.plans, self.ctx.actor
        return lambda: plans.catalog_entries(actor)

    def summary(self) -> str:
        entries = self.entries()
        offered = sum(not e.plan.retired for e in entries)
        return tr("{offered} plans offered, {retired} retired; {subscribers} subscribers.").format(
            offered=offered, retired=len(entries) - offered, subscribers=f"{sum(e.subscribers for e in entries):,}")

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        if changes.plans:
            self.reload()

    def entries(self) -> list[CatalogEntry]:
        return self.rows()

    def select_code(self, code: str) -> None:
        self.select_where(lambda e: e.plan.code == code)

    def on_selection(self) -> None:
        entry: CatalogEntry | None = self.selected()
        self.edit_button.setEnabled(entry is not None)
        self.retire_button.setEnabled(entry is not None and not entry.plan.retired)

    # -- add and edit -------------------------------------------------------------------
    def add_plan(self) -> None:
        self._open_form(None)

    def edit_selected(self) -> None:
        entry: CatalogEntry | None = self.selected()
        if entry is not None:
            self._open_form(entry.plan)

    def _open_form(self, plan: PlanRow | None) -> None:
        currencies = {c for e in self.entries() for c in e.plan.prices}
        form = PlanFormDialog(self.ctx, plan, currencies, self)
        form.saved.connect(lambda row: self.note(tr("Plan {code} saved.").format(code=row.code)))
        self.form = form  # kept for tests, and so it is not collected while open
        form.open()

    # -- retire -------------------------------------------------------------------------
    def retire_selected(self) -> None:
        entry: CatalogEntry | None = self.selected()
        if entry is None or entry.plan.retired:
            return
        box = QMessageBox(QMessageBox.Icon.Question, tr("Retire plan?"), retire_text(entry),
                          QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel, self)
        box.button(QMessageBox.StandardButton.Ok).setText(tr("Retire"))
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.accepted.connect(lambda: self._retire(entry.plan.code))
        self.confirm_box = box
        box.open()

    def _retire(self, code: str) -> None:
        plans, actor = self.ctx.app.plans, self.ctx.actor
        self.ctx.write(lambda: plans.retire_plan(actor, code), lambda _row: Changes(plans=True),
                       self._on_retired).failure(lambda e: show_error(self, e)).run()

    def _on_retired(self, row: PlanRow) -> None:
        self.note(tr("Plan {code} retired.").format(code=row.code))
        self.retired.emit(row)

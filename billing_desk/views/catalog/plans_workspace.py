"""The Plans workspace (managers and admins; PLAN_MANAGE): the plans catalog with its monthly
prices per currency and how many customers are on each plan now, retired plans last.

Add and Edit open ``PlanFormDialog``; Retire asks first and says what retiring does: the
plan's current subscribers keep it, and no customer can choose it any more (the plans service
rules so and audits every write). The list is one service call in the task runner and reloads
after any plans change published on the bus.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QLabel, QMessageBox, QPushButton, QVBoxLayout, QWidget

from billing_desk.domain.changes import Changes
from billing_desk.services.plans import CatalogEntry, PlanRow
from billing_desk.views.catalog.plan_form_dialog import PlanFormDialog, ordered_currencies
from billing_desk.views.context import ViewContext
from billing_desk.views.dialogs.error_dialog import show_error
from billing_desk.views.formatting import AMOUNT_ALIGN, money_text, tr
from billing_desk.views.table_models.paged_model import ROW_ROLE, Column, PagedTableModel
from billing_desk.views.table_models.view_state import data_table, save_columns

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

class PlansWorkspace(QWidget):
    loaded = Signal(int)  # plans listed
    retired = Signal(object)  # the PlanRow retired

    def __init__(self, ctx: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("plansWorkspace")
        self.ctx = ctx
        self.model = PagedTableModel(ctx.runner, catalog_columns())
        self.model.load_failed.connect(lambda e: show_error(self, e))
        self.model.page_loaded.connect(self._on_loaded)
        self.table = data_table(self.model, ctx.settings, TABLE_KEY, name="plansTable")
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.activated.connect(lambda _i: self.edit_selected())  # double-click, or Enter
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.status_label = QLabel()
        self.status_label.setObjectName("statusLabel")
        self.add_button = self._button(tr("Add plan…"), "addPlan", self.add_plan, primary=True)
        self.edit_button = self._button(tr("Edit…"), "editPlan", self.edit_selected)
        self.retire_button = self._button(tr("Retire…"), "retirePlan", self.retire_selected)
        self.form: PlanFormDialog | None = None
        self.confirm_box: QMessageBox | None = None
        self._note: str | None = None
        ctx.bus.changed.connect(self._on_changes)
        self._build()
        self._on_selection()
        self.reload()

    def _button(self, text: str, name: str, slot: object, primary: bool = False) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName("primaryButton" if primary else name)
        button.setAccessibleName(name)
        button.clicked.connect(slot)
        return button

    def _build(self) -> None:
        bar = QHBoxLayout()
        bar.addWidget(self.status_label, 1)
        for button in (self.add_button, self.edit_button, self.retire_button):
            bar.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)

    # -- loading ------------------------------------------------------------------------
    def reload(self) -> None:
        plans, actor = self.ctx.app.plans, self.ctx.actor
        self.status_label.setText(tr("Loading…"))
        # A catalog is a few plans: one call gives them all (a single "page", no next cursor).
        self.model.set_source(lambda _after, _limit: (plans.catalog_entries(actor), None))

    refresh = reload  # F5

    def _on_loaded(self, count: int) -> None:
        entries = self.entries()
        offered = sum(not e.plan.retired for e in entries)
        listed = tr("{offered} plans offered, {retired} retired; {subscribers} subscribers.").format(
            offered=offered, retired=len(entries) - offered, subscribers=f"{sum(e.subscribers for e in entries):,}")
        note, self._note = self._note, None
        self.status_label.setText(f"{note} {listed}" if note else listed)
        self._on_selection()
        self.loaded.emit(count)

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        if changes.plans:
            self.reload()

    def entries(self) -> list[CatalogEntry]:
        return [self.model.row(i) for i in range(self.model.rowCount())]

    def selected(self) -> CatalogEntry | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.data(rows[0], ROW_ROLE) if rows else None

    def select_code(self, code: str) -> None:
        for i, entry in enumerate(self.entries()):
            if entry.plan.code == code:
                self.table.selectRow(i)

    def _on_selection(self, *_args: object) -> None:
        entry = self.selected()
        self.edit_button.setEnabled(entry is not None)
        self.retire_button.setEnabled(entry is not None and not entry.plan.retired)

    # -- add and edit -------------------------------------------------------------------
    def add_plan(self) -> None:
        self._open_form(None)

    def edit_selected(self) -> None:
        entry = self.selected()
        if entry is not None:
            self._open_form(entry.plan)

    def _open_form(self, plan: PlanRow | None) -> None:
        currencies = {c for e in self.entries() for c in e.plan.prices}
        form = PlanFormDialog(self.ctx, plan, currencies, self)
        form.saved.connect(lambda row: self._noted(tr("Plan {code} saved.").format(code=row.code)))
        self.form = form  # kept for tests, and so it is not collected while open
        form.open()

    def _noted(self, note: str) -> None:
        self._note = note  # shown when the reload the bus asks for arrives

    # -- retire -------------------------------------------------------------------------
    def retire_selected(self) -> None:
        entry = self.selected()
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
        self._noted(tr("Plan {code} retired.").format(code=row.code))
        self.retired.emit(row)

    def save_state(self) -> None:
        save_columns(self.table, self.ctx.settings, TABLE_KEY)

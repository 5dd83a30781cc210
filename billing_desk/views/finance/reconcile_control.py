"""Reconcile pending (PAYMENT_RECONCILE): ask the gateways about every pending payment, the
pending ones of the current filter, or the selected rows, in the task runner's gateway pool,
with a progress bar and Cancel, and a summary at the end.

The run is ``PaymentService.reconcile_run``: the gateway calls wait on the network in a worker,
so a gateway that answers slowly (or never, until its timeout) slows the run, never the window.
What it changed goes on the change bus, so every open view of those customers reloads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMenu, QPushButton, QWidget

from billing_desk.domain.changes import Changes
from billing_desk.domain.permissions import Permission
from billing_desk.services.payments import MAX_PAGE, PaymentFilters, PaymentService, ReconcileSummary
from billing_desk.views.context import ViewContext
from billing_desk.views.formatting import tr
from billing_desk.views.widgets.customer_header import role_tooltip
from billing_desk.views.widgets.icons import button_icon
from billing_desk.views.widgets.task_progress import TaskProgress

ALL, FILTERED, SELECTED = "all", "filtered", "selected"


def summary_text(summary: ReconcileSummary) -> str:
    text = tr("Asked the gateways about {asked} pending payments: {settled} settled, {failed} failed, "
              "{pending} still pending, {unreachable} could not reach the gateway, {flagged} flagged.").format(
        asked=summary.asked, settled=summary.settled, failed=summary.failed, pending=summary.still_pending,
        unreachable=summary.unreachable, flagged=len(summary.flagged))
    return tr("Stopped at your request. {summary}").format(summary=text) if summary.cancelled else text


def changes_of(summary: ReconcileSummary | None) -> Changes:
    """The customers whose payments (and balances) the run changed or flagged. A run that changed
    none still recorded a check on each payment asked, which can put one in the exceptions queue:
    then "payments of any customer" (no ids), which the payments views take and the others ignore."""
    if summary is None or not summary.asked:
        return Changes()
    ids = {c.customer_id for c in summary.changes} | {f.customer_id for f in summary.flagged}
    if not ids:
        return Changes(payments=True)
    return Changes(customer_ids=frozenset(ids), payments=True, ledger=bool(summary.changes))


def filtered_pending_ids(payments: PaymentService, actor: object, filters: PaymentFilters) -> list[int]:
    """Every pending payment under the filter (keyset pages, in the worker)."""
    if filters.status not in (None, "pending"):
        return []
    pending, ids, after = replace(filters, status="pending"), [], None
    while True:
        page = payments.list_payments(actor, pending, after, MAX_PAGE)  # type: ignore[arg-type]
        ids.extend(r.id for r in page.rows)
        if page.next_cursor is None:
            return ids
        after = page.next_cursor


class ReconcileButton(QPushButton):
    """The button and its menu of what to ask about; the run's progress shows in ``progress``."""

    finished = Signal(object)  # ReconcileSummary, or None when there was nothing to ask about
    said = Signal(str)  # a sentence for the status line

    def __init__(self, ctx: ViewContext, progress: TaskProgress, filters: Callable[[], PaymentFilters | None],
                 selected: Callable[[], Sequence[int]], parent: QWidget | None = None) -> None:
        super().__init__(button_icon("refresh"), tr("Reconcile pending"), parent)
        self.setObjectName("reconcileButton")
        self.ctx, self.progress = ctx, progress
        self._filters, self._selected = filters, selected
        self.allowed = ctx.can(Permission.PAYMENT_RECONCILE)
        self.setEnabled(self.allowed)
        self.setToolTip(role_tooltip(ctx.actor, Permission.PAYMENT_RECONCILE,
                                     tr("Ask the gateways about pending payments now")))
        menu = QMenu(self)
        menu.setObjectName("reconcileMenu")
        self.actions_by_scope = {
            ALL: menu.addAction(tr("Every pending payment"), lambda: self.run(ALL)),
            FILTERED: menu.addAction(tr("Pending payments in this filter"), lambda: self.run(FILTERED)),
            SELECTED: menu.addAction(tr("Selected payments"), lambda: self.run(SELECTED)),
        }
        menu.aboutToShow.connect(self._on_menu)
        self.setMenu(menu)

    def _on_menu(self) -> None:
        self.actions_by_scope[SELECTED].setEnabled(bool(self._selected()))
        self.actions_by_scope[FILTERED].setEnabled(self._filters() is not None)

    def run(self, scope: str) -> None:
        """Start a run over ``scope``; does nothing while another long operation is running."""
        if not self.allowed or self.progress.busy:
            return
        payments, actor, filters = self.ctx.app.payments, self.ctx.actor, self._filters()
        ids: list[int] | None = list(self._selected()) if scope == SELECTED else None
        if scope == FILTERED and filters is None:
            self.said.emit(tr("Fix the filter first."))
            return
        if scope == SELECTED and not ids:
            self.said.emit(tr("Select the pending payments to ask about first."))
            return
        progress, token = self.progress.start(tr("Asking the gateways…"), _asked)
        self.setEnabled(False)

        def work() -> ReconcileSummary | None:
            chosen = filtered_pending_ids(payments, actor, filters) if scope == FILTERED else ids  # type: ignore[arg-type]
            if chosen is not None and not chosen:
                return None
            return payments.reconcile_run(actor, chosen, progress=progress, cancel=token)

        self.ctx.write(work, changes_of, self._on_done, gateway=True, initiator=self).failure(self._on_failed).run()

    def _on_done(self, summary: ReconcileSummary | None) -> None:
        self._idle()
        self.said.emit(tr("No pending payment to ask about.") if summary is None else summary_text(summary))
        self.finished.emit(summary)

    def _on_failed(self, error: BaseException) -> None:
        self._idle()
        from billing_desk.views.dialogs.error_dialog import show_error
        show_error(self, error)

    def _idle(self) -> None:
        self.progress.finish()
        self.setEnabled(self.allowed)


def _asked(done: int, total: int) -> str:
    return tr("{done} of {total} payments asked").format(done=f"{done:,}", total=f"{total:,}")

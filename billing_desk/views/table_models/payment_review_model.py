"""The payments review table (finance): every payment across customers, keyset-paged.

Date (local), customer, gateway, amount, status with its reason, gateway reference, who started
it, settled at. Only Date and Amount sort, and the service does it (``PaymentSort``): the
keyset follows the order, so a sorted million rows still pages at the speed of page one."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt

from billing_desk.domain.enums import PaymentMethod
from billing_desk.services.payments import PaymentRow, PaymentSort
from billing_desk.views.formatting import MUTED, local_time, tr
from billing_desk.views.table_models.paged_model import (
    Column,
    ModelIndex,
    PagedTableModel,
    PageFetch,
    amount_column,
)
from billing_desk.views.table_models.payment_model import STATUS_COLORS, payment_status_text
from billing_desk.views.tasks import TaskRunner

DATE_COLUMN, AMOUNT_COLUMN = 0, 3
# (column, Qt's order) -> the service's order; every other column is not sortable.
SORTS = {
    (DATE_COLUMN, Qt.SortOrder.DescendingOrder): PaymentSort.NEWEST,
    (DATE_COLUMN, Qt.SortOrder.AscendingOrder): PaymentSort.OLDEST,
    (AMOUNT_COLUMN, Qt.SortOrder.DescendingOrder): PaymentSort.AMOUNT_DESC,
    (AMOUNT_COLUMN, Qt.SortOrder.AscendingOrder): PaymentSort.AMOUNT_ASC,
}


def customer_text(row: PaymentRow) -> str:
    return f"{row.customer_account} · {row.customer_name}"


def status_tooltip(row: PaymentRow) -> str | None:
    if row.flagged_at is not None:
        return tr("{status}. Flagged for finance on {when}.").format(
            status=payment_status_text(row), when=local_time(row.flagged_at))
    return row.reason


def review_columns() -> list[Column]:
    return [
        Column("date", tr("Date"), lambda r: local_time(r.created_at), width=130),
        Column("customer", tr("Customer"), customer_text, tooltip=customer_text, width=200),
        Column("method", tr("Gateway"), lambda r: PaymentMethod(r.method).label, width=80),
        amount_column("amount", tr("Amount"), lambda r: r.amount, width=120),
        Column("status", tr("Status"), _status_cell, color=lambda r: STATUS_COLORS.get(r.status, MUTED),
               tooltip=status_tooltip, width=200),
        Column("reference", tr("Gateway reference"), lambda r: r.gateway_reference or "—",
               tooltip=lambda r: r.gateway_reference, width=190),
        Column("started_by", tr("Started by"), lambda r: r.started_by or "—", width=100),
        Column("settled", tr("Settled at"), lambda r: local_time(r.settled_at), width=130, stretch=True),
    ]


def _status_cell(row: PaymentRow) -> str:
    """"Failed: card declined", and a pending payment's last word from the gateway too."""
    if row.reason and row.status != "failed":
        return tr("{status}: {reason}").format(status=payment_status_text(row), reason=row.reason)
    return payment_status_text(row)


def sort_for(column: int, order: Qt.SortOrder) -> PaymentSort | None:
    return SORTS.get((column, order))


def indicator_for(sort: PaymentSort) -> tuple[int, Qt.SortOrder]:
    return next(key for key, value in SORTS.items() if value == sort)


class PaymentReviewModel(PagedTableModel):
    """Each row's cell texts are made once, when first painted, and kept with the page: a
    repaint asks for every visible cell again (about 1,300 calls), and formatting local times
    and money afresh each time cost 15 ms of the GUI thread per repaint at 1,000,000 payments."""

    def __init__(self, runner: TaskRunner, page_size: int = 200, parent: QObject | None = None) -> None:
        super().__init__(runner, review_columns(), page_size, parent)
        self._texts: dict[int, list[str]] = {}

    def set_source(self, fetch: PageFetch | None) -> None:
        self._texts = {}
        super().set_source(fetch)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or not index.isValid() or index.row() >= self.rowCount():
            return super().data(index, role)
        texts = self._texts.get(index.row())
        if texts is None:
            row = self.row(index.row())
            texts = self._texts[index.row()] = [c.display(row) for c in self.columns]
        return texts[index.column()]

"""The Payment History table: date and time, amount, method, status (with the reason), reference."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QColor

from billing_desk.domain.enums import PaymentMethod
from billing_desk.services.payments import PaymentRow
from billing_desk.views.formatting import MUTED, NEGATIVE, POSITIVE, local_time, tr
from billing_desk.views.table_models.paged_model import Column, PagedTableModel, amount_column
from billing_desk.views.tasks import TaskRunner

STATUS_LABELS = {"success": "Success", "pending": "Pending", "failed": "Failed"}
STATUS_COLORS = {"success": POSITIVE, "pending": QColor("#b45309"), "failed": NEGATIVE}


def payment_status_text(row: PaymentRow) -> str:
    if row.reason and row.status == "failed":
        return tr("Failed: {reason}").format(reason=row.reason)
    return tr(STATUS_LABELS.get(row.status, row.status))


def payment_columns() -> list[Column]:
    return [
        Column("date", tr("Date and time"), lambda r: local_time(r.created_at, seconds=True), width=160),
        amount_column("amount", tr("Amount"), lambda r: r.amount),
        Column("method", tr("Method"), lambda r: PaymentMethod(r.method).label, width=90),
        Column("status", tr("Status"), payment_status_text, color=lambda r: STATUS_COLORS.get(r.status, MUTED),
               tooltip=lambda r: r.reason, width=260, stretch=True),
        Column("reference", tr("Gateway reference"), lambda r: r.gateway_reference or "—", width=220),
        Column("settled", tr("Settled"), lambda r: local_time(r.settled_at), width=140),
    ]


class PaymentHistoryModel(PagedTableModel):
    def __init__(self, runner: TaskRunner, page_size: int = 200, parent: QObject | None = None) -> None:
        super().__init__(runner, payment_columns(), page_size, parent)

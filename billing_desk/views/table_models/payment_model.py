"""The Payment History table: date and time, amount, method, status, reason, reference, settled.

The reason has a column of its own, so a failed payment's reason is read in full, not cut off
behind "Failed: …" (issue 11); the status says the state as people say it."""

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


def status_label(status: str) -> str:
    """A payment status as people say it: "Success", not the stored "success"."""
    return tr(STATUS_LABELS.get(status, status))


def payment_status_text(row: PaymentRow) -> str:
    if row.reason and row.status == "failed":
        return tr("Failed: {reason}").format(reason=row.reason)
    return status_label(row.status)


def payment_columns() -> list[Column]:
    return [
        Column("date", tr("Date and time"), lambda r: local_time(r.created_at, seconds=True), width=160),
        amount_column("amount", tr("Amount"), lambda r: r.amount),
        Column("method", tr("Method"), lambda r: PaymentMethod(r.method).label, width=90),
        Column("status", tr("Status"), lambda r: status_label(r.status),
               color=lambda r: STATUS_COLORS.get(r.status, MUTED), width=90),
        Column("reference", tr("Gateway reference"), lambda r: r.gateway_reference or "—",
               tooltip=lambda r: r.gateway_reference, width=300),
        Column("settled", tr("Settled"), lambda r: local_time(r.settled_at), width=140),
        Column("reason", tr("Reason"), lambda r: r.reason or "", tooltip=lambda r: r.reason, width=260,
               stretch=True),
    ]


class PaymentHistoryModel(PagedTableModel):
    def __init__(self, runner: TaskRunner, page_size: int = 200, parent: QObject | None = None) -> None:
        super().__init__(runner, payment_columns(), page_size, parent)

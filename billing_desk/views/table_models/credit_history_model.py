"""The Credit History table: Date, Service, Description, Status, Amount (signed, coloured)."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QColor

from billing_desk.domain.enums import EntryStatus
from billing_desk.services.ledger import HistoryRow
from billing_desk.views.formatting import MUTED, NEGATIVE, local_time, signed_money_color, tr
from billing_desk.views.table_models.paged_model import Column, PagedTableModel, amount_column
from billing_desk.views.tasks import TaskRunner

KIND_LABELS = {
    "topup": "Top-up", "voucher": "Voucher", "usage": "Usage", "promotion": "Promotion",
    "plan_charge": "Plan charge", "expiry": "Expiry", "adjustment": "Adjustment",
}


def status_text(row: HistoryRow) -> str:
    if row.status == EntryStatus.SUCCESS:
        return tr("Success")
    if row.failure_reason:
        return tr("Failed: {reason}").format(reason=row.failure_reason)
    return tr("Failed")


def _amount_color(row: HistoryRow) -> QColor | None:
    return MUTED if row.status == EntryStatus.FAILED else signed_money_color(row.amount)


def history_columns() -> list[Column]:
    return [
        Column("date", tr("Date"), lambda r: local_time(r.created_at, seconds=True),
               sort_key=lambda r: (r.created_at, r.id), width=150),
        Column("service", tr("Service"), lambda r: r.service, width=150),
        Column("description", tr("Description"), lambda r: r.description, tooltip=lambda r: r.description,
               width=360, stretch=True),
        Column("status", tr("Status"), status_text,
               color=lambda r: NEGATIVE if r.status == EntryStatus.FAILED else None,
               tooltip=lambda r: r.failure_reason, width=120),
        amount_column("amount", tr("Amount"), lambda r: r.amount, color=_amount_color, width=140),
    ]


class CreditHistoryModel(PagedTableModel):
    def __init__(self, runner: TaskRunner, page_size: int = 200, parent: QObject | None = None) -> None:
        super().__init__(runner, history_columns(), page_size, parent)

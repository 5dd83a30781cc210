"""The Voucher List table: code (last four), campaign, amount, redeemed, remaining, expiry, state."""

from __future__ import annotations

from PySide6.QtCore import QObject

from billing_desk.services.vouchers import CustomerVoucherRow
from billing_desk.views.formatting import MUTED, POSITIVE, local_time, tr
from billing_desk.views.table_models.paged_model import Column, PagedTableModel, amount_column
from billing_desk.views.tasks import TaskRunner


def voucher_state(row: CustomerVoucherRow) -> str:
    if row.expired:
        return tr("Expired")
    if row.remaining.minor == 0:
        return tr("Used up")
    return tr("Active")


def voucher_columns() -> list[Column]:
    return [
        Column("code", tr("Code"), lambda r: f"…{r.last4}", width=90),
        Column("campaign", tr("Campaign"), lambda r: r.campaign or "—", width=200, stretch=True),
        amount_column("amount", tr("Amount"), lambda r: r.amount),
        Column("redeemed", tr("Redeemed"), lambda r: local_time(r.redeemed_at), width=140),
        amount_column("remaining", tr("Remaining"), lambda r: r.remaining),
        Column("expires", tr("Expires"), lambda r: local_time(r.expires_at) or tr("never"), width=140),
        Column("state", tr("State"), voucher_state,
               color=lambda r: MUTED if r.expired or r.remaining.minor == 0 else POSITIVE, width=90),
    ]


class VoucherListModel(PagedTableModel):
    """The whole list is one page: a customer redeems a handful of vouchers, not thousands."""

    def __init__(self, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(runner, voucher_columns(), page_size=1000, parent=parent)

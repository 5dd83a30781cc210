"""A campaign's vouchers for the manager: last four, amount, status, redemptions, validity,
and why a revoked one was revoked. Keyset-paged, newest first (``VoucherService.list_vouchers``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject

from billing_desk.domain.enums import VoucherStatus
from billing_desk.domain.permissions import Actor
from billing_desk.services.vouchers import VoucherFilter, VoucherRow, VoucherService
from billing_desk.views.formatting import AMOUNT_ALIGN, MUTED, NEGATIVE, POSITIVE, local_time, tr
from billing_desk.views.table_models.paged_model import Column, PagedTableModel, PageFetch, amount_column
from billing_desk.views.tasks import TaskRunner

STATUS_LABELS = {
    VoucherStatus.ACTIVE: "Active", VoucherStatus.SCHEDULED: "Scheduled", VoucherStatus.EXPIRED: "Expired",
    VoucherStatus.REVOKED: "Revoked", VoucherStatus.USED_UP: "Used up", VoucherStatus.PENDING: "Pending file",
    VoucherStatus.VOID: "Void",
}
_COLOURS = {VoucherStatus.ACTIVE: POSITIVE, VoucherStatus.REVOKED: NEGATIVE, VoucherStatus.VOID: NEGATIVE}


def status_label(status: VoucherStatus) -> str:
    return tr(STATUS_LABELS[status])


def voucher_admin_columns() -> list[Column]:
    return [
        Column("id", tr("Id"), lambda r: str(r.id), AMOUNT_ALIGN, numeric=True, sort_key=lambda r: r.id, width=70),
        Column("code", tr("Code"), lambda r: f"…{r.last4}", numeric=True, width=80),
        amount_column("amount", tr("Amount"), lambda r: r.amount, width=110),
        Column("status", tr("Status"), lambda r: status_label(r.status),
               color=lambda r: _COLOURS.get(r.status, MUTED), width=90),
        Column("used", tr("Redeemed"), lambda r: f"{r.redemptions:,} / {r.max_redemptions:,}", AMOUNT_ALIGN,
               numeric=True, sort_key=lambda r: r.redemptions, width=90),
        Column("from", tr("Valid from"), lambda r: local_time(r.valid_from) or "—", width=130),
        Column("until", tr("Valid until"), lambda r: local_time(r.valid_until) or tr("no end"), width=130),
        Column("reason", tr("Revoked because"), lambda r: r.revoked_reason or "", tooltip=lambda r: r.revoked_reason,
               width=200, stretch=True),
    ]


def voucher_source(service: VoucherService, actor: Actor, flt: VoucherFilter) -> PageFetch:
    """Pages of ``flt`` newest first; the cursor is the last id shown."""
    def fetch(after: Any, limit: int) -> tuple[Sequence[VoucherRow], Any]:
        rows = service.list_vouchers(actor, flt, before_id=after, limit=limit)
        return rows, (rows[-1].id if len(rows) == limit else None)
    return fetch


class VoucherAdminModel(PagedTableModel):
    def __init__(self, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(runner, voucher_admin_columns(), page_size=500, parent=parent)

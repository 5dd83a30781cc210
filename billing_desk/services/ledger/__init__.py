"""The ledger domain: the credit ledger and the only way a balance moves (``post``, or
``post_many`` for many postings at once), usage and adjustments, the history with its pages,
totals and export, ``ledger verify``, and the month-end credit report.
"""

from __future__ import annotations

from billing_desk.services.exports import ExportResult, export_format
from billing_desk.services.ledger.credit_report import GatewayDayTotal, MonthReport, Movement, Outstanding
from billing_desk.services.ledger.dtos import (
    DailySpending,
    HistoryCursor,
    HistoryFilter,
    HistoryRow,
    HistoryTotals,
    PostingOutcome,
    ServiceDTO,
    ServiceSpending,
)
from billing_desk.services.ledger.history_export import PAGE as EXPORT_PAGE
from billing_desk.services.ledger.history_export import CancelCheck, ExportService, Progress
from billing_desk.services.ledger.posting import (
    BulkReport,
    Posting,
    PostingResult,
    expire_voucher_credit,
    lock_balance,
    post,
    post_many,
)
from billing_desk.services.ledger.service import LedgerService
from billing_desk.services.ledger.spending import day_bounds, local_days

__all__ = [
    "EXPORT_PAGE",
    "BulkReport",
    "CancelCheck",
    "DailySpending",
    "ExportResult",
    "ExportService",
    "GatewayDayTotal",
    "HistoryCursor",
    "HistoryFilter",
    "HistoryRow",
    "HistoryTotals",
    "LedgerService",
    "MonthReport",
    "Movement",
    "Outstanding",
    "Posting",
    "PostingOutcome",
    "PostingResult",
    "Progress",
    "ServiceDTO",
    "ServiceSpending",
    "day_bounds",
    "expire_voucher_credit",
    "export_format",
    "local_days",
    "lock_balance",
    "post",
    "post_many",
]

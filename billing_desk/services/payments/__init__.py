"""The payments domain: top-ups through the gateways (``gateways/``), the payment rows,
and reconciliation with the gateways.
"""

from __future__ import annotations

from billing_desk.services.payments.dtos import (
    NON_REFUNDABLE_NOTICE,
    DailyGatewayFigure,
    FlaggedPayment,
    PaymentChange,
    PaymentCursor,
    PaymentDaily,
    PaymentFilters,
    PaymentPage,
    PaymentRow,
    PaymentSort,
    PaymentTotal,
    PaymentTotals,
    TopUpResult,
)
from billing_desk.services.payments.exceptions import UNKNOWN_AFTER_CHECKS, ExceptionKind, PaymentException
from billing_desk.services.payments.export import ExportService
from billing_desk.services.payments.queries import MIN_REFERENCE_PART
from billing_desk.services.payments.reconcile import ReconcileSummary
from billing_desk.services.payments.service import (
    MAX_PAGE,
    PaymentService,
    build_payment_service,
    payment_reference_source,
)
from billing_desk.services.payments.story import PaymentCheckRow, PaymentStory, StoryAuditRow, StoryLedgerRow

__all__ = [  # noqa: RUF022 (the story's names kept together, apart, for easy merges)
    "UNKNOWN_AFTER_CHECKS", "ExceptionKind", "PaymentCheckRow", "PaymentException", "PaymentStory",
    "ReconcileSummary", "StoryAuditRow", "StoryLedgerRow",
    "MAX_PAGE",
    "MIN_REFERENCE_PART",
    "NON_REFUNDABLE_NOTICE",
    "DailyGatewayFigure",
    "ExportService",
    "FlaggedPayment",
    "PaymentChange",
    "PaymentCursor",
    "PaymentDaily",
    "PaymentFilters",
    "PaymentPage",
    "PaymentRow",
    "PaymentService",
    "PaymentSort",
    "PaymentTotal",
    "PaymentTotals",
    "TopUpResult",
    "build_payment_service",
    "payment_reference_source",
]

"""The vouchers domain: codes (stored only as an HMAC), issue, redemption, lists, revocation
and the expiry of voucher credit.
"""

from __future__ import annotations

from billing_desk.services.vouchers.codes import (
    ALPHABET,
    CODE_LENGTH,
    GROUP,
    CodeKey,
    code_hash,
    format_code,
    last4,
    resolve_code_key,
)
from billing_desk.services.vouchers.dtos import (
    CampaignFunnel,
    CustomerVoucherRow,
    FunnelLine,
    IssuedVouchers,
    IssuePreview,
    IssueRequest,
    RedemptionResult,
    RedemptionsByDay,
    RevokeResult,
    VoidedBatch,
    VoucherRow,
)
from billing_desk.services.vouchers.issue import MAX_BATCH, MAX_CREDIT_DAYS, MAX_REDEMPTIONS, credit_expiry
from billing_desk.services.vouchers.service import VoucherFilter, VoucherService, parse_status, search_by_last4

__all__ = [
    "ALPHABET",
    "CODE_LENGTH",
    "GROUP",
    "MAX_BATCH",
    "MAX_CREDIT_DAYS",
    "MAX_REDEMPTIONS",
    "CampaignFunnel",
    "CodeKey",
    "CustomerVoucherRow",
    "FunnelLine",
    "IssuePreview",
    "IssueRequest",
    "IssuedVouchers",
    "RedemptionResult",
    "RedemptionsByDay",
    "RevokeResult",
    "VoidedBatch",
    "VoucherFilter",
    "VoucherRow",
    "VoucherService",
    "code_hash",
    "credit_expiry",
    "format_code",
    "last4",
    "parse_status",
    "resolve_code_key",
    "search_by_last4",
]

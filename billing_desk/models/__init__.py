"""Database tables. Importing this package registers every table on ``Base.metadata``."""

from billing_desk.models.audit import AuditEntry, AuditHead
from billing_desk.models.base import Base, utcnow
from billing_desk.models.currency import CurrencyRow
from billing_desk.models.customer import Customer, CustomerBalance
from billing_desk.models.ledger import LedgerEntry, UsageService, VoucherCreditLot
from billing_desk.models.payment import Payment
from billing_desk.models.payment_check import PaymentCheck
from billing_desk.models.plan import Plan, PlanPrice, Subscription
from billing_desk.models.settings import AppSetting
from billing_desk.models.staff import StaffUser
from billing_desk.models.voucher import (
    Voucher,
    VoucherAttempt,
    VoucherBatch,
    VoucherCampaign,
    VoucherCampaignCodes,
    VoucherRedemption,
)

__all__ = [
    "AppSetting", "AuditEntry", "AuditHead", "Base", "CurrencyRow", "Customer", "CustomerBalance",
    "LedgerEntry", "Payment", "PaymentCheck", "Plan", "PlanPrice", "StaffUser", "Subscription",
    "UsageService", "Voucher", "VoucherAttempt", "VoucherBatch", "VoucherCampaign", "VoucherCampaignCodes",
    "VoucherCreditLot", "VoucherRedemption", "utcnow",
]

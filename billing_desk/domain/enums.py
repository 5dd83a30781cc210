"""Business enumerations, stored in the database by their string values."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    SUPPORT = "support"
    FINANCE = "finance"
    MANAGER = "manager"
    ADMIN = "admin"


class BillingType(StrEnum):
    PERSONAL = "personal"
    COMPANY = "company"


class LedgerKind(StrEnum):
    TOPUP = "topup"
    VOUCHER = "voucher"
    USAGE = "usage"
    PROMOTION = "promotion"
    PLAN_CHARGE = "plan_charge"
    EXPIRY = "expiry"
    ADJUSTMENT = "adjustment"


class KeyScope(StrEnum):
    """Who issued an idempotency key: each issuer has a key space of its own, so a key typed by
    staff or sent by the usage feed can never meet one the desk built for itself."""

    SYSTEM = "system"  # built by the desk: payment-<id>, voucher-<id>, expire-lot-<id>, plan-...
    EXTERNAL = "external"  # typed by staff or sent by the feed: usage, adjustments, promotions


class CreditSource(StrEnum):
    TOPUP = "topup"
    VOUCHER = "voucher"


class EntryStatus(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"


class PaymentStatus(StrEnum):
    PENDING = "pending"
    SUCCESS = "success"
    FAILED = "failed"


class PaymentMethod(StrEnum):
    VNPAY = "vnpay"
    STRIPE = "stripe"
    PAYPAL = "paypal"

    @property
    def label(self) -> str:
        """The gateway's own spelling, as customers see it on the checkout page."""
        return {"vnpay": "VNPay", "stripe": "Stripe", "paypal": "PayPal"}[self.value]


class VoucherStatus(StrEnum):
    ACTIVE = "active"
    SCHEDULED = "scheduled"
    EXPIRED = "expired"
    REVOKED = "revoked"
    USED_UP = "used_up"
    PENDING = "pending"  # its batch's file is not finished yet: not redeemable
    VOID = "void"  # its batch never finished its file: never redeemable


class VoucherBatchState(StrEnum):
    """A batch issued into a file: its codes redeem only once the file is whole at its final name."""

    PENDING = "pending"
    ACTIVE = "active"
    VOID = "void"

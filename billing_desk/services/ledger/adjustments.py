"""Staff adjustments and promotions: a manager's credit or debit, always with a reason.

Validated here before anything is written; posted by the caller through ``posting.post``
inside its write unit of work, with the audit row beside it.
"""

from __future__ import annotations

from billing_desk.domain.enums import CreditSource, KeyScope, LedgerKind
from billing_desk.domain.errors import Conflict, ValidationError
from billing_desk.domain.money import Money
from billing_desk.models import Customer
from billing_desk.services.ledger.posting import Posting
from billing_desk.services.ledger.usage import amount_in_currency, check_description, check_key


def adjustment_posting(customer: Customer, amount: str | Money, reason: str, *, promotion: bool,
                       source: CreditSource | None, key: str | None, staff_id: int | None) -> Posting:
    if customer.currency is None:
        raise Conflict(f"{customer.account} has no billing currency yet: choose one before adjusting credit.")
    clean_reason = check_description(reason, "", "reason")
    if not clean_reason:
        raise ValidationError("Give a reason for the adjustment; it is kept in the ledger and the audit log.",
                              field="reason")
    money = amount_in_currency(amount, customer.account, customer.currency)
    if money.minor == 0:
        raise ValidationError("The adjustment must not be zero.", field="amount")
    if promotion and money.minor < 0:
        raise ValidationError("A promotion gives credit: the amount must be positive.", field="amount")
    kind = LedgerKind.PROMOTION if promotion else LedgerKind.ADJUSTMENT
    # Promotional credit is free credit, so by default it sits with voucher credit (no expiry);
    # other credits go to top-up credit; a negative adjustment draws like usage unless told.
    if source is None and money.minor > 0:
        source = CreditSource.VOUCHER if promotion else CreditSource.TOPUP
    return Posting(customer_id=customer.id, kind=kind, amount=money, description=clean_reason,
                   idempotency_key=check_key(key), staff_id=staff_id, source=source, key_scope=KeyScope.EXTERNAL)

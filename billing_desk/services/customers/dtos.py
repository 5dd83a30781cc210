"""The customers domain's frozen data: a customer, their balance, a search match."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from billing_desk.domain.money import Money


@dataclass(frozen=True, slots=True)
class Balance:
    total: Money
    topup: Money
    voucher: Money

    def to_json(self) -> dict[str, Any]:
        return {"total": self.total.to_json(), "topup": self.topup.to_json(), "voucher": self.voucher.to_json()}


@dataclass(frozen=True, slots=True)
class CustomerDTO:
    id: int
    account: str
    billing_type: str
    name: str
    email: str
    address: str
    country: str
    tax_code: str | None
    currency: str | None
    display_currency: str | None
    created_at: datetime
    balance: Balance | None

    @property
    def profile_missing(self) -> list[str]:
        """Billing-profile fields still to complete before a top-up."""
        missing = [
            label
            for label, value in (
                ("name", self.name),
                ("email", self.email),
                ("address", self.address),
                ("country", self.country),
            )
            if not value
        ]
        if self.billing_type == "company" and not self.tax_code:
            missing.append("tax code")
        return missing

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "account": self.account,
            "name": self.name,
            "email": self.email,
            "country": self.country,
            "type": self.billing_type,
            "currency": self.currency,
            "address": self.address,
            "tax_code": self.tax_code,
            "display_currency": self.display_currency,
            "created_at": self.created_at.isoformat(),
            "balance": self.balance.to_json() if self.balance else None,
        }


@dataclass(frozen=True, slots=True)
class CustomerMatch:
    """A search hit: enough to show in the result list and open the customer."""

    id: int
    account: str
    name: str
    email: str
    billing_type: str
    country: str
    currency: str | None
    tax_code: str | None
    matched: str  # what the query matched, e.g. "email" or "payment reference"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "account": self.account,
            "name": self.name,
            "email": self.email,
            "type": self.billing_type,
            "country": self.country,
            "currency": self.currency,
            "tax_code": self.tax_code,
            "matched": self.matched,
        }

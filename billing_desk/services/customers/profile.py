"""Validation of a billing profile: one place for every rule about a customer's details."""

from __future__ import annotations

import re
from dataclasses import dataclass

from billing_desk.domain.countries import normalise_country
from billing_desk.domain.enums import BillingType
from billing_desk.domain.errors import ValidationError
from billing_desk.domain.text import clean_text, clean_token

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


@dataclass(frozen=True, slots=True)
class Profile:
    billing_type: str
    name: str
    email: str
    address: str
    country: str
    tax_code: str | None

    def search_text(self, account: str) -> str:
        return " | ".join(p for p in (account, self.name, self.email, self.tax_code or "") if p).lower()


# Display preferences follow the customer's site (customer guide: VND for Vietnam, JPY for
# Japan, USD elsewhere); the billing currency and these common ones may be chosen too.
_SITE_CURRENCY = {"VN": "VND", "JP": "JPY"}
_DISPLAY_CURRENCIES = ("VND", "JPY", "USD", "EUR")


def site_display_currency(country: str) -> str:
    return _SITE_CURRENCY.get(country, "USD")


def display_currency_choices(country: str, billing_currency: str | None) -> tuple[str, ...]:
    """The site's currency first, then the billing currency, then the other common ones."""
    ordered = [site_display_currency(country), *([billing_currency] if billing_currency else []),
               *_DISPLAY_CURRENCIES]
    return tuple(dict.fromkeys(ordered))


def parse_billing_type(value: str) -> str:
    try:
        return BillingType(value.strip().lower()).value
    except ValueError:
        raise ValidationError("The billing type is 'personal' or 'company'.", field="type") from None


def validate_profile(
    *, billing_type: str, name: str, email: str, address: str | None, country: str, tax_code: str | None
) -> Profile:
    """Return the cleaned profile or raise the first problem, naming its field."""
    kind = parse_billing_type(billing_type)
    clean_name = clean_text(name, "name", max_length=200)
    if not clean_name:
        raise ValidationError("Enter the customer's name (the company name for a company).", field="name")
    clean_email = clean_token(email, "email")
    if not _EMAIL.match(clean_email) or len(clean_email) > 254:
        raise ValidationError(
            f"'{clean_email}' is not an email address; write it like name@example.com.", field="email"
        )
    clean_country = normalise_country(country)
    clean_tax = clean_token(tax_code, "tax_code", "tax code") or None
    if kind == BillingType.COMPANY and not clean_tax:
        raise ValidationError("A company needs a tax code.", field="tax_code")
    if clean_tax and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 ./-]{1,63}", clean_tax):
        raise ValidationError(
            "A tax code has 2 to 64 letters, digits, spaces, dots, slashes or dashes.", field="tax_code"
        )
    return Profile(kind, clean_name, clean_email, clean_text(address, "address"), clean_country, clean_tax)

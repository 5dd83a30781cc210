"""Countries (ISO 3166 alpha-2) and which billing currencies each may choose.

Vietnam bills in VND through VNPay, Japan in JPY through Stripe; every other country picks
one of the PayPal currencies the desk has enabled (USD and EUR unless configured otherwise).
"""

from __future__ import annotations

from collections.abc import Iterable

import pycountry

from billing_desk.domain.errors import ValidationError
from billing_desk.domain.money import PAYPAL_CURRENCIES

DEFAULT_PAYPAL_CURRENCIES: tuple[str, ...] = ("USD", "EUR")


def normalise_country(code: str) -> str:
    # ASCII first: 'ß'.upper() is 'SS', which would otherwise be read as South Sudan.
    value = (code or "").strip()
    value = value.upper() if value.isascii() else ""
    if len(value) != 2 or not value.isalpha() or pycountry.countries.get(alpha_2=value) is None:
        raise ValidationError(
            f"'{code}' is not an ISO 3166 country code; use two letters such as VN, JP, US or DE.",
            field="country",
        )
    return value


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country else code


def allowed_currencies(country: str, paypal_currencies: Iterable[str] = DEFAULT_PAYPAL_CURRENCIES) -> tuple[str, ...]:
    if country == "VN":
        return ("VND",)
    if country == "JP":
        return ("JPY",)
    return tuple(c for c in paypal_currencies if c in PAYPAL_CURRENCIES and c != "JPY") or DEFAULT_PAYPAL_CURRENCIES

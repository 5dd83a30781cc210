"""Top-up rules per currency: which gateway takes it, the minimum and maximum, and the
predefined amounts a support agent picks from.

This is the one place these figures live. VND goes to VNPay, JPY to Stripe, every other
currency to PayPal (when the desk has enabled it). Minimums are business rules (500,000 VND,
3,000 JPY, 25 USD or EUR, and a figure of about the same worth for each other currency);
maximums are the gateways' own limits (VNPay takes under 1,000,000,000 VND, Stripe at most
8 digits) or, for PayPal, a desk limit that keeps a typing mistake from becoming a charge.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from billing_desk.domain.countries import DEFAULT_PAYPAL_CURRENCIES
from billing_desk.domain.enums import PaymentMethod
from billing_desk.domain.errors import ValidationError
from billing_desk.domain.money import CURRENCIES, PAYPAL_CURRENCIES, Money, format_money


@dataclass(frozen=True, slots=True)
class TopUpLimits:
    """Everything the top-up dialog needs to know about one currency (amounts in minor units)."""

    currency: str
    method: PaymentMethod
    minimum: Money
    maximum: Money
    presets: tuple[Money, ...]


def _m(major: int, code: str) -> Money:
    return Money(major * CURRENCIES[code].scale, code)


# (minimum, maximum, presets) in major units.
_TABLE: dict[str, tuple[int, int, tuple[int, ...]]] = {
    "VND": (500_000, 999_999_999, (500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000)),
    "JPY": (3_000, 99_999_999, (3_000, 5_000, 10_000, 30_000, 50_000)),
    "USD": (25, 10_000, (25, 50, 100, 250, 500)),
    "EUR": (25, 10_000, (25, 50, 100, 250, 500)),
    "GBP": (20, 8_000, (20, 50, 100, 200, 500)),
    "AUD": (40, 15_000, (40, 100, 200, 400, 800)),
    "BRL": (130, 50_000, (130, 250, 500, 1_000, 2_500)),
    "CAD": (35, 13_000, (35, 75, 150, 350, 700)),
    "CNY": (180, 70_000, (180, 400, 800, 1_800, 3_600)),
    "CZK": (600, 230_000, (600, 1_200, 2_500, 6_000, 12_000)),
    "DKK": (175, 70_000, (175, 350, 700, 1_750, 3_500)),
    "HKD": (200, 78_000, (200, 400, 800, 2_000, 4_000)),
    "HUF": (9_000, 3_600_000, (9_000, 18_000, 36_000, 90_000, 180_000)),
    "ILS": (95, 37_000, (95, 190, 380, 950, 1_900)),
    "MYR": (115, 45_000, (115, 230, 460, 1_150, 2_300)),
    "MXN": (450, 180_000, (450, 900, 1_800, 4_500, 9_000)),
    "TWD": (800, 320_000, (800, 1_600, 3_200, 8_000, 16_000)),
    "NZD": (45, 17_000, (45, 90, 180, 450, 900)),
    "NOK": (270, 110_000, (270, 540, 1_080, 2_700, 5_400)),
    "PHP": (1_450, 580_000, (1_450, 2_900, 5_800, 14_500, 29_000)),
    "PLN": (100, 40_000, (100, 200, 400, 1_000, 2_000)),
    "SGD": (35, 13_000, (35, 70, 140, 350, 700)),
    "SEK": (270, 110_000, (270, 540, 1_080, 2_700, 5_400)),
    "CHF": (25, 9_000, (25, 50, 100, 250, 500)),
    "THB": (900, 350_000, (900, 1_800, 3_600, 9_000, 18_000)),
}

# Within-desk convenience: a top-up link waits this long for the customer before it lapses.
CHECKOUT_LIFETIME_MINUTES: dict[PaymentMethod, int] = {
    PaymentMethod.VNPAY: 15,  # VNPay's own demos use create time + 15 minutes
    PaymentMethod.STRIPE: 24 * 60,  # Stripe's default and maximum for a Checkout Session
    PaymentMethod.PAYPAL: 3 * 60,  # an order may be approved for 3 hours by default
}


def method_for(currency: str, paypal_currencies: Iterable[str] = DEFAULT_PAYPAL_CURRENCIES) -> PaymentMethod:
    """The gateway that takes top-ups in ``currency``, or a ValidationError saying why none does."""
    code = currency.upper()
    if code == "VND":
        return PaymentMethod.VNPAY
    if code == "JPY":
        return PaymentMethod.STRIPE
    enabled = {c.upper() for c in paypal_currencies}
    if code in PAYPAL_CURRENCIES and code in enabled:
        return PaymentMethod.PAYPAL
    raise ValidationError(
        f"Top-ups in {code} are not enabled: add {code} to [gateways.paypal] currencies in the config file.",
        field="currency",
    )


def limits_for(currency: str, paypal_currencies: Iterable[str] = DEFAULT_PAYPAL_CURRENCIES,
               minimums: dict[str, Money] | None = None) -> TopUpLimits:
    """The rules for one currency; ``minimums`` (from the config) override the table's."""
    code = currency.upper()
    method = method_for(code, paypal_currencies)
    if code not in _TABLE:
        raise ValidationError(f"No top-up limits are defined for {code}.", field="currency")
    low, high, presets = _TABLE[code]
    minimum = (minimums or {}).get(code) or _m(low, code)
    maximum = _m(high, code)
    shown = tuple(p for p in (_m(x, code) for x in presets) if minimum <= p <= maximum)
    return TopUpLimits(code, method, minimum, maximum, shown)


def check_amount(amount: Money, limits: TopUpLimits) -> None:
    """Refuse an amount outside the currency's limits, saying what is allowed."""
    if amount.currency != limits.currency:
        raise ValidationError(f"The amount is in {amount.currency}, but this customer is billed in "
                              f"{limits.currency}.", field="amount")
    if amount < limits.minimum:
        raise ValidationError(f"The minimum top-up is {format_money(limits.minimum)}; "
                              f"{format_money(amount)} is too little.", field="amount")
    if amount > limits.maximum:
        raise ValidationError(f"The maximum top-up through {limits.method.value} is "
                              f"{format_money(limits.maximum)}; split {format_money(amount)} "
                              "into smaller top-ups.", field="amount")

"""Exact money: integer minor units with an ISO 4217 currency.

This module is the one place that knows currency exponents, how a person writes an amount
and how an amount is displayed. Floats are refused everywhere: an amount is an ``int`` of
minor units (VND and JPY have none, USD and EUR two), so no rounding can ever surprise.
Gateways convert to their own wire formats at their boundary, from ``Money.minor`` and the
currency's exponent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from billing_desk.domain.errors import ValidationError


@dataclass(frozen=True, slots=True)
class Currency:
    code: str
    exponent: int
    name: str
    symbol: str | None = None

    @property
    def scale(self) -> int:
        return int(10**self.exponent)


# VND plus PayPal's supported currencies; HUF, JPY and TWD take no decimals at PayPal, and
# we keep them whole everywhere so a balance never holds a fraction the gateway cannot take.
_CURRENCY_TABLE: tuple[Currency, ...] = (
    Currency("VND", 0, "Vietnamese dong", "₫"),
    Currency("JPY", 0, "Japanese yen", "¥"),
    Currency("USD", 2, "US dollar", "$"),
    Currency("EUR", 2, "Euro", "€"),
    Currency("GBP", 2, "Pound sterling", "£"),
    Currency("AUD", 2, "Australian dollar", "A$"),
    Currency("BRL", 2, "Brazilian real", "R$"),
    Currency("CAD", 2, "Canadian dollar", "CA$"),
    Currency("CNY", 2, "Chinese yuan", "CN¥"),
    Currency("CZK", 2, "Czech koruna"),
    Currency("DKK", 2, "Danish krone"),
    Currency("HKD", 2, "Hong Kong dollar", "HK$"),
    Currency("HUF", 0, "Hungarian forint"),
    Currency("ILS", 2, "Israeli new shekel", "₪"),
    Currency("MYR", 2, "Malaysian ringgit"),
    Currency("MXN", 2, "Mexican peso", "MX$"),
    Currency("TWD", 0, "New Taiwan dollar", "NT$"),
    Currency("NZD", 2, "New Zealand dollar", "NZ$"),
    Currency("NOK", 2, "Norwegian krone"),
    Currency("PHP", 2, "Philippine peso", "₱"),
    Currency("PLN", 2, "Polish zloty"),
    Currency("SGD", 2, "Singapore dollar", "S$"),
    Currency("SEK", 2, "Swedish krona"),
    Currency("CHF", 2, "Swiss franc"),
    Currency("THB", 2, "Thai baht", "฿"),
)
CURRENCIES: dict[str, Currency] = {c.code: c for c in _CURRENCY_TABLE}
PAYPAL_CURRENCIES: frozenset[str] = frozenset(CURRENCIES) - {"VND"}

# Amounts beyond this are typing mistakes, and staying far below 2**63 keeps sums safe.
MAX_MINOR = 10**15


def currency(code: str) -> Currency:
    try:
        return CURRENCIES[code.upper()]
    except (KeyError, AttributeError):
        raise ValidationError(f"Unknown currency '{code}': use an ISO code such as USD, EUR, VND or JPY.") from None


@dataclass(frozen=True, slots=True, order=False)
class Money:
    minor: int
    currency: str

    def __post_init__(self) -> None:
        if type(self.minor) is not int:
            raise TypeError(f"Money needs an int of minor units, not {type(self.minor).__name__}")
        if self.currency not in CURRENCIES:
            raise ValidationError(f"Unknown currency '{self.currency}'.")

    @classmethod
    def zero(cls, code: str) -> Money:
        return cls(0, code)

    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise ValidationError(f"Cannot combine {self.currency} with {other.currency}.")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.minor + self._same(other).minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.minor - self._same(other).minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.minor < self._same(other).minor

    def __le__(self, other: Money) -> bool:
        return self.minor <= self._same(other).minor

    def __gt__(self, other: Money) -> bool:
        return self.minor > self._same(other).minor

    def __ge__(self, other: Money) -> bool:
        return self.minor >= self._same(other).minor

    def __str__(self) -> str:
        return format_money(self)

    @property
    def exponent(self) -> int:
        return CURRENCIES[self.currency].exponent

    def as_decimal(self) -> Decimal:
        """The exact major-unit value, for wire formats and Excel cells."""
        return Decimal(self.minor).scaleb(-self.exponent)

    def to_json(self) -> dict[str, Any]:
        return {"minor": self.minor, "currency": self.currency, "display": format_money(self)}


def format_plain(minor: int, code: str) -> str:
    """Digits with thousands commas and the currency's decimals, no symbol: '1,234.50'."""
    cur = currency(code)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), cur.scale)
    text = f"{whole:,}"
    if cur.exponent:
        text += "." + str(frac).rjust(cur.exponent, "0")
    return sign + text


def format_money(money: Money) -> str:
    """How staff read an amount: '$25.00', '¥3,000', '500,000 ₫', '1,200.00 SEK'."""
    cur = CURRENCIES[money.currency]
    plain = format_plain(abs(money.minor), money.currency)
    sign = "-" if money.minor < 0 else ""
    if cur.code == "VND":
        return f"{sign}{plain} ₫"
    if cur.symbol:
        return f"{sign}{cur.symbol}{plain}"
    return f"{sign}{plain} {cur.code}"


_SYMBOLS: dict[str, str] = {
    "US$": "USD",
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "￥": "JPY",
    "円": "JPY",
    "₫": "VND",
    "đ": "VND",
    "Đ": "VND",
}
for _c in _CURRENCY_TABLE:
    if _c.symbol and _c.symbol not in _SYMBOLS:
        _SYMBOLS[_c.symbol] = _c.code
# Longest first, so 'US$' wins over '$' and 'CN¥' over '¥'.
_SYMBOL_ORDER = sorted(_SYMBOLS, key=len, reverse=True)
_DIGITS_AND_SEPARATORS = re.compile(r"^\d[\d.,' ]*$")


def _strip_currency_marks(text: str) -> tuple[str, str | None]:
    """Remove a currency code or symbol from either end; return the rest and the code named."""
    named: str | None = None
    rest = text.strip()
    code_match = re.match(r"^([A-Za-z]{3})\s*(.*)$", rest) or re.match(r"^(.*?)\s*([A-Za-z]{3})$", rest)
    if code_match:
        first, second = code_match.groups()
        code, rest = (first, second) if re.fullmatch(r"[A-Za-z]{3}", first) else (second, first)
        if not any(ch.isdigit() for ch in rest):
            return text.strip(), None  # letters alone are no amount; the caller says so
        if code.upper() not in CURRENCIES:
            raise ValidationError(f"'{code}' is not a currency code this desk knows.")
        named = code.upper()
    for sym in _SYMBOL_ORDER:
        if rest.startswith(sym) or rest.endswith(sym):
            if named and named != _SYMBOLS[sym]:
                raise ValidationError(f"The amount names two currencies ({named} and {sym}).")
            named = named or _SYMBOLS[sym]
            rest = rest[len(sym) :] if rest.startswith(sym) else rest[: -len(sym)]
            break
    return rest.strip(), named


def _split_decimal(digits: str, exponent: int) -> tuple[str, str]:
    """Decide which separator, if any, is the decimal point; return (whole, fraction)."""
    seps = [(i, ch) for i, ch in enumerate(digits) if ch in ".,' "]
    if not seps:
        return digits, ""
    last_i, last_ch = seps[-1]
    tail = digits[last_i + 1 :]
    distinct = {ch for _, ch in seps}
    is_grouping = (
        last_ch in "' "
        or (len(tail) == 3 and (exponent == 0 or last_ch == "," or len([s for s in seps if s[1] == last_ch]) > 1))
        or (len(distinct) == 1 and len(seps) > 1)
    )
    if is_grouping:
        whole, frac = digits, ""
    else:
        whole, frac = digits[:last_i], tail
    groups = re.split(r"[.,' ]", whole)
    if len(groups) > 1 and (not 1 <= len(groups[0]) <= 3 or any(len(g) != 3 for g in groups[1:])):
        raise ValidationError(f"'{digits}' has misplaced thousands separators; write it like 1,234,567.")
    if any(ch in ".,' " for ch in frac):
        raise ValidationError(f"'{digits}' is not a number.")
    return "".join(groups), frac


def parse_money(text: str, code: str, *, allow_negative: bool = False) -> Money:
    """Turn what a person typed into exact minor units of ``code``.

    Accepts '500,000', '500.000 ₫', '25.5', '¥3,000', '$25', '1.234,56 €', 'USD 25'.
    Raises ValidationError with a message that says what to fix.
    """
    cur = currency(code)
    if text is None or not str(text).strip():
        raise ValidationError("Enter an amount.")
    raw = str(text).strip().replace("\u00a0", " ").replace("\u202f", " ")
    negative = raw.startswith("-") or raw.startswith("−")
    if negative or raw.startswith("+"):
        raw = raw[1:].strip()
    if negative and not allow_negative:
        raise ValidationError("The amount cannot be negative.")
    rest, named = _strip_currency_marks(raw)
    if rest.startswith("-") and not allow_negative:
        raise ValidationError("The amount cannot be negative.")
    if named and named != cur.code:
        raise ValidationError(f"The amount is in {named}, but this account is in {cur.code}.")
    if not rest or not _DIGITS_AND_SEPARATORS.match(rest) or rest[-1] in ".,' ":
        raise ValidationError(f"'{text}' is not an amount; type digits such as 25 or 25.50.")
    whole, frac = _split_decimal(rest, cur.exponent)
    if len(frac.rstrip("0")) > cur.exponent:
        if cur.exponent == 0:
            raise ValidationError(f"{cur.code} has no decimals; enter a whole amount.")
        raise ValidationError(f"{cur.code} allows at most {cur.exponent} decimals.")
    frac = frac[: cur.exponent].ljust(cur.exponent, "0")
    minor = int(whole or "0") * cur.scale + int(frac or "0")
    if minor > MAX_MINOR:
        raise ValidationError("The amount is too large.")
    return Money(-minor if negative else minor, cur.code)


def money_from_decimal(value: Decimal, code: str) -> Money:
    """Exact conversion from a major-unit Decimal (wire formats); refuses extra precision."""
    cur = currency(code)
    scaled = value.scaleb(cur.exponent)
    if scaled != scaled.to_integral_value():
        raise ValidationError(f"{value} has more decimals than {cur.code} allows.")
    return Money(int(scaled), cur.code)

"""Exact money: integer minor units with an ISO 4217 currency.

This module is the one place that knows currency exponents, how a person writes an amount
and how an amount is displayed. Floats are refused everywhere: an amount is an ``int`` of
minor units (VND and JPY have none, USD and EUR two), so no rounding can ever surprise.
Gateways convert to their own wire formats at their boundary, from ``Money.minor`` and the
currency's exponent.

How ``parse_money`` reads what a person typed
---------------------------------------------
1. Full-width forms, as Japanese input methods type them, are their ASCII twins: ``５０００``,
   ``１２．５０``, ``￥５，０００``, ``－５００``, ``ＵＳＤ　２５``. Every other digit that is not
   0-9 (``١٠٠``, ``१००``, ``𝟓``, ``²``, ``五``) is refused: in an amount it is a paste accident
   or a trick, never something to guess at.
2. A sign (``-``, ``−``, ``+``) may lead; a currency code or symbol may stand at either end
   (``USD 25``, ``25 usd``, ``$25``, ``500,000 ₫``, ``3000円``). Another currency than the
   account's is refused.
3. The number is ASCII digits with single separators between them: ``.`` and ``,``, and, to
   group thousands only, a space (also no-break and thin), or an apostrophe. It starts and
   ends with a digit, holds at most 18 digits (no amount needs more, and an ``int`` of that
   fits a BigInteger) and at most ``MAX_MINOR`` minor units.
4. Which of ``.`` and ``,`` is the decimal point:
   - both appear: the last one is the decimal point and appears once; the other groups
     thousands (``1,234.56``, ``1.234,56``);
   - one appears more than once: it groups thousands and there are no decimals
     (``1.234.567``, ``500,000,000``);
   - one appears once, not before exactly three digits: it is the decimal point (``25.5``,
     ``25,50``, ``0.10``);
   - one appears once before exactly three digits, and the digits before it may start a
     group (see 5): ``,`` groups thousands in every currency (``1,234`` is 1234: no
     currency has three decimals); ``.`` groups thousands in a currency without decimals
     (``500.000 ₫``) and is refused as ambiguous in one with decimals (``1.234 USD``:
     type 1234 or 1,234, or at most two decimals);
   - otherwise it is the decimal point: ``0.500`` and ``1234,567`` cannot be grouped, so
     they have decimals (half a dollar; refused in VND, which has none).
5. A group separator is followed by exactly 3 digits, and the first group has 1 to 3 digits
   and does not start with 0 (so ``0,500`` and ``0.001`` are never thousands); one kind of
   group separator per number.
6. Decimals beyond the currency's exponent are refused unless they are zeros (``3,000.00``
   yen is 3000; ``25.555`` dollars is not an amount).
Every refusal is a ValidationError whose message says what to type instead.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from billing_desk.domain.errors import ValidationError
from billing_desk.domain.text import shown


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

MAX_DIGITS = 18
# Far longer than any amount with its currency mark, short enough that no regex below ever
# works through a pasted page.
MAX_AMOUNT_TEXT = 64
# The full-width ASCII block (U+FF01-U+FF5E) maps onto ASCII by a fixed offset; the
# ideographic space is a space. NFKC would do this too, but it also turns 𝟓 and ² into 5
# and 2, which rule 1 refuses.
_FULL_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: " "}
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})
_SIGNS = {"-": True, "−": True, "+": False}
_NUMBER = re.compile(r"[0-9]+(?:[.,' ][0-9]+)*")
_SEPARATOR = re.compile(r"[.,' ]")


def _strip_currency_marks(text: str) -> tuple[str, str | None]:
    """Remove a currency code or symbol from either end; return the rest and the code named."""
    named: str | None = None
    rest = text.strip()
    code_match = re.match(r"^([A-Za-z]{3})\s*(.*)$", rest) or re.match(r"^(.*?)\s*([A-Za-z]{3})$", rest)
    if code_match:
        first, second = code_match.groups()
        code, rest = (first, second) if re.fullmatch(r"[A-Za-z]{3}", first) else (second, first)
        if not any("0" <= ch <= "9" for ch in rest):
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


def _groups_thousands(runs: list[str]) -> bool:
    """Rule 5: digit runs that a group separator may join."""
    first = runs[0]
    return 1 <= len(first) <= 3 and not first.startswith("0") and all(len(r) == 3 for r in runs[1:])


def _is_decimal_point(mark: str, runs: list[str], at: int, cur: Currency, shown_text: str) -> bool:
    """Rule 4 for one '.' or ',' standing alone at separator ``at``."""
    if len(runs[at + 1]) != 3 or not _groups_thousands(runs[: at + 2]):
        return True
    if mark == "." and cur.exponent > 0:
        whole, decimals = "".join(runs[: at + 2]), f"{''.join(runs[: at + 1])}.{runs[at + 1][: cur.exponent]}"
        raise ValidationError(
            f"'{shown_text}' is ambiguous: for the whole amount type {whole} or {int(whole):,}; "
            f"{cur.code} allows at most {cur.exponent} decimals (e.g. {decimals})."
        )
    return False


def _split_number(number: str, cur: Currency, shown_text: str) -> tuple[str, str]:
    """The whole and fraction digits of ``number`` (ASCII digits and separators, rule 3)."""
    seps = _SEPARATOR.findall(number)
    runs = _SEPARATOR.split(number)
    points = [i for i, s in enumerate(seps) if s in ".,"]
    decimal: int | None = None
    if points:
        last = points[-1]
        same = [i for i in points if seps[i] == seps[last]]
        if len(same) < len(points):
            decimal = last  # both marks: the last one is the decimal point
            if len(same) > 1:
                raise ValidationError(f"'{shown_text}' is not a number: it has more than one decimal point.")
        elif len(same) == 1 and _is_decimal_point(seps[last], runs, last, cur, shown_text):
            decimal = last
    if decimal is not None and decimal != len(seps) - 1:
        raise ValidationError(f"'{shown_text}' is not a number: nothing but digits may follow the decimal point.")
    whole = runs if decimal is None else runs[:-1]
    grouping = set(seps if decimal is None else seps[:-1])
    if len(whole) > 1 and (len(grouping) > 1 or not _groups_thousands(whole)):
        raise ValidationError(f"'{shown_text}' has misplaced thousands separators; write it like 1,234,567.")
    return "".join(whole), "" if decimal is None else runs[-1]


def _refuse_foreign_digits(text: str, shown_text: str) -> None:
    foreign = next((ch for ch in text if ch.isnumeric() and not "0" <= ch <= "9"), None)
    if foreign is not None:
        raise ValidationError(
            f"'{shown_text}' has a digit that is not 0-9 ({unicodedata.name(foreign, ascii(foreign)).lower()}); "
            "type the amount with the digits 0 to 9."
        )


def _example(cur: Currency) -> str:
    return format_plain((500_000 if cur.code == "VND" else 3000) * cur.scale, cur.code)


def amount_examples(code: str) -> str:
    """Amounts to suggest when a person's text is not one, written as ``code`` is written:
    '500,000' for VND, '3,000' for JPY, '25 or 25.50' where there are cents (issue 11)."""
    cur = currency(code)
    if cur.exponent == 0:
        return _example(cur)
    return f"25 or {format_plain(2550 * cur.scale // 100, code)}"


def _minor_units(whole: str, frac: str, cur: Currency, shown_text: str) -> int:
    """Rule 6 and the limits of rule 3, then the exact integer."""
    if len(whole) + len(frac) > MAX_DIGITS:
        raise ValidationError(
            f"'{shown_text}' is too large: an amount has at most {MAX_DIGITS} digits "
            f"(the largest is {format_money(Money(MAX_MINOR, cur.code))})."
        )
    if len(frac.rstrip("0")) > cur.exponent:
        if cur.exponent == 0:
            raise ValidationError(
                f"{cur.code} has no decimals, but '{shown_text}' reads as {whole}.{frac}; "
                f"type a whole amount such as {_example(cur)}."
            )
        raise ValidationError(f"{cur.code} allows at most {cur.exponent} decimals.")
    minor = int(whole) * cur.scale + int(frac[: cur.exponent].ljust(cur.exponent, "0") or "0")
    if minor > MAX_MINOR:
        raise ValidationError(f"The amount is too large: the largest is {format_money(Money(MAX_MINOR, cur.code))}.")
    return minor


def parse_money(text: str, code: str, *, allow_negative: bool = False) -> Money:
    """Turn what a person typed into exact minor units of ``code``, by the rules above.

    Accepts '500,000', '500.000 ₫', '25.5', '¥3,000', '$25', '1.234,56 €', 'USD 25', '５０００'.
    Raises ValidationError with a message that says what to fix.
    """
    cur = currency(code)
    if text is None or not str(text).strip():
        raise ValidationError("Enter an amount.")
    shown_text = shown(str(text).strip())
    raw = str(text).strip().translate(_FULL_WIDTH).translate(_SPACES)
    if len(raw) > MAX_AMOUNT_TEXT:
        raise ValidationError(f"'{shown_text}' is too long to be an amount: an amount has at most {MAX_DIGITS} digits.")
    _refuse_foreign_digits(raw, shown_text)
    negative = _SIGNS.get(raw[0], False)
    if raw[0] in _SIGNS:
        raw = raw[1:].strip()
    if negative and not allow_negative:
        raise ValidationError("The amount cannot be negative.")
    rest, named = _strip_currency_marks(raw)
    if rest.startswith("-") and not allow_negative:
        raise ValidationError("The amount cannot be negative.")
    if named and named != cur.code:
        raise ValidationError(f"The amount is in {named}, but this account is in {cur.code}.")
    if not _NUMBER.fullmatch(rest):
        raise ValidationError(f"'{shown_text}' is not an amount; type digits such as {amount_examples(cur.code)}.")
    whole, frac = _split_number(rest, cur, shown_text)
    minor = _minor_units(whole, frac, cur, shown_text)
    return Money(-minor if negative else minor, cur.code)


def money_from_decimal(value: Decimal, code: str) -> Money:
    """Exact conversion from a major-unit Decimal (wire formats); refuses extra precision."""
    cur = currency(code)
    scaled = value.scaleb(cur.exponent)
    if scaled != scaled.to_integral_value():
        raise ValidationError(f"{value} has more decimals than {cur.code} allows.")
    return Money(int(scaled), cur.code)

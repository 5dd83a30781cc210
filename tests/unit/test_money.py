"""Money: exact parsing of what people type, display formats, and refusal of floats."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_desk.domain.errors import ValidationError
from billing_desk.domain.money import CURRENCIES, MAX_MINOR, Money, format_money, parse_money


@pytest.mark.parametrize(
    ("text", "code", "minor"),
    [
        ("500,000", "VND", 500_000),
        ("500.000 ₫", "VND", 500_000),
        ("1.234.567", "VND", 1_234_567),
        ("500000", "VND", 500_000),
        ("25.5", "USD", 2550),
        ("25", "USD", 2500),
        ("$25", "USD", 2500),
        ("US$ 25.00", "USD", 2500),
        ("¥3,000", "JPY", 3000),
        ("3000円", "JPY", 3000),
        ("1,234.56", "EUR", 123_456),
        ("1.234,56 €", "EUR", 123_456),
        ("25,5", "EUR", 2550),
        ("EUR 10", "EUR", 1000),
        ("10 usd", "USD", 1000),
        ("0.10", "USD", 10),
        ("12,000", "HUF", 12_000),
        ("3,000.00", "JPY", 3000),
    ],
)
def test_parse_accepts_what_people_type(text: str, code: str, minor: int) -> None:
    assert parse_money(text, code) == Money(minor, code)


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("", "USD", "Enter an amount"),
        ("   ", "VND", "Enter an amount"),
        ("-5", "USD", "cannot be negative"),
        ("25.555", "USD", "at most 2 decimals"),
        ("1.234", "USD", "at most 2 decimals"),
        ("3000.5", "JPY", "no decimals"),
        ("abc", "USD", "not an amount"),
        ("12abc", "USD", "not a currency code"),
        ("1,23,4", "USD", "thousands separators"),
        ("€25", "USD", "in EUR"),
        ("¥500", "VND", "in JPY"),
        ("25 XYZ", "USD", "not a currency code"),
        ("1" * 20, "VND", "too large"),
        ("25.", "USD", "not an amount"),
    ],
)
def test_parse_refuses_with_a_message_that_says_what_to_fix(text: str, code: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_money(text, code)


def test_negative_allowed_only_when_asked() -> None:
    assert parse_money("-12.50", "USD", allow_negative=True) == Money(-1250, "USD")


@pytest.mark.parametrize(
    ("money", "shown"),
    [
        (Money(500_000, "VND"), "500,000 ₫"),
        (Money(3000, "JPY"), "¥3,000"),
        (Money(2500, "USD"), "$25.00"),
        (Money(-2505, "EUR"), "-€25.05"),
        (Money(120_000, "SEK"), "1,200.00 SEK"),
        (Money(7, "USD"), "$0.07"),
    ],
)
def test_display(money: Money, shown: str) -> None:
    assert format_money(money) == shown


@given(code=st.sampled_from(sorted(CURRENCIES)), minor=st.integers(min_value=0, max_value=MAX_MINOR))
def test_format_then_parse_returns_the_same_amount(code: str, minor: int) -> None:
    money = Money(minor, code)
    assert parse_money(format_money(money), code) == money


@given(code=st.sampled_from(sorted(CURRENCIES)), minor=st.integers(min_value=-MAX_MINOR, max_value=MAX_MINOR))
def test_signed_round_trip(code: str, minor: int) -> None:
    money = Money(minor, code)
    assert parse_money(format_money(money), code, allow_negative=True) == money


def test_money_refuses_floats_and_mixed_currencies() -> None:
    with pytest.raises(TypeError):
        Money(25.0, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(True, "USD")
    with pytest.raises(ValidationError, match="Cannot combine USD with EUR"):
        Money(1, "USD") + Money(1, "EUR")
    assert Money(150, "USD") + Money(250, "USD") == Money(400, "USD")


def test_exponents() -> None:
    assert {c: CURRENCIES[c].exponent for c in ("VND", "JPY", "USD", "EUR", "HUF", "TWD")} == {
        "VND": 0,
        "JPY": 0,
        "USD": 2,
        "EUR": 2,
        "HUF": 0,
        "TWD": 0,
    }


# -- Defect 7: what a separator means, which digits count -------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "minor"),
    [
        ("５０００", "JPY", 5000),  # full-width digits, as Japanese input methods type them
        ("￥５，０００", "JPY", 5000),
        ("５，０００円", "JPY", 5000),
        ("１２．５０", "USD", 1250),
        ("ＵＳＤ　２５", "USD", 2500),
        ("1 234 567", "VND", 1_234_567),
        ("1\u00a0234,56 €", "EUR", 123_456),
        ("1'234.50", "CHF", 123_450),
        ("0.50", "USD", 50),
        ("0,50", "EUR", 50),
        ("0.500", "USD", 50),  # '0' cannot start a thousands group, so this is a decimal point
        ("1,234", "USD", 123_400),  # no currency has three decimals: the comma groups
        ("500.000", "VND", 500_000),
        ("1.234.567,89", "EUR", 123_456_789),
        ("0", "VND", 0),
    ],
)
def test_parse_reads_separators_by_the_written_rule(text: str, code: str, minor: int) -> None:
    assert parse_money(text, code) == Money(minor, code)


def test_full_width_minus_signs_a_negative_amount() -> None:
    assert parse_money("－１，０００", "JPY", allow_negative=True) == Money(-1000, "JPY")


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("0.001", "VND", "VND has no decimals"),  # was read as 1 ₫
        ("0.500", "VND", "VND has no decimals"),  # was read as 500 ₫
        ("0,500", "VND", "VND has no decimals"),
        ("1234.567", "VND", "VND has no decimals"),
        ("1٠٠", "VND", "digits 0 to 9"),  # Arabic-Indic zeros
        ("१००", "VND", "digits 0 to 9"),  # Devanagari
        ("𝟓", "USD", "digits 0 to 9"),  # mathematical bold five
        ("²5", "USD", "digits 0 to 9"),
        ("五千", "JPY", "digits 0 to 9"),
        ("1.234", "USD", "ambiguous"),
        ("25.550", "USD", "ambiguous"),
        ("1.234,567.8", "EUR", "not a number"),
        ("1,000 000", "VND", "thousands separators"),
        ("1..000", "VND", "not an amount"),
    ],
)
def test_parse_refuses_what_it_should_not(text: str, code: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_money(text, code)


def test_an_ambiguous_amount_says_what_to_type() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_money("1.234", "USD")
    assert "1234 or 1,234" in caught.value.message and "at most 2 decimals" in caught.value.message


@given(code=st.sampled_from(sorted(CURRENCIES)), text=st.text(min_size=1, max_size=12))
def test_only_ascii_and_full_width_digits_are_ever_read(code: str, text: str) -> None:
    try:
        money = parse_money(text, code, allow_negative=True)
    except ValidationError:
        return
    foreign = [ch for ch in text if ch.isnumeric() and not ("0" <= ch <= "9" or "０" <= ch <= "９")]
    assert not foreign, (text, money)


# -- Defect 6: an amount too long for int() is one clear refusal ------------------------------


@pytest.mark.parametrize("digits", [19, 4301, 100_000])
def test_an_amount_with_too_many_digits_is_refused_with_the_limit(digits: int) -> None:
    with pytest.raises(ValidationError, match="at most 18 digits"):
        parse_money("1" * digits, "VND")


def test_the_largest_amount_says_its_limit() -> None:
    with pytest.raises(ValidationError, match="too large.*1,000,000,000,000,000 ₫"):
        parse_money("1,000,000,000,000,001", "VND")

"""Hostile input to every parser a person or a file reaches, below the database.

Invariant, for each parser and any text at all (any code point, lone surrogates and control
characters included, structured near-misses of valid input, out-of-range dates and numbers):
it returns a value of the documented shape, or refuses with a BillingDeskError whose message
is one printable line. No other exception ever escapes. Accepted values are checked too: an
amount is an int of minor units within MAX_MINOR in the account's currency (never negative
unless allowed) and a formatted amount always reads back as itself; a voucher code is 20
characters of its alphabet; a clean text holds no control character; a profile's email and
tax code fit their columns; a date range is ordered and in UTC. Inputs are counted per parser
and reported (docs/RELIABILITY.md, "Hostile input").
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_desk.domain.dates import day_range_utc, parse_day, parse_instant
from billing_desk.domain.money import CURRENCIES, MAX_MINOR, Money, format_plain, parse_money
from billing_desk.domain.text import clean_text, clean_token, has_control
from billing_desk.services.customers.profile import validate_profile
from billing_desk.services.ledger.dtos import HistoryCursor
from billing_desk.services.vouchers.codes import ALPHABET, CODE_LENGTH, normalise_code
from billing_desk.services.vouchers.lists import parse_status
from tests.support.hostile import SQL_PAYLOADS, Tally, attempt

QUICK, LONG = 150, 5000
RUNS = [pytest.param(QUICK, id="quick"), pytest.param(LONG, id="long", marks=[pytest.mark.long, pytest.mark.slow])]
TALLY = Tally()

# Pieces people type around an amount, and the near misses: other scripts' digits, separators
# in odd places, signs, currency marks of other currencies, exponents, huge digit runs.
_AMOUNT_PIECES = st.sampled_from([
    *"0123456789", "0", "00", "000", "1,234", "1.234", ",", ".", " ", "'", "\u00a0", "\u202f", "\u2009", "-", "−", "+",
    "$", "US$", "€", "£", "¥", "￥", "円", "₫", "đ", "CA$", "CN¥", "USD", "usd", "VND", "JPY", "EUR", "XYZ",
    "５", "０", "，", "．", "－", "١", "५", "𝟓", "²", "五", "e", "E", "e+300", "inf", "nan", "0x1F", "_", "\x00", "\n",
    "9" * 19, "9" * 4400, "1e9999", "½",
])
amount_text = st.one_of(
    st.lists(_AMOUNT_PIECES, max_size=8).map("".join),
    st.text(max_size=40),
    st.sampled_from(SQL_PAYLOADS),
    st.integers().map(str),  # beyond 64 bits too
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
currency_code = st.sampled_from(sorted(CURRENCIES))


def _one_line(value: str) -> None:
    assert not has_control(value), repr(value)


@pytest.mark.parametrize("examples", RUNS)
def test_amounts_in_every_currency(examples: int) -> None:
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(text=amount_text, code=currency_code, negative=st.booleans())
    def check(text: str, code: str, negative: bool) -> None:
        money = attempt(TALLY, "amount", lambda: parse_money(text, code, allow_negative=negative))
        if money is None:
            return
        assert type(money.minor) is int and money.currency == code
        assert abs(money.minor) <= MAX_MINOR
        assert negative or money.minor >= 0
        # What the desk shows must read back as the same amount.
        assert parse_money(format_plain(money.minor, code), code, allow_negative=True) == money

    check()


@pytest.mark.parametrize("examples", RUNS)
def test_formatted_amounts_read_back(examples: int) -> None:
    @settings(max_examples=examples, deadline=None)
    @given(minor=st.integers(-MAX_MINOR, MAX_MINOR), code=currency_code)
    def check(minor: int, code: str) -> None:
        shown = format_plain(minor, code)
        money = attempt(TALLY, "amount (formatted)", lambda: parse_money(shown, code, allow_negative=True))
        assert money == Money(minor, code), shown

    check()


@pytest.mark.parametrize("examples", RUNS)
def test_text_cleaning(examples: int) -> None:
    @settings(max_examples=examples, deadline=None)
    @given(text=st.one_of(st.text(), st.sampled_from(SQL_PAYLOADS)), limit=st.none() | st.integers(1, 300))
    def check(text: str, limit: int | None) -> None:
        for name, clean in (("clean_text", clean_text), ("clean_token", clean_token)):
            value = attempt(TALLY, name, lambda clean=clean: clean(text, "field", max_length=limit))
            if value is not None:
                _one_line(value)
                assert value == value.strip() and (limit is None or len(value) <= limit)

    check()


@pytest.mark.parametrize("examples", RUNS)
def test_voucher_codes(examples: int) -> None:
    near = st.text(st.sampled_from(ALPHABET + "-_ .0OIL1lo\u00a0\u2013ａＢ"), min_size=15, max_size=30)

    valid = st.builds(lambda raw, sep, lower: sep.join(raw[i:i + 4] for i in range(0, 20, 4)).lower() if lower
                      else sep.join(raw[i:i + 4] for i in range(0, 20, 4)),
                      st.text(st.sampled_from(ALPHABET), min_size=20, max_size=20),
                      st.sampled_from(["-", " ", "", "\u2013", "--"]), st.booleans())

    @settings(max_examples=examples, deadline=None)

    @given(text=st.one_of(st.text(), near, valid, st.sampled_from(SQL_PAYLOADS)))
    def check(text: str) -> None:
        code = attempt(TALLY, "voucher code", lambda: normalise_code(text))
        if code is not None:
            assert len(code) == CODE_LENGTH and set(code) <= set(ALPHABET)

    check()


_email = st.one_of(st.emails().map(str), st.text(max_size=30), st.sampled_from(SQL_PAYLOADS),
                   st.builds(lambda a, b: f"{a}@{b}.com", st.text(min_size=1, max_size=300), st.text(max_size=10)))
_tax = st.one_of(st.none(), st.none(), st.text(max_size=70),
                 st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 ./-]{0,70}", fullmatch=True),
                 st.sampled_from(SQL_PAYLOADS))
_country = st.one_of(st.sampled_from(["VN", "JP", "us", " de ", "VN", "US", "ß", "SS", "XX", "ＶＮ", "V\x00", "",
                                      "VNM"]),
                     st.text(max_size=3))


@pytest.mark.parametrize("examples", RUNS)
def test_billing_profiles(examples: int) -> None:
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(kind=st.sampled_from(["personal", "company", "COMPANY ", "other", ""]) | st.text(max_size=8),
           name=st.text(max_size=220) | st.sampled_from(["Nguyễn Văn An", "株式会社", "O'Brien; DROP", "A" * 200]),
           email=_email | st.sampled_from(["a@b.co", "x+y@example.com", "o'brien@example.ie"]), country=_country,
           tax=_tax, address=st.none() | st.text())
    def check(kind: str, name: str, email: str, country: str, tax: str | None, address: str | None) -> None:
        profile = attempt(TALLY, "profile", lambda: validate_profile(
            billing_type=kind, name=name, email=email, address=address, country=country, tax_code=tax))
        if profile is None:
            return
        assert 0 < len(profile.name) <= 200 and len(profile.email) <= 254 and "@" in profile.email
        assert profile.country.isascii() and len(profile.country) == 2
        assert profile.tax_code is None or len(profile.tax_code) <= 64
        for value in (profile.name, profile.email, profile.address, profile.tax_code or ""):
            _one_line(value)

    check()


_date_text = st.one_of(
    st.text(max_size=30), st.dates().map(date.isoformat), st.datetimes().map(datetime.isoformat),
    st.sampled_from(["0001-01-01", "9999-12-31", "99999-01-01", "9999-12-31T23:00-05:00", "0001-01-01T00:00+14:00",
                     "2026-02-30", "2026-13-01", "+2026-01-01", "2026-01-01T25:00", "2026-01-01Z", "1e9", "\x00"]),
    st.datetimes(timezones=st.sampled_from([UTC, ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Etc/GMT+12")]))
    .map(datetime.isoformat),
)


@pytest.mark.parametrize("examples", RUNS)
def test_dates_and_ranges(examples: int) -> None:
    @settings(max_examples=examples, deadline=None)
    @given(text=_date_text, first=st.none() | st.dates(), last=st.none() | st.dates())
    def check(text: str, first: date | None, last: date | None) -> None:
        day = attempt(TALLY, "day", lambda: parse_day(text))
        assert day is None or isinstance(day, date)
        instant = attempt(TALLY, "instant", lambda: parse_instant(text))
        assert instant is None or (instant.tzinfo is not None and instant.utcoffset() == timedelta(0))
        span = attempt(TALLY, "date range", lambda: day_range_utc(first, last))
        if span is not None and span[0] is not None and span[1] is not None:
            assert span[0] < span[1]

    check()


_cursor = st.one_of(
    st.text(max_size=40), st.sampled_from(SQL_PAYLOADS),
    st.builds(lambda at, ident: f"{at.isoformat()}~{ident}",
              st.datetimes(timezones=st.sampled_from([UTC, ZoneInfo("Asia/Tokyo"), ZoneInfo("Etc/GMT+12")])),
              st.integers() | st.text(max_size=5)),
)


@pytest.mark.parametrize("examples", RUNS)
def test_page_cursors_and_statuses(examples: int) -> None:
    @settings(max_examples=examples, deadline=None)
    @given(token=_cursor, status=st.text(max_size=12) | st.sampled_from(["active", "Used-Up", " void "]))
    def check(token: str, status: str) -> None:
        cursor = attempt(TALLY, "history cursor", lambda: HistoryCursor.from_token(token))
        if cursor is not None:
            assert 0 < cursor.id < 2**63 and cursor.created_at.utcoffset() == timedelta(0)
        attempt(TALLY, "voucher status", lambda: parse_status(status))

    check()


def test_known_edges_are_refused_in_words() -> None:
    """The earlier findings, by name: each is a refusal, not a traceback."""
    for call in (
        lambda: day_range_utc(None, date.max),
        lambda: day_range_utc(date.min, None, ZoneInfo("Asia/Ho_Chi_Minh")),
        lambda: parse_instant("9999-12-31T23:00-05:00"),
        lambda: HistoryCursor.from_token("0001-01-01T00:00+01:00~5"),
        lambda: HistoryCursor.from_token(f"2026-01-01T00:00+00:00~{2**64}"),
        lambda: parse_money("9" * 30, "USD"),
        lambda: parse_money(str(2**64), "VND"),
        lambda: validate_profile(billing_type="personal", name="A", email="a@b.co", address=None, country="ß",
                                 tax_code=None),
    ):
        assert attempt(TALLY, "known edges", call) is None


def test_report(tmp_path: Path) -> None:
    """Prints the inputs tried by the tests above in this run (run last in this file)."""
    TALLY.report("hostile parsers", tmp_path)
    assert TALLY.total("amount") > 0

"""Pure pieces of the ledger and its exports: the formula guard, cursors, formats."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from openpyxl.utils.escape import unescape

from billing_desk.domain.enums import EntryStatus, LedgerKind
from billing_desk.domain.errors import ValidationError
from billing_desk.services.exports.guard import csv_text, needs_guard, xml_safe
from billing_desk.services.exports.xlsx_cells import currency_format
from billing_desk.services.ledger.dtos import HistoryCursor, HistoryFilter


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\nx", "\x00x", "\x1bx", "\x7fx"])
def test_risky_leading_characters_are_guarded(text):
    assert needs_guard(text)
    assert csv_text(text) == "'" + text


@pytest.mark.parametrize("text", ["", "plain", "1+1", "a=b", " =x", "Storage usage for 1 model", "Tiền điện"])
def test_ordinary_text_is_left_alone(text):
    assert not needs_guard(text)
    assert csv_text(text) == text


@pytest.mark.parametrize("text", ["a\rb", "\x01ctrl", "tab\there", "line\nbreak", "_x0041_ literal", "ok"])
def test_xml_safe_round_trips_through_ooxml_escapes(text):
    safe = xml_safe(text)
    assert all(ch in "\t\n" or ord(ch) >= 32 for ch in safe)
    assert unescape(safe) == text


def test_currency_formats_follow_the_exponent():
    assert currency_format("VND") == '#,##0 "VND";-#,##0 "VND"'
    assert currency_format("JPY") == '#,##0 "JPY";-#,##0 "JPY"'
    assert currency_format("USD") == '#,##0.00 "USD";-#,##0.00 "USD"'


def test_cursor_tokens_round_trip_and_refuse_garbage():
    cursor = HistoryCursor(datetime(2026, 11, 25, 9, 30, 1, 123456, tzinfo=UTC), 42)
    assert HistoryCursor.from_token(cursor.to_token()) == cursor
    for bad in ("", "42", "2026-11-25T09:30:01~x", "2026-11-25T09:30:01~5"):
        with pytest.raises(ValidationError):
            HistoryCursor.from_token(bad)


def test_filter_describes_itself_for_people():
    assert HistoryFilter().describe() == "all transactions"
    f = HistoryFilter(services=("Storage", "AI Inference"), statuses=(EntryStatus.FAILED,), kinds=(LedgerKind.USAGE,),
                      date_from=date(2026, 1, 1), date_to=date(2026, 1, 31), text="model")
    assert f.describe() == ("service Storage, AI Inference; status failed; kind usage; from 2026-01-01; "
                            "to 2026-01-31; description contains 'model'")
    assert f.to_json()["from"] == "2026-01-01"

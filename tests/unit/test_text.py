"""Text from people and files: the one check each kind passes before it reaches the database."""

from __future__ import annotations

import pytest

from billing_desk.domain.errors import NotFound, ValidationError
from billing_desk.domain.text import clean_text, clean_token, has_control, shown


def test_one_line_text_folds_layout_and_keeps_everything_printable() -> None:
    assert clean_text("  Storage\tusage\r\nfor 1 model  ", "description") == "Storage usage for 1 model"
    assert clean_text("Nguyễn Văn Đức ₫ 中文 😀 =SUM(A1) ' OR 1=1 --", "name") == (
        "Nguyễn Văn Đức ₫ 中文 😀 =SUM(A1) ' OR 1=1 --")
    assert clean_text(None, "address") == ""


@pytest.mark.parametrize("bad", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9f",
                                 "\udcff"])
@pytest.mark.parametrize("check", [clean_text, clean_token])
def test_control_characters_are_refused_naming_the_field(check, bad: str) -> None:
    for value in (f"a{bad}b", f"{bad}ab", f"ab{bad}"):
        with pytest.raises(ValidationError) as refused:
            check(value, "key")
        assert refused.value.field == "key" and "The key contains a control character" in refused.value.message
        assert bad not in refused.value.message and "\n" not in refused.value.message


def test_tokens_are_trimmed_but_never_folded() -> None:
    assert clean_token("  C00000042\n", "customer") == "C00000042"
    assert clean_token("a  b", "query") == "a  b"
    with pytest.raises(ValidationError, match="search text contains a control character"):
        clean_token("a\tb", "query", "search text")


def test_a_length_limit_names_the_field() -> None:
    with pytest.raises(ValidationError, match="The name is longer than 5 characters") as refused:
        clean_text("abcdef", "name", max_length=5)
    assert refused.value.field == "name"


def test_shown_quotes_typed_text_on_one_short_line() -> None:
    assert shown("a\x00b\nc") == "a\\x00b\\nc"
    assert shown("9" * 5000) == "9" * 40 + "…"
    assert has_control("x\x00") and not has_control("x y")


def test_every_typed_error_is_one_line() -> None:
    error = NotFound("No customer with id or account 'C\x00\n42'.")
    assert error.message == str(error) == "No customer with id or account 'C\\x00\\n42'."

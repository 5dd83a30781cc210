"""Text that people and files hand us, checked once before it reaches a query or a row.

Every text a person types or a file carries (names, emails, tax codes, addresses, keys,
descriptions, reasons, campaign and service names, voucher codes, customer references, search
and filter text) passes one of the two checks here, in the service that receives it, before
anything is read or written:

- ``clean_text`` for one line of free text (a name, a description, a reason): tabs and line
  breaks fold into single spaces, as a CSV-quoted or pasted line break is layout, not content;
- ``clean_token`` for what is matched exactly or searched for (a key, an email, a reference,
  search and filter text): trimmed, nothing folded.

Both refuse every other control character with a ValidationError naming the field: PostgreSQL
cannot store NUL in text at all ("A string literal cannot contain NUL"), and the others
(escape, bell, backspace...) are invisible in a table and harmful in a terminal or a
spreadsheet. Lone surrogates (what undecodable bytes on a command line become) are refused
too, since neither database driver can encode them. Text that passes is stored, compared and
shown as it is; a search or filter that is refused matches nothing.

``shown`` quotes what was typed back in a message: one line, short.
"""

from __future__ import annotations

import re

from billing_desk.domain.errors import ValidationError, one_line

# Control characters other than the tab and the line breaks, which one-line text folds.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_ANY_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

SHOWN_LENGTH = 40


def shown(value: object, limit: int = SHOWN_LENGTH) -> str:
    """``value`` as a message may quote it: one line, control characters escaped, at most
    ``limit`` characters of it (then an ellipsis)."""
    text = str(value)
    return one_line(text[:limit] + ("…" if len(text) > limit else ""))


def _refuse(found: re.Match[str] | None, field: str, label: str) -> None:
    if found is not None:
        raise ValidationError(
            f"The {label} contains a control character ({one_line(found.group())}); remove it and type it again.",
            field=field,
        )


def clean_text(value: str | None, field: str, label: str | None = None, *, max_length: int | None = None) -> str:
    """One line of free text: control characters refused, tabs and line breaks and runs of
    spaces folded into single spaces, ends trimmed. '' when nothing is left."""
    raw = value or ""
    _refuse(_FORBIDDEN.search(raw), field, label or field)
    text = " ".join(raw.split())
    if max_length is not None and len(text) > max_length:
        raise ValidationError(f"The {label or field} is longer than {max_length} characters.", field=field)
    return text


def clean_token(value: str | None, field: str, label: str | None = None, *, max_length: int | None = None) -> str:
    """Text matched exactly or searched for: ends trimmed, any control character refused
    (a tab or line break too, unless at an end: inside, it would only ever match nothing)."""
    raw = value or ""
    _refuse(_FORBIDDEN.search(raw), field, label or field)  # before strip(), which eats some controls
    text = raw.strip()
    _refuse(_ANY_CONTROL.search(text), field, label or field)
    if max_length is not None and len(text) > max_length:
        raise ValidationError(f"The {label or field} is longer than {max_length} characters.", field=field)
    return text


def has_control(value: str) -> bool:
    """True when ``value`` holds a character that ``clean_token`` refuses."""
    return _ANY_CONTROL.search(value) is not None

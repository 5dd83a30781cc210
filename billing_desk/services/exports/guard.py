"""Formula-injection guard for exported text (OWASP "CSV injection").

A spreadsheet evaluates a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and some
versions also tab and carriage return) as a formula, so a customer who names a service
description ``=HYPERLINK(...)`` could run it on a staff member's machine. Every text cell
of an export passes through here. XLSX cells are written with an explicit string type and
Excel's quote-prefix style (``needs_guard``), so the text is kept exactly and shown as text;
CSV has no types, so risky text gets a leading apostrophe, the convention spreadsheets honour.
XML cannot carry most control characters (and turns CR into LF), so XLSX text uses OOXML's
own escape ``_xHHHH_``, which Excel decodes back to the exact character.
"""

from __future__ import annotations

import re

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
# C0 controls XML cannot hold or would alter (CR); tab and LF travel as they are.
_XML_ESCAPE = re.compile(r"[\x00-\x08\x0b-\x1f]")
_LOOKS_ESCAPED = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_CONTROL = re.compile(r"^[\x00-\x1f\x7f]")


def needs_guard(text: str) -> bool:
    return bool(text) and (text.startswith(TRIGGERS) or bool(_CONTROL.match(text)))


def xml_safe(text: str) -> str:
    """Text as an XLSX cell must hold it so that Excel shows exactly ``text``."""
    if "_x" in text:  # a literal '_x0041_' must not be decoded by Excel: escape its underscore
        text = _LOOKS_ESCAPED.sub(r"_x005F_\1", text)
    return _XML_ESCAPE.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


def csv_text(text: str | None) -> str:
    """A text field for CSV: risky leading characters neutralised with an apostrophe."""
    value = text or ""
    return "'" + value if needs_guard(value) else value

"""Formula-injection guard for exported text (OWASP "CSV injection").

A spreadsheet evaluates a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and some
versions also tab and carriage return) as a formula, so a customer who names a service
description ``=HYPERLINK(...)`` could run it on a staff member's machine. Every text cell
of an export passes through here. XLSX cells are written with an explicit string type and
Excel's quote-prefix style (``needs_guard``), so the text is kept exactly and shown as text;
CSV has no types, so risky text gets a leading apostrophe, the convention spreadsheets honour.
XML cannot carry most control characters at all, so they become U+FFFD in XLSX.
"""

from __future__ import annotations

import re

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
# Characters XML 1.0 cannot hold (openpyxl's ILLEGAL_CHARACTERS_RE): C0 controls but tab, LF, CR.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CONTROL = re.compile(r"^[\x00-\x1f\x7f]")


def needs_guard(text: str) -> bool:
    return bool(text) and (text.startswith(TRIGGERS) or bool(_CONTROL.match(text)))


def xml_safe(text: str) -> str:
    return _XML_ILLEGAL.sub("\ufffd", text)


def csv_text(text: str | None) -> str:
    """A text field for CSV: risky leading characters neutralised with an apostrophe."""
    value = text or ""
    return "'" + value if needs_guard(value) else value

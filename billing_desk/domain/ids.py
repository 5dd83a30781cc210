"""Whole numbers a person hands us that the databases store or compare as 64-bit integers.

A row id, a page size or a rank beyond BIGINT is no row and no setting: SQLite cannot even bind
it ("Python int too large to convert to SQLite INTEGER") and PostgreSQL refuses it for an
INTEGER column. Services check such numbers here, before a query sees them.
"""

from __future__ import annotations

from billing_desk.domain.errors import ValidationError

MAX_ROW_ID = 2**63 - 1  # BIGINT, the type of every primary key
MAX_SMALL = 2**31 - 1  # INTEGER (ranks and counts stored as such)


def is_row_id(value: int) -> bool:
    """True when ``value`` could be the id of a row (ids start at 1)."""
    return 0 < value <= MAX_ROW_ID


def check_whole(value: int, field: str, label: str, *, low: int, high: int) -> int:
    """``value`` when ``low <= value <= high``, else a ValidationError naming the range."""
    if not low <= value <= high:
        raise ValidationError(f"The {label} must be from {low:,} to {high:,}.", field=field)
    return value

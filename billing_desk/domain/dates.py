"""Dates as staff type them: whole days in the staff member's local time zone, turned into
UTC instants for storage and comparison."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from billing_desk.domain.errors import ValidationError


def local_zone() -> tzinfo:
    """BILLING_DESK_TIMEZONE (an IANA name) if set, else the machine's zone."""
    name = os.environ.get("BILLING_DESK_TIMEZONE")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(
                f"BILLING_DESK_TIMEZONE='{name}' is not a time zone name such as Asia/Ho_Chi_Minh."
            ) from None
    zone = datetime.now().astimezone().tzinfo
    return zone or UTC


def parse_day(text: str, field: str = "date") -> date:
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise ValidationError(
            f"'{text}' is not a date; write it as YYYY-MM-DD, e.g. 2026-11-25.", field=field
        ) from None


def _out_of_range(value: object, field: str) -> ValidationError:
    return ValidationError(f"{value} is outside the dates this desk can store (years 1 to 9999).", field=field)


def day_start_utc(day: date, zone: tzinfo | None = None, field: str = "date") -> datetime:
    try:
        return datetime.combine(day, time.min, tzinfo=zone or local_zone()).astimezone(UTC)
    except OverflowError:  # 0001-01-01 east of UTC begins before the first instant Python has
        raise _out_of_range(day, field) from None


def day_range_utc(
    first: date | None, last: date | None, zone: tzinfo | None = None
) -> tuple[datetime | None, datetime | None]:
    """[start of ``first``, start of the day after ``last``) in UTC; either end may be open."""
    if first and last and last < first:
        raise ValidationError(f"The range ends ({last}) before it starts ({first}).", field="to")
    start = day_start_utc(first, zone, "from") if first else None
    if last is None:
        return start, None
    if last >= date.max:  # the day after it, where the range ends, does not exist
        raise _out_of_range(last, "to")
    return start, day_start_utc(last + timedelta(days=1), zone, "to")


def parse_instant(text: str, field: str = "date") -> datetime:
    """A date (local midnight) or an ISO date-time (local unless it names its offset), in UTC."""
    raw = (text or "").strip()
    if len(raw) == 10:
        return day_start_utc(parse_day(raw, field), field=field)
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"'{text}' is not a date or time; write YYYY-MM-DD (e.g. 2026-11-25) or 2026-11-25T14:30.", field=field
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=local_zone())
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-05:00 is in year 10000 in UTC
        raise _out_of_range(raw, field) from None


def local_text(value: datetime | None, *, seconds: bool = False, empty: str = "") -> str:
    """An instant as staff read it, in their own zone: '2026-11-25 14:30' (the CLI and the desk)."""
    if value is None:
        return empty
    if value.tzinfo is None:  # naive values in this project are UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def zone_name(zone: tzinfo) -> str:
    """The IANA name of a zone where it has one ('Asia/Ho_Chi_Minh'), else its own text."""
    return str(getattr(zone, "key", None) or zone)

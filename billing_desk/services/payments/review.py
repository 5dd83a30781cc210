"""Finance's payments review across customers: combined filters, four orders with a keyset that
follows the order, totals per (currency, status), and the daily figures behind the charts.

Everything is computed by the database: a page is one indexed walk in the chosen order (never
OFFSET, never a sort in Python), the totals are one GROUP BY, and the charts' days are bucketed
in SQL against precomputed UTC bounds of the staff member's local days (the approach of
ledger/spending.py). Which index serves which filter, with its measured cost at 1,000,000
payments, is written in migration 0010_payment_review and docs/performance/payments.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_desk.domain.enums import PaymentMethod, PaymentStatus
from billing_desk.domain.errors import ValidationError
from billing_desk.domain.ids import is_row_id
from billing_desk.domain.money import CURRENCIES, MAX_MINOR, Money
from billing_desk.models import Payment, StaffUser
from billing_desk.services.ledger import day_bounds
from billing_desk.services.payments import review_sql as sql
from billing_desk.services.payments.dtos import (
    DailyGatewayFigure,
    PaymentCursor,
    PaymentDaily,
    PaymentFilters,
    PaymentRow,
    PaymentSort,
    PaymentTotal,
    PaymentTotals,
)
from billing_desk.services.payments.queries import MIN_REFERENCE_PART, to_row

CHART_DAYS = (30, 90)
MAX_TEXT = 200  # a reference part longer than any reference is a paste gone wrong


def normalise(filters: PaymentFilters) -> PaymentFilters:
    """The filters checked and tidied (upper-case currency, trimmed text), or a ValidationError
    naming the field to fix. The amount range sets the currency when none was chosen."""
    f = replace(filters, reason=_trimmed(filters.reason), text=_trimmed(filters.text),
                currency=filters.currency.strip().upper() if filters.currency and filters.currency.strip() else None)
    if f.currency is not None and f.currency not in CURRENCIES:
        raise ValidationError(f"Unknown currency '{f.currency}': use an ISO code such as VND, JPY or USD.",
                              field="currency")
    for name, bound in (("amount_min", f.amount_min), ("amount_max", f.amount_max)):
        if bound is None:
            continue
        if f.currency is None:
            f = replace(f, currency=bound.currency)
        elif bound.currency != f.currency:
            raise ValidationError(f"The amount range is in {bound.currency} but the currency filter is "
                                  f"{f.currency}: give the amounts in {f.currency}.", field=name)
        if not 0 <= bound.minor <= MAX_MINOR:
            raise ValidationError("An amount bound must be zero or more.", field=name)
    if f.amount_min and f.amount_max and f.amount_min.minor > f.amount_max.minor:
        raise ValidationError("The amount range's minimum is above its maximum.", field="amount_min")
    if f.text is not None and f.text.isdigit() and len(f.text) < MIN_REFERENCE_PART and not is_row_id(int(f.text)):
        raise ValidationError(f"No payment has id {f.text}.", field="text")
    if f.text is not None and not f.text.isdigit() and len(f.text) < MIN_REFERENCE_PART:
        raise ValidationError(f"Type a payment id (digits) or at least {MIN_REFERENCE_PART} characters of the "
                              "gateway reference.", field="text")
    if f.text is not None and len(f.text) > MAX_TEXT:
        raise ValidationError(f"The text is longer than any gateway reference ({MAX_TEXT} characters).",
                              field="text")
    if f.staff_id is not None and not is_row_id(f.staff_id):
        raise ValidationError(f"No staff member has id {f.staff_id}.", field="staff_id")
    return f


def _trimmed(text: str | None) -> str | None:
    return text.strip() or None if text is not None else None


PROBE = 2000  # amount-range matches SQLite may sort for a date-ordered page


def _amount_index(session: Session, bound: dict[str, Any], sort: PaymentSort, dialect: str) -> bool:
    """Whether SQLite may use the (currency, amount) index for a date-ordered page. SQLite keeps
    no histogram, so it takes an amount range for narrow and sorts every match: 1.3 s for a
    1M-2M VND range at 1,000,000 payments. A bounded count over that index (index-only, at most
    PROBE entries) says which is right: few matches are sorted, many are met walking by date.
    PostgreSQL's planner has histograms and makes this choice itself."""
    if dialect != "sqlite" or sort in sql.BY_AMOUNT or "customer_id" in bound:
        return True
    if "amount_min" not in bound and "amount_max" not in bound:
        return True
    names = sql.shape(bound)
    probe = sql.amount_probe(names, PROBE)
    found = session.connection().execute(probe, {k: v for k, v in bound.items() if k in names})
    return int(found.scalar_one()) < PROBE


def review_rows(session: Session, filters: PaymentFilters, customer_id: int | None, sort: PaymentSort,
                after: PaymentCursor | None, limit: int) -> list[PaymentRow]:
    dialect = session.get_bind().dialect.name
    if after is not None and sort in sql.BY_AMOUNT and after.amount is None:
        raise ValidationError("This cursor comes from a page sorted by date; start again from the first "
                              "page when the order changes.", field="after")
    bound = sql.page_values(filters, customer_id, sort, after, limit)
    statement = sql.page_statement(sql.shape(bound), sort, after is not None,
                                   _amount_index(session, bound, sort, dialect), dialect)
    # Core on the session's connection: session.execute would take the ORM's path for these
    # mapped columns (its compile and loading steps), which costs more than the page itself.
    return [to_row(r) for r in session.connection().execute(statement, bound).all()]  # fetchall, not a fetchone a row


def cursor_of(row: PaymentRow, sort: PaymentSort) -> PaymentCursor:
    amount = row.amount.minor if sort in (PaymentSort.AMOUNT_DESC, PaymentSort.AMOUNT_ASC) else None
    return PaymentCursor(row.created_at, row.id, amount)


def iterate(session: Session, filters: PaymentFilters, customer_id: int | None, sort: PaymentSort,
            page: int) -> Iterator[list[PaymentRow]]:
    """Every matching row, a keyset page at a time (the export's stream)."""
    after = None
    while True:
        rows = review_rows(session, filters, customer_id, sort, after, page)
        if not rows:
            return
        yield rows
        if len(rows) < page:
            return
        after = cursor_of(rows[-1], sort)


def totals(session: Session, filters: PaymentFilters, customer_id: int | None) -> PaymentTotals:
    bound = sql.values(filters, customer_id)
    statement = sql.totals_statement(sql.shape(bound), session.get_bind().dialect.name)
    return PaymentTotals(tuple(PaymentTotal(cur, status, int(n), Money(int(total), cur))
                               for cur, status, n, total in session.connection().execute(statement, bound)))


def daily(session: Session, days: Sequence[date], zone: tzinfo) -> PaymentDaily:
    found: dict[tuple[int, str, str], list[int]] = {}  # settled sum, settled count, failed count
    dialect = session.get_bind().dialect.name
    statement = sql.daily_statement(len(days), dialect)
    bound = sql.daily_values(day_bounds(days, zone), dialect)
    for day, method, cur, status, count, amount in session.connection().execute(statement, bound):
        figure = found.setdefault((int(day), method, cur), [0, 0, 0])
        if status == PaymentStatus.SUCCESS.value:
            figure[0] += int(amount)
            figure[1] += int(count)
        else:
            figure[2] += int(count)
    figures = tuple(DailyGatewayFigure(days[d], method, cur, Money(v[0], cur), v[1], v[2])
                    for (d, method, cur), v in sorted(found.items()))
    return PaymentDaily(tuple(days), figures)


def check_days(days: int) -> None:
    if days not in CHART_DAYS:
        raise ValidationError(f"The charts show 30 or 90 days, not {days}.", field="days")


def staff_who_started(session: Session) -> tuple[tuple[int, str], ...]:
    """Staff who started at least one payment, by name: the staff filter's choices. One index
    probe per staff member (a handful), never a DISTINCT over every payment."""
    started = select(Payment.id).where(Payment.created_by == StaffUser.id).exists()
    rows = session.execute(select(StaffUser.id, StaffUser.name).where(started).order_by(StaffUser.name))
    return tuple((int(i), str(n)) for i, n in rows)


def checked_sort(sort: PaymentSort | str) -> PaymentSort:
    try:
        return PaymentSort(sort)
    except ValueError:
        raise ValidationError(f"'{sort}' is not an order: use newest, oldest, amount_desc or amount_asc.",
                              field="sort") from None


def checked_filters(filters: PaymentFilters) -> PaymentFilters:
    _check_choices(filters)
    return normalise(filters)


def _check_choices(filters: PaymentFilters) -> None:
    if filters.status and filters.status not in {s.value for s in PaymentStatus}:
        raise ValidationError(f"'{filters.status}' is not a payment status: use pending, success or failed.",
                              field="status")
    if filters.method and filters.method not in {m.value for m in PaymentMethod}:
        raise ValidationError(f"'{filters.method}' is not a method: use vnpay, stripe or paypal.", field="method")
    if filters.reference is not None and len(filters.reference.strip()) < MIN_REFERENCE_PART:
        raise ValidationError(f"Type at least {MIN_REFERENCE_PART} characters of the gateway reference.",
                              field="reference")
    if filters.created_from and filters.created_to and filters.created_to <= filters.created_from:
        raise ValidationError("The date range ends before it starts.", field="to")

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
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, tuple_
from sqlalchemy.orm import Session

from billing_desk.domain.enums import PaymentMethod, PaymentStatus
from billing_desk.domain.errors import ValidationError
from billing_desk.domain.ids import is_row_id
from billing_desk.domain.money import CURRENCIES, MAX_MINOR, Money
from billing_desk.models import Customer, Payment, StaffUser
from billing_desk.services.ledger import day_bounds, day_index
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
from billing_desk.services.payments.queries import MIN_REFERENCE_PART, reference_contains, to_row

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


def conditions(filters: PaymentFilters, customer_id: int | None, dialect: str,
               amount_indexed: bool = True) -> list[ColumnElement[bool]]:
    """The WHERE clauses of the (normalised) filters; each narrows, they combine with AND.
    ``amount_indexed=False`` writes the amount bounds as ``amount + 0``, which no index serves:
    SQLite then walks a date index instead of sorting a wide amount range (see _amount_index)."""
    f, where = filters, []
    amount: Any = Payment.amount if amount_indexed else Payment.amount + 0
    if customer_id is not None:
        where.append(Payment.customer_id == customer_id)
    if f.status:
        where.append(Payment.status == f.status)
    if f.method:
        where.append(Payment.method == f.method)
    if f.currency:
        where.append(Payment.currency == f.currency)
    if f.created_from:
        where.append(Payment.created_at >= f.created_from)
    if f.created_to:
        where.append(Payment.created_at < f.created_to)
    if f.amount_min:
        where.append(amount >= f.amount_min.minor)
    if f.amount_max:
        where.append(amount <= f.amount_max.minor)
    if f.staff_id is not None:
        where.append(Payment.created_by == f.staff_id)
    if f.reference:
        where.append(reference_contains(f.reference, dialect))
    if f.reason:
        where.append(_contains(Payment.reason, f.reason, dialect))
    if f.text:
        where.append(_text_matches(f.text, dialect))
    return where


def _contains(column: Any, part: str, dialect: str) -> ColumnElement[bool]:
    pattern = "%" + part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    # SQLite's LIKE already ignores ASCII case; ilike there would wrap both sides in lower().
    found: ColumnElement[bool] = (column.ilike(pattern, escape="\\") if dialect == "postgresql"
                                  else column.like(pattern, escape="\\"))
    return found


def _text_matches(text: str, dialect: str) -> ColumnElement[bool]:
    """Digits name a payment id; 8 characters or more may also be part of a reference (VNPay's
    references are digits), so a long number matches either."""
    by_id = Payment.id == int(text) if text.isdigit() and is_row_id(int(text)) else None
    by_ref = _reference_part(text, dialect) if len(text) >= MIN_REFERENCE_PART else None
    if by_id is not None and by_ref is not None:
        return by_id | by_ref
    found = by_id if by_id is not None else by_ref
    assert found is not None  # normalise() refused the rest
    return found


def _reference_part(text: str, dialect: str) -> ColumnElement[bool]:
    """PostgreSQL: ILIKE through the trigram index. SQLite has no index for a substring, so the
    LIKE runs over the narrow reference index alone (ids of the few matches), not over the
    table in date order: 0.3 to 0.7 s instead of 1.1 to 2.4 s at 1,000,000 payments."""
    if dialect == "postgresql":
        return reference_contains(text, dialect)
    return Payment.id.in_(select(Payment.id).where(reference_contains(text, dialect)))


def _keys(sort: PaymentSort, columns: Any = None) -> tuple[Any, Any]:
    c = columns if columns is not None else Payment
    first = c.amount if sort in (PaymentSort.AMOUNT_DESC, PaymentSort.AMOUNT_ASC) else c.created_at
    return first, c.id


def _descending(sort: PaymentSort) -> bool:
    return sort in (PaymentSort.NEWEST, PaymentSort.AMOUNT_DESC)


def _after(sort: PaymentSort, after: PaymentCursor) -> ColumnElement[bool]:
    """Rows past the cursor in the order. A row-value comparison: both databases turn it into an
    index range, where the OR form made SQLite scan from the top."""
    if sort in (PaymentSort.AMOUNT_DESC, PaymentSort.AMOUNT_ASC):
        if after.amount is None:
            raise ValidationError("This cursor comes from a page sorted by date; start again from the first "
                                  "page when the order changes.", field="after")
        mark: Any = tuple_(after.amount, after.id)
    else:
        mark = tuple_(after.created_at, after.id)
    keys = tuple_(*_keys(sort))
    past: ColumnElement[bool] = keys < mark if _descending(sort) else keys > mark
    return past


_PAGE_COLUMNS = (Payment.id, Payment.customer_id, Payment.amount, Payment.currency, Payment.method, Payment.status,
                 Payment.reason, Payment.gateway_reference, Payment.checkout_url, Payment.created_at,
                 Payment.expires_at, Payment.settled_at, Payment.created_by, Payment.flagged_at, Payment.check_count)


def page_query(filters: PaymentFilters, customer_id: int | None, sort: PaymentSort, after: PaymentCursor | None,
               limit: int, dialect: str, amount_indexed: bool = True) -> Select[Any]:
    """The page's payments chosen, ordered and limited on their own, then joined to their
    customer and staff member: when the order needs a sort (a day's payments by amount), only
    the page's rows are joined, not every match. Columns in queries._COLUMNS' order."""
    inner = select(*_PAGE_COLUMNS).where(*conditions(filters, customer_id, dialect, amount_indexed))
    if after is not None:
        inner = inner.where(_after(sort, after))
    page = inner.order_by(*_order(_keys(sort), sort)).limit(limit).subquery("page")
    c = page.c
    return (select(c.id, c.customer_id, Customer.account, Customer.name, c.amount, c.currency, c.method, c.status,
                   c.reason, c.gateway_reference, c.checkout_url, c.created_at, c.expires_at, c.settled_at,
                   StaffUser.name.label("started_by"), c.flagged_at, c.check_count)
            .join(Customer, Customer.id == c.customer_id).outerjoin(StaffUser, StaffUser.id == c.created_by)
            .order_by(*_order(_keys(sort, c), sort)))


def _order(keys: tuple[Any, Any], sort: PaymentSort) -> list[Any]:
    return [k.desc() for k in keys] if _descending(sort) else [k.asc() for k in keys]


PROBE = 2000  # amount-range matches SQLite may sort for a date-ordered page


def _amount_index(session: Session, filters: PaymentFilters, sort: PaymentSort, dialect: str) -> bool:
    """Whether SQLite may use the (currency, amount) index for a date-ordered page. SQLite keeps
    no histogram, so it takes an amount range for narrow and sorts every match: 1.3 s for a
    1M-2M VND range at 1,000,000 payments. A bounded count over that index (index-only, at most
    PROBE entries) says which is right: few matches are sorted, many are met walking by date.
    PostgreSQL's planner has histograms and makes this choice itself."""
    if dialect != "sqlite" or sort not in (PaymentSort.NEWEST, PaymentSort.OLDEST):
        return True
    if filters.amount_min is None and filters.amount_max is None:
        return True
    probe = select(Payment.id).where(Payment.currency == filters.currency)
    if filters.amount_min:
        probe = probe.where(Payment.amount >= filters.amount_min.minor)
    if filters.amount_max:
        probe = probe.where(Payment.amount <= filters.amount_max.minor)
    found = session.connection().execute(select(func.count()).select_from(probe.limit(PROBE).subquery()))
    return int(found.scalar_one()) < PROBE


def review_rows(session: Session, filters: PaymentFilters, customer_id: int | None, sort: PaymentSort,
                after: PaymentCursor | None, limit: int) -> list[PaymentRow]:
    dialect = session.get_bind().dialect.name
    indexed = customer_id is not None or _amount_index(session, filters, sort, dialect)
    # Core on the session's connection: session.execute would take the ORM's path for these
    # mapped columns (its compile and loading steps), which costs more than the page itself.
    query = page_query(filters, customer_id, sort, after, limit, dialect, indexed)
    return [to_row(r) for r in session.connection().execute(query)]


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


def totals_query(filters: PaymentFilters, customer_id: int | None, dialect: str) -> Select[Any]:
    columns: tuple[Any, ...] = (Payment.currency, Payment.status, func.count(),
                                func.coalesce(func.sum(Payment.amount), 0))
    return (select(*columns).where(*conditions(filters, customer_id, dialect))
            .group_by(Payment.currency, Payment.status).order_by(Payment.currency, Payment.status))


def totals(session: Session, filters: PaymentFilters, customer_id: int | None) -> PaymentTotals:
    query = totals_query(filters, customer_id, session.get_bind().dialect.name)
    return PaymentTotals(tuple(PaymentTotal(cur, status, int(n), Money(int(total), cur))
                               for cur, status, n, total in session.connection().execute(query)))


_ENDED = (PaymentStatus.SUCCESS.value, PaymentStatus.FAILED.value)


def daily_query(bounds: Sequence[datetime]) -> Select[Any]:
    """(day index, method, currency, status, count, sum) of the payments that ended (settled or
    failed) in the period, by the local day of ``settled_at``: one range walk of
    ix_payments_settled_status_figures, which holds every column read (an index-only scan)."""
    p = Payment.__table__.c
    ended = (select(day_index(p.settled_at, bounds, 0, len(bounds) - 1).label("day"), p.method, p.currency,
                    p.status, p.amount)
             .where(p.settled_at >= bounds[0], p.settled_at < bounds[-1], p.status.in_(_ENDED))
             .subquery("ended"))
    return (select(ended.c.day, ended.c.method, ended.c.currency, ended.c.status, func.count(),
                   func.sum(ended.c.amount))
            .group_by(ended.c.day, ended.c.method, ended.c.currency, ended.c.status))


def daily(session: Session, days: Sequence[date], zone: tzinfo) -> PaymentDaily:
    found: dict[tuple[int, str, str], list[int]] = {}  # settled sum, settled count, failed count
    for day, method, cur, status, count, amount in session.connection().execute(daily_query(day_bounds(days, zone))):
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

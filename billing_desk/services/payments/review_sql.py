"""The review's SQL: one statement per shape (which filters are set, the order, whether a
cursor follows), built once and reused with bound values.

Building a Select with a subquery costs SQLAlchemy 3 to 10 ms of Python (column proxies,
coercions, the cache key), more than the page's query itself (about 1 ms at 1,000,000
payments). The shapes are few (the filters a person combines), so each is built on first use and
kept; a call only binds its values. The values never reach the SQL text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    DateTime,
    Select,
    bindparam,
    cast,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import BindParameter

from billing_desk.domain.enums import PaymentMethod
from billing_desk.domain.ids import is_row_id
from billing_desk.domain.money import CURRENCIES
from billing_desk.models import Customer, Payment, StaffUser
from billing_desk.models.base import UTCDateTime
from billing_desk.services.payments.dtos import PaymentCursor, PaymentFilters, PaymentSort
from billing_desk.services.payments.queries import MIN_REFERENCE_PART, fts_phrase, like_pattern, reference_search

BY_AMOUNT = (PaymentSort.AMOUNT_DESC, PaymentSort.AMOUNT_ASC)
_NOT_FILTERS = frozenset({"after_key", "after_id", "limit"})


def values(f: PaymentFilters, customer_id: int | None) -> dict[str, Any]:
    """The bound values of the (normalised) filters; their names are the statement's shape."""
    found: dict[str, Any] = {"customer_id": customer_id, "status": f.status, "method": f.method,
                             "currency": f.currency, "created_from": f.created_from, "created_to": f.created_to,
                             "amount_min": f.amount_min.minor if f.amount_min else None,
                             "amount_max": f.amount_max.minor if f.amount_max else None, "staff_id": f.staff_id,
                             "reference": like_pattern(f.reference) if f.reference else None,
                             "reason": like_pattern(f.reason) if f.reason else None}
    if f.reference:
        found["reference_phrase"] = fts_phrase(f.reference)  # SQLite's reference search (0012)
    if f.text:
        # Digits name a payment id; 8 characters or more may also be part of a reference
        # (VNPay's references are digits), so a long number matches either.
        if f.text.isdigit() and is_row_id(int(f.text)):
            found["text_id"] = int(f.text)
        if len(f.text) >= MIN_REFERENCE_PART:
            found["text_ref"] = like_pattern(f.text)
            found["text_ref_phrase"] = fts_phrase(f.text)
    return {k: v for k, v in found.items() if v is not None}


def page_values(f: PaymentFilters, customer_id: int | None, sort: PaymentSort, after: PaymentCursor | None,
                limit: int) -> dict[str, Any]:
    bound = values(f, customer_id)
    if after is not None:
        bound["after_key"] = after.amount if sort in BY_AMOUNT else after.created_at
        bound["after_id"] = after.id
    bound["limit"] = limit
    return bound


def shape(bound: dict[str, Any]) -> frozenset[str]:
    return frozenset(bound) - _NOT_FILTERS


def _param(name: str) -> BindParameter[Any]:
    return bindparam(name)


def _contains(column: Any, name: str, dialect: str) -> ColumnElement[bool]:
    # SQLite's LIKE already ignores ASCII case; ilike there would wrap both sides in lower().
    found: ColumnElement[bool] = (column.ilike(_param(name), escape="\\") if dialect == "postgresql"
                                  else column.like(_param(name), escape="\\"))
    return found


def _reference_part(name: str, dialect: str) -> ColumnElement[bool]:
    """PostgreSQL: ILIKE through the trigram index. SQLite: the FTS5 trigram table (migration
    0012), with the same part as a phrase: a few rowids, where LIKE over every reference took
    0.2 to 0.36 s at 1,000,000 payments."""
    if dialect == "postgresql":
        return _contains(Payment.gateway_reference, name, dialect)
    return reference_search(_param(f"{name}_phrase"))


_SIMPLE: dict[str, Callable[[], ColumnElement[bool]]] = {
    "customer_id": lambda: Payment.customer_id == _param("customer_id"),
    "status": lambda: Payment.status == _param("status"),
    "method": lambda: Payment.method == _param("method"),
    "currency": lambda: Payment.currency == _param("currency"),
    "created_from": lambda: Payment.created_at >= _param("created_from"),
    "created_to": lambda: Payment.created_at < _param("created_to"),
    "staff_id": lambda: Payment.created_by == _param("staff_id"),
}


def conditions(names: frozenset[str], dialect: str, amount_indexed: bool = True) -> list[ColumnElement[bool]]:
    """The WHERE clauses for the filters named; they combine with AND. ``amount_indexed=False``
    writes the amount bounds as ``amount + 0``, which no index serves: SQLite then walks a date
    index instead of sorting a wide amount range (review._amount_index)."""
    where = [make() for name, make in _SIMPLE.items() if name in names]
    amount: Any = Payment.amount if amount_indexed else Payment.amount + 0
    if "amount_min" in names:
        where.append(amount >= _param("amount_min"))
    if "amount_max" in names:
        where.append(amount <= _param("amount_max"))
    if "reference" in names:
        where.append(_reference_part("reference", dialect))
    if "reason" in names:
        where.append(_contains(Payment.reason, "reason", dialect))
    text = [Payment.id == _param("text_id")] if "text_id" in names else []
    if "text_ref" in names:
        text.append(_reference_part("text_ref", dialect))
    if text:
        where.append(or_(*text))
    return where


def _keys(sort: PaymentSort, columns: Any = None) -> tuple[Any, Any]:
    c = columns if columns is not None else Payment
    return (c.amount if sort in BY_AMOUNT else c.created_at), c.id


def _order(keys: tuple[Any, Any], sort: PaymentSort) -> list[Any]:
    descending = sort in (PaymentSort.NEWEST, PaymentSort.AMOUNT_DESC)
    return [k.desc() for k in keys] if descending else [k.asc() for k in keys]


def _after(sort: PaymentSort) -> ColumnElement[bool]:
    """Rows past the cursor in the order. A row-value comparison: both databases turn it into an
    index range, where the OR form made SQLite scan from the top."""
    key_type = BigInteger() if sort in BY_AMOUNT else UTCDateTime()
    mark = tuple_(bindparam("after_key", type_=key_type), bindparam("after_id", type_=BigInteger()))
    keys = tuple_(*_keys(sort))
    past: ColumnElement[bool] = keys < mark if sort in (PaymentSort.NEWEST, PaymentSort.AMOUNT_DESC) else keys > mark
    return past


_PAGE_COLUMNS = (Payment.id, Payment.customer_id, Payment.amount, Payment.currency, Payment.method, Payment.status,
                 Payment.reason, Payment.gateway_reference, Payment.checkout_url, Payment.created_at,
                 Payment.expires_at, Payment.settled_at, Payment.created_by, Payment.flagged_at, Payment.check_count)


@lru_cache(maxsize=512)
def page_statement(names: frozenset[str], sort: PaymentSort, after: bool, amount_indexed: bool,
                   dialect: str) -> Select[Any]:
    """The page's payments chosen, ordered and limited on their own, then joined to their
    customer and staff member: when the order needs a sort (a day's payments by amount), only
    the page's rows are joined, not every match. Columns in queries._COLUMNS' order."""
    inner = select(*_PAGE_COLUMNS).where(*conditions(names, dialect, amount_indexed))
    if after:
        inner = inner.where(_after(sort))
    page = inner.order_by(*_order(_keys(sort), sort)).limit(bindparam("limit")).subquery("page")
    c = page.c
    return (select(c.id, c.customer_id, Customer.account, Customer.name, c.amount, c.currency, c.method, c.status,
                   c.reason, c.gateway_reference, c.checkout_url, c.created_at, c.expires_at, c.settled_at,
                   StaffUser.name.label("started_by"), c.flagged_at, c.check_count)
            .join(Customer, Customer.id == c.customer_id).outerjoin(StaffUser, StaffUser.id == c.created_by)
            .order_by(*_order(_keys(sort, c), sort)))


@lru_cache(maxsize=256)
def totals_statement(names: frozenset[str], dialect: str) -> Select[Any]:
    columns: tuple[Any, ...] = (Payment.currency, Payment.status, func.count(),
                                func.coalesce(func.sum(Payment.amount), 0))
    return (select(*columns).where(*conditions(names, dialect))
            .group_by(Payment.currency, Payment.status).order_by(Payment.currency, Payment.status))


@lru_cache(maxsize=64)
def amount_probe(names: frozenset[str], limit: int) -> Select[Any]:
    """Count, up to ``limit``, the payments in the amount range (the (currency, amount) index alone)."""
    probe = select(Payment.id).where(*conditions(names & {"currency", "amount_min", "amount_max"}, "sqlite"))
    return select(func.count()).select_from(probe.limit(limit).subquery())


_ENDED = ("failed", "success")  # settled or failed: what the charts count


def daily_statement(days: int, dialect: str) -> Select[Any] | CompoundSelect[Any]:
    return _daily_by_bucket() if dialect == "postgresql" else _daily_by_day(days)


@lru_cache(maxsize=1)
def _daily_by_bucket() -> Select[Any]:
    """PostgreSQL: one index-only walk of the period's settled_at range (ix_payments_settled_figures),
    each row's day found by width_bucket over the bounds (a binary search in C), the groups
    hashed. Bound values: ``lo``, ``hi`` and ``bounds`` (naive UTC, the column's storage)."""
    p = Payment.__table__.c
    statuses: list[Any] = [literal_column(f"'{s}'") for s in _ENDED]
    day = func.width_bucket(p.settled_at, cast(bindparam("bounds"), ARRAY(DateTime()))) - 1
    ended = (select(day.label("day"), p.method, p.currency, p.status, p.amount)
             .where(p.settled_at >= bindparam("lo"), p.settled_at < bindparam("hi"), p.status.in_(statuses))
             .subquery("ended"))
    e = ended.c
    return (select(e.day, e.method, e.currency, e.status, func.count(), func.sum(e.amount))
            .group_by(e.day, e.method, e.currency, e.status))


def daily_values(bounds: list[datetime], dialect: str) -> dict[str, Any]:
    if dialect == "postgresql":
        return {"lo": bounds[0], "hi": bounds[-1], "bounds": [b.astimezone(UTC).replace(tzinfo=None) for b in bounds]}
    return {f"b{i}": bound for i, bound in enumerate(bounds)}


@lru_cache(maxsize=4)
def _daily_by_day(days: int) -> CompoundSelect[Any]:
    """SQLite. Per local day i (bound values b0 .. b<days>: UTC instants, day i is [b<i>, b<i+1>)):
    count and sum per (method, currency, status) of the payments that ended then, by ``settled_at``.

    One aggregate per day, joined by UNION ALL. Each names every status, gateway and currency
    (IN lists of constants), so it reads ix_payments_figures (status, method, currency,
    settled_at, amount) as one short range per combination, already in its group's order: no
    sort at all. A single GROUP BY over a CASE of the day (ledger/spending.py's way) made SQLite
    sort all 120,000 rows of 90 days: 330 ms, against 64 ms this way."""
    p = Payment.__table__.c
    codes: list[Any] = [literal_column(f"'{code}'") for code in sorted(CURRENCIES)]  # ISO codes from our own table
    methods: list[Any] = [literal_column(f"'{m.value}'") for m in sorted(PaymentMethod, key=str)]
    statuses: list[Any] = [literal_column(f"'{s}'") for s in _ENDED]
    return union_all(*(
        select(literal_column(str(i)).label("day"), p.method, p.currency, p.status, func.count(), func.sum(p.amount))
        .where(p.status.in_(statuses), p.method.in_(methods), p.currency.in_(codes),
               p.settled_at >= bindparam(f"b{i}"), p.settled_at < bindparam(f"b{i + 1}"))
        .group_by(p.status, p.method, p.currency)
        for i in range(days)))

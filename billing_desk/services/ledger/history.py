"""The credit-history query: one customer's ledger rows, filtered, newest first, by keyset.

Hot path (the GUI pages through a million rows), so it is SQLAlchemy Core, never the ORM,
and never OFFSET. Rows come newest first with ``id`` as the tie-break; a page continues
strictly after the last (created_at, id) seen.

Why the UNION: a filter naming several services (or statuses, or kinds) cannot walk one
index in created_at order, so a plain ``service IN (...)`` makes both databases either sort
every matching row or scan the whole history. Instead each named value gets its own
sub-select that walks its (customer, value, created_at, id) index backwards and stops after
one page; the outer query merges at most ``values × page`` rows. The remaining conditions
(date range, text, the other lists) are applied while walking.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, case, func, literal_column, select, text, tuple_, union_all
from sqlalchemy.orm import Session

from billing_desk.domain.dates import day_range_utc
from billing_desk.domain.enums import EntryStatus, LedgerKind
from billing_desk.domain.errors import ValidationError
from billing_desk.domain.money import Money
from billing_desk.domain.text import clean_token
from billing_desk.models import LedgerEntry, UsageService
from billing_desk.services.ledger.dtos import HistoryCursor, HistoryFilter, HistoryPage, HistoryRow, HistoryTotals

MAX_PAGE = 5000
MAX_FILTER_TEXT = 1000
MIN_TRIGRAM = 3  # shorter text cannot use a trigram index: it is matched by walking the rows
PROBE = 4000  # rows a text filter tests directly before it asks the trigram index
RARE_TEXT = 20_000  # trigram matches (all customers) below which totals count from the index
_T = LedgerEntry.__table__
_COLUMNS = (_T.c.id, _T.c.created_at, _T.c.kind, _T.c.service, _T.c.description, _T.c.status,
            _T.c.failure_reason, _T.c.amount, _T.c.currency, _T.c.source)
_KINDS = {k.value: k for k in LedgerKind}
_STATUSES = {s.value: s for s in EntryStatus}
# Statuses are the one list worth driving by only when it is selective: failed rows are rare.
_RARE_STATUSES = {EntryStatus.FAILED}


def normalise_filter(session: Session, filters: HistoryFilter) -> HistoryFilter:
    """Check the filter and spell service names as the catalog does; raises ValidationError."""
    catalog = {name.casefold(): name for name in session.scalars(select(UsageService.name))} if filters.services else {}
    services = []
    for name in filters.services:
        canonical = catalog.get(name.strip().casefold())
        if canonical is None:
            known = ", ".join(sorted(catalog.values()))
            raise ValidationError(f"Unknown service '{name}'; the services are: {known}.", field="service")
        if canonical not in services:
            services.append(canonical)
    day_range_utc(filters.date_from, filters.date_to)  # refuses an inverted range
    # No description is longer than MAX_FILTER_TEXT, and SQLite refuses a LIKE pattern beyond
    # 50,000 bytes ("LIKE or GLOB pattern too complex"): longer text is refused in words.
    text = clean_token(filters.text, "text", "filter text", max_length=MAX_FILTER_TEXT) if filters.text else None
    return HistoryFilter(tuple(services), tuple(dict.fromkeys(filters.statuses)), tuple(dict.fromkeys(filters.kinds)),
                         filters.date_from, filters.date_to, text or None)


def _conditions(customer_id: int, f: HistoryFilter, skip: str | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [_T.c.customer_id == customer_id]
    start, end = day_range_utc(f.date_from, f.date_to)
    if start is not None:
        where.append(_T.c.created_at >= start)
    if end is not None:
        where.append(_T.c.created_at < end)
    if f.services and skip != "service":
        where.append(_T.c.service.in_(f.services))
    if f.statuses and skip != "status":
        where.append(_T.c.status.in_([s.value for s in f.statuses]))
    if f.kinds and skip != "kind":
        where.append(_T.c.kind.in_([k.value for k in f.kinds]))
    if f.text:
        where.append(_T.c.description.icontains(f.text, autoescape=True))
    return where


def _driver(f: HistoryFilter) -> tuple[str | None, list[str]]:
    """Which list, if any, each sub-select walks its own index for."""
    if f.statuses and set(f.statuses) <= _RARE_STATUSES:
        return "status", [s.value for s in f.statuses]
    if f.services:
        return "service", list(f.services)
    if f.kinds:
        return "kind", [k.value for k in f.kinds]
    return None, []


def _newest_first(sel: Select[Any], limit: int) -> Select[Any]:
    return sel.order_by(_T.c.created_at.desc(), _T.c.id.desc()).limit(limit)


def page_query(customer_id: int, f: HistoryFilter, after: HistoryCursor | None, limit: int,
               *, fts: bool = False) -> Select[Any]:
    """The page's query; ``fts`` (SQLite) narrows the rows to the trigram index's matches first."""
    if fts and f.text:
        return _fts_query(customer_id, f, after, limit)
    dimension, values = _driver(f)
    base = _conditions(customer_id, f, dimension)
    if after is not None:
        base.append(tuple_(_T.c.created_at, _T.c.id) < tuple_(after.created_at, after.id))
    if dimension is None or len(values) == 1:
        extra = [_T.c[dimension] == values[0]] if dimension else []
        return _newest_first(select(*_COLUMNS).where(*base, *extra), limit)
    parts = [select(_newest_first(select(*_COLUMNS).where(*base, _T.c[dimension] == v), limit).subquery())
             for v in values]
    merged = union_all(*parts).subquery("merged")
    return select(*merged.c).order_by(merged.c.created_at.desc(), merged.c.id.desc()).limit(limit)


def _fts_query(customer_id: int, f: HistoryFilter, after: HistoryCursor | None, limit: int) -> Select[Any]:
    """Rows whose description the trigram index matches, then the rest of the filter, sorted.

    The unary plus on customer_id is SQLite's way to say "do not use an index for this": left
    to itself the planner walks the customer's whole history and tests each row against the
    match list, which is the slow path this query exists to avoid."""
    assert f.text is not None
    matches = _fts_matches(f.text)
    where = _conditions(customer_id, f, None)[1:]
    where.append(literal_column("+ledger_entries.customer_id") == bindparam("fts_customer", customer_id))
    if after is not None:
        where.append(tuple_(_T.c.created_at, _T.c.id) < tuple_(after.created_at, after.id))
    return _newest_first(select(*_COLUMNS).where(_T.c.id.in_(matches), *where), limit)


def to_row(r: Any) -> HistoryRow:
    return HistoryRow(r.id, r.created_at, _KINDS[r.kind], r.service, r.description, _STATUSES[r.status],
                      r.failure_reason, Money(r.amount, r.currency), r.source)


def fetch_page(session: Session, customer_id: int, f: HistoryFilter, after: HistoryCursor | None,
               limit: int) -> HistoryPage:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"A page holds 1 to {MAX_PAGE} rows, not {limit}.", field="limit")
    if f.text and len(f.text) >= MIN_TRIGRAM and session.get_bind().dialect.name == "sqlite":
        found: Sequence[Any] = _text_rows_sqlite(session, customer_id, f, after, limit + 1)
    else:
        found = session.execute(page_query(customer_id, f, after, limit + 1)).all()
    rows = [to_row(r) for r in found]
    more = len(rows) > limit
    rows = rows[:limit]
    return HistoryPage(tuple(rows), rows[-1].cursor if more else None)


def _text_rows_sqlite(session: Session, customer_id: int, f: HistoryFilter, after: HistoryCursor | None,
                      limit: int) -> list[Any]:
    """A text filter on SQLite, two ways. Common text is found fastest by walking the newest
    rows and testing each; rare text would make that walk read the whole history, so when the
    newest PROBE rows do not fill the page, the FTS5 trigram index names the candidates
    instead (PostgreSQL's planner makes this choice by itself with its pg_trgm index)."""
    plain = replace(f, text=None)
    window = page_query(customer_id, plain, after, PROBE).subquery("window")
    probe = (select(window).where(window.c.description.icontains(f.text, autoescape=True))
             .order_by(window.c.created_at.desc(), window.c.id.desc()).limit(limit))
    rows = session.execute(probe).all()
    if len(rows) >= limit:
        return list(rows)
    keyset = [tuple_(_T.c.created_at, _T.c.id) < tuple_(after.created_at, after.id)] if after else []
    ids = select(_T.c.id).where(*_conditions(customer_id, plain, None), *keyset).limit(PROBE).subquery()
    if int(session.scalar(select(func.count()).select_from(ids)) or 0) < PROBE:
        return list(rows)  # the window held the whole (remaining) history: nothing more to find
    return list(session.execute(page_query(customer_id, f, after, limit, fts=True)).all())


def iterate(session: Session, customer_id: int, f: HistoryFilter, page: int = 2000) -> Iterator[list[HistoryRow]]:
    """Every matching row, newest first, a page at a time (exports stream from this)."""
    after: HistoryCursor | None = None
    while True:
        result = fetch_page(session, customer_id, f, after, page)
        if result.rows:
            yield list(result.rows)
        if result.next_cursor is None:
            return
        after = result.next_cursor


def _fts_matches(phrase_text: str) -> Select[Any]:
    phrase = '"' + phrase_text.replace('"', '""') + '"'
    return select(literal_column("rowid")).select_from(text("ledger_search")).where(
        text("ledger_search MATCH :phrase").bindparams(phrase=phrase))


def totals(session: Session, customer_id: int, currency: str | None, f: HistoryFilter) -> HistoryTotals:
    succeeded = case((_T.c.status == EntryStatus.SUCCESS.value, _T.c.amount), else_=literal_column("0"))
    where = _conditions(customer_id, f, None)
    if f.text and len(f.text) >= MIN_TRIGRAM and session.get_bind().dialect.name == "sqlite":
        # Rare text: count from the trigram matches rather than scan the whole history. Whether
        # it is rare is itself asked of the index, stopping as soon as it is clearly common.
        seen = _fts_matches(f.text).limit(RARE_TEXT + 1).subquery()
        if int(session.scalar(select(func.count()).select_from(seen)) or 0) <= RARE_TEXT:
            where = [_T.c.id.in_(_fts_matches(f.text)), *where[1:],
                     literal_column("+ledger_entries.customer_id") == bindparam("fts_customer", customer_id)]
    count, total = session.execute(select(func.count(), func.coalesce(func.sum(succeeded), 0)).where(*where)).one()
    return HistoryTotals(int(count), Money(int(total), currency) if currency else None)


def explain(session: Session, customer_id: int, f: HistoryFilter, after: HistoryCursor | None = None,
            limit: int = 200, *, fts: bool = False) -> str:
    """The database's plan for a page query (tests assert it walks an index)."""
    return query_plan(session, page_query(customer_id, f, after, limit, fts=fts))


def query_plan(session: Session, query: Select[Any]) -> str:
    """The database's plan for any Core query, run on the session's connection."""
    conn = session.connection()
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    prefix = "EXPLAIN QUERY PLAN " if conn.dialect.name == "sqlite" else "EXPLAIN "
    rows = conn.exec_driver_sql(prefix + str(compiled), _positional(compiled, compiled.params, conn.dialect.paramstyle))
    return "\n".join(" ".join(str(c) for c in row) for row in rows)


def _positional(compiled: Any, params: Any, style: str) -> Any:
    if style in ("qmark", "numeric", "format"):
        return tuple(_bind(compiled, k, params[k]) for k in compiled.positiontup)
    return {k: _bind(compiled, k, v) for k, v in params.items()}


def _bind(compiled: Any, key: str, value: Any) -> Any:
    processor = compiled._bind_processors.get(key)
    return processor(value) if processor else value


__all__ = ["MAX_PAGE", "explain", "fetch_page", "iterate", "normalise_filter", "page_query", "query_plan", "to_row",
           "totals"]

"""Finding customers fast: exact matches, then prefixes, then substrings.

Substrings use the trigram index of each database (FTS5 trigram on SQLite, pg_trgm on
PostgreSQL), so a search over a million customers reads a few index pages, not the table.
Queries shorter than three characters (too short for trigrams) match prefixes only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from sqlalchemy import ColumnElement, func, or_, select, text
from sqlalchemy.orm import InstrumentedAttribute, Session

from billing_desk.models import Customer
from billing_desk.services.customers.dtos import CustomerMatch

_COLUMNS = (
    Customer.id,
    Customer.account,
    Customer.name,
    Customer.email,
    Customer.billing_type,
    Customer.country,
    Customer.currency,
    Customer.tax_code,
)


def _like_prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _prefix_filter(
    session: Session, column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None], q: str
) -> ColumnElement[bool]:
    lowered = func.lower(column)
    if session.get_bind().dialect.name == "sqlite":
        # SQLite uses an expression index for a range, not for LIKE (DESIGN.md §5).
        return (lowered >= q) & (lowered < q + "\U0010ffff")
    return lowered.like(_like_prefix(q), escape="\\")


def _substring_ids(session: Session, q: str, limit: int) -> list[int]:
    if len(q) < 3:
        return []
    if session.get_bind().dialect.name == "sqlite":
        phrase = '"' + q.replace('"', '""') + '"'
        rows = session.execute(
            text("SELECT rowid FROM customers_search WHERE customers_search MATCH :q LIMIT :n"),
            {"q": phrase, "n": limit},
        )
    else:
        rows = session.execute(
            text("SELECT id FROM customers WHERE search_text LIKE :q ESCAPE '\\' LIMIT :n"),
            {"q": "%" + _like_prefix(q), "n": limit},
        )
    return [r[0] for r in rows]


def _rank(hit: CustomerMatch, q: str) -> tuple[int, int, str]:
    fields = {
        "account": hit.account.lower(),
        "email": hit.email.lower(),
        "tax code": (hit.tax_code or "").lower(),
        "name": hit.name.lower(),
    }
    name = fields["name"]
    if q in (fields["account"], fields["email"], fields["tax code"]):
        return (0, 0, name)
    if any(v.startswith(q) for v in fields.values()) or any(w.startswith(q) for w in name.split()):
        return (1, 0, name)
    positions = [v.find(q) for v in fields.values() if q in v]
    return (2, min(positions) if positions else 99, name)


def _in_one_field(hit: CustomerMatch, q: str) -> bool:
    return any(value and q in value.lower() for value in (hit.account, hit.tax_code, hit.name, hit.email))


def _what_matched(hit: CustomerMatch, q: str) -> str:
    fields = (("account", hit.account), ("tax code", hit.tax_code), ("name", hit.name), ("email", hit.email))
    for label, value in fields:
        if value and q in value.lower():
            return label
    return "name"


def _load(session: Session, where: ColumnElement[bool], limit: int | None = None) -> dict[int, CustomerMatch]:
    query = select(*_COLUMNS).where(where)
    if limit is not None:
        query = query.limit(limit)
    return {r[0]: CustomerMatch(*r, matched="") for r in session.execute(query)}


def search_customers(
    session: Session, query: str, limit: int, extra_ids: Iterable[tuple[int, str]] = ()
) -> list[CustomerMatch]:
    """Best matches first: exact, then prefix, then substring; ``extra_ids`` adds hits found
    elsewhere (a payment reference, a voucher's last four) with the label of what matched."""
    q = query.strip().lower()
    hits = _load(
        session,
        or_(
            func.lower(Customer.account) == q,
            func.lower(Customer.email) == q,
            func.lower(Customer.tax_code) == q,
            _prefix_filter(session, Customer.account, q),
            _prefix_filter(session, Customer.email, q),
            _prefix_filter(session, Customer.name, q),
        ),
        limit * 4,
    )
    extras = dict(extra_ids)
    more = [i for i in _substring_ids(session, q, limit * 4) if i not in hits]
    more += [i for i in extras if i not in hits and i not in more]
    if more:
        # search_text joins the fields with " | ", so a substring may span two of them ("1 | a");
        # a hit must hold the text within one field.
        hits.update({i: h for i, h in _load(session, Customer.id.in_(more)).items()
                     if i in extras or _in_one_field(h, q)})
    ranked = sorted(hits.values(), key=lambda h: (0, 0, "") if h.id in extras else _rank(h, q))
    return [replace(h, matched=extras.get(h.id) or _what_matched(h, q)) for h in ranked[:limit]]

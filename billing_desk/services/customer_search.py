"""Finding customers fast: exact matches, then prefixes, then substrings.

Substrings use the trigram index of each database (FTS5 trigram on SQLite, pg_trgm on
PostgreSQL), so a search over a million customers reads a few index pages, not the table.
Queries shorter than three characters (too short for trigrams) match prefixes only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Select, func, or_, select, text
from sqlalchemy.orm import Session

from billing_desk.models import Customer
from billing_desk.services.dto import CustomerMatch

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


def _prefix_filter(session: Session, column: object, q: str) -> object:
    lowered = func.lower(column)  # type: ignore[arg-type]
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


def _rank(row: Sequence[object], q: str) -> tuple[int, int, str]:
    _id, account, name, email, _t, _c, _cur, tax = row
    fields = {
        "account": str(account).lower(),
        "email": str(email).lower(),
        "tax code": str(tax or "").lower(),
        "name": str(name).lower(),
    }
    if q in (fields["account"], fields["email"], fields["tax code"]):
        return (0, 0, str(name).lower())
    if any(v.startswith(q) for v in fields.values()) or any(w.startswith(q) for w in fields["name"].split()):
        return (1, 0, str(name).lower())
    positions = [v.find(q) for v in fields.values() if q in v]
    return (2, min(positions) if positions else 99, str(name).lower())


def _what_matched(row: Sequence[object], q: str) -> str:
    _id, account, name, email, _t, _c, _cur, tax = row
    for label, value in (("account", account), ("email", email), ("tax code", tax), ("name", name)):
        if value and q in str(value).lower():
            return label
    return "name"


def _to_match(row: Sequence[object], matched: str) -> CustomerMatch:
    cid, account, name, email, btype, country, currency, tax = row
    return CustomerMatch(
        int(cid),
        str(account),
        str(name),
        str(email),
        str(btype),
        str(country),
        currency if currency is None else str(currency),
        tax if tax is None else str(tax),
        matched,
    )


def search_customers(
    session: Session, query: str, limit: int, extra_ids: Iterable[tuple[int, str]] = ()
) -> list[CustomerMatch]:
    """Best matches first: exact, then prefix, then substring; ``extra_ids`` adds hits found
    elsewhere (a payment reference, a voucher's last four) with the label of what matched."""
    q = query.strip().lower()
    exact_and_prefix: Select[tuple[object, ...]] = (
        select(*_COLUMNS)
        .where(
            or_(
                func.lower(Customer.account) == q,
                func.lower(Customer.email) == q,
                func.lower(Customer.tax_code) == q,
                _prefix_filter(session, Customer.account, q),  # type: ignore[arg-type]
                _prefix_filter(session, Customer.email, q),  # type: ignore[arg-type]
                _prefix_filter(session, Customer.name, q),  # type: ignore[arg-type]
            )
        )
        .limit(limit * 4)
    )
    rows = {r[0]: tuple(r) for r in session.execute(exact_and_prefix)}
    ids = [i for i in _substring_ids(session, q, limit * 4) if i not in rows]
    extras = dict(extra_ids)
    ids += [i for i in extras if i not in rows and i not in ids]
    if ids:
        rows.update({r[0]: tuple(r) for r in session.execute(select(*_COLUMNS).where(Customer.id.in_(ids)))})
    ranked = sorted(rows.values(), key=lambda r: (0, 0, "") if r[0] in extras else _rank(r, q))
    return [_to_match(r, extras.get(int(r[0])) or _what_matched(r, q)) for r in ranked[:limit]]  # type: ignore[call-overload]

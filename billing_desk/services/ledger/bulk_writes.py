"""Writing many ledger rows and lots fast, for ``post_many``: how, never what.

Rows go to SQLite's driver in one executemany (each value through its column type's own
bind processor), lots get their ids before they are inserted, and on SQLite the description
index of a large insert is filled in one pass. Everything runs in the caller's transaction.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterator
from typing import Any, cast

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from billing_desk.models import LedgerEntry, VoucherCreditLot

_L = cast(Table, LedgerEntry.__table__)
_V = cast(Table, VoucherCreditLot.__table__)
INSERT_ROWS = 20_000  # rows per executemany on PostgreSQL (SQLAlchemy pages them by 1,000)
# Below this many rows in one insert, SQLite's description-index trigger costs less than
# dropping it and indexing the rows in one pass afterwards.
BULK_TEXT_INDEX_ROWS = 1_000
_SEARCH_TRIGGER = "ledger_search_ai"  # defined by migration 0002


class RowInserter:
    """executemany of ledger rows. On SQLite straight to the driver, each value through its
    column type's own bind processor: SQLAlchemy's per-row parameter handling cost more than
    the insert itself. PostgreSQL keeps SQLAlchemy's executemany, which sends multi-row VALUES
    (the driver's own executemany would send one statement per row)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        connection = session.connection()
        dialect = connection.dialect
        self._sqlite = dialect.name == "sqlite"
        columns = [c for c in _L.c if not c.primary_key]
        self._names = [c.name for c in columns]
        self._sql = str(_L.insert().compile(dialect=dialect, column_keys=self._names))
        self._values = operator.itemgetter(*self._names)
        processors = [(i, c.type.dialect_impl(dialect).bind_processor(dialect)) for i, c in enumerate(columns)]
        self._processors = [(i, proc) for i, proc in processors if proc is not None]  # on SQLite: created_at

    def insert(self, rows: list[dict[str, Any]]) -> None:
        if not self._sqlite:
            for part in slices(rows, INSERT_ROWS):
                self._session.execute(_L.insert(), part)
            return
        self._session.connection().exec_driver_sql(self._sql, [self._bound(row) for row in rows])

    def _bound(self, row: dict[str, Any]) -> tuple[Any, ...]:
        values = list(self._values(row))
        for i, proc in self._processors:
            values[i] = proc(values[i])
        return tuple(values)


class LotIds:
    """Ids for the lots a batch opens, known before the insert (an expiry row names its lot).
    SQLite: counting up from the largest id, safe under the write lock the transaction holds.
    PostgreSQL: reserved from the table's sequence a block at a time, so desks posting
    meanwhile never take the same id (unused ones are gaps, as after any rollback)."""

    _BLOCK = 1_000

    def __init__(self, session: Session) -> None:
        self._session = session
        self._free: Iterator[int] | None = None

    def next(self) -> int:
        if self._free is not None:
            for n in self._free:
                return n
        if self._session.get_bind().dialect.name == "postgresql":
            self._free = iter(list(self._session.scalars(
                text("SELECT nextval(pg_get_serial_sequence('voucher_credit_lots', 'id')) "
                     "FROM generate_series(1, :n)"), {"n": self._BLOCK})))
        else:
            largest = self._session.scalar(select(func.coalesce(func.max(_V.c.id), 0)))
            self._free = itertools.count(int(largest or 0) + 1)
        return next(self._free)


class TextIndex:
    """On SQLite, index the descriptions of a large insert in one pass: the row trigger of the
    FTS5 table (migration 0002) is dropped before it and put back, as the database defines it,
    after; rows inserted meanwhile are indexed with one INSERT ... SELECT. Both happen in the
    caller's transaction, so a rollback undoes them together (3x faster for a million rows)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._sqlite = session.get_bind().dialect.name == "sqlite"
        self._trigger: str | None = None
        self._after_id = 0

    def before_insert(self, rows: int) -> None:
        if not self._sqlite or self._trigger is not None or rows < BULK_TEXT_INDEX_ROWS:
            return
        self._trigger = self._session.execute(
            text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :n"), {"n": _SEARCH_TRIGGER}
        ).scalar()
        if self._trigger is None:
            return
        self._after_id = int(self._session.scalar(select(func.coalesce(func.max(_L.c.id), 0))) or 0)
        self._session.execute(text(f"DROP TRIGGER {_SEARCH_TRIGGER}"))

    def restore(self) -> None:
        if self._trigger is None:
            return
        self._session.execute(text("INSERT INTO ledger_search (rowid, description) "
                                   "SELECT id, description FROM ledger_entries WHERE id > :after"),
                              {"after": self._after_id})
        self._session.execute(text(self._trigger))
        self._trigger = None


def slices(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]

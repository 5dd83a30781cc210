"""Unit of work: one short session per service call.

``with uow:`` opens a session; nothing is kept unless ``uow.commit()`` is called, and leaving
the block on an error rolls back. A write unit of work on SQLite starts with
``BEGIN IMMEDIATE`` (see database.py). Sessions are never shared between threads: each call
makes its own, in whatever thread runs it.

A lock held by another task past the database's busy wait (SQLite "database is locked";
PostgreSQL lock timeout, serialization failure, deadlock) leaves the block as ``DatabaseBusy``:
one place turns it into words for every service, the GUI and the CLI alike.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from billing_desk.database import Database
from billing_desk.domain.errors import DatabaseBusy, DatabaseUnavailable

# lock_not_available (lock_timeout), serialization_failure, deadlock_detected: another
# transaction was in the way; the same work may well succeed a moment later.
_PG_BUSY = frozenset({"55P03", "40001", "40P01"})
_SQLITE_BUSY = ("database is locked", "database table is locked")


class UnitOfWork:
    def __init__(self, database: Database, *, write: bool) -> None:
        self._database = database
        self._write = write
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work used outside its with-block")
        return self._session

    @property
    def dialect(self) -> str:
        return self._database.engine.dialect.name

    def __enter__(self) -> Self:
        factory = self._database.write_sessions if self._write else self._database.read_sessions
        self._session = factory()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._session is not None
        try:
            self._session.rollback()
        finally:
            self._session.close()
            self._session = None
        if isinstance(exc, OperationalError) and _is_connection_error(exc):
            raise DatabaseUnavailable(
                f"Lost the connection to the database at {self._database.url}; try again."
            ) from exc
        if isinstance(exc, OperationalError) and is_busy_error(exc):
            raise DatabaseBusy(
                f"The database is busy with another task (waited {self._database.busy_wait:g} s); "
                "try again in a moment. Nothing was changed."
            ) from exc

    def commit(self) -> None:
        self.session.commit()


def _is_connection_error(exc: OperationalError) -> bool:
    return bool(getattr(exc, "connection_invalidated", False)) or "could not connect" in str(exc)


def is_busy_error(exc: OperationalError) -> bool:
    """Whether ``exc`` is another transaction's lock in the way, not a fault of ours or the server's."""
    if getattr(exc.orig, "pgcode", None) in _PG_BUSY:
        return True
    if getattr(exc.orig, "sqlite_errorname", None) in ("SQLITE_BUSY", "SQLITE_LOCKED"):
        return True
    return type(exc.orig).__module__ == "sqlite3" and str(exc.orig) in _SQLITE_BUSY


class UnitOfWorkFactory:
    """What services hold: makes a reading or a writing unit of work on demand."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def read(self) -> UnitOfWork:
        return UnitOfWork(self.database, write=False)

    def write(self) -> UnitOfWork:
        return UnitOfWork(self.database, write=True)

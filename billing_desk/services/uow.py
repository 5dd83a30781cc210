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

import random
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self, TypeVar

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from billing_desk.database import Database
from billing_desk.domain.errors import DatabaseBusy, DatabaseUnavailable

# lock_not_available (lock_timeout), serialization_failure, deadlock_detected: another
# transaction was in the way; the same work may well succeed a moment later.
_PG_BUSY = frozenset({"55P03", "40001", "40P01"})
_SQLITE_BUSY = ("database is locked", "database table is locked")
# Of those, the ones raised at once rather than after lock_timeout: worth running again.
_PG_TRANSIENT = frozenset({"40001", "40P01"})
RETRY_BUDGET = 10.0  # seconds a re-runnable unit of work keeps trying after a deadlock
T = TypeVar("T")


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
            transient = getattr(exc.orig, "pgcode", None) in _PG_TRANSIENT
            waited = "" if transient else f" (waited {self._database.busy_wait:g} s)"
            raise DatabaseBusy(
                f"The database is busy with another task{waited}; try again in a moment. Nothing was changed.",
                transient=transient,
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


def rerun_when_transient(work: Callable[[], T], budget: float = RETRY_BUDGET) -> T:
    """Run ``work`` (a whole service call: its own unit of work, nothing kept on failure) again
    after a deadlock or serialization failure, with backoff, for up to ``budget`` seconds. Only
    for services written to be re-run; a busy wait that ran out is not retried (it already waited)."""
    deadline = time.monotonic() + budget
    delay = 0.05
    while True:
        try:
            return work()
        except DatabaseBusy as exc:
            if not exc.transient or time.monotonic() + delay > deadline:
                raise
            # Jitter, so the two transactions that deadlocked do not meet again in step.
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 1.0)


class UnitOfWorkFactory:
    """What services hold: makes a reading or a writing unit of work on demand."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def read(self) -> UnitOfWork:
        return UnitOfWork(self.database, write=False)

    def write(self) -> UnitOfWork:
        return UnitOfWork(self.database, write=True)

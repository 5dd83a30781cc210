"""Another task holding the write lock, as a long import does: the desk's writes must wait, then
say the database is busy in words, and go through once the lock is let go."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

# Every table a voucher, a usage charge or an export's audit row writes to.
_WRITTEN = "audit_log, audit_head, ledger_entries, customer_balances, voucher_redemptions, voucher_attempts"


class HeldLock:
    def __init__(self, release: threading.Event) -> None:
        self._release = release

    def release_after(self, seconds: float) -> None:
        """Let go of the lock ``seconds`` from now, from a timer thread."""
        threading.Timer(seconds, self._release.set).start()


@contextmanager
def write_lock_held(db_url: str) -> Iterator[HeldLock]:
    """SQLite: ``BEGIN IMMEDIATE`` on a connection of its own. PostgreSQL: the written tables
    locked against writers (reads go on), as a bulk load holding them would."""
    release = threading.Event()
    taken = threading.Event()
    failure: list[BaseException] = []

    def hold() -> None:
        try:
            if make_url(db_url).get_backend_name() == "sqlite":
                conn = sqlite3.connect(make_url(db_url).database or "", isolation_level=None)
                conn.execute("BEGIN IMMEDIATE")
                taken.set()
                release.wait(60)
                conn.execute("ROLLBACK")
                conn.close()
            else:
                engine = create_engine(db_url)
                with engine.connect() as conn:
                    conn.exec_driver_sql(f"LOCK TABLE {_WRITTEN} IN EXCLUSIVE MODE")
                    taken.set()
                    release.wait(60)
                    conn.rollback()
                engine.dispose()
        except BaseException as exc:  # surfaced in the test's thread
            failure.append(exc)
            taken.set()

    thread = threading.Thread(target=hold, name="lock-holder", daemon=True)
    thread.start()
    taken.wait(10)
    if failure:
        raise failure[0]
    try:
        yield HeldLock(release)
    finally:
        release.set()
        thread.join(10)

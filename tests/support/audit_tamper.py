"""Change the audit log behind the desk's back, as someone with the database's own login could:
the append-only guards off, direct SQL, the guards back on (one transaction)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine, text

_TABLES = ("audit_log", "audit_head")


def tamper_audit(engine: Engine, action: Callable[[Connection], None]) -> None:
    with engine.begin() as conn:
        triggers = _guards_off(conn)
        action(conn)
        _guards_on(conn, triggers)


def _guards_off(conn: Connection) -> list[str]:
    if conn.dialect.name != "sqlite":
        for table in _TABLES:
            conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        return []
    guards = ("SELECT name, sql FROM sqlite_master "
              "WHERE type = 'trigger' AND tbl_name IN ('audit_log', 'audit_head')")
    triggers = conn.execute(text(guards)).all()
    for name, _ in triggers:
        conn.exec_driver_sql(f"DROP TRIGGER {name}")
    return [sql for _, sql in triggers]


def _guards_on(conn: Connection, triggers: list[str]) -> None:
    if conn.dialect.name != "sqlite":
        for table in _TABLES:
            conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    for sql in triggers:
        conn.exec_driver_sql(sql)

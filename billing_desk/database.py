"""Engines and sessions for SQLite and PostgreSQL, and the schema-version gate.

SQLite gets WAL, foreign keys, a busy timeout and ``synchronous=FULL`` on every connection.
A write waits at most ``busy_wait`` seconds for a lock another task holds (SQLite's busy timeout,
PostgreSQL's ``lock_timeout``); after that the unit of work says the database is busy, in words,
instead of leaving the person at "Applying…" for as long as the other task runs.
We take over pysqlite's transaction handling so that a write unit of work can open with
``BEGIN IMMEDIATE``: the write lock is taken up front, so two writers never both read a
balance and then both update it (the lost update DESIGN.md measures).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from billing_desk.domain.errors import ConfigError, DatabaseUnavailable, SchemaBehind, SchemaMismatch

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Long enough to outlast the short write transactions of other desks, short enough that a person
# is told within seconds that a long import holds the lock (issue 11). ``[database] busy_wait``.
BUSY_WAIT_SECONDS = 10.0


def safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid database URL>"


def _sqlite_engine(url: str, busy_wait: float) -> Engine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": busy_wait, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={round(busy_wait * 1000)}")
        cur.execute("PRAGMA synchronous=FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def build_engine(url: str, busy_wait: float = BUSY_WAIT_SECONDS) -> Engine:
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        raise ConfigError(
            f"'{url}' is not a database URL; use sqlite:///path or postgresql+psycopg2://user@host/db."
        ) from None
    if backend == "sqlite":
        return _sqlite_engine(url, busy_wait)
    if backend == "postgresql":
        options = f"-c lock_timeout={round(busy_wait * 1000)}"
        return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5, "options": options})
    raise ConfigError(f"Billing Desk runs on SQLite or PostgreSQL, not {backend}.")


@dataclass(frozen=True)
class Database:
    """The engine plus two session factories: plain reads, and writes that lock up front."""

    engine: Engine
    read_sessions: sessionmaker[Session]
    write_sessions: sessionmaker[Session]
    busy_wait: float = BUSY_WAIT_SECONDS

    @property
    def url(self) -> str:
        return safe_url(self.engine.url.render_as_string(hide_password=False))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str, busy_wait: float = BUSY_WAIT_SECONDS) -> Database:
    engine = build_engine(url, busy_wait)
    writer = engine.execution_options(sqlite_begin="IMMEDIATE") if engine.dialect.name == "sqlite" else engine
    return Database(
        engine=engine,
        read_sessions=sessionmaker(bind=engine, expire_on_commit=False),
        write_sessions=sessionmaker(bind=writer, expire_on_commit=False),
        busy_wait=busy_wait,
    )


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except OperationalError as exc:
        raise DatabaseUnavailable(
            f"Cannot reach the database at {safe_url(str(engine.url))}: {_first_line(exc)}"
        ) from None


def _first_line(exc: OperationalError) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    return text.strip().splitlines()[0] if text.strip() else "no answer"


def check_schema(engine: Engine) -> None:
    """Refuse to work on a schema older or newer than this code. An older one raises
    ``SchemaBehind``, which each front door follows with its own way to upgrade."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    where = safe_url(str(engine.url))
    if current is None:
        raise SchemaBehind(f"The database at {where} has no Billing Desk schema yet.")
    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    known = {rev.revision for rev in script.walk_revisions()}
    if current in known:
        raise SchemaBehind(f"The database at {where} is at schema {current}, older than this Billing Desk ({head}).")
    raise SchemaMismatch(
        f"The database at {where} is at schema {current}, newer than this Billing Desk ({head}): "
        "install the newer Billing Desk that migrated it."
    )


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)

"""Which databases may take demo data: only one created for the demo, and marked so then.

Demo data includes staff accounts with a published password and redeemable codes, so it must
never reach a working database. ``create_demo_database`` makes the schema on an *empty*
database and writes the mark (the ``app_settings`` key ``demo_database``) in the same
transaction; a database that already holds anything is refused, so no desk can turn a
working database into a demo one. On a database that carries the mark it only migrates.
``require_demo_database`` is the check ``demo seed`` makes in its own write transaction,
before it writes anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import cast

from alembic import command
from sqlalchemy import Table, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from billing_desk.database import alembic_config, head_revision, open_database, safe_url
from billing_desk.domain.errors import Conflict
from billing_desk.models import AppSetting, utcnow

DEMO_MARK = "demo_database"
_S = cast(Table, AppSetting.__table__)


@dataclass(frozen=True, slots=True)
class DemoDatabase:
    """What ``create_demo_database`` did: ``created`` now, or an existing one brought up to date."""

    url: str
    created: bool
    revision: str


def _is_marked(conn: Connection) -> bool:
    return conn.scalar(select(_S.c.key).where(_S.c.key == DEMO_MARK)) is not None


def create_demo_database(url: str, *, by: str = "billing-desk db upgrade --demo") -> DemoDatabase:
    """Create the schema on an empty database and mark it as a demo database (``by`` is kept
    in the mark), or migrate a database so marked; refuse any other. Schema and mark commit
    together or not at all."""
    database = open_database(url)
    where = database.url
    try:
        with database.engine.begin() as conn:
            tables = inspect(conn).get_table_names()
            marked = bool(tables) and _S.name in tables and _is_marked(conn)
            if tables and not marked:
                raise Conflict(
                    f"The database at {where} already holds data, so it cannot become a demo database: "
                    "`db upgrade --demo` creates one only on an empty database (a new SQLite file, say).")
            config = alembic_config(url)
            config.attributes["connection"] = conn  # the migrations run in this transaction
            command.upgrade(config, "head")
            if not marked:
                conn.execute(_S.insert().values(
                    key=DEMO_MARK, value=json.dumps({"created_by": by}),
                    updated_at=utcnow()))
    finally:
        database.dispose()
    return DemoDatabase(where, not marked, head_revision())


def is_demo_database(session: Session) -> bool:
    return session.get(AppSetting, DEMO_MARK) is not None


def require_demo_database(session: Session) -> None:
    if not is_demo_database(session):
        where = safe_url(session.get_bind().engine.url.render_as_string(hide_password=False))
        raise Conflict(
            f"The database at {where} was not created for the demo, so demo data (staff with a published "
            "password, redeemable codes) may not go in; make a demo database from an empty one with "
            "`billing-desk db upgrade --demo`.")

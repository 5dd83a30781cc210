"""`billing-desk db upgrade [--demo]|current`: operator commands, no login.

`db upgrade --demo` creates the schema on an empty database and marks it as a demo database
(the only kind `demo seed` fills); on a database already so marked it migrates, like `db upgrade`.
"""

from __future__ import annotations

import argparse

from sqlalchemy.exc import OperationalError

from billing_desk.cli.common import Context, add_json, print_json
from billing_desk.database import current_revision, head_revision, open_database, safe_url, upgrade
from billing_desk.domain.errors import DatabaseUnavailable
from billing_desk.services.demo import create_demo_database


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    db = sub.add_parser("db", help="database schema: upgrade, current")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="create or migrate the schema to this version")
    up.add_argument("--demo", action="store_true",
                    help="on an empty database: create it as a demo database, the only kind `demo seed` fills")
    up.set_defaults(handler=_upgrade, check_schema=False)
    cur = db_sub.add_parser("current", help="print the schema revision")
    add_json(cur)
    cur.set_defaults(handler=_current, check_schema=False)


def _upgrade(ctx: Context, args: argparse.Namespace) -> int:
    url = ctx.settings.database_url
    before = _revision(url)
    created = False
    try:
        if args.demo:
            created = create_demo_database(url).created
        else:
            upgrade(url)
    except OperationalError as exc:
        raise DatabaseUnavailable(
            f"Cannot reach the database at {safe_url(url)}: {str(exc.orig).strip().splitlines()[0]}"
        ) from None
    after = head_revision()
    if created:
        print(f"Database {safe_url(url)}: created as a demo database at {after}.")
        return 0
    state = "already at" if before == after else "upgraded to"
    print(f"Database {safe_url(url)}: {'demo database, ' if args.demo else ''}{state} {after}.")
    return 0


def _revision(url: str) -> str | None:
    database = open_database(url)
    try:
        return current_revision(database.engine)
    finally:
        database.dispose()


def _current(ctx: Context, args: argparse.Namespace) -> int:
    url = ctx.settings.database_url
    current = _revision(url)
    head = head_revision()
    if args.json:
        print_json({"current": current, "head": head, "up_to_date": current == head, "database": safe_url(url)})
    else:
        state = "up to date" if current == head else f"code expects {head}: run `billing-desk db upgrade`"
        print(f"{current or '(empty)'} ({state})")
    return 0

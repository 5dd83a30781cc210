"""key scopes, and payments flagged for finance

Idempotency keys get a scope: 'system' for the keys the desk builds itself (payment-<id>,
voucher-<id>, expire-lot-<id>, plan-...) and 'external' for the keys staff type and the usage
feed sends (usage, adjustments, promotions). The ledger's unique key becomes (customer,
scope, key, source), so a feed's 'payment-14' can never meet payment 14's top-up. It is now
a partial unique index over keyed rows: keyless rows never conflicted anyway, and an index
led by customer_id over every row would compete with the history's indexes in the planner.

Existing rows are sorted by kind, which is exactly who issued their keys until now. The
ledger is append-only: PostgreSQL's guard trigger is switched off for that one UPDATE inside
this migration's transaction; SQLite rebuilds the table (its unique constraint cannot be
dropped in place), which drops the table's triggers, so they are created again afterwards.

payments.flagged_at: when reconciling a payment last failed on our side (a refused posting,
a database error); a pending payment with it set is one for finance's exceptions queue.

Revision ID: 0006_key_scopes
Revises: 0005_audit_anchor
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations
from sqlalchemy.exc import SAWarning

revision: str = '0006_key_scopes'
down_revision: str | None = '0005_audit_anchor'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_UNIQUE = 'uq_ledger_entries_customer_key_source'
NEW_UNIQUE = 'uq_ledger_entries_customer_scope_key_source'
SCOPE_CHECK = 'ck_ledger_entries_key_scope'
SYSTEM_KINDS = "('topup', 'voucher', 'expiry', 'plan_charge')"
EXTERNAL_KINDS = "('usage', 'adjustment', 'promotion')"
# 0002's SQLite triggers on ledger_entries, as they must stand again after the rebuild.
SQLITE_TRIGGERS = [
    *(f"CREATE TRIGGER ledger_entries_no_{verb.lower()} BEFORE {verb} ON ledger_entries "
      "BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only'); END" for verb in ("UPDATE", "DELETE")),
    "CREATE TRIGGER ledger_search_ai AFTER INSERT ON ledger_entries BEGIN "
    "INSERT INTO ledger_search(rowid, description) VALUES (new.id, new.description); END",
]
SQLITE_TRIGGER_NAMES = ("ledger_entries_no_update", "ledger_entries_no_delete", "ledger_search_ai")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


@contextmanager
def _rebuilt(table: str) -> Iterator[BatchOperations]:
    """SQLite's table rebuild, without the reflection warnings about the customers' search
    indexes (reflected for the foreign key, left untouched) that would alarm whoever upgrades."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", SAWarning)
        with op.batch_alter_table(table, recreate='always') as batch_op:
            yield batch_op


def upgrade() -> None:
    op.add_column('payments', sa.Column('flagged_at', sa.DateTime(), nullable=True))
    if _sqlite():
        # The rebuild copies every row with the server default; only the (fewer) feed and
        # staff rows are then re-marked, before the append-only triggers come back.
        with _rebuilt('ledger_entries') as batch_op:
            batch_op.add_column(sa.Column('key_scope', sa.String(length=8), server_default='system', nullable=False))
            batch_op.drop_constraint(OLD_UNIQUE, type_='unique')
            batch_op.create_check_constraint(op.f(SCOPE_CHECK), "key_scope IN ('system', 'external')")
        op.execute(f"UPDATE ledger_entries SET key_scope = 'external' WHERE kind IN {EXTERNAL_KINDS}")
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
        _create_unique_index()
        return
    # Usage rows are most of the ledger: add the column as 'external' (no row is rewritten for
    # a constant default), re-mark the few system rows, then make 'system' the default.
    op.add_column('ledger_entries', sa.Column('key_scope', sa.String(length=8), server_default='external',
                                              nullable=False))
    op.execute("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only")
    op.execute(f"UPDATE ledger_entries SET key_scope = 'system' WHERE kind IN {SYSTEM_KINDS}")
    op.execute("ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only")
    op.alter_column('ledger_entries', 'key_scope', server_default='system')
    op.drop_constraint(OLD_UNIQUE, 'ledger_entries', type_='unique')
    _create_unique_index()
    op.create_check_constraint(op.f(SCOPE_CHECK), 'ledger_entries', "key_scope IN ('system', 'external')")


def _create_unique_index() -> None:
    keyed = sa.text("idempotency_key IS NOT NULL")
    op.create_index(NEW_UNIQUE, 'ledger_entries', ['customer_id', 'key_scope', 'idempotency_key', 'source'],
                    unique=True, sqlite_where=keyed, postgresql_where=keyed)


def _refuse_colliding_keys() -> None:
    """The old key space cannot hold a feed's key equal to a system key: say which, change nothing."""
    rows = op.get_bind().execute(sa.text(
        "SELECT DISTINCT e.customer_id, e.idempotency_key FROM ledger_entries e JOIN ledger_entries s "
        "ON s.customer_id = e.customer_id AND s.idempotency_key = e.idempotency_key AND s.source = e.source "
        "WHERE e.key_scope = 'external' AND s.key_scope = 'system' ORDER BY 1, 2 LIMIT 5")).all()
    if rows:
        named = ", ".join(f"customer {r[0]} key '{r[1]}'" for r in rows)
        raise RuntimeError(f"Cannot go back before 0005_key_scopes: external keys equal system keys ({named}).")


def downgrade() -> None:
    _refuse_colliding_keys()
    op.drop_index(NEW_UNIQUE, 'ledger_entries')
    if _sqlite():
        with _rebuilt('payments') as batch_op:
            batch_op.drop_column('flagged_at')
        with _rebuilt('ledger_entries') as batch_op:
            batch_op.drop_constraint(op.f(SCOPE_CHECK), type_='check')
            batch_op.create_unique_constraint(OLD_UNIQUE, ['customer_id', 'idempotency_key', 'source'])
            batch_op.drop_column('key_scope')
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
        return
    op.drop_constraint(op.f(SCOPE_CHECK), 'ledger_entries', type_='check')
    op.create_unique_constraint(OLD_UNIQUE, 'ledger_entries', ['customer_id', 'idempotency_key', 'source'])
    op.drop_column('ledger_entries', 'key_scope')
    op.drop_column('payments', 'flagged_at')

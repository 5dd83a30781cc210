"""audit anchor: a head record for the audit chain, a hash version per row, TRUNCATE refused

Revision ID: 0005_audit_anchor
Revises: 0004_vouchers_plans

The chain alone could lose its tail unnoticed: deleting the newest rows (or TRUNCATE, which
row triggers do not see) left a shorter chain that still verified. ``audit_head`` records the
newest row's id and hash and the row count; the service moves it with each append, and
triggers let it move only one appended row forward. Rows already written keep hash version 1
(``hash_version`` defaults to 1, so no row is rewritten) and the head is anchored on them as
they are; rows written from now on are version 2, whose hash covers every column.

Downgrading drops the head and the version column; rows written at version 2 then fail the
older code's verify (their hashes cover more than it knows), which is loud, not silent.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_audit_anchor"
down_revision: str | None = "0004_vouchers_plans"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64  # frozen copy of services/audit/chain.py's: migrations import no services

HEAD_REFUSED = "audit_head moves only forward, one appended audit_log row at a time"
LOG_REFUSED = "an audit_log row must follow the audit head (the next id, chained onto its hash)"

# The head may only step to the row just appended: the next id, one more row, and that row
# chained onto the hash the head held. Inserts and deletes of the head are refused outright
# (the migration makes its one row before the triggers exist).
HEAD_IN_STEP = """NEW.id = OLD.id AND NEW.last_id = OLD.last_id + 1 AND NEW.row_count = OLD.row_count + 1
       AND EXISTS (SELECT 1 FROM audit_log a
                   WHERE a.id = NEW.last_id AND a.hash = NEW.last_hash AND a.prev_hash = OLD.last_hash)"""
LOG_FOLLOWS_HEAD = "EXISTS (SELECT 1 FROM audit_head h WHERE NEW.id = h.last_id + 1 AND NEW.prev_hash = h.last_hash)"

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER audit_head_no_insert BEFORE INSERT ON audit_head
       BEGIN SELECT RAISE(ABORT, '{HEAD_REFUSED}'); END""",
    f"""CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
       BEGIN SELECT RAISE(ABORT, '{HEAD_REFUSED}'); END""",
    f"""CREATE TRIGGER audit_head_in_step BEFORE UPDATE ON audit_head
       WHEN NOT ({HEAD_IN_STEP})
       BEGIN SELECT RAISE(ABORT, '{HEAD_REFUSED}'); END""",
    f"""CREATE TRIGGER audit_log_follows_head BEFORE INSERT ON audit_log
       WHEN NOT {LOG_FOLLOWS_HEAD}
       BEGIN SELECT RAISE(ABORT, '{LOG_REFUSED}'); END""",
]
SQLITE_TRIGGER_NAMES = ["audit_head_no_insert", "audit_head_no_delete", "audit_head_in_step", "audit_log_follows_head"]

POSTGRES_STATEMENTS = [
    f"""CREATE FUNCTION billing_desk_audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'UPDATE' AND {HEAD_IN_STEP} THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION '{HEAD_REFUSED}';
       END $$""",
    """CREATE TRIGGER audit_head_in_step BEFORE INSERT OR UPDATE OR DELETE ON audit_head
       FOR EACH ROW EXECUTE FUNCTION billing_desk_audit_head_guard()""",
    f"""CREATE FUNCTION billing_desk_audit_log_follows_head() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF {LOG_FOLLOWS_HEAD} THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION '{LOG_REFUSED}';
       END $$""",
    """CREATE TRIGGER audit_log_follows_head BEFORE INSERT ON audit_log
       FOR EACH ROW EXECUTE FUNCTION billing_desk_audit_log_follows_head()""",
    # Row triggers never see TRUNCATE; these statement triggers refuse it (0001's function).
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
       FOR EACH STATEMENT EXECUTE FUNCTION billing_desk_append_only()""",
    """CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
       FOR EACH STATEMENT EXECUTE FUNCTION billing_desk_append_only()""",
]


def upgrade() -> None:
    # A constant default adds the column without touching a row (no UPDATE for the
    # append-only triggers to refuse): every row written so far is version 1.
    op.add_column("audit_log", sa.Column("hash_version", sa.SmallInteger(), server_default="1", nullable=False))
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.execute(
        sa.text(
            "INSERT INTO audit_head (id, last_id, last_hash, row_count) "
            "SELECT 1, coalesce(max(id), 0), "
            "coalesce((SELECT hash FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)), :genesis), count(*) "
            "FROM audit_log"
        ).bindparams(genesis=GENESIS_HASH)
    )
    statements = SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else POSTGRES_STATEMENTS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.drop_table("audit_head")
        # Native DROP COLUMN (SQLite 3.35+): a batch rebuild would drop 0001's triggers with the table.
        op.execute("ALTER TABLE audit_log DROP COLUMN hash_version")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS billing_desk_audit_log_follows_head() CASCADE")
    op.execute("DROP FUNCTION IF EXISTS billing_desk_audit_head_guard() CASCADE")
    op.drop_table("audit_head")
    op.drop_column("audit_log", "hash_version")
    # 0004's code takes ids from the sequence again, which 0005's explicit ids left behind.
    op.execute(
        "SELECT setval(pg_get_serial_sequence('audit_log', 'id'), coalesce(max(id), 1), max(id) IS NOT NULL) "
        "FROM audit_log"
    )

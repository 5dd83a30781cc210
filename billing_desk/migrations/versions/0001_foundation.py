"""foundation

Revision ID: 0001_foundation
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen copy of the currencies this revision knows; later revisions add, never edit.
CURRENCIES = [
    ("VND", 0, "Vietnamese dong"),
    ("JPY", 0, "Japanese yen"),
    ("USD", 2, "US dollar"),
    ("EUR", 2, "Euro"),
    ("GBP", 2, "Pound sterling"),
    ("AUD", 2, "Australian dollar"),
    ("BRL", 2, "Brazilian real"),
    ("CAD", 2, "Canadian dollar"),
    ("CNY", 2, "Chinese yuan"),
    ("CZK", 2, "Czech koruna"),
    ("DKK", 2, "Danish krone"),
    ("HKD", 2, "Hong Kong dollar"),
    ("HUF", 0, "Hungarian forint"),
    ("ILS", 2, "Israeli new shekel"),
    ("MYR", 2, "Malaysian ringgit"),
    ("MXN", 2, "Mexican peso"),
    ("TWD", 0, "New Taiwan dollar"),
    ("NZD", 2, "New Zealand dollar"),
    ("NOK", 2, "Norwegian krone"),
    ("PHP", 2, "Philippine peso"),
    ("PLN", 2, "Polish zloty"),
    ("SGD", 2, "Singapore dollar"),
    ("SEK", 2, "Swedish krona"),
    ("CHF", 2, "Swiss franc"),
    ("THB", 2, "Thai baht"),
]

SQLITE_TRIGGERS = [
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER customers_currency_locked BEFORE UPDATE OF currency ON customers
       WHEN OLD.currency IS NOT NULL AND (NEW.currency IS NULL OR NEW.currency <> OLD.currency)
       BEGIN SELECT RAISE(ABORT, 'a customer''s currency is locked once chosen'); END""",
    # Trigram full-text index over customers.search_text, kept in step by triggers.
    """CREATE VIRTUAL TABLE customers_search USING fts5(
       search_text, content='customers', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER customers_search_ai AFTER INSERT ON customers BEGIN
       INSERT INTO customers_search(rowid, search_text) VALUES (new.id, new.search_text); END""",
    """CREATE TRIGGER customers_search_ad AFTER DELETE ON customers BEGIN
       INSERT INTO customers_search(customers_search, rowid, search_text)
       VALUES ('delete', old.id, old.search_text); END""",
    """CREATE TRIGGER customers_search_au AFTER UPDATE OF search_text ON customers BEGIN
       INSERT INTO customers_search(customers_search, rowid, search_text)
       VALUES ('delete', old.id, old.search_text);
       INSERT INTO customers_search(rowid, search_text) VALUES (new.id, new.search_text); END""",
    # Prefix search runs as a range over lower(x), which SQLite can serve from these.
    "CREATE INDEX ix_customers_account_lower ON customers (lower(account))",
    "CREATE INDEX ix_customers_email_lower ON customers (lower(email))",
    "CREATE INDEX ix_customers_name_lower ON customers (lower(name))",
    "CREATE INDEX ix_customers_tax_code_lower ON customers (lower(tax_code))",
]

POSTGRES_STATEMENTS = [
    """CREATE FUNCTION billing_desk_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
       FOR EACH ROW EXECUTE FUNCTION billing_desk_append_only()""",
    """CREATE FUNCTION billing_desk_currency_locked() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF OLD.currency IS NOT NULL AND NEW.currency IS DISTINCT FROM OLD.currency THEN
           RAISE EXCEPTION 'a customer''s currency is locked once chosen';
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER customers_currency_locked BEFORE UPDATE OF currency ON customers
       FOR EACH ROW EXECUTE FUNCTION billing_desk_currency_locked()""",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_customers_search_trgm ON customers USING gin (search_text gin_trgm_ops)",
    "CREATE INDEX ix_customers_account_lower ON customers (lower(account) text_pattern_ops)",
    "CREATE INDEX ix_customers_email_lower ON customers (lower(email) text_pattern_ops)",
    "CREATE INDEX ix_customers_name_lower ON customers (lower(name) text_pattern_ops)",
    "CREATE INDEX ix_customers_tax_code_lower ON customers (lower(tax_code))",
]

revision: str = "0001_foundation"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "currencies",
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.Column("exponent", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_currencies")),
    )

    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("last_failed_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("role IN ('support', 'finance', 'manager', 'admin')", name=op.f("ck_staff_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("name", name=op.f("uq_staff_users_name")),
    )

    op.create_table(
        "customers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account", sa.String(length=32), nullable=False),
        sa.Column("billing_type", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("tax_code", sa.String(length=64), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("display_currency", sa.String(length=3), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("billing_type IN ('personal', 'company')", name=op.f("ck_customers_billing_type")),
        sa.ForeignKeyConstraint(["currency"], ["currencies.code"], name=op.f("fk_customers_currency_currencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("account", name=op.f("uq_customers_account")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index("ix_customers_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_customers_email", ["email"], unique=False)
        batch_op.create_index("ix_customers_name", ["name"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("staff_name", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_at", ["at"], unique=False)
        batch_op.create_index("ix_audit_log_entity_at", ["entity", "at"], unique=False)
        batch_op.create_index("ix_audit_log_staff_name_at", ["staff_name", "at"], unique=False)

    op.create_table(
        "app_settings",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_app_settings")),
    )
    currencies = sa.table("currencies", sa.column("code"), sa.column("exponent"), sa.column("name"))
    op.bulk_insert(currencies, [dict(zip(("code", "exponent", "name"), row, strict=True)) for row in CURRENCIES])
    statements = SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else POSTGRES_STATEMENTS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS customers_search")
    else:
        op.execute("DROP FUNCTION IF EXISTS billing_desk_append_only() CASCADE")
        op.execute("DROP FUNCTION IF EXISTS billing_desk_currency_locked() CASCADE")
    op.drop_table("app_settings")
    op.drop_table("audit_log")
    op.drop_table("customers")
    op.drop_table("staff_users")
    op.drop_table("currencies")

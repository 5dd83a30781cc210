"""ledger

Revision ID: 0002_ledger
Revises: 0001_foundation
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

USAGE_SERVICES = ["AI Inference", "Model Fine-tuning", "Storage", "GPU Container", "AI Notebook"]
# Fixed labels for the kinds that are not usage, so history filters can name them too.
FIXED_LABELS = ["Top-up", "Voucher", "Subscription", "Promotion", "Adjustment", "Expiry"]

revision: str = '0002_ledger'
down_revision: str | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('usage_services',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('is_usage', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_services')),
    sa.UniqueConstraint('name', name=op.f('uq_usage_services_name'))
    )

    op.create_table('customer_balances',
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('topup', sa.BigInteger(), nullable=False),
    sa.Column('voucher', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('topup >= 0', name=op.f('ck_customer_balances_topup_not_negative')),
    sa.CheckConstraint('total = topup + voucher', name=op.f('ck_customer_balances_total_is_sum')),
    sa.CheckConstraint('voucher >= 0', name=op.f('ck_customer_balances_voucher_not_negative')),
    sa.ForeignKeyConstraint(['currency'], ['currencies.code'], name=op.f('fk_customer_balances_currency_currencies')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_balances_customer_id_customers')),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_balances'))
    )

    op.create_table('ledger_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('service', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('failure_reason', sa.Text(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('payment_id', sa.BigInteger(), nullable=True),
    sa.Column('voucher_redemption_id', sa.BigInteger(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.CheckConstraint("kind IN ('topup', 'voucher', 'usage', 'promotion', 'plan_charge', 'expiry', 'adjustment')", name=op.f('ck_ledger_entries_kind')),
    sa.CheckConstraint("source IN ('topup', 'voucher')", name=op.f('ck_ledger_entries_source')),
    sa.CheckConstraint("status IN ('success', 'failed')", name=op.f('ck_ledger_entries_status')),
    sa.ForeignKeyConstraint(['currency'], ['currencies.code'], name=op.f('fk_ledger_entries_currency_currencies')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_ledger_entries_customer_id_customers')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_ledger_entries_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries')),
    sa.UniqueConstraint('customer_id', 'idempotency_key', 'source', name='uq_ledger_entries_customer_key_source')
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entries_customer_created_id', ['customer_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_ledger_entries_customer_kind_created_id', ['customer_id', 'kind', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_ledger_entries_customer_service_created_id', ['customer_id', 'service', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_ledger_entries_customer_status_created_id', ['customer_id', 'status', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_ledger_entries_payment_id', ['payment_id'], unique=False)

    op.create_table('voucher_credit_lots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('redemption_id', sa.BigInteger(), nullable=True),
    sa.Column('granted', sa.BigInteger(), nullable=False),
    sa.Column('remaining', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('remaining <= granted', name=op.f('ck_voucher_credit_lots_remaining_within_grant')),
    sa.CheckConstraint('remaining >= 0', name=op.f('ck_voucher_credit_lots_remaining_not_negative')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_voucher_credit_lots_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_credit_lots'))
    )
    with op.batch_alter_table('voucher_credit_lots', schema=None) as batch_op:
        batch_op.create_index('ix_voucher_credit_lots_customer_expires', ['customer_id', 'expires_at'], unique=False)
        batch_op.create_index('ix_voucher_credit_lots_expires_remaining', ['expires_at', 'remaining'], unique=False)
    services = sa.table(
        "usage_services", sa.column("name"), sa.column("is_usage"), sa.column("created_at")
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    op.bulk_insert(
        services,
        [{"name": n, "is_usage": True, "created_at": now} for n in USAGE_SERVICES]
        + [{"name": n, "is_usage": False, "created_at": now} for n in FIXED_LABELS],
    )
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER ledger_entries_no_{verb.lower()} BEFORE {verb} ON ledger_entries "
                "BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only'); END"
            )
        # Trigram index of descriptions for the history's text filter (rows are append-only,
        # so an insert trigger is all it takes to keep it in step).
        op.execute("CREATE VIRTUAL TABLE ledger_search USING fts5("
                   "description, content='ledger_entries', content_rowid='id', tokenize='trigram')")
        op.execute("CREATE TRIGGER ledger_search_ai AFTER INSERT ON ledger_entries BEGIN "
                   "INSERT INTO ledger_search(rowid, description) VALUES (new.id, new.description); END")
    else:
        op.execute(
            "CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries "
            "FOR EACH ROW EXECUTE FUNCTION billing_desk_append_only()"
        )
        op.execute("CREATE INDEX ix_ledger_entries_description_trgm ON ledger_entries "
                   "USING gin (description gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS ledger_search")
    op.drop_table('voucher_credit_lots')
    op.drop_table('ledger_entries')
    op.drop_table('customer_balances')
    op.drop_table('usage_services')

"""payments

Revision ID: 0003_payments
Revises: 0002_ledger
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003_payments'
down_revision: str | None = '0002_ledger'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('payments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=108), nullable=False),
    sa.Column('gateway_reference', sa.String(length=255), nullable=True),
    sa.Column('checkout_url', sa.Text(), nullable=True),
    sa.Column('gateway_data', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('settled_at', sa.DateTime(), nullable=True),
    sa.Column('last_checked_at', sa.DateTime(), nullable=True),
    sa.Column('check_count', sa.Integer(), nullable=False),
    sa.CheckConstraint("method IN ('vnpay', 'stripe', 'paypal')", name=op.f('ck_payments_method')),
    sa.CheckConstraint("status IN ('pending', 'success', 'failed')", name=op.f('ck_payments_status')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payments_amount_positive')),
    sa.ForeignKeyConstraint(['created_by'], ['staff_users.id'], name=op.f('fk_payments_created_by_staff_users')),
    sa.ForeignKeyConstraint(['currency'], ['currencies.code'], name=op.f('fk_payments_currency_currencies')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_payments_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_payments_idempotency_key'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index('ix_payments_created_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_payments_customer_created_id', ['customer_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_payments_gateway_reference', ['gateway_reference'], unique=False)
        batch_op.create_index('ix_payments_status_created_id', ['status', 'created_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_table('payments')

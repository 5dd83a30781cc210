"""vouchers plans

Revision ID: 0004_vouchers_plans
Revises: 0003_payments
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004_vouchers_plans'
down_revision: str | None = '0003_payments'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('features', sa.Text(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans')),
    sa.UniqueConstraint('code', name=op.f('uq_plans_code'))
    )

    op.create_table('plan_prices',
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('monthly_price', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('monthly_price >= 0', name=op.f('ck_plan_prices_price_not_negative')),
    sa.ForeignKeyConstraint(['currency'], ['currencies.code'], name=op.f('fk_plan_prices_currency_currencies')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_prices_plan_id_plans')),
    sa.PrimaryKeyConstraint('plan_id', 'currency', name=op.f('pk_plan_prices'))
    )

    op.create_table('subscriptions',
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.DateTime(), nullable=False),
    sa.Column('period_end', sa.DateTime(), nullable=False),
    sa.Column('scheduled_plan_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_subscriptions_customer_id_customers')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_subscriptions_plan_id_plans')),
    sa.ForeignKeyConstraint(['scheduled_plan_id'], ['plans.id'], name=op.f('fk_subscriptions_scheduled_plan_id_plans')),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_subscriptions'))
    )

    op.create_table('voucher_campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['staff_users.id'], name=op.f('fk_voucher_campaigns_created_by_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_campaigns')),
    sa.UniqueConstraint('name', name=op.f('uq_voucher_campaigns_name'))
    )

    op.create_table('vouchers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('last4', sa.String(length=4), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('valid_from', sa.DateTime(), nullable=True),
    sa.Column('valid_until', sa.DateTime(), nullable=True),
    sa.Column('max_redemptions', sa.Integer(), nullable=False),
    sa.Column('redemption_count', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('credit_days', sa.Integer(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_reason', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_vouchers_amount_positive')),
    sa.CheckConstraint('max_redemptions >= 1', name=op.f('ck_vouchers_max_redemptions_positive')),
    sa.CheckConstraint('redemption_count <= max_redemptions', name=op.f('ck_vouchers_not_over_redeemed')),
    sa.ForeignKeyConstraint(['campaign_id'], ['voucher_campaigns.id'], name=op.f('fk_vouchers_campaign_id_voucher_campaigns')),
    sa.ForeignKeyConstraint(['created_by'], ['staff_users.id'], name=op.f('fk_vouchers_created_by_staff_users')),
    sa.ForeignKeyConstraint(['currency'], ['currencies.code'], name=op.f('fk_vouchers_currency_currencies')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_vouchers_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vouchers')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_vouchers_code_hash'))
    )
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.create_index('ix_vouchers_campaign_id', ['campaign_id'], unique=False)
        batch_op.create_index('ix_vouchers_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_vouchers_last4', ['last4'], unique=False)

    op.create_table('voucher_redemptions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('voucher_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('redeemed_at', sa.DateTime(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['currency'], ['currencies.code'], name=op.f('fk_voucher_redemptions_currency_currencies')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_voucher_redemptions_customer_id_customers')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_voucher_redemptions_staff_id_staff_users')),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_voucher_redemptions_voucher_id_vouchers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_redemptions')),
    sa.UniqueConstraint('voucher_id', 'customer_id', name='uq_voucher_redemptions_voucher_customer')
    )
    with op.batch_alter_table('voucher_redemptions', schema=None) as batch_op:
        batch_op.create_index('ix_voucher_redemptions_customer_at', ['customer_id', 'redeemed_at'], unique=False)

    op.create_table('voucher_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('attempted_at', sa.DateTime(), nullable=False),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_voucher_attempts_customer_id_customers')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_voucher_attempts_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_attempts'))
    )
    with op.batch_alter_table('voucher_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_voucher_attempts_customer_at', ['customer_id', 'attempted_at'], unique=False)


def downgrade() -> None:
    op.drop_table('voucher_attempts')
    op.drop_table('voucher_redemptions')
    op.drop_table('vouchers')
    op.drop_table('voucher_campaigns')
    op.drop_table('subscriptions')
    op.drop_table('plan_prices')
    op.drop_table('plans')

"""payment checks: every question a desk or a reconcile run asked a gateway, and its answer

Revision ID: 0009_payment_checks
Revises: 0008_payment_reference_search

Payments keep their last check (``last_checked_at``, ``check_count``); finance's payment story
needs each one: when, who or which run, and what the gateway said. Checks before this revision
were not kept and are not invented.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009_payment_checks'
down_revision: str | None = '0008_payment_reference_search'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('payment_checks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('payment_id', sa.BigInteger(), nullable=False),
    sa.Column('checked_at', sa.DateTime(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('run_id', sa.String(length=32), nullable=True),
    sa.Column('trigger', sa.String(length=12), nullable=False),
    sa.Column('outcome', sa.String(length=12), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_checks_payment_id_payments')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_payment_checks_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_checks'))
    )
    op.create_index('ix_payment_checks_payment_checked_id', 'payment_checks', ['payment_id', 'checked_at', 'id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_payment_checks_payment_checked_id', table_name='payment_checks')
    op.drop_table('payment_checks')

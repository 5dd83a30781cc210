"""voucher batches: codes issued into a file redeem only once the file is whole

Revision ID: 0007_voucher_batches
Revises: 0006_key_scopes
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007_voucher_batches'
down_revision: str | None = '0006_key_scopes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('voucher_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('codes', sa.Integer(), nullable=False),
    sa.Column('out_path', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('settled_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("state IN ('pending', 'active', 'void')", name=op.f('ck_voucher_batches_state')),
    sa.CheckConstraint('codes >= 1', name=op.f('ck_voucher_batches_codes_positive')),
    sa.ForeignKeyConstraint(['created_by'], ['staff_users.id'], name=op.f('fk_voucher_batches_created_by_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_batches'))
    )
    op.create_index('ix_voucher_batches_state_created_at', 'voucher_batches', ['state', 'created_at'], unique=False)
    # Existing vouchers keep NULL, which means "not from a file batch": redeemable as before.
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot add a constraint to a table, but it can add a column with its reference in
        # place; batch mode would copy the whole vouchers table instead.
        op.execute("ALTER TABLE vouchers ADD COLUMN batch_id INTEGER "
                   "CONSTRAINT fk_vouchers_batch_id_voucher_batches REFERENCES voucher_batches (id)")
    else:
        op.add_column('vouchers', sa.Column('batch_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_vouchers_batch_id_voucher_batches'), 'vouchers', 'voucher_batches',
                              ['batch_id'], ['id'])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite reflects the inline reference without its name; the table copy drops both.
        with op.batch_alter_table('vouchers', schema=None) as batch_op:
            batch_op.drop_column('batch_id')
    else:
        op.drop_constraint(op.f('fk_vouchers_batch_id_voucher_batches'), 'vouchers', type_='foreignkey')
        op.drop_column('vouchers', 'batch_id')
    op.drop_index('ix_voucher_batches_state_created_at', table_name='voucher_batches')
    op.drop_table('voucher_batches')

"""staff last login: when each staff member last logged in (desk or CLI)

Revision ID: 0013_staff_last_login
Revises: 0012_payment_reference_fts

The Staff workspace lists each account's last successful login beside its failed attempts, so
an admin sees an account nobody uses any more. Existing accounts start with none.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013_staff_last_login'
down_revision: str | None = '0012_payment_reference_fts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('staff_users', sa.Column('last_login_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('last_login_at')

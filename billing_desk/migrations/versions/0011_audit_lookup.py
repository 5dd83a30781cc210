"""audit lookup: one thing's audit entries (a payment's story), and the audit log by action

Revision ID: 0011_audit_lookup
Revises: 0010_payment_review

The audit log was indexed for reading by person, by kind of thing and by time. A payment's
story lists that payment's entries, and the audit viewer filters by action: both read a few
rows of millions, so each gets its own index.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0011_audit_lookup'
down_revision: str | None = '0010_payment_review'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_audit_log_entity_entity_id_id', 'audit_log', ['entity', 'entity_id', 'id'], unique=False)
    op.create_index('ix_audit_log_action_at', 'audit_log', ['action', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_log_action_at', table_name='audit_log')
    op.drop_index('ix_audit_log_entity_entity_id_id', table_name='audit_log')

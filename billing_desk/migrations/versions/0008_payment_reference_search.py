"""payment reference search: any part of a gateway reference (8 characters or more) finds it

Revision ID: 0008_payment_reference_search
Revises: 0007_voucher_batches

On PostgreSQL a trigram index serves ``gateway_reference ILIKE '%part%'`` as it serves the
customer and ledger description searches. SQLite has no trigram index on a plain column (FTS5
would need a shadow table kept in step on insert and on the update that sets the reference), so
the substring search scans: about 45 ms per 100,000 payments on this kind of machine, once per
search, not per keystroke of a page.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0008_payment_reference_search'
down_revision: str | None = '0007_voucher_batches'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_payments_reference_trgm ON payments USING gin (gateway_reference gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_payments_reference_trgm")

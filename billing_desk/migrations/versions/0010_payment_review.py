"""payment review: indexes for finance's review across customers, its totals and its charts

Revision ID: 0010_payment_review
Revises: 0009_payment_checks

Indexes only. Each filter of the review leads an index in the order its pages walk (a gateway,
a currency, the staff member who started it; an amount range within a currency), so a first
page of 200 reads about 200 rows. The totals read (currency, status, amount) and the charts
(settled_at, status, method, currency, amount) without touching the table. Figures at 1,000,000
payments: docs/performance/payments.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0010_payment_review'
down_revision: str | None = '0009_payment_checks'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ('ix_payments_method_created_id', ['method', 'created_at', 'id']),
    ('ix_payments_currency_created_id', ['currency', 'created_at', 'id']),
    ('ix_payments_created_by_created_id', ['created_by', 'created_at', 'id']),
    ('ix_payments_amount_id', ['amount', 'id']),
    ('ix_payments_currency_amount_id', ['currency', 'amount', 'id']),
    ('ix_payments_currency_status_amount', ['currency', 'status', 'amount']),
    ('ix_payments_settled_figures', ['settled_at', 'status', 'method', 'currency', 'amount']),
)


def upgrade() -> None:
    for name, columns in INDEXES:
        op.create_index(name, 'payments', columns, unique=False)


def downgrade() -> None:
    for name, _ in reversed(INDEXES):
        op.drop_index(name, table_name='payments')

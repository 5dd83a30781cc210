"""payment review: indexes for finance's review across customers, its totals and its charts

Revision ID: 0010_payment_review
Revises: 0009_payment_checks

Indexes only, each chosen by EXPLAIN on both databases at 1,000,000 payments over 100,000
customers (benchmarks/bench_payments_review.py; figures in docs/performance/payments.md):

* pages: a filter leads an index in the order its pages walk, so a first page of 200 reads
  about 200 entries: a gateway or a currency by date (``*_created_id``), the staff member who
  started it (``created_by_created_id``), any amount order (``amount_id``) and an amount range
  or amount order within a currency (``currency_amount_id``). Status, customer and date ranges
  had theirs already (0003).
* totals (count and sum per currency and status): SQLite groups by sorting every matching row
  unless an index delivers them in (currency, status) order, so the gateway's totals read
  ``method_currency_status_amount`` (3.9 s before it: SQLite walked the whole table in group
  order) and the unfiltered ones ``currency_status_amount``; the staff and amount-range indexes
  carry status and amount after their keys so their totals never touch the table, and the
  currency's date index carries them too, so a month of one currency's failed payments sorted by
  amount reads only the failed ones' rows.
* charts: ``figures`` (status, method, currency, settled_at, amount) holds every column the daily
  figures read, each day's rows of a (status, gateway, currency) in one range, in group order
  (review_sql.daily_statement: 64 ms for 90 days on SQLite instead of 330 ms with a sort).
  PostgreSQL hashes groups instead of sorting them, so there one walk of a settled_at range
  (``settled_figures``, PostgreSQL only) with width_bucket for the day is faster still: 82 ms
  against 155 to 268 ms for the per-day form.

Payments are written a few thousand times a day, so eight more indexes (nine on PostgreSQL) cost
nothing a desk notices; reading any page in 10 ms does.
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
    ('ix_payments_method_currency_status_amount', ['method', 'currency', 'status', 'amount']),
    ('ix_payments_currency_created_id', ['currency', 'created_at', 'id', 'status', 'amount']),
    ('ix_payments_created_by_created_id', ['created_by', 'created_at', 'id', 'currency', 'status', 'amount']),
    ('ix_payments_amount_id', ['amount', 'id']),
    ('ix_payments_currency_amount_id', ['currency', 'amount', 'id', 'status']),
    ('ix_payments_currency_status_amount', ['currency', 'status', 'amount']),
    ('ix_payments_figures', ['status', 'method', 'currency', 'settled_at', 'amount']),
)


# PostgreSQL only: its charts read one settled_at range and hash the groups (review_sql.py).
POSTGRESQL_ONLY = (('ix_payments_settled_figures', ['settled_at', 'status', 'method', 'currency', 'amount']),)


def _indexes() -> tuple[tuple[str, list[str]], ...]:
    return INDEXES + (POSTGRESQL_ONLY if op.get_bind().dialect.name == 'postgresql' else ())


def upgrade() -> None:
    for name, columns in _indexes():
        op.create_index(name, 'payments', columns, unique=False)


def downgrade() -> None:
    for name, _ in reversed(_indexes()):
        op.drop_index(name, table_name='payments')

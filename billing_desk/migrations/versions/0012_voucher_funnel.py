"""voucher funnel: a campaign's codes, redemptions, credit lots and expired credit, read by campaign

Revision ID: 0012_voucher_funnel
Revises: 0011_audit_lookup

The Vouchers workspace lists every campaign with its funnel (codes issued, redeemed, credit
granted, spent, expired, outstanding) over a million vouchers. Each figure is an aggregate
that must come from an index rather than the tables: the codes per campaign and currency
(a covering index on vouchers), the lot a redemption opened (lots had no index by redemption),
and the ledger's expiry rows by redemption (a partial index: expiry rows are few among millions).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012_voucher_funnel'
down_revision: str | None = '0011_audit_lookup'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EXPIRY = sa.text("kind = 'expiry'")


def upgrade() -> None:
    op.create_index('ix_vouchers_campaign_currency', 'vouchers', ['campaign_id', 'currency'], unique=False)
    op.create_index('ix_voucher_credit_lots_redemption', 'voucher_credit_lots',
                    ['redemption_id', 'granted', 'remaining', 'expires_at'], unique=False)
    op.create_index('ix_ledger_entries_expiry_redemption', 'ledger_entries',
                    ['voucher_redemption_id', 'amount', 'status'], unique=False,
                    sqlite_where=_EXPIRY, postgresql_where=_EXPIRY)


def downgrade() -> None:
    op.drop_index('ix_ledger_entries_expiry_redemption', table_name='ledger_entries')
    op.drop_index('ix_voucher_credit_lots_redemption', table_name='voucher_credit_lots')
    op.drop_index('ix_vouchers_campaign_currency', table_name='vouchers')

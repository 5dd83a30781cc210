"""voucher funnel: a campaign's codes, redemptions, credit lots and expired credit, read by campaign

Revision ID: 0014_voucher_funnel
Revises: 0013_staff_last_login

The Vouchers workspace lists every campaign with its funnel (codes issued, redeemed, credit
granted, spent, expired, outstanding) over a million vouchers within 200 ms. Counting a
million codes took 225 ms on SQLite even from a covering index, and reaching a redemption's
campaign through its voucher (a random read into a million wide rows each) 600 ms for 100,000
redemptions. So the codes issued per campaign and currency are kept as a stored figure
(``voucher_campaign_codes``, moved only by an issue, in the issue's transaction), a
redemption keeps its voucher's campaign (``voucher_redemptions.campaign_id``, set once when
it is made and never changed), and the ledger's expiry rows get a partial index by
redemption (expiry rows are few among millions). Both are filled here from the rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014_voucher_funnel'
down_revision: str | None = '0013_staff_last_login'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EXPIRY = sa.text("kind = 'expiry'")


def upgrade() -> None:
    op.create_table(
        'voucher_campaign_codes',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('codes', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['voucher_campaigns.id'],
                                name=op.f('fk_voucher_campaign_codes_campaign_id_voucher_campaigns')),
        sa.ForeignKeyConstraint(['currency'], ['currencies.code'],
                                name=op.f('fk_voucher_campaign_codes_currency_currencies')),
        sa.PrimaryKeyConstraint('campaign_id', 'currency', name=op.f('pk_voucher_campaign_codes')),
    )
    op.execute("INSERT INTO voucher_campaign_codes (campaign_id, currency, codes) "
               "SELECT campaign_id, currency, COUNT(*) FROM vouchers WHERE campaign_id IS NOT NULL "
               "GROUP BY campaign_id, currency")
    with op.batch_alter_table('voucher_redemptions') as batch_op:
        batch_op.add_column(sa.Column('campaign_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_voucher_redemptions_campaign_id_voucher_campaigns'),
                                    'voucher_campaigns', ['campaign_id'], ['id'])
    op.execute("UPDATE voucher_redemptions SET campaign_id = "
               "(SELECT campaign_id FROM vouchers WHERE vouchers.id = voucher_redemptions.voucher_id)")
    op.create_index('ix_voucher_redemptions_campaign', 'voucher_redemptions',
                    ['campaign_id', 'currency', 'amount'], unique=False)
    op.create_index('ix_ledger_entries_expiry_redemption', 'ledger_entries',
                    ['voucher_redemption_id', 'amount', 'status'], unique=False,
                    sqlite_where=_EXPIRY, postgresql_where=_EXPIRY)


def downgrade() -> None:
    op.drop_index('ix_ledger_entries_expiry_redemption', table_name='ledger_entries')
    op.drop_index('ix_voucher_redemptions_campaign', table_name='voucher_redemptions')
    with op.batch_alter_table('voucher_redemptions') as batch_op:
        batch_op.drop_constraint(op.f('fk_voucher_redemptions_campaign_id_voucher_campaigns'), type_='foreignkey')
        batch_op.drop_column('campaign_id')
    op.drop_table('voucher_campaign_codes')

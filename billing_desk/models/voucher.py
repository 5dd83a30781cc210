"""Vouchers, their campaigns, redemptions and the redemption attempts the brute-force guard counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from billing_desk.models.base import Base, BigPK, CurrencyCode, IntPK, MinorUnits, UTCTimestamp


class VoucherCampaign(Base):
    __tablename__ = "voucher_campaigns"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[UTCTimestamp]


class VoucherCampaignCodes(Base):
    """How many codes a campaign has in a currency: a stored figure, moved only by an issue in its
    own transaction, so that the campaigns list need not count a million vouchers (migration 0014)."""

    __tablename__ = "voucher_campaign_codes"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("voucher_campaigns.id"), primary_key=True)
    currency: Mapped[CurrencyCode] = mapped_column(ForeignKey("currencies.code"), primary_key=True)
    codes: Mapped[int] = mapped_column(BigInteger)


class VoucherBatch(Base):
    """Codes issued into a file (`voucher issue --out`). They are committed pending and turn
    active only after the file is whole at its final name, so a crash in between leaves codes
    that can never be redeemed rather than live codes without a file (services/vouchers/batches.py).
    """

    __tablename__ = "voucher_batches"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'active', 'void')", name="state"),
        CheckConstraint("codes >= 1", name="codes_positive"),
        Index("ix_voucher_batches_state_created_at", "state", "created_at"),
    )

    id: Mapped[IntPK]
    state: Mapped[str] = mapped_column(String(8))
    codes: Mapped[int]
    out_path: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[UTCTimestamp]
    settled_at: Mapped[datetime | None]


class Voucher(Base):
    __tablename__ = "vouchers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("max_redemptions >= 1", name="max_redemptions_positive"),
        CheckConstraint("redemption_count <= max_redemptions", name="not_over_redeemed"),
        Index("ix_vouchers_campaign_id", "campaign_id"),
        Index("ix_vouchers_last4", "last4"),
        Index("ix_vouchers_created_at", "created_at"),
    )

    id: Mapped[BigPK]
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("voucher_campaigns.id"))
    # A keyed hash of the normalised code: the plain code is never stored.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last4: Mapped[str] = mapped_column(String(4))
    amount: Mapped[MinorUnits]
    currency: Mapped[CurrencyCode] = mapped_column(ForeignKey("currencies.code"))
    valid_from: Mapped[datetime | None]
    valid_until: Mapped[datetime | None]
    max_redemptions: Mapped[int] = mapped_column(default=1)
    redemption_count: Mapped[int] = mapped_column(default=0)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    credit_days: Mapped[int | None]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[UTCTimestamp]
    # Set for codes issued into a file: they redeem only while that batch is active.
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("voucher_batches.id"))


class VoucherRedemption(Base):
    __tablename__ = "voucher_redemptions"
    __table_args__ = (
        UniqueConstraint("voucher_id", "customer_id", name="uq_voucher_redemptions_voucher_customer"),
        Index("ix_voucher_redemptions_customer_at", "customer_id", "redeemed_at"),
        Index("ix_voucher_redemptions_campaign", "campaign_id", "currency", "amount"),  # the campaign funnel
    )

    id: Mapped[BigPK]
    voucher_id: Mapped[int] = mapped_column(ForeignKey("vouchers.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    amount: Mapped[MinorUnits]
    currency: Mapped[CurrencyCode] = mapped_column(ForeignKey("currencies.code"))
    redeemed_at: Mapped[UTCTimestamp]
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # The voucher's campaign, copied when the redemption is made (a voucher never changes
    # campaign): the funnel groups redemptions by it without reading a million vouchers.
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("voucher_campaigns.id"))


class VoucherAttempt(Base):
    """Every failed code entry for a customer, for the brute-force guard's 15-minute window."""

    __tablename__ = "voucher_attempts"
    __table_args__ = (Index("ix_voucher_attempts_customer_at", "customer_id", "attempted_at"),)

    id: Mapped[BigPK]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    attempted_at: Mapped[UTCTimestamp]
    succeeded: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))

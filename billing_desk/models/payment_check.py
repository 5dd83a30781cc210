"""Every time the desk asked a gateway about a payment, and what it heard: a payment's story."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from billing_desk.models.base import Base, BigPK, UTCTimestamp


class PaymentCheck(Base):
    __tablename__ = "payment_checks"
    __table_args__ = (Index("ix_payment_checks_payment_checked_id", "payment_id", "checked_at", "id"),)

    id: Mapped[BigPK]
    payment_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("payments.id"))
    checked_at: Mapped[UTCTimestamp]
    # Who asked: a staff member (a desk's refresh or re-check), or nobody (a scheduled job);
    # ``run_id`` ties together the checks one reconcile run made.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    run_id: Mapped[str | None] = mapped_column(String(32))
    trigger: Mapped[str] = mapped_column(String(12))  # reconcile, refresh, recheck
    outcome: Mapped[str] = mapped_column(String(12))  # paid, failed, pending, unknown, refused, error
    answer: Mapped[str | None] = mapped_column(Text)  # the gateway's answer in a few words, scrubbed

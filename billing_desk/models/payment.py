"""Top-up payments through the gateways, from pending to success or failed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from billing_desk.models.base import Base, BigPK, CurrencyCode, MinorUnits, UTCTimestamp


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'success', 'failed')", name="status"),
        CheckConstraint("method IN ('vnpay', 'stripe', 'paypal')", name="method"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payments_customer_created_id", "customer_id", "created_at", "id"),
        Index("ix_payments_status_created_id", "status", "created_at", "id"),
        Index("ix_payments_created_id", "created_at", "id"),
        Index("ix_payments_gateway_reference", "gateway_reference"),
        # Finance's review (migration 0010, which says why each): pages walk a filter's index in
        # date or amount order; totals and charts read covering indexes only.
        Index("ix_payments_method_created_id", "method", "created_at", "id"),
        Index("ix_payments_method_currency_status_amount", "method", "currency", "status", "amount"),
        Index("ix_payments_currency_created_id", "currency", "created_at", "id", "status", "amount"),
        Index("ix_payments_created_by_created_id", "created_by", "created_at", "id", "currency", "status", "amount"),
        Index("ix_payments_amount_id", "amount", "id"),
        Index("ix_payments_currency_amount_id", "currency", "amount", "id", "status"),
        Index("ix_payments_currency_status_amount", "currency", "status", "amount"),
        Index("ix_payments_figures", "status", "method", "currency", "settled_at", "amount"),
        # PostgreSQL's charts read one settled_at range and hash the groups (SQLite would sort them).
        Index("ix_payments_settled_figures", "settled_at", "status", "method", "currency",
              "amount").ddl_if(dialect="postgresql"),
    )

    id: Mapped[BigPK]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    amount: Mapped[MinorUnits]
    currency: Mapped[CurrencyCode] = mapped_column(ForeignKey("currencies.code"))
    method: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(Text)
    # Our idempotency key, stored before the first gateway call and reused on every retry.
    idempotency_key: Mapped[str] = mapped_column(String(108), unique=True)
    gateway_reference: Mapped[str | None] = mapped_column(String(255))
    checkout_url: Mapped[str | None] = mapped_column(Text)
    # Gateway-specific facts needed to ask again later (e.g. VNPay's vnp_CreateDate), as JSON.
    gateway_data: Mapped[str] = mapped_column(Text, default="{}")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[UTCTimestamp]
    expires_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]
    last_checked_at: Mapped[datetime | None]
    check_count: Mapped[int] = mapped_column(default=0)
    # When reconciling it last failed on our side (a refused posting, a database error); the
    # reason says why. A pending payment with this set is one for finance's exceptions queue.
    flagged_at: Mapped[datetime | None]

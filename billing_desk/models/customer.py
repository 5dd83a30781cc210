"""Customers (the billing profile) and their cached balances."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from billing_desk.models.base import Base, BigPK, CurrencyCode, MinorUnits, UTCTimestamp


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint("billing_type IN ('personal', 'company')", name="billing_type"),
        Index("ix_customers_email", "email"),
        Index("ix_customers_name", "name"),
        Index("ix_customers_created_at", "created_at"),
    )

    id: Mapped[BigPK]
    account: Mapped[str] = mapped_column(String(32), unique=True)
    billing_type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(Text, default="")
    country: Mapped[str] = mapped_column(String(2))
    tax_code: Mapped[str | None] = mapped_column(String(64))
    currency: Mapped[str | None] = mapped_column(ForeignKey("currencies.code"))
    display_currency: Mapped[str | None] = mapped_column(String(3))
    # Lower-cased account, name, email and tax code: what search matches against.
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[UTCTimestamp]
    updated_at: Mapped[UTCTimestamp]


class CustomerBalance(Base):
    """The balance as a stored figure, kept equal to the ledger by every posting."""

    __tablename__ = "customer_balances"
    __table_args__ = (
        CheckConstraint("topup >= 0", name="topup_not_negative"),
        CheckConstraint("voucher >= 0", name="voucher_not_negative"),
        CheckConstraint("total = topup + voucher", name="total_is_sum"),
    )

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    currency: Mapped[CurrencyCode] = mapped_column(ForeignKey("currencies.code"))
    total: Mapped[MinorUnits] = mapped_column(default=0)
    topup: Mapped[MinorUnits] = mapped_column(default=0)
    voucher: Mapped[MinorUnits] = mapped_column(default=0)
    updated_at: Mapped[datetime]

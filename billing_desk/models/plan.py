"""The plans catalog, prices per currency, and each customer's subscription."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from billing_desk.models.base import Base, IntPK, MinorUnits, UTCTimestamp


class Plan(Base):
    __tablename__ = "plans"

    id: Mapped[IntPK]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    features: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of strings
    rank: Mapped[int] = mapped_column(default=0)  # orders plans from cheapest to richest
    retired_at: Mapped[datetime | None]
    created_at: Mapped[UTCTimestamp]


class PlanPrice(Base):
    __tablename__ = "plan_prices"
    __table_args__ = (CheckConstraint("monthly_price >= 0", name="price_not_negative"),)

    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), primary_key=True)
    currency: Mapped[str] = mapped_column(ForeignKey("currencies.code"), primary_key=True)
    monthly_price: Mapped[MinorUnits]


class Subscription(Base):
    __tablename__ = "subscriptions"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    period_start: Mapped[UTCTimestamp]
    period_end: Mapped[UTCTimestamp]
    scheduled_plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    updated_at: Mapped[UTCTimestamp]

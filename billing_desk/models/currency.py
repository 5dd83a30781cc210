"""The currencies table: code, exponent and name, seeded from domain.money."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from billing_desk.models.base import Base


class CurrencyRow(Base):
    __tablename__ = "currencies"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    exponent: Mapped[int]
    name: Mapped[str] = mapped_column(String(64))

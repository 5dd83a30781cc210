"""Staff accounts: role, password hash and the login-throttling state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from billing_desk.models.base import Base, IntPK, UTCTimestamp


class StaffUser(Base):
    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint("role IN ('support', 'finance', 'manager', 'admin')", name="role"),)

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(default=False)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    last_failed_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]  # the last successful login, at the desk or the CLI
    created_at: Mapped[UTCTimestamp]

"""The append-only, hash-chained audit log of every staff write."""

from __future__ import annotations

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from billing_desk.models.base import Base, BigPK, UTCTimestamp


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_staff_name_at", "staff_name", "at"),
        Index("ix_audit_log_entity_at", "entity", "at"),
        Index("ix_audit_log_at", "at"),
    )

    id: Mapped[BigPK]
    at: Mapped[UTCTimestamp]
    staff_id: Mapped[int | None]
    staff_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text)  # canonical JSON
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

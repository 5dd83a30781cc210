"""The append-only, hash-chained audit log of every staff write, and its head."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from billing_desk.models.base import Base, BigPK, UTCTimestamp


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_staff_name_at", "staff_name", "at"),
        Index("ix_audit_log_entity_at", "entity", "at"),
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_entity_entity_id_id", "entity", "entity_id", "id"),  # one thing's entries
        Index("ix_audit_log_action_at", "action", "at"),
    )

    # From hash version 2 on, the id is the chain's sequence number: the service assigns the
    # head's id + 1, because a database sequence skips values on rollback and a gap must
    # mean a deleted row.
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
    # Which columns the hash covers (services/audit/chain.py); rows from before 0005 are 1.
    hash_version: Mapped[int] = mapped_column(SmallInteger, server_default="1")


class AuditHead(Base):
    """The chain's anchor, one row: the newest audit row's id and hash and the row count.

    It moves in the same transaction as each append, and triggers let it move only one
    appended row forward, so cutting rows off the end of the log leaves a head that no
    longer matches it.
    """

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
    row_count: Mapped[int] = mapped_column(BigInteger)

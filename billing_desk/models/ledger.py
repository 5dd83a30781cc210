"""The credit ledger: append-only rows that every balance is the sum of.

Also the catalog of usage services and the voucher-credit lots that usage draws from
(earliest expiring first). A lot's ``remaining`` is, like the balance, a stored figure that
postings keep equal to its rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from billing_desk.models.base import Base, BigPK, CurrencyCode, IntPK, MinorUnits, UTCTimestamp


class UsageService(Base):
    __tablename__ = "usage_services"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(100), unique=True)
    is_usage: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[UTCTimestamp]


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('topup', 'voucher', 'usage', 'promotion', 'plan_charge', 'expiry', 'adjustment')",
            name="kind",
        ),
        CheckConstraint("status IN ('success', 'failed')", name="status"),
        CheckConstraint("source IN ('topup', 'voucher')", name="source"),
        CheckConstraint("key_scope IN ('system', 'external')", name="key_scope"),
        # A key names one charge within its issuer's space (KeyScope): the desk's own keys and
        # the keys of staff and the feed never collide. Partial, because keyless rows need no
        # entry, and so that it never competes with the history's indexes for keyless queries.
        Index("uq_ledger_entries_customer_scope_key_source", "customer_id", "key_scope", "idempotency_key", "source",
              unique=True, sqlite_where=text("idempotency_key IS NOT NULL"),
              postgresql_where=text("idempotency_key IS NOT NULL")),
        # The history screen's order and every filter's prefix: newest first per customer.
        Index("ix_ledger_entries_customer_created_id", "customer_id", "created_at", "id"),
        Index("ix_ledger_entries_customer_service_created_id", "customer_id", "service", "created_at", "id"),
        Index("ix_ledger_entries_customer_kind_created_id", "customer_id", "kind", "created_at", "id"),
        # The "failed only" filter: failed rows are rare, so walking them needs their own index.
        Index("ix_ledger_entries_customer_status_created_id", "customer_id", "status", "created_at", "id"),
        Index("ix_ledger_entries_payment_id", "payment_id"),
        # A voucher campaign's expired credit (its funnel): the few expiry rows, by redemption.
        Index("ix_ledger_entries_expiry_redemption", "voucher_redemption_id", "amount", "status",
              sqlite_where=text("kind = 'expiry'"), postgresql_where=text("kind = 'expiry'")),
        # The description's text filter: pg_trgm on PostgreSQL; on SQLite the migration adds
        # an FTS5 trigram table, ledger_search, filled by an insert trigger.
        Index("ix_ledger_entries_description_trgm", "description", postgresql_using="gin",
              postgresql_ops={"description": "gin_trgm_ops"}).ddl_if(dialect="postgresql"),
    )

    id: Mapped[BigPK]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    created_at: Mapped[UTCTimestamp]
    kind: Mapped[str] = mapped_column(String(16))
    service: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(8))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[MinorUnits]
    currency: Mapped[CurrencyCode] = mapped_column(ForeignKey("currencies.code"))
    source: Mapped[str] = mapped_column(String(8))
    # Plain ids, not foreign keys: the ledger's migration predates the payments and voucher
    # tables, and the posting service is the only writer of these columns.
    payment_id: Mapped[int | None] = mapped_column(BigInteger)
    voucher_redemption_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    key_scope: Mapped[str] = mapped_column(String(8), default="system", server_default="system")


class VoucherCreditLot(Base):
    """Voucher credit granted to a customer, with its expiry and what is left of it."""

    __tablename__ = "voucher_credit_lots"
    __table_args__ = (
        CheckConstraint("remaining >= 0", name="remaining_not_negative"),
        CheckConstraint("remaining <= granted", name="remaining_within_grant"),
        Index("ix_voucher_credit_lots_customer_expires", "customer_id", "expires_at"),
        Index("ix_voucher_credit_lots_expires_remaining", "expires_at", "remaining"),
    )

    id: Mapped[BigPK]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    redemption_id: Mapped[int | None] = mapped_column(BigInteger)  # plain id, as in LedgerEntry
    granted: Mapped[MinorUnits]
    remaining: Mapped[MinorUnits]
    expires_at: Mapped[datetime | None]
    created_at: Mapped[UTCTimestamp]

"""The audit trail: one hash-chained row per staff write, in the writer's transaction.

Each row's hash covers its own columns and the previous row's hash (services/audit/chain.py),
so an edited, deleted or reordered row breaks the chain at that point. The head record
(``audit_head``: newest id, newest hash, row count) moves with every append in the same
transaction, so rows cut off the end, or the whole log truncated, no longer match it.
Appends are serialised (an advisory lock on PostgreSQL, the write lock on SQLite) so that two
desks never chain onto the same row. What the chain cannot show on its own, and how a head
hash kept outside the database closes that, is in docs/RELIABILITY.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from billing_desk.domain.errors import Conflict
from billing_desk.domain.ids import MAX_ROW_ID, check_whole
from billing_desk.domain.permissions import Actor, Permission
from billing_desk.domain.text import clean_token
from billing_desk.models import AuditEntry, AuditHead, utcnow
from billing_desk.services.audit.browse import (
    MAX_PAGE,
    AuditFilters,
    AuditPage,
    Cursor,
    CustomerLookup,
    checked_filters,
    distinct_values,
    read_page,
    resolve_filter_customer,
)
from billing_desk.services.audit.chain import CURRENT_HASH_VERSION, canonical_json, row_hash
from billing_desk.services.audit.export import export_audit
from billing_desk.services.audit.verify import AuditVerification, CancelCheck, Progress, verify_chain
from billing_desk.services.uow import UnitOfWorkFactory

_AUDIT_LOCK_KEY = 727_001  # pg_advisory_xact_lock key reserved for the audit chain


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object,
    summary: dict[str, Any],
    reason: str | None = None,
) -> AuditEntry:
    """Append one audit row in ``session``'s transaction (call it last, just before commit)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK_KEY})
    # Read with Core, not the identity map: a session kept across commits would otherwise
    # chain onto a head another desk has since moved.
    head = session.execute(select(AuditHead.last_id, AuditHead.last_hash)).one_or_none()
    if head is None:
        raise Conflict(
            "The audit log's head record is missing, so no audited change can be saved; "
            "ask an admin to run `billing-desk audit verify`."
        )
    entry = AuditEntry(
        id=head.last_id + 1,
        hash_version=CURRENT_HASH_VERSION,
        at=utcnow(),
        staff_id=actor.staff_id,
        staff_name=actor.name,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        summary=canonical_json(summary),
        reason=reason,
        prev_hash=head.last_hash,
    )
    entry.hash = _entry_hash(entry)
    session.add(entry)
    session.flush()
    session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(last_id=entry.id, last_hash=entry.hash, row_count=AuditHead.row_count + 1)
        .execution_options(synchronize_session=False)
    )
    return entry


def _entry_hash(entry: AuditEntry) -> str:
    digest = row_hash({c.key: getattr(entry, c.key) for c in AuditEntry.__table__.columns if c.key != "hash"})
    assert digest is not None  # the current version always has a column list
    return digest


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    at: datetime
    staff_name: str
    action: str
    entity: str
    entity_id: str
    summary: dict[str, Any]
    reason: str | None
    customer: str | None = None  # the account of the customer the row names, if any

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "staff": self.staff_name,
            "action": self.action,
            "entity": self.entity,
            "entity_id": self.entity_id,
            "summary": self.summary,
            "reason": self.reason,
            "customer": self.customer,
        }

    @classmethod
    def of(cls, r: dict[str, Any]) -> AuditRow:
        """From a page's raw row (browse.read_page)."""
        return cls(r["id"], r["at"], r["staff_name"], r["action"], r["entity"], r["entity_id"], r["summary"],
                   r["reason"], r.get("customer"))


class AuditService:
    def __init__(self, uow: UnitOfWorkFactory, customer_lookup: CustomerLookup | None = None) -> None:
        self._uow = uow
        self._lookup = customer_lookup

    def list(
        self,
        actor: Actor,
        *,
        by: str | None = None,
        entity: str | None = None,
        since: datetime | None = None,
        limit: int = 200,
    ) -> list[AuditRow]:
        actor.require(Permission.AUDIT_READ)
        check_whole(limit, "limit", "number of audit rows", low=1, high=MAX_ROW_ID)
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        by, entity = clean_token(by, "by", "staff name"), clean_token(entity, "entity")
        if by:
            query = query.where(AuditEntry.staff_name == by)
        if entity:
            query = query.where(AuditEntry.entity == entity)
        if since:
            query = query.where(AuditEntry.at >= since)
        with self._uow.read() as uow:
            return [
                AuditRow(e.id, e.at, e.staff_name, e.action, e.entity, e.entity_id, json.loads(e.summary), e.reason)
                for e in uow.session.scalars(query)
            ]

    def page(self, actor: Actor, filters: AuditFilters | None = None, after: Cursor | None = None,
             limit: int = 100) -> AuditPage:
        """One page of the log, newest first (browse.py: the order, the cursor and how a
        customer's rows are found); ``next_cursor`` is None on the last page."""
        actor.require(Permission.AUDIT_READ)
        check_whole(limit, "limit", "number of audit rows", low=1, high=MAX_PAGE)
        f = checked_filters(filters or AuditFilters())
        with self._uow.read() as uow:
            customer = resolve_filter_customer(uow.session, f, self._lookup)
            rows, cursor = read_page(uow.session, f, customer, after, limit)
        return AuditPage(tuple(AuditRow.of(r) for r in rows), cursor)

    def staff_names(self, actor: Actor) -> tuple[str, ...]:
        """Every name the log has rows under (also of staff since removed or renamed)."""
        actor.require(Permission.AUDIT_READ)
        with self._uow.read() as uow:
            return tuple(distinct_values(uow.session, "staff_name"))

    def actions(self, actor: Actor) -> tuple[str, ...]:
        actor.require(Permission.AUDIT_READ)
        with self._uow.read() as uow:
            return tuple(distinct_values(uow.session, "action"))

    def verify(self, actor: Actor, *, expect_head: str | None = None, progress: Progress | None = None,
               cancel: CancelCheck | None = None) -> AuditVerification:
        """Walk the chain and hold it against its head, and against ``expect_head`` (a head
        hash recorded outside the database earlier) when given. ``progress(done, total)``
        hears of each page; ``cancel()`` turning true raises Cancelled between pages."""
        actor.require(Permission.AUDIT_READ)
        with self._uow.read() as uow:
            return verify_chain(uow.session, expect_head, progress, cancel)

    def export(self, actor: Actor, filters: AuditFilters | None, path: str | Path, fmt: str | None = None,
               progress: Progress | None = None, cancel: CancelCheck | None = None) -> Any:
        """The filtered log to .xlsx or .csv (export.py)."""
        return export_audit(self._uow, actor, filters, path, fmt, progress, cancel, record=record,
                            lookup=self._lookup)


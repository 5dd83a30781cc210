"""The audit trail: one hash-chained row per staff write, in the writer's transaction.

Each row's hash covers its own content and the previous row's hash, so an edited, deleted
or reordered row breaks the chain at that point. Appends are serialised (an advisory lock
on PostgreSQL, the write lock on SQLite) so that two desks never chain onto the same row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from billing_desk.domain.permissions import Actor, Permission
from billing_desk.domain.text import clean_token
from billing_desk.models import AuditEntry, utcnow
from billing_desk.services.uow import UnitOfWorkFactory

GENESIS_HASH = "0" * 64
_AUDIT_LOCK_KEY = 727_001  # pg_advisory_xact_lock key reserved for the audit chain


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _row_hash(
    prev_hash: str,
    at: datetime,
    staff_name: str,
    action: str,
    entity: str,
    entity_id: str,
    summary: str,
    reason: str | None,
) -> str:
    payload = canonical_json([prev_hash, at.isoformat(), staff_name, action, entity, entity_id, summary, reason])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


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
    prev = session.execute(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar()
    at = utcnow()
    summary_json = canonical_json(summary)
    entry = AuditEntry(
        at=at,
        staff_id=actor.staff_id,
        staff_name=actor.name,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        summary=summary_json,
        reason=reason,
        prev_hash=prev or GENESIS_HASH,
        hash=_row_hash(prev or GENESIS_HASH, at, actor.name, action, entity, str(entity_id), summary_json, reason),
    )
    session.add(entry)
    session.flush()
    return entry


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
        }


@dataclass(frozen=True, slots=True)
class AuditVerification:
    checked: int
    broken_id: int | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.broken_id is None


class AuditService:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

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

    def verify(self, actor: Actor) -> AuditVerification:
        actor.require(Permission.AUDIT_READ)
        with self._uow.read() as uow:
            checked = 0
            expected_prev = GENESIS_HASH
            for row in _stream(uow.session):
                recomputed = _row_hash(
                    row.prev_hash,
                    row.at,
                    row.staff_name,
                    row.action,
                    row.entity,
                    row.entity_id,
                    row.summary,
                    row.reason,
                )
                if row.prev_hash != expected_prev:
                    return AuditVerification(checked, row.id, "does not link to the row before it")
                if recomputed != row.hash:
                    return AuditVerification(checked, row.id, "its content does not match its hash")
                expected_prev = row.hash
                checked += 1
            return AuditVerification(checked, None, None)


def _stream(session: Session, page: int = 5000) -> Iterator[AuditEntry]:
    last_id = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(page)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        session.expunge_all()

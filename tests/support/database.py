"""Straight to the database, around the services: raw SQL reads, Core statements as test set-up
(moving dates into the past), and the audit rows a service wrote."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, text

from billing_desk.bootstrap import App
from billing_desk.models import AuditEntry


def audit_rows(app: App, action: str) -> list[dict[str, Any]]:
    with app.uow.read() as uow:
        rows = uow.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        return [{"entity_id": r.entity_id, "summary": json.loads(r.summary), "reason": r.reason,
                 "staff": r.staff_name} for r in rows]


def run(app: App, statement: Any) -> None:
    """Run a Core statement directly: test set-up that moves dates into the past."""
    with app.uow.write() as uow:
        uow.session.execute(statement)
        uow.commit()


def raw(app: App, statement: str, **params: Any) -> list[Any]:
    with app.uow.read() as uow:
        return list(uow.session.execute(text(statement), params))

"""The staff every test database starts with: admin, manager, support and finance, one password."""

from __future__ import annotations

from dataclasses import dataclass

from billing_desk.domain.permissions import Actor

STAFF_PASSWORD = "correct-horse-battery"
ROLES = ("admin", "manager", "support", "finance")


@dataclass(frozen=True)
class StaffActors:
    admin: Actor
    manager: Actor
    support: Actor
    finance: Actor

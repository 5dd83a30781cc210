"""The staff domain's frozen data: a staff member as the CLI and the desk see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class StaffDTO:
    id: int
    name: str
    role: str
    disabled: bool
    created_at: datetime
    # The lock-out state, and the last successful login (desk or CLI).
    failed_logins: int = 0
    last_failed_at: datetime | None = None
    locked_until: datetime | None = None
    last_login_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "disabled": self.disabled,
            "created_at": self.created_at.isoformat(),
            "failed_logins": self.failed_logins,
            "last_failed_at": self.last_failed_at.isoformat() if self.last_failed_at else None,
            "locked_until": self.locked_until.isoformat() if self.locked_until else None,
            "last_login_at": self.last_login_at.isoformat() if self.last_login_at else None,
        }

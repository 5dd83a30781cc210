"""The staff domain: accounts, roles, passwords (Argon2id) and log-in with lock-out.
"""

from __future__ import annotations

from billing_desk.services.staff.service import StaffService, hash_password

__all__ = [
    "StaffService",
    "hash_password",
]

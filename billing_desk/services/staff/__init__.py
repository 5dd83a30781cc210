"""The staff domain: accounts, roles, passwords (Argon2id) and log-in with lock-out.
"""

from __future__ import annotations

from billing_desk.services.staff.dtos import StaffDTO
from billing_desk.services.staff.passwords import MIN_PASSWORD, check_new_password
from billing_desk.services.staff.service import StaffService, hash_password

__all__ = [
    "MIN_PASSWORD",
    "StaffDTO",
    "StaffService",
    "check_new_password",
    "hash_password",
]

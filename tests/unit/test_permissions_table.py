"""The role table as staff rely on it: who may export what."""

from __future__ import annotations

import pytest

from billing_desk.domain.enums import Role
from billing_desk.domain.errors import PermissionDenied
from billing_desk.domain.permissions import Actor, Permission


def test_every_role_may_export_a_customers_credit_history() -> None:
    for role in Role:
        Actor(1, role.value, role).require(Permission.HISTORY_EXPORT)


def test_support_may_not_make_bulk_exports() -> None:
    support = Actor(1, "binh", Role.SUPPORT)
    with pytest.raises(PermissionDenied, match="binh \\(support\\) may not export data"):
        support.require(Permission.EXPORT)
    assert Actor(2, "chi", Role.FINANCE).can(Permission.EXPORT)

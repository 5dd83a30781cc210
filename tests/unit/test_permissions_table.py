"""The role table as staff rely on it: who may export what."""

from __future__ import annotations

from itertools import takewhile
from pathlib import Path

import pytest

from billing_desk.domain.enums import Role
from billing_desk.domain.errors import PermissionDenied
from billing_desk.domain.permissions import ROLE_PERMISSIONS, Actor, Permission


def test_every_role_may_export_a_customers_credit_history() -> None:
    for role in Role:
        Actor(1, role.value, role).require(Permission.HISTORY_EXPORT)


def test_support_may_not_make_bulk_exports() -> None:
    support = Actor(1, "binh", Role.SUPPORT)
    with pytest.raises(PermissionDenied, match="binh \\(support\\) may not make bulk exports"):
        support.require(Permission.EXPORT)
    assert Actor(2, "chi", Role.FINANCE).can(Permission.EXPORT)


def test_the_readme_table_is_the_permission_table() -> None:
    """Staff read the README to learn who may do what; it must say what the services enforce."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("| Permission | support | finance | manager | admin |")
    rows = list(takewhile(lambda line: line.startswith("| "), readme[start:].splitlines()[2:]))
    roles = (Role.SUPPORT, Role.FINANCE, Role.MANAGER, Role.ADMIN)
    documented = {cells[0]: {r for r, c in zip(roles, cells[1:], strict=True) if c == "✓"}
                  for cells in ([c.strip() for c in row.strip("|").split("|")] for row in rows)}
    assert documented == {p.value: {r for r in roles if p in ROLE_PERMISSIONS[r]} for p in Permission}

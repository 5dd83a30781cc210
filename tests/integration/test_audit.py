"""The audit log: a row per staff write, a hash chain that reveals tampering."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from billing_desk.bootstrap import App
from billing_desk.domain.errors import PermissionDenied


def _tamper(app: App, sql: str) -> None:
    """Change a row behind the application's back, as someone with database access might."""
    with app.database.engine.begin() as conn:
        if app.database.is_sqlite:
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
            conn.execute(text(sql))
        else:
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
            conn.execute(text(sql))


def test_each_write_adds_one_row_with_before_and_after(app: App, staff) -> None:
    c = app.customers.create(staff.support, name="Mai", email="mai@example.vn", country="VN", billing_type="personal")
    app.customers.update(staff.support, c.id, email="mai2@example.vn")
    rows = app.audit.list(staff.manager, entity="customer")
    assert [r.action for r in rows] == ["customer.update", "customer.create"]
    assert rows[0].summary["changes"] == {"email": {"before": "mai@example.vn", "after": "mai2@example.vn"}}
    assert rows[0].staff_name == "support"


def test_verify_passes_then_finds_the_first_tampered_row(app: App, staff) -> None:
    for i in range(5):
        app.customers.create(
            staff.support, name=f"C{i}", email=f"c{i}@example.com", country="US", billing_type="personal"
        )
    result = app.audit.verify(staff.admin)
    assert result.ok and result.checked >= 8  # 3 staff added in the template + 5 customers
    target = app.audit.list(staff.admin, entity="customer", limit=500)[-2].id
    _tamper(app, f"UPDATE audit_log SET summary = '{{}}' WHERE id = {target}")
    broken = app.audit.verify(staff.admin)
    assert broken.broken_id == target and "does not match" in (broken.problem or "")


def test_reading_the_audit_log_is_for_managers_and_admins(app: App, staff) -> None:
    for actor in (staff.support, staff.finance):
        with pytest.raises(PermissionDenied):
            app.audit.verify(actor)
        with pytest.raises(PermissionDenied):
            app.audit.list(actor)


def test_audit_cli(cli, app: App, staff) -> None:
    app.customers.create(staff.support, name="Kenji", email="k@example.jp", country="JP", billing_type="personal")
    r = cli("audit", "verify", "--user", "manager")
    assert r.code == 0 and "rows checked" in r.out
    r = cli(
        "audit",
        "list",
        "--by",
        "support",
        "--entity",
        "customer",
        "--since",
        "2020-01-01",
        "--json",
        "--user",
        "manager",
    )
    rows = json.loads(r.out)
    assert r.code == 0 and rows[0]["action"] == "customer.create" and rows[0]["staff"] == "support"
    r = cli("audit", "list", "--since", "yesterday", "--user", "manager")
    assert r.code == 2 and "YYYY-MM-DD" in r.err
    _tamper(app, "UPDATE audit_log SET staff_name = 'mallory' WHERE id = 1")
    r = cli("audit", "verify", "--user", "manager")
    assert r.code == 1 and "broken at row 1" in r.err

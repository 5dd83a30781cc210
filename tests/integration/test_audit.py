"""The audit log: a row per staff write, a hash chain that reveals tampering."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from billing_desk.bootstrap import App
from billing_desk.domain.errors import PermissionDenied


def _tamper(app: App, *statements: str) -> None:
    """Change the log behind the application's back, as someone with schema access might:
    every guard trigger on the audit tables is dropped (SQLite) or disabled (PostgreSQL) first."""
    with app.database.engine.begin() as conn:
        tables = [t for t in ("audit_log", "audit_head") if inspect(conn).has_table(t)]
        if app.database.is_sqlite:
            guards = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('audit_log', 'audit_head')"
            for (name,) in conn.execute(text(guards)):
                conn.exec_driver_sql(f"DROP TRIGGER {name}")
        else:
            for table in tables:
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        for sql in statements:
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


def _add_customers(app: App, staff, n: int) -> None:
    for i in range(n):
        app.customers.create(
            staff.support, name=f"C{i}", email=f"c{i}@example.com", country="US", billing_type="personal"
        )


def _newest_id(app: App) -> int:
    with app.database.engine.connect() as conn:
        return int(conn.execute(text("SELECT max(id) FROM audit_log")).scalar_one())


def test_staff_id_is_covered_by_the_hash(app: App, staff) -> None:
    _add_customers(app, staff, 3)
    target = _newest_id(app) - 1
    _tamper(app, f"UPDATE audit_log SET staff_id = 4 WHERE id = {target}")
    broken = app.audit.verify(staff.admin)
    assert not broken.ok and broken.broken_id == target and "does not match" in (broken.problem or "")


def test_deleting_the_newest_row_is_detected_through_the_head(app: App, staff) -> None:
    _add_customers(app, staff, 3)
    newest = _newest_id(app)
    _tamper(app, f"DELETE FROM audit_log WHERE id = {newest}")
    broken = app.audit.verify(staff.admin)
    assert not broken.ok and broken.broken_id == newest
    assert "missing" in (broken.problem or "") and "head" in (broken.problem or "")


def test_a_gap_in_the_sequence_names_the_missing_row(app: App, staff) -> None:
    _add_customers(app, staff, 3)
    missing = _newest_id(app) - 1
    _tamper(app, f"DELETE FROM audit_log WHERE id = {missing}")
    broken = app.audit.verify(staff.admin)
    assert not broken.ok and broken.broken_id == missing and "missing" in (broken.problem or "")


def test_truncation_is_refused_on_postgresql_and_detected_anyway(app: App, staff) -> None:
    _add_customers(app, staff, 2)
    if not app.database.is_sqlite:  # SQLite has no TRUNCATE; its DELETE trigger refuses the same
        for table in ("audit_log", "audit_head"):
            with app.database.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text(f"TRUNCATE {table}"))
    _tamper(app, "DELETE FROM audit_log" if app.database.is_sqlite else "TRUNCATE audit_log")
    broken = app.audit.verify(staff.admin)
    assert not broken.ok and broken.checked == 0 and broken.broken_id == 1
    assert "missing" in (broken.problem or "")


def test_the_head_only_moves_with_an_appended_row(app: App, staff) -> None:
    _add_customers(app, staff, 1)
    for sql, refusal in (
        ("UPDATE audit_head SET row_count = row_count - 1", "audit_head moves only forward"),
        ("UPDATE audit_head SET last_id = last_id - 1", "audit_head moves only forward"),
        ("DELETE FROM audit_head", "audit_head moves only forward"),
        ("INSERT INTO audit_head (id, last_id, last_hash, row_count) VALUES (2, 0, 'x', 0)", "audit_head"),
        ("DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)", "append-only"),
        (
            "INSERT INTO audit_log (id, at, staff_name, action, entity, entity_id, summary, prev_hash, hash, "
            "hash_version) SELECT id + 1, at, staff_name, action, entity, entity_id, summary, 'x', 'y', 2 "
            "FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)",
            "must follow the audit head",
        ),
    ):
        with app.database.engine.connect() as conn, pytest.raises(DBAPIError, match=refusal):
            conn.execute(text(sql))
    assert app.audit.verify(staff.admin).ok


def test_a_consistent_rewrite_of_the_tail_needs_the_recorded_head(app: App, staff) -> None:
    """Someone who deletes the newest rows and rewrites the head to match leaves the database
    consistent; only a head hash recorded outside it (`verify --expect-head`) reveals that."""
    _add_customers(app, staff, 3)
    recorded = app.audit.verify(staff.admin)
    assert recorded.ok and recorded.head is not None
    newest = recorded.head.last_id
    _tamper(
        app,
        f"DELETE FROM audit_log WHERE id = {newest}",
        f"UPDATE audit_head SET last_id = {newest - 1}, row_count = row_count - 1, "
        f"last_hash = (SELECT hash FROM audit_log WHERE id = {newest - 1})",
    )
    assert app.audit.verify(staff.admin).ok  # the limit RELIABILITY.md states
    broken = app.audit.verify(staff.admin, expect_head=recorded.head.last_hash)
    assert not broken.ok and "recorded head" in (broken.problem or "")
    older = app.audit.verify(staff.admin, expect_head=_hash_of(app, newest - 2))
    assert older.ok  # a head recorded earlier is still in the chain


def _hash_of(app: App, row_id: int) -> str:
    with app.database.engine.connect() as conn:
        return str(conn.execute(text("SELECT hash FROM audit_log WHERE id = :id"), {"id": row_id}).scalar_one())


def test_verify_json_prints_the_head_and_checks_a_recorded_one(cli, app: App, staff) -> None:
    _add_customers(app, staff, 1)
    r = cli("audit", "verify", "--json", "--user", "manager")
    out = json.loads(r.out)
    assert r.code == 0 and out["ok"] is True and out["broken_id"] is None and out["problem"] is None
    head = out["head"]
    assert head["id"] == _newest_id(app) and head["rows"] == out["checked"]
    assert head["hash"] == _hash_of(app, head["id"])
    r = cli("audit", "verify", "--expect-head", head["hash"], "--user", "manager")
    assert r.code == 0 and head["hash"] in r.out
    r = cli("audit", "verify", "--json", "--expect-head", "ab" * 32, "--user", "manager")
    assert r.code == 1 and json.loads(r.out)["ok"] is False
    r = cli("audit", "verify", "--expect-head", "not-a-hash", "--user", "manager")
    assert r.code == 2 and "64" in r.err
    newest = _newest_id(app)
    _tamper(app, f"DELETE FROM audit_log WHERE id = {newest}")
    r = cli("audit", "verify", "--user", "manager")
    assert r.code == 1 and f"broken at row {newest}" in r.err


def test_concurrent_appends_chain_one_after_another_and_verify_sees_one_instant(app: App, staff) -> None:
    """Desks appending at once never fork the chain, and a verify running meanwhile reads the
    head and the rows as of one instant (never a row 'past the head' that was just added)."""
    before = app.audit.verify(staff.admin).checked
    results = []

    def desk(n: int) -> None:
        for i in range(8):
            app.customers.create(
                staff.support, name=f"D{n}-{i}", email=f"d{n}.{i}@example.com", country="US", billing_type="personal"
            )

    with ThreadPoolExecutor(max_workers=4) as pool:
        writers = [pool.submit(desk, n) for n in range(3)]
        while not all(w.done() for w in writers):
            results.append(app.audit.verify(staff.admin))
        for w in writers:
            w.result()
    assert results and all(r.ok for r in results), [r for r in results if not r.ok][:1]
    final = app.audit.verify(staff.admin)
    assert final.ok and final.checked == before + 24 and final.head is not None and final.head.rows == final.checked

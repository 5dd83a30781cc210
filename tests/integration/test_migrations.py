"""Schema: migrations from empty on both databases, the models match them, the version gate,
and the database-level guards (append-only audit log, locked currency)."""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, SAWarning

from billing_desk.bootstrap import App, build_app
from billing_desk.config import Settings
from billing_desk.database import check_schema, head_revision, open_database, upgrade
from billing_desk.domain.errors import SchemaBehind, SchemaMismatch
from billing_desk.models import Base


def _not_search_index(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Search indexes live only in the migration (FTS5 tables, trigram and lower() indexes)."""
    if type_ == "table" and name and re.search(r"_search(_[a-z]+)?$", name):
        return False
    return not (type_ == "index" and name and (name.endswith("_lower") or name.endswith("_trgm")))


def _compared_on(dialect: str):  # type: ignore[no-untyped-def]
    """``_not_search_index``, and a model index made for another database only (``ddl_if``) is
    not expected in this one."""
    def include(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
        only = getattr(obj, "_ddl_if", None)
        if type_ == "index" and only is not None and only.dialect not in (None, dialect):
            return False
        return _not_search_index(obj, name, type_, reflected, compare_to)
    return include


def test_upgrade_from_empty_reaches_head_and_matches_the_models(empty_db_url: str) -> None:
    upgrade(empty_db_url)
    engine = create_engine(empty_db_url)
    warnings.simplefilter("ignore", SAWarning)  # SQLite cannot reflect expression indexes
    try:
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head_revision()
            context = MigrationContext.configure(conn, opts={"include_object": _compared_on(conn.dialect.name)})
            diff = compare_metadata(context, Base.metadata)
            assert diff == []
            assert conn.execute(text("SELECT count(*) FROM currencies")).scalar() >= 25
    finally:
        engine.dispose()


def test_every_revision_upgrades_in_turn(empty_db_url: str) -> None:
    for revision in ("0001_foundation", "0002_ledger", "0003_payments", "0004_vouchers_plans", "0005_audit_anchor",
                     "0006_key_scopes", "0007_voucher_batches", "head"):
        upgrade(empty_db_url, revision)
    database = open_database(empty_db_url)
    check_schema(database.engine)
    database.dispose()


def _legacy_ledger(url: str) -> None:
    """A 0004 database with a customer, a settled top-up and a feed's usage, as desks wrote them."""
    upgrade(url, "0004_vouchers_plans")
    engine = create_engine(url)
    now = "2026-01-05 10:00:00"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO customers (id, account, billing_type, name, email, address, country, "
                          "currency, search_text, created_at, updated_at) VALUES (1, 'C00000001', 'personal', "
                          "'An', 'an@example.vn', '-', 'VN', 'VND', 'an', :t, :t)"), {"t": now})
        for kind, amount, key, description in (("topup", 500_000, "payment-7", "Top-up via VNPay"),
                                               ("usage", -1_000, "feed-1", "Storage usage for 1 model"),
                                               ("voucher", 2_000, None, "Voucher ...ABCD")):
            conn.execute(text("INSERT INTO ledger_entries (customer_id, created_at, kind, service, description, "
                              "status, amount, currency, source, idempotency_key) VALUES (1, :t, :kind, 'x', "
                              ":d, 'success', :a, 'VND', :src, :key)"),
                         {"t": now, "kind": kind, "a": amount, "key": key, "d": description,
                          "src": "voucher" if kind == "voucher" else "topup"})
    engine.dispose()


def test_key_scopes_upgrade_sorts_the_existing_keys_and_keeps_the_guards(empty_db_url: str) -> None:
    from alembic import command

    from billing_desk.database import alembic_config

    _legacy_ledger(empty_db_url)
    upgrade(empty_db_url)
    engine = create_engine(empty_db_url)
    try:
        with engine.begin() as conn:
            scopes = conn.execute(text("SELECT kind, key_scope FROM ledger_entries ORDER BY id")).all()
            assert [tuple(r) for r in scopes] == [("topup", "system"), ("usage", "external"), ("voucher", "system")]
            # The feed's own 'payment-7' no longer meets the top-up's key...
            feed_row = text("INSERT INTO ledger_entries (customer_id, created_at, kind, service, description, "
                            "status, amount, currency, source, idempotency_key, key_scope) VALUES (1, "
                            "'2026-01-06', 'usage', 'x', 'GPU hours', 'success', -5, 'VND', 'topup', "
                            "'payment-7', 'external')")
            conn.execute(feed_row)
        with engine.connect() as conn, pytest.raises(DBAPIError, match="(?i)unique"):
            conn.execute(feed_row)  # ...but within its own scope a key is still unique
        with engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text("UPDATE ledger_entries SET amount = 0"))
        if engine.dialect.name == "sqlite":  # the description search kept its insert trigger
            with engine.connect() as conn:
                found = conn.execute(text("SELECT rowid FROM ledger_search WHERE ledger_search MATCH 'GPU'")).all()
                assert len(found) == 1
                assert len(conn.execute(text("SELECT rowid FROM ledger_search WHERE ledger_search MATCH 'usage'"))
                           .all()) == 1
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_object": _compared_on(conn.dialect.name)})
            warnings.simplefilter("ignore", SAWarning)
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
    with pytest.raises(Exception, match="payment-7"):  # the old key space cannot hold both keys
        command.downgrade(alembic_config(empty_db_url), "0005_audit_anchor")


def test_key_scopes_downgrade_and_upgrade_again(empty_db_url: str) -> None:
    from alembic import command

    from billing_desk.database import alembic_config

    _legacy_ledger(empty_db_url)
    upgrade(empty_db_url)
    command.downgrade(alembic_config(empty_db_url), "0005_audit_anchor")
    upgrade(empty_db_url)
    database = open_database(empty_db_url)
    check_schema(database.engine)
    database.dispose()


def test_gate_refuses_empty_older_and_newer_schemas(empty_db_url: str) -> None:
    database = open_database(empty_db_url)
    try:
        with pytest.raises(SchemaBehind, match="has no Billing Desk schema yet") as empty:
            check_schema(database.engine)
        upgrade(empty_db_url, "0001_foundation")
        with pytest.raises(SchemaBehind, match="older than this Billing Desk") as older:
            check_schema(database.engine)
        for behind in (empty.value, older.value):  # the GUI shows these: the CLI adds its command itself
            assert "billing-desk" not in behind.message and "upgrade" not in behind.message
        upgrade(empty_db_url)
        with database.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
        with pytest.raises(SchemaMismatch, match="newer than this Billing Desk"):
            check_schema(database.engine)
    finally:
        database.dispose()


def test_cli_refuses_an_old_schema_with_the_command_to_run(
    empty_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from billing_desk.cli.main import main

    upgrade(empty_db_url, "0002_ledger")
    monkeypatch.setenv("BILLING_DESK_DATABASE_URL", empty_db_url)
    assert main(["customer", "find", "x", "--user", "admin"]) == SchemaMismatch.exit_code
    line = capsys.readouterr().err
    assert line.startswith("billing-desk: The database at ") and line.count("\n") == 1
    assert line.endswith(f"is at schema 0002_ledger, older than this Billing Desk ({head_revision()}): "
                         "run `billing-desk db upgrade`.\n")
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "current", "--json"]) == 0
    assert '"up_to_date": true' in capsys.readouterr().out


def test_audit_log_is_append_only_in_the_database(app: App) -> None:
    with app.database.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text("UPDATE audit_log SET action = 'x'"))
    with app.database.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text("DELETE FROM audit_log"))


def test_currency_cannot_change_even_bypassing_the_service(app: App, staff) -> None:
    c = app.customers.create(staff.support, name="Lan", email="lan@example.vn", country="VN", billing_type="personal")
    app.customers.set_currency(staff.support, c.id, "VND")
    with app.database.engine.connect() as conn, pytest.raises(DBAPIError, match="locked"):
        conn.execute(text("UPDATE customers SET currency = 'USD' WHERE id = :id"), {"id": c.id})


def test_database_that_does_not_answer_gives_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from billing_desk.cli.main import main

    monkeypatch.setenv("BILLING_DESK_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:1/nowhere")
    assert main(["customer", "find", "x", "--user", "admin"]) == 8
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Cannot reach the database" in err


def test_app_on_a_bad_url_is_a_config_error() -> None:
    from billing_desk.domain.errors import ConfigError

    with pytest.raises(ConfigError, match="not a database URL"):
        build_app(Settings(database_url="not a url", config_path=None))


def _v1_hash(prev: str, at: datetime, staff_name: str, action: str, entity: str, entity_id: str,
             summary: str, reason: str | None) -> str:
    """The hash audit rows carried before 0005 (frozen here: those rows must verify for ever)."""
    payload = json.dumps([prev, at.isoformat(), staff_name, action, entity, entity_id, summary, reason],
                         sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _write_v1_rows(url: str, ids: list[int]) -> list[str]:
    """Audit rows as 0004's code wrote them, with a gap in the ids (a PostgreSQL sequence
    skips the values of rolled-back transactions)."""
    engine = create_engine(url)
    prev, hashes = "0" * 64, []
    start = datetime(2025, 1, 1, 8, 30, 0, 123456, tzinfo=UTC)
    with engine.begin() as conn:
        for n, row_id in enumerate(ids):
            at = start + timedelta(minutes=n)
            summary = json.dumps({"n": n}, separators=(",", ":"))
            reason = None if n % 2 else f"reason {n}"
            digest = _v1_hash(prev, at, f"staff{n}", "customer.update", "customer", str(n), summary, reason)
            conn.execute(
                text(
                    "INSERT INTO audit_log (id, at, staff_id, staff_name, action, entity, entity_id, summary, reason,"
                    " prev_hash, hash) VALUES (:id, :at, :sid, :name, 'customer.update', 'customer', :eid, :summary,"
                    " :reason, :prev, :hash)"
                ),
                {"id": row_id, "at": at.replace(tzinfo=None), "sid": n, "name": f"staff{n}", "eid": str(n),
                 "summary": summary, "reason": reason, "prev": prev, "hash": digest},
            )
            prev = digest
            hashes.append(digest)
    engine.dispose()
    return hashes


def test_audit_rows_written_before_0005_stay_verifiable(empty_db_url: str) -> None:
    upgrade(empty_db_url, "0004_vouchers_plans")
    hashes = _write_v1_rows(empty_db_url, [1, 2, 5, 6])
    upgrade(empty_db_url)
    app = build_app(Settings(database_url=empty_db_url, config_path=None))
    try:
        from billing_desk.domain.permissions import SYSTEM_ACTOR

        anchored = app.audit.verify(SYSTEM_ACTOR)
        assert anchored.ok and anchored.checked == 4
        assert anchored.head is not None and (anchored.head.last_id, anchored.head.last_hash) == (6, hashes[-1])
        app.staff.add(None, "admin", "admin", "correct-horse-battery")
        after = app.audit.verify(SYSTEM_ACTOR)
        assert after.ok and after.checked == 5 and after.head is not None and after.head.last_id == 7
        with app.database.engine.connect() as conn:
            new = conn.execute(text("SELECT prev_hash, hash_version FROM audit_log WHERE id = 7")).one()
        assert tuple(new) == (hashes[-1], 2)
        with app.database.engine.begin() as conn:
            if app.database.is_sqlite:
                conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
            else:
                conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            conn.execute(text("UPDATE audit_log SET reason = 'edited' WHERE id = 5"))
        broken = app.audit.verify(SYSTEM_ACTOR)
        assert broken.broken_id == 5 and "does not match" in (broken.problem or "")
    finally:
        app.close()

"""Demo data goes only into a database created for the demo, and never without an admin's
login where staff exist: `demo seed` would otherwise add staff accounts with a published
password (and redeemable codes) to any database."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, func, select

from billing_desk.bootstrap import App, build_app
from billing_desk.config import Settings
from billing_desk.domain.errors import Conflict, PermissionDenied
from billing_desk.models import AppSetting, AuditEntry, Customer, StaffUser, Voucher
from billing_desk.services.demo import DEMO_PASSWORD, DemoService, SeedOptions
from tests.support.cli import CliRunner

NOT_A_DEMO = "not created for the demo"


def _counts(url: str) -> tuple[int, ...]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return tuple(int(conn.scalar(select(func.count()).select_from(t)) or 0)
                         for t in (StaffUser, Customer, Voucher, AppSetting, AuditEntry))
    finally:
        engine.dispose()


def _demo_cli(empty_db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path) -> CliRunner:
    monkeypatch.setenv("HOME", str(tmp_path))
    return CliRunner(empty_db_url, monkeypatch)


def test_demo_seed_refuses_a_working_database_and_writes_nothing(cli, db_url: str) -> None:
    before = _counts(db_url)
    for login in ((), ("--user", "admin")):  # refused before any login is asked for, and with one
        r = cli("demo", "seed", "--customers", "20", *login)
        assert r.code == 6, r.err
        assert r.err.count("\n") == 1 and NOT_A_DEMO in r.err and "db upgrade --demo" in r.err
        assert r.out == ""
    assert _counts(db_url) == before


def test_demo_seed_refuses_a_new_database_not_created_for_the_demo(empty_db_url: str, monkeypatch,
                                                                   tmp_path) -> None:
    """The back door itself: a fresh production database has no staff yet, so no login could be
    asked for; `demo seed` must still not make admin/demo-password there."""
    cli = _demo_cli(empty_db_url, monkeypatch, tmp_path)
    assert cli("db", "upgrade").code == 0
    before = _counts(empty_db_url)
    r = cli("demo", "seed", "--customers", "20")
    assert r.code == 6 and NOT_A_DEMO in r.err, r.err
    assert _counts(empty_db_url) == before
    assert cli("user", "list", "--user", "admin", password=DEMO_PASSWORD).code == 5  # no such account


def test_a_database_created_for_the_demo_takes_demo_data_then_needs_an_admin(empty_db_url: str, monkeypatch,
                                                                            tmp_path) -> None:
    cli = _demo_cli(empty_db_url, monkeypatch, tmp_path)
    r = cli("db", "upgrade", "--demo")
    assert r.code == 0 and "demo database" in r.out, r.err
    r = cli("demo", "seed", "--customers", "300", "--json")  # no staff yet: nothing to log in as
    assert r.code == 0, r.err
    assert json.loads(r.out)["staff_created"] == 4
    # the seeded ledger agrees with its balances
    r = cli("ledger", "verify", "--json", "--user", "finance", password=DEMO_PASSWORD)
    assert r.code == 0, r.err
    assert json.loads(r.out)["ok"] is True
    # staff exist now: seeding again needs an admin's login
    before = _counts(empty_db_url)
    r = cli("demo", "seed", "--customers", "5")
    assert r.code == 5 and "--user" in r.err, r.err
    r = cli("demo", "seed", "--customers", "5", "--user", "manager", password=DEMO_PASSWORD)
    assert r.code == 4 and r.err.count("\n") == 1, r.err
    r = cli("demo", "seed", "--customers", "5", "--user", "admin", password="wrong-password")
    assert r.code == 5, r.err
    assert _counts(empty_db_url)[:3] == before[:3]
    r = cli("demo", "seed", "--customers", "5", "--seed", "2", "--json", "--user", "admin", password=DEMO_PASSWORD)
    assert r.code == 0, r.err
    assert json.loads(r.out)["customers"] == 5
    # upgrading it again keeps it a demo database
    r = cli("db", "upgrade", "--demo")
    assert r.code == 0 and "already" in r.out, r.err
    assert cli("db", "upgrade").code == 0


def test_db_upgrade_demo_refuses_a_database_that_holds_data(cli, db_url: str) -> None:
    before = _counts(db_url)
    r = cli("db", "upgrade", "--demo")
    assert r.code == 6, r.err
    assert r.err.count("\n") == 1 and "empty" in r.err
    assert _counts(db_url) == before
    assert cli("demo", "seed", "--customers", "5", "--user", "admin").code == 6  # still not a demo database


def test_the_service_refuses_a_working_database(app: App, staff) -> None:
    """Any caller of DemoService (the GUI's demo start, a script) gets the same refusals."""
    with pytest.raises(Conflict, match=NOT_A_DEMO):
        DemoService(app.uow).seed(SeedOptions(customers=5), actor=staff.admin)


def test_the_service_needs_an_admin_once_staff_exist(empty_db_url: str, monkeypatch, tmp_path) -> None:
    assert _demo_cli(empty_db_url, monkeypatch, tmp_path)("db", "upgrade", "--demo").code == 0
    demo = build_app(Settings(database_url=empty_db_url, config_path=None))
    try:
        assert DemoService(demo.uow).seed(SeedOptions(customers=5)).staff_created == 4
        with pytest.raises(PermissionDenied):
            DemoService(demo.uow).seed(SeedOptions(customers=5))
        manager = demo.staff.authenticate("manager", DEMO_PASSWORD)
        with pytest.raises(PermissionDenied):
            DemoService(demo.uow).seed(SeedOptions(customers=5), actor=manager)
        admin = demo.staff.authenticate("admin", DEMO_PASSWORD)
        assert DemoService(demo.uow).seed(SeedOptions(customers=5, seed=2), actor=admin).customers == 5
    finally:
        demo.close()

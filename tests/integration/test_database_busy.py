"""A busy database is an expected condition (issue 11): while another task holds the write lock,
a write waits up to ``busy_wait`` seconds, then says so in words, changing nothing; a lock let go
within the wait lets the write through; an export is never reported failed beside its file."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing_desk.bootstrap import App, build_app
from billing_desk.config import Settings
from billing_desk.domain.errors import DatabaseBusy
from billing_desk.domain.money import Money
from billing_desk.services.vouchers.dtos import IssueRequest
from tests.support.customers import make_customer
from tests.support.ledger import top_up
from tests.support.locks import write_lock_held
from tests.support.staff import STAFF_PASSWORD, StaffActors

BUSY = "The database is busy with another task"


@pytest.fixture
def quick(db_url: str) -> Iterator[App]:
    """The desk's services with a one-second busy wait, so a held lock is reported quickly."""
    app = build_app(Settings(database_url=db_url, config_path=None, busy_wait=1.0))
    yield app
    app.close()


def _balance(app: App, staff: StaffActors, cid: int) -> int:
    balance = app.ledger.balance(staff.support, cid)
    assert balance is not None
    return balance.total.minor


def test_voucher_waits_then_says_busy_and_changes_nothing(quick: App, staff: StaffActors,
                                                          voucher_key: str, db_url: str) -> None:
    cid = make_customer(quick, staff.manager)
    code = quick.vouchers.issue(staff.manager, IssueRequest(amount=Money(50_000, "VND"), campaign="Busy")).codes[0]
    started = time.monotonic()
    with write_lock_held(db_url), pytest.raises(DatabaseBusy) as refused:
        quick.vouchers.redeem(staff.support, cid, code)
    waited = time.monotonic() - started
    assert BUSY in refused.value.message and "try again in a moment" in refused.value.message
    assert refused.value.exit_code == 11
    assert 0.8 < waited < 6, waited
    assert quick.vouchers.redeem(staff.support, cid, code).amount == Money(50_000, "VND")  # nothing was spent


def test_a_lock_let_go_within_the_wait_lets_the_write_through(db_url: str, staff: StaffActors,
                                                             voucher_key: str) -> None:
    app = build_app(Settings(database_url=db_url, config_path=None, busy_wait=8.0))
    try:
        cid = make_customer(app, staff.manager)
        top_up(app, cid, Money(100_000, "VND"))
        with write_lock_held(db_url) as lock:
            lock.release_after(0.7)
            outcome = app.ledger.record_usage(staff.manager, cid, service="Storage", amount="30,000", key="u-1")
        assert outcome.status.value == "success"
        assert _balance(app, staff, cid) == 70_000
    finally:
        app.close()


def test_usage_while_locked_is_busy_then_goes_through(quick: App, staff: StaffActors, db_url: str) -> None:
    cid = make_customer(quick, staff.manager)
    top_up(quick, cid, Money(100_000, "VND"))
    with write_lock_held(db_url), pytest.raises(DatabaseBusy):
        quick.ledger.record_usage(staff.manager, cid, service="Storage", amount="30,000", key="u-1")
    assert _balance(quick, staff, cid) == 100_000
    quick.ledger.record_usage(staff.manager, cid, service="Storage", amount="30,000", key="u-1")
    assert _balance(quick, staff, cid) == 70_000


def _exports_audited(app: App, staff: StaffActors) -> int:
    return sum(1 for e in app.audit.list(staff.admin) if e.action == "export.credit_history")


def test_export_is_whole_or_absent_with_its_audit_row(quick: App, staff: StaffActors, db_url: str,
                                                      tmp_path: Path) -> None:
    cid = make_customer(quick, staff.manager)
    top_up(quick, cid, Money(100_000, "VND"))
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "history.csv"
    with write_lock_held(db_url), pytest.raises(DatabaseBusy):
        quick.exports.export_credit_history(staff.manager, cid, None, target)
    assert list(folder.iterdir()) == []  # no file, and no leftover part
    assert _exports_audited(quick, staff) == 0
    result = quick.exports.export_credit_history(staff.manager, cid, None, target)
    assert target.exists() and result.rows == 1
    assert _exports_audited(quick, staff) == 1


@pytest.mark.slow
def test_cli_prints_one_line_and_exits_busy(db_url: str, quick: App, staff: StaffActors, tmp_path: Path) -> None:
    cid = make_customer(quick, staff.manager)
    top_up(quick, cid, Money(100_000, "VND"))
    config = tmp_path / "config.toml"
    config.write_text("[database]\nbusy_wait = 1\n", encoding="utf-8")
    env = {**os.environ, "BILLING_DESK_DATABASE_URL": db_url, "BILLING_DESK_PASSWORD": STAFF_PASSWORD,
           "BILLING_DESK_CONFIG": str(config), "HOME": str(tmp_path)}
    command = [sys.executable, "-m", "billing_desk", "usage", "record", str(cid), "--service", "Storage",
               "--amount", "30000", "--key", "cli-1", "--user", "manager"]
    with write_lock_held(db_url):
        busy = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert busy.returncode == 11, busy.stderr
    assert busy.stdout == "" and busy.stderr.count("\n") == 1
    assert busy.stderr.startswith(f"billing-desk: {BUSY}")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert _balance(quick, staff, cid) == 70_000


def test_a_deadlock_is_busy_and_a_rerunnable_write_runs_again(app: App) -> None:
    """A real PostgreSQL deadlock: the unit of work names it DatabaseBusy (transient), and
    rerun_when_transient runs the whole transaction again once the other one has finished."""
    if app.database.is_sqlite:
        pytest.skip("SQLite takes the write lock up front (BEGIN IMMEDIATE): its writers cannot deadlock")
    import threading

    from sqlalchemy import create_engine, text

    from billing_desk.services.uow import rerun_when_transient

    with app.database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE deadlock_probe (id int PRIMARY KEY, n int NOT NULL)"))
        conn.execute(text("INSERT INTO deadlock_probe VALUES (1, 0), (2, 0)"))
    both_hold_one = threading.Barrier(2, timeout=10)
    other = create_engine(app.database.engine.url.render_as_string(hide_password=False))

    def other_task() -> None:
        with other.begin() as conn:
            conn.execute(text("SET deadlock_timeout = '10s'"))  # so the desk's side is the one broken off
            conn.execute(text("UPDATE deadlock_probe SET n = n + 1 WHERE id = 1"))
            both_hold_one.wait()
            conn.execute(text("UPDATE deadlock_probe SET n = n + 1 WHERE id = 2"))

    attempts: list[str] = []
    seen: list[DatabaseBusy] = []

    def desk_write() -> int:
        with app.uow.write() as uow:
            uow.session.execute(text("UPDATE deadlock_probe SET n = n + 10 WHERE id = 2"))
            if not attempts:
                attempts.append("first")
                both_hold_one.wait()
            else:
                attempts.append("again")
            uow.session.execute(text("UPDATE deadlock_probe SET n = n + 10 WHERE id = 1"))
            uow.commit()
        return len(attempts)

    def desk_write_seen() -> int:
        try:
            return desk_write()
        except DatabaseBusy as exc:
            seen.append(exc)
            raise

    thread = threading.Thread(target=other_task)
    thread.start()
    try:
        assert rerun_when_transient(desk_write_seen) == 2
    finally:
        thread.join(15)
        other.dispose()
    assert attempts == ["first", "again"]  # broken off by the deadlock, then run whole again
    assert len(seen) == 1 and seen[0].transient and "busy with another task" in seen[0].message
    with app.database.engine.connect() as conn:
        assert dict(conn.execute(text("SELECT id, n FROM deadlock_probe")).all()) == {1: 11, 2: 11}

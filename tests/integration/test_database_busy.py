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

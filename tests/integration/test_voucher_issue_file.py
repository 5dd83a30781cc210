"""Codes issued into a file (`voucher issue --out`), on both databases: they redeem only once the
file is whole at its name, a file is never written over, and a run that fails voids its batch.
The SIGKILL crash tests are in tests/reliability/test_voucher_issue_crash.py.
"""

from __future__ import annotations

import csv
import errno
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from billing_desk.bootstrap import App
from billing_desk.domain.enums import VoucherStatus
from billing_desk.domain.errors import Conflict, ValidationError
from billing_desk.domain.money import Money
from billing_desk.models import AuditEntry, utcnow
from billing_desk.services.vouchers import IssueRequest, VoucherFilter
from billing_desk.services.vouchers import export as voucher_export

USD10 = Money(1000, "USD")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Where the codes go: a folder of their own (the SQLite database lives in tmp_path)."""
    path = tmp_path / "out"
    path.mkdir()
    return path


def _customer(app: App, staff, n: int = 1) -> int:
    created = app.customers.create(staff.support, name=f"File Test {n}", email=f"file{n}@example.com", country="US",
                                   billing_type="personal")
    app.customers.set_currency(staff.support, created.id, "USD")
    return created.id


def _statuses(app: App, staff, campaign: str) -> set[VoucherStatus]:
    return {r.status for r in app.vouchers.list_vouchers(staff.manager, VoucherFilter(campaign=campaign))}


def _actions(app: App) -> list[tuple[str, str | None]]:
    with app.uow.read() as r:
        return [(a, why) for a, why in r.session.execute(
            select(AuditEntry.action, AuditEntry.reason).where(AuditEntry.action.like("voucher.%"))
            .order_by(AuditEntry.id))]


def _first_code(path: Path) -> str:
    with path.open(newline="") as fh:
        return next(csv.DictReader(fh))["code"]


def test_codes_redeem_only_once_their_file_is_whole_at_its_name(app: App, staff, folder: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    cid = _customer(app, staff)
    out = folder / "codes.csv"
    seen: dict[str, object] = {}
    write_csv = voucher_export._write_csv

    def watch(path: Path, headers, rows) -> int:  # the moment the codes are in the temporary file only
        count = write_csv(path, headers, rows)
        seen["final_exists"] = out.exists()
        seen["statuses"] = _statuses(app, staff, "Spring")
        try:
            app.vouchers.redeem(staff.support, cid, _first_code(path))
        except Conflict as refused:
            seen["refusal"] = refused.message
        return count

    monkeypatch.setattr(voucher_export, "_write_csv", watch)
    issued = app.vouchers.issue_to_file(staff.manager, IssueRequest(USD10, count=3, campaign="Spring"), out)
    assert seen == {"final_exists": False, "statuses": {VoucherStatus.PENDING},
                    "refusal": "This voucher is not active: the file of its batch has not been finished, so its "
                               "codes cannot be redeemed yet."}
    assert _statuses(app, staff, "Spring") == {VoucherStatus.ACTIVE}
    assert _first_code(out) == issued.codes[0]
    assert app.vouchers.redeem(staff.support, cid, issued.codes[0]).amount == USD10
    assert [a for a, _ in _actions(app)][:2] == ["voucher.issue", "voucher.batch_activate"]
    assert out.stat().st_mode & 0o077 == 0 and [p.name for p in folder.iterdir()] == ["codes.csv"]


def test_codes_are_never_written_over_an_existing_file(cli, app: App, folder: Path) -> None:
    out = folder / "codes.csv"
    out.write_text("the only copy of yesterday's live codes\n")
    r = cli("voucher", "issue", "--amount", "10", "--currency", "USD", "--count", "3", "--out", str(out),
            "--user", "manager")
    assert r.code == 2 and "already exists" in r.err and len(r.err.splitlines()) == 1
    assert out.read_text() == "the only copy of yesterday's live codes\n"
    with app.uow.read() as uow:
        assert uow.session.execute(select(AuditEntry.id).where(AuditEntry.action == "voucher.issue")).first() is None


def test_a_file_that_cannot_be_written_voids_its_batch(cli, app: App, staff, folder: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(path: Path, headers, rows) -> int:
        path.write_text("code,amount\nABCD-EFGH-JKMN-PQRS-TUVW,10.00\n")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(voucher_export, "_write_csv", disk_full)
    out = folder / "codes.csv"
    r = cli("voucher", "issue", "--amount", "10", "--currency", "USD", "--count", "4", "--campaign", "Full",
            "--out", str(out), "--user", "manager")
    assert r.code == 2 and "No space left on device" in r.err and len(r.err.splitlines()) == 1
    assert list(folder.iterdir()) == []  # neither the file nor its temporary
    assert _statuses(app, staff, "Full") == {VoucherStatus.VOID}
    assert _actions(app)[-1] == ("voucher.batch_void", "its file could not be finished")


def test_an_interrupt_while_writing_voids_the_batch(cli, app: App, staff, folder: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(path: Path, headers, rows) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(voucher_export, "_write_csv", interrupted)
    r = cli("voucher", "issue", "--amount", "10", "--currency", "USD", "--count", "2", "--campaign", "Stopped",
            "--out", str(folder / "codes.csv"), "--user", "manager")
    assert r.code == 130
    assert _statuses(app, staff, "Stopped") == {VoucherStatus.VOID} and list(folder.iterdir()) == []


def test_a_run_that_outlives_its_margin_fails_cleanly(app: App, staff, folder: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Another desk's clean-up voids the batch while its file is written: the run must not activate it."""
    write_csv = voucher_export._write_csv

    def slow(path: Path, headers, rows) -> int:
        count = write_csv(path, headers, rows)
        [voided] = app.vouchers.void_abandoned(staff.admin, now=utcnow() + timedelta(hours=1))
        assert voided.temp_files_removed == 1 and not voided.file_left
        return count

    monkeypatch.setattr(voucher_export, "_write_csv", slow)
    out = folder / "codes.csv"
    with pytest.raises((Conflict, ValidationError)):
        app.vouchers.issue_to_file(staff.manager, IssueRequest(USD10, count=2, campaign="Slow"), out)
    assert _statuses(app, staff, "Slow") == {VoucherStatus.VOID} and list(folder.iterdir()) == []


def test_void_codes_in_lists_campaigns_revocation_and_redemption(cli, app: App, staff, folder: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    app.vouchers.issue_to_file(staff.manager, IssueRequest(USD10, count=2, campaign="Mixed"), folder / "live.xlsx")
    void_codes: list[str] = []

    def broken(path: Path, headers, rows) -> int:
        void_codes.extend(str(row[0]) for row in rows)
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(voucher_export, "_write_csv", broken)
    with pytest.raises(ValidationError, match="Input/output error"):
        app.vouchers.issue_to_file(staff.manager, IssueRequest(USD10, count=3, campaign="Mixed"), folder / "x.csv")
    r = cli("voucher", "list", "--status", "void", "--json", "--user", "manager")
    assert r.code == 0 and len(json.loads(r.out)) == 3
    [campaign] = app.vouchers.campaigns(staff.manager)
    assert campaign.by_status == {"active": 2, "void": 3}
    with pytest.raises(Conflict, match="This voucher is void: its batch stopped"):
        app.vouchers.redeem(staff.support, _customer(app, staff), void_codes[0])
    assert app.vouchers.revoke_campaign(staff.manager, "Mixed", "ended").revoked == 2  # void codes are dead already


def test_json_names_the_batch_and_the_file(cli, folder: Path) -> None:
    out = folder / "codes.csv"
    r = cli("voucher", "issue", "--amount", "10", "--currency", "USD", "--count", "2", "--out", str(out), "--json",
            "--user", "manager")
    data = json.loads(r.out)
    assert r.code == 0 and data["out"] == str(out) and isinstance(data["batch_id"], int) and len(data["codes"]) == 2
    r = cli("voucher", "issue", "--amount", "10", "--currency", "USD", "--json", "--user", "manager")
    assert json.loads(r.out)["batch_id"] is None
    r = cli("vouchers", "expire", "--json", "--user", "manager")
    assert json.loads(r.out) == {"customers": 0, "lots": 0, "written_off": []}

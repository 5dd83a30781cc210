"""Staff accounts: the first admin, roles, passwords, throttling, disabling, permissions."""

from __future__ import annotations

import json

import pytest

from billing_desk.bootstrap import App
from billing_desk.domain.errors import AuthenticationFailed, Conflict, PermissionDenied, ValidationError
from billing_desk.models import StaffUser
from tests.support.cli import CliRunner
from tests.support.staff import STAFF_PASSWORD


def test_login_returns_the_actor_with_its_role(app: App) -> None:
    actor = app.staff.authenticate("finance", STAFF_PASSWORD)
    assert (actor.name, actor.role.value) == ("finance", "finance")


def test_passwords_are_argon2id_and_salted(app: App, staff) -> None:
    app.staff.add(staff.admin, "ana", "support", STAFF_PASSWORD)
    with app.uow.read() as uow:
        hashes = [u.password_hash for u in uow.session.query(StaffUser).filter(StaffUser.name.in_(["ana", "support"]))]
    assert all(h.startswith("$argon2id$") and "m=19456,t=2" in h for h in hashes)
    assert hashes[0] != hashes[1]


def test_only_an_admin_adds_staff(app: App, staff) -> None:
    with pytest.raises(PermissionDenied, match="manager.*may not manage staff"):
        app.staff.add(staff.manager, "eve", "admin", STAFF_PASSWORD)
    with pytest.raises(PermissionDenied, match="log in as an admin"):
        app.staff.add(None, "eve", "admin", STAFF_PASSWORD)
    with pytest.raises(ValidationError, match="Unknown role 'wizard'"):
        app.staff.add(staff.admin, "eve", "wizard", STAFF_PASSWORD)
    with pytest.raises(ValidationError, match="at least 12"):
        app.staff.add(staff.admin, "eve", "support", "short")
    with pytest.raises(Conflict, match="already exists"):
        app.staff.add(staff.admin, "support", "support", STAFF_PASSWORD)


def test_failed_logins_delay_then_lock(app: App) -> None:
    for _ in range(3):
        with pytest.raises(AuthenticationFailed, match="Wrong name or password"):
            app.staff.authenticate("support", "nope-nope")
    with pytest.raises(AuthenticationFailed, match="Too many failed logins"):
        app.staff.authenticate("support", STAFF_PASSWORD)  # even the right password waits
    with app.uow.read() as uow:
        user = uow.session.query(StaffUser).filter_by(name="support").one()
        assert user.failed_logins == 3 and user.locked_until is not None


def test_disabled_staff_cannot_log_in(app: App, staff) -> None:
    app.staff.disable(staff.admin, "finance")
    with pytest.raises(AuthenticationFailed, match="disabled"):
        app.staff.authenticate("finance", STAFF_PASSWORD)


def test_unknown_user_is_refused_like_a_wrong_password(app: App) -> None:
    with pytest.raises(AuthenticationFailed, match="Wrong name or password for 'ghost'"):
        app.staff.authenticate("ghost", STAFF_PASSWORD)


def test_user_cli(cli) -> None:
    r = cli("user", "add", "ana", "--role", "support", "--password-stdin", "--user", "admin", stdin="a-long-password\n")
    assert r.code == 0, r.err
    r = cli("user", "list", "--json", "--user", "admin")
    rows = json.loads(r.out)
    assert {"name": "ana", "role": "support", "disabled": False} in rows
    assert cli("user", "disable", "ana", "--user", "admin").code == 0
    assert {"name": "ana", "role": "support", "disabled": True} in json.loads(
        cli("user", "list", "--json", "--user", "admin").out
    )
    r = cli("user", "add", "bo", "--role", "boss", "--password-stdin", "--user", "admin", stdin="a-long-password\n")
    assert r.code == 2 and r.err.strip().endswith("choose one of support, finance, manager, admin.")
    r = cli("user", "list", "--user", "admin", password="wrong-password")
    assert r.code == 5 and r.err.count("\n") == 1
    r = cli("user", "list", "--user", "support")
    assert r.code == 4 and "may not manage staff" in r.err
    r = cli("user", "set-password", "support", "--password-stdin", "--user", "support", stdin="another-password\n")
    assert r.code == 0
    assert cli("user", "list", "--json", "--user", "admin").code == 0


def test_first_admin_needs_no_login(empty_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from billing_desk.database import upgrade

    upgrade(empty_db_url)
    run = CliRunner(empty_db_url, monkeypatch)
    monkeypatch.delenv("BILLING_DESK_PASSWORD")
    r = run("user", "add", "root", "--role", "support", "--password-stdin", stdin="a-long-password\n")
    assert r.code == 2 and "first staff account must be an admin" in r.err
    assert run("user", "add", "root", "--role", "admin", "--password-stdin", stdin="a-long-password\n").code == 0
    r = run("user", "add", "ana", "--role", "support", "--password-stdin", stdin="a-long-password\n")
    assert r.code == 5 and "needs a staff login: add --user NAME" in r.err


def test_a_staff_member_changes_their_own_password(app: App, staff) -> None:
    app.staff.change_password(staff.support, STAFF_PASSWORD, "a-new-long-phrase")
    assert app.staff.authenticate("support", "a-new-long-phrase").name == "support"
    with pytest.raises(AuthenticationFailed):
        app.staff.authenticate("support", STAFF_PASSWORD)
    rows = [r for r in app.audit.list(staff.admin) if r.action == "staff.change_password"]
    assert [(r.staff_name, r.summary["name"]) for r in rows] == [("support", "support")]
    assert "a-new-long-phrase" not in json.dumps([r.summary for r in rows])


def test_changing_a_password_needs_the_current_one(app: App, staff) -> None:
    with pytest.raises(ValidationError, match="current password is not right") as refused:
        app.staff.change_password(staff.finance, "not-my-password", "a-new-long-phrase")
    assert refused.value.field == "current_password"
    with pytest.raises(ValidationError, match="at least 12"):
        app.staff.change_password(staff.finance, STAFF_PASSWORD, "short")
    with pytest.raises(ValidationError, match="must differ"):
        app.staff.change_password(staff.finance, STAFF_PASSWORD, STAFF_PASSWORD)
    for _ in range(3):  # wrong current passwords lock the account as failed logins do
        with pytest.raises((ValidationError, AuthenticationFailed)):
            app.staff.change_password(staff.finance, "guess-guess", "a-new-long-phrase")
    with pytest.raises(AuthenticationFailed, match="try again"):
        app.staff.authenticate("finance", STAFF_PASSWORD)
    assert not [r for r in app.audit.list(staff.admin) if r.action == "staff.change_password"]


def test_the_staff_list_shows_each_last_login_and_only_a_successful_one_counts(app: App, staff) -> None:
    def last_login(name: str):  # type: ignore[no-untyped-def]
        return next(s.last_login_at for s in app.staff.list(staff.admin) if s.name == name)

    before = last_login("finance")
    with pytest.raises(AuthenticationFailed):
        app.staff.authenticate("finance", "not-the-password")
    assert last_login("finance") == before  # a failed attempt is not a login
    app.staff.authenticate("finance", STAFF_PASSWORD)
    first = last_login("finance")
    assert first is not None and (before is None or first > before)
    assert next(s for s in app.staff.list(staff.admin) if s.name == "finance").to_json()["last_login_at"] \
        == first.isoformat()

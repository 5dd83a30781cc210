"""The services behind the Plans and Staff workspaces: current subscribers per plan (a retired
plan keeps its own), and the staff rules: roles, enabling, the last enabled admin, the
password rule shared by every door, each write audited, forbidden roles refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from billing_desk.bootstrap import App
from billing_desk.domain.errors import Conflict, PermissionDenied, ValidationError
from billing_desk.domain.money import Money
from billing_desk.models import Subscription, utcnow
from billing_desk.services.staff import check_new_password
from tests.support.customers import make_customer
from tests.support.database import audit_rows, run
from tests.support.ledger import top_up
from tests.support.plans import seed_plans
from tests.support.staff import STAFF_PASSWORD, StaffActors

pytestmark = pytest.mark.usefixtures("voucher_key")


def _subscribers(app: App, staff: StaffActors) -> dict[str, int]:
    return {e.plan.code: e.subscribers for e in app.plans.catalog_entries(staff.manager)}


def test_subscribers_per_plan_and_a_retired_plan_keeps_them(app: App, staff: StaffActors) -> None:
    seed_plans(app, staff.manager)
    a, b, c = (make_customer(app, staff.support, "USD", name=f"Customer {i}") for i in range(3))
    for customer in (a, b, c):
        top_up(app, customer, Money(100_00, "USD"))
    app.plans.change(staff.support, a, "pro")
    app.plans.change(staff.support, b, "pro")
    app.plans.change(staff.support, c, "starter")
    assert _subscribers(app, staff) == {"free": 0, "starter": 1, "pro": 2, "enterprise": 0}

    app.plans.change(staff.support, b, "starter")  # a downgrade waits for the period end
    assert _subscribers(app, staff)["pro"] == 2
    run(app, update(Subscription).where(Subscription.customer_id == b)
        .values(period_end=utcnow() - timedelta(minutes=1)))
    assert _subscribers(app, staff) == {"free": 0, "starter": 2, "pro": 1, "enterprise": 0}

    app.plans.retire_plan(staff.manager, "pro")
    entries = {e.plan.code: e for e in app.plans.catalog_entries(staff.manager)}
    assert entries["pro"].plan.retired and entries["pro"].subscribers == 1
    assert app.plans.current(staff.support, a).plan.code == "pro"  # type: ignore[union-attr]
    assert list(entries)[-1] == "pro"  # retired plans listed last
    assert [r["entity_id"] for r in audit_rows(app, "plan.retire")] == [str(entries["pro"].plan.id)]


def test_only_managers_and_admins_read_the_catalog_with_subscribers(app: App, staff: StaffActors) -> None:
    for actor in (staff.support, staff.finance):
        with pytest.raises(PermissionDenied, match="manage the plans catalog"):
            app.plans.catalog_entries(actor)
    assert app.plans.catalog_entries(staff.admin) == []


def test_roles_enable_and_the_last_admin(app: App, staff: StaffActors) -> None:
    with pytest.raises(Conflict, match="last enabled admin"):
        app.staff.set_role(staff.admin, "admin", "manager")
    app.staff.set_role(staff.admin, "manager", "admin")
    app.staff.set_role(staff.admin, "admin", "manager")  # another admin exists now: allowed
    with pytest.raises(Conflict, match="last enabled admin"):
        app.staff.disable(staff.admin, "manager")  # the admin now called 'manager' is the only one
    with pytest.raises(Conflict, match="already has the role"):
        app.staff.set_role(staff.admin, "support", "support")
    with pytest.raises(ValidationError, match="Unknown role"):
        app.staff.set_role(staff.admin, "support", "boss")

    app.staff.disable(staff.admin, "support")
    with pytest.raises(Conflict, match="already disabled"):
        app.staff.disable(staff.admin, "support")
    enabled = app.staff.enable(staff.admin, "support")
    assert not enabled.disabled
    assert app.staff.authenticate("support", STAFF_PASSWORD).name == "support"
    roles = [(r["summary"]["before"]["role"], r["summary"]["after"]["role"]) for r in audit_rows(app, "staff.role")]
    assert roles == [("manager", "admin"), ("admin", "manager")]
    assert [r["summary"]["name"] for r in audit_rows(app, "staff.enable")] == ["support"]


def test_a_disabled_admin_is_not_counted(app: App, staff: StaffActors) -> None:
    app.staff.add(staff.admin, "root2", "admin", STAFF_PASSWORD)
    app.staff.disable(staff.admin, "root2")
    with pytest.raises(Conflict, match="'admin' is the last enabled admin and cannot be made support"):
        app.staff.set_role(staff.admin, "admin", "support")
    app.staff.set_role(staff.admin, "root2", "finance")  # a disabled admin may be demoted


def test_forbidden_roles_cannot_manage_staff(app: App, staff: StaffActors) -> None:
    for actor in (staff.manager, staff.support, staff.finance):
        for call in (lambda a=actor: app.staff.list(a), lambda a=actor: app.staff.enable(a, "support"),
                     lambda a=actor: app.staff.set_role(a, "support", "admin"),
                     lambda a=actor: app.staff.disable(a, "finance"),
                     lambda a=actor: app.staff.set_password(a, "admin", "a-long-fresh-phrase")):
            with pytest.raises(PermissionDenied, match="may not manage staff"):
                call()


@pytest.mark.parametrize("weak, reason", [
    ("short-one", "at least 12 characters; this one has 9"),
    ("qwerty123456", "10,000 most common"),
    ("  QWERTYqwerty ", "10,000 most common"),
])
def test_one_password_rule_for_every_door(app: App, staff: StaffActors, weak: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        check_new_password(weak)
    for call in (lambda: app.staff.add(staff.admin, "eve", "support", weak),
                 lambda: app.staff.set_password(staff.admin, "support", weak),
                 lambda: app.staff.change_password(staff.support, STAFF_PASSWORD, weak)):
        with pytest.raises(ValidationError, match=reason) as refused:
            call()
        assert refused.value.field == "password"
    assert not audit_rows(app, "staff.set_password") and not audit_rows(app, "staff.change_password")


def test_cli_role_enable_and_the_password_rule(cli, app: App) -> None:
    r = cli("user", "role", "support", "finance", "--user", "admin")
    assert r.code == 0 and "support is now finance" in r.out
    r = cli("user", "role", "admin", "support", "--user", "admin")
    assert r.code == 6 and "last enabled admin" in r.err
    assert cli("user", "disable", "finance", "--user", "admin").code == 0
    r = cli("user", "enable", "finance", "--user", "admin")
    assert r.code == 0 and "Enabled finance" in r.out
    r = cli("user", "set-password", "finance", "--password-stdin", "--user", "admin", stdin="1q2w3e4r5t6y\n")
    assert r.code == 2 and "most common" in r.err
    r = cli("user", "add", "eve", "--role", "support", "--password-stdin", "--user", "admin", stdin="eleven-char\n")
    assert r.code == 2 and "at least 12" in r.err

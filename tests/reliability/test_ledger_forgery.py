"""Forged credit (defect 4), on SQLite and PostgreSQL.

Someone with SQL access adds a ledger row that grants credit and moves the balance by the
same amount, so that every balance still equals its rows. Before verify held credit to its
cause, each forgery below passed `ledger verify`. Now each must be named, and the genuine
credit around it (a payment settled through the sandbox, a redemption, an adjustment and a
promotion by a manager) must not be.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text, update

from billing_desk.bootstrap import App
from billing_desk.domain.money import Money
from billing_desk.models import Payment
from billing_desk.services.vouchers.dtos import IssueRequest
from tests.support.cli import CliRunner
from tests.support.customers import make_account, make_customer
from tests.support.database import raw
from tests.support.payments import pay
from tests.support.staff import StaffActors

pytestmark = pytest.mark.usefixtures("voucher_key")


def _genuine(app: App, sandbox: Any, staff: StaffActors) -> dict[str, Any]:
    """Credit of every kind, as the desk grants it; the ids a forger would borrow."""
    account = make_account(app, staff.support, "JPY")
    payment = app.payments.create_topup(staff.support, account, "5000").payment
    pay(sandbox, payment.checkout_url)
    app.payments.reconcile(staff.finance)
    pending = app.payments.create_topup(staff.support, account, "3000").payment  # not paid
    other = make_customer(app, staff.support, "JPY", name="Other Co", email="other@example.jp")
    code = app.vouchers.issue(staff.manager, IssueRequest(Money(700, "JPY"))).codes[0]
    app.vouchers.redeem(staff.support, account, code)
    app.ledger.adjust(staff.manager, account, "250", "Goodwill for the outage")
    app.ledger.adjust(staff.manager, account, "100", "Launch promotion", promotion=True)
    cid = raw(app, "SELECT id FROM customers WHERE account = :a", a=account)[0][0]
    redemption = raw(app, "SELECT id FROM voucher_redemptions")[0][0]
    report = app.ledger.verify(staff.finance)
    assert report.ok, report.to_json()  # the genuine credit has its causes
    return {"cid": cid, "other": other, "paid": payment.id, "pending": pending.id, "redemption": redemption}


def _forge(app: App, cid: int, kind: str, amount: int, **links: Any) -> None:
    """A ledger row of ``kind`` adding ``amount`` to ``cid``, and the balance moved to match."""
    source = "voucher" if kind in ("voucher", "promotion") else "topup"
    columns = {"customer_id": cid, "created_at": "2026-11-01 10:00:00", "kind": kind, "service": "Top-up",
               "description": "", "status": "success", "amount": amount, "currency": "JPY", "source": source,
               "key_scope": "system", **links}
    with app.uow.write() as uow:
        s = uow.session
        s.execute(text(f"INSERT INTO ledger_entries ({', '.join(columns)}) "
                       f"VALUES ({', '.join(':' + c for c in columns)})"), columns)
        if source == "voucher":
            s.execute(text("INSERT INTO voucher_credit_lots (customer_id, granted, remaining, created_at) "
                           "VALUES (:c, :a, :a, '2026-11-01 10:00:00')"), {"c": cid, "a": amount})
        s.execute(text(f"UPDATE customer_balances SET total = total + :a, {source} = {source} + :a "
                       "WHERE customer_id = :c"), {"a": amount, "c": cid})
        uow.commit()


Forgery = Callable[[App, dict[str, Any]], None]
FORGERIES: dict[str, tuple[Forgery, str]] = {
    "top-up with no payment": (lambda app, g: _forge(app, g["cid"], "topup", 90_000), "points at no payment"),
    "top-up of a payment never made": (lambda app, g: _forge(app, g["cid"], "topup", 5000, payment_id=99_999),
                                       "does not exist"),
    "top-up crediting a paid payment again": (lambda app, g: _forge(app, g["cid"], "topup", 5000,
                                                                    payment_id=g["paid"]), "again"),
    "top-up of a payment not paid": (lambda app, g: _forge(app, g["cid"], "topup", 3000, payment_id=g["pending"]),
                                     "did not succeed"),
    "top-up of another customer's payment": (lambda app, g: _forge(app, g["other"], "topup", 5000,
                                                                   payment_id=g["paid"]), "of customer"),
    "top-up larger than its payment": (lambda app, g: _forge(app, g["cid"], "topup", 50_000, payment_id=g["paid"]),
                                       "points at payment"),
    "voucher credit with no redemption": (lambda app, g: _forge(app, g["cid"], "voucher", 700),
                                          "points at no redemption"),
    "voucher credit of a redemption again": (lambda app, g: _forge(app, g["cid"], "voucher", 700,
                                                                   voucher_redemption_id=g["redemption"]), "again"),
    "adjustment with no staff": (lambda app, g: _forge(app, g["cid"], "adjustment", 40_000), "no staff member"),
    "adjustment nobody audited": (lambda app, g: _forge(app, g["cid"], "adjustment", 40_000, staff_id=2),
                                  "no audit row"),
    "promotion nobody audited": (lambda app, g: _forge(app, g["cid"], "promotion", 40_000, staff_id=2),
                                 "no audit row"),
    "usage that adds credit": (lambda app, g: _forge(app, g["cid"], "usage", 40_000), "never does"),
    "payment marked paid, never credited": (lambda app, g: _mark_paid(app, g["pending"]), "never credited"),
}


def _mark_paid(app: App, payment_id: int) -> None:
    """Not a forgery of credit but its mirror: a payment settled with no credit (money owed)."""
    with app.uow.write() as uow:
        uow.session.execute(update(Payment).where(Payment.id == payment_id).values(status="success"))
        uow.commit()


@pytest.mark.parametrize("name", FORGERIES)
def test_each_forgery_is_named_by_verify(pay_app: App, sandbox: Any, staff: StaffActors, name: str) -> None:
    genuine = _genuine(pay_app, sandbox, staff)
    forge, problem = FORGERIES[name]
    last_row = raw(pay_app, "SELECT max(id) FROM ledger_entries")[0][0]
    forge(pay_app, genuine)
    forged_row = raw(pay_app, "SELECT max(id) FROM ledger_entries")[0][0]
    report = pay_app.ledger.verify(staff.finance)
    assert not report.mismatches  # the forger kept every balance equal to its rows
    assert not report.ok
    found = report.to_json()["unjustified"]
    # Every finding is about the forgery (a row, or the payment for a settlement with no row),
    # and one says what is wrong with it (a larger top-up of a paid payment is both).
    assert {u.entry_id for u in report.unjustified} == {forged_row if forged_row != last_row else None}, found
    assert any(problem in u.problem for u in report.unjustified), found


def test_the_cli_names_the_forged_row_and_exits_1(pay_app: App, sandbox: Any, staff: StaffActors,
                                                  cli: CliRunner) -> None:
    genuine = _genuine(pay_app, sandbox, staff)
    _forge(pay_app, genuine["cid"], "topup", 90_000)
    forged = raw(pay_app, "SELECT max(id) FROM ledger_entries")[0][0]
    result = cli("ledger", "verify", "--user", "finance")
    assert result.code == 1
    assert f"UNJUSTIFIED C{genuine['cid']:08d}: ledger row {forged} of ¥90,000: topup row points at no payment" \
        in result.err
    assert "1 credit(s) without their cause" in result.err
    as_json = json.loads(cli("ledger", "verify", "--user", "finance", "--json").out)
    assert as_json["ok"] is False and as_json["mismatches"] == []
    assert [u["entry_id"] for u in as_json["unjustified"]] == [forged]

"""Two processes reconciling the same 200 paid payments credit each exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from billing_desk.models import AuditEntry, LedgerEntry, Payment
from tests.support.customers import make_account
from tests.support.payments import AMOUNTS, control, write_config
from tests.support.staff import STAFF_PASSWORD

COUNT = 200


@pytest.mark.slow
@pytest.mark.xdist_group("concurrency")  # one at a time: each opens dozens of connections or processes
def test_two_processes_reconciling_the_same_payments_credit_each_once(pay_app, sandbox, staff, db_url, tmp_path):
    accounts = {cur: make_account(pay_app, staff.support, cur) for cur in AMOUNTS}
    currencies = list(AMOUNTS)
    payments = [pay_app.payments.create_topup(staff.support, accounts[currencies[i % 3]],
                                              AMOUNTS[currencies[i % 3]]).payment for i in range(COUNT)]
    paid = control(sandbox, "/sandbox/complete", {"checkout_urls": [p.checkout_url for p in payments]})
    assert all(r["ok"] for r in paid)

    env = {**os.environ, "BILLING_DESK_DATABASE_URL": db_url, "BILLING_DESK_PASSWORD": STAFF_PASSWORD,
           "BILLING_DESK_CONFIG": str(write_config(tmp_path / "config.toml", sandbox.url)), "HOME": str(tmp_path)}
    command = [sys.executable, "-m", "billing_desk", "payments", "reconcile", "--json", "--user", "finance"]
    procs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], [err for _, err in outputs]
    settled = [[c["payment_id"] for c in json.loads(out) if c["status"] == "success"] for out, _ in outputs]

    assert not set(settled[0]) & set(settled[1])  # each payment reported by exactly one process
    assert sorted(settled[0] + settled[1]) == sorted(p.id for p in payments)
    with pay_app.uow.read() as uow:
        s = uow.session
        topups = s.execute(select(LedgerEntry.payment_id, func.count()).where(LedgerEntry.kind == "topup")
                           .group_by(LedgerEntry.payment_id)).all()
        assert len(topups) == COUNT and {n for _, n in topups} == {1}
        assert s.scalar(select(func.count()).select_from(Payment).where(Payment.status == "success")) == COUNT
        assert s.scalar(select(func.count()).select_from(AuditEntry)
                        .where(AuditEntry.action == "payment.settle")) == COUNT
    for cur, account in accounts.items():
        expected = sum(p.amount.minor for p in payments if p.amount.currency == cur)
        assert pay_app.customers.get(staff.support, account).balance.total.minor == expected
    assert pay_app.audit.verify(staff.manager).ok

"""The top-up and payments commands, end to end against the sandbox over HTTP."""

from __future__ import annotations

import json

import pytest

from billing_desk.models import LedgerEntry, utcnow
from tests.support.customers import cli_customer
from tests.support.payments import fault, pay, write_config
from tests.support.staff import STAFF_PASSWORD


@pytest.fixture
def pay_cli(cli, sandbox, tmp_path):
    cli.monkeypatch.setenv("BILLING_DESK_CONFIG", str(write_config(tmp_path / "config.toml", sandbox.url)))
    return cli


@pytest.mark.parametrize(("country", "currency", "amount", "method", "minor"), [
    ("VN", "VND", "500000", "vnpay", 500000), ("JP", "JPY", "3,000", "stripe", 3000),
    ("US", "USD", "25.00", "paypal", 2500)])
def test_topup_end_to_end_from_the_cli(pay_cli, sandbox, country, currency, amount, method, minor):
    cli = pay_cli
    account = cli_customer(cli, country, currency, f"{method}@example.com")
    r = cli("topup", "create", account, amount, "--json", "--user", "support")
    assert r.code == 0, r.err
    created = json.loads(r.out)
    assert {k: created[k] for k in ("method", "status")} == {"method": method, "status": "pending"}
    assert created["amount"]["minor"] == minor and created["amount"]["currency"] == currency
    assert created["checkout_url"].startswith(sandbox.url)

    pay(sandbox, created["checkout_url"])
    r = cli("payments", "reconcile", "--json", "--user", "finance")
    assert r.code == 0, r.err
    assert [(c["payment_id"], c["status"]) for c in json.loads(r.out)] == [(created["payment_id"], "success")]
    assert json.loads(cli("payments", "reconcile", "--json", "--user", "finance").out) == []

    shown = json.loads(cli("payments", "show", str(created["payment_id"]), "--json", "--user", "support").out)
    for key in ("payment_id", "method", "amount", "status", "checkout_url", "gateway_reference", "reason",
                "created_at", "settled_at"):
        assert key in shown
    assert shown["status"] == "success" and shown["settled_at"]
    balance = json.loads(cli("customer", "show", account, "--json", "--user", "support").out)["balance"]
    assert balance["total"]["minor"] == minor


def test_text_output_warning_and_listing(pay_cli, sandbox):
    cli = pay_cli
    account = cli_customer(cli, "JP", "JPY", "jp@example.com")
    first = cli("topup", "create", account, "3000", "--user", "support")
    assert first.code == 0 and "Send this link" in first.out and "non-refundable" in first.out
    second = cli("topup", "create", account, "5000", "--user", "support")
    assert "Warning: This customer already has a pending top-up" in second.out
    listed = json.loads(cli("payments", "list", "--customer", account, "--json", "--user", "support").out)
    assert [p["amount"]["minor"] for p in listed] == [5000, 3000]
    assert json.loads(cli("payments", "list", "--status", "success", "--json", "--user", "finance").out) == []
    text = cli("payments", "list", "--method", "stripe", "--user", "finance")
    assert text.code == 0 and "stripe" in text.out
    refresh = cli("payments", "reconcile", "--customer", account, "--user", "support")
    assert refresh.code == 0 and "No payment changed (2 pending asked)" in refresh.out


def test_refusals_are_one_line_and_non_zero(pay_cli):
    cli = pay_cli
    account = cli_customer(cli, "VN", "VND", "vn@example.com")
    low = cli("topup", "create", account, "1000", "--user", "support")
    assert low.code == 2 and "minimum top-up is 500,000" in low.err and low.err.count("\n") == 1
    denied = cli("payments", "reconcile", "--user", "support")
    assert denied.code == 4 and "may not reconcile all payments" in denied.err
    assert cli("topup", "create", account, "500000", "--user", "finance").code == 4
    assert cli("payments", "show", "999", "--user", "support").code == 3


def test_no_link_when_the_gateway_is_down(cli, tmp_path):
    config = write_config(tmp_path / "config.toml", "http://127.0.0.1:9")  # nothing listens on port 9
    cli.monkeypatch.setenv("BILLING_DESK_CONFIG", str(config))
    account = cli_customer(cli, "JP", "JPY", "down@example.com")
    r = cli("topup", "create", account, "3000", "--json", "--user", "support")
    assert r.code == 10 and "could not be reached" in r.err
    shown = json.loads(cli("payments", "list", "--json", "--user", "finance").out)
    assert [(p["status"], p["reason"][:11]) for p in shown] == [("failed", "not started")]


def test_no_link_yet_names_the_command_that_gets_it(pay_cli, sandbox):
    """The service's problem leaves the command out (the desk shows it too); the CLI adds it."""
    cli = pay_cli
    account = cli_customer(cli, "JP", "JPY", "lost@example.com")
    hint = "No link yet: run `payments reconcile` (or refresh the customer) in a minute to get it."
    fault(sandbox, "error500", "/stripe/v1/checkout/sessions", method="POST")
    r = cli("topup", "create", account, "3000", "--json", "--user", "support")
    assert r.code == 10 and json.loads(r.out)["problem"].endswith(hint)
    assert r.err.startswith("billing-desk: ") and r.err.endswith(hint + "\n")
    text = cli("topup", "create", account, "3000", "--user", "support")
    problems = [line for line in text.out.splitlines() if line.startswith("Problem: ")]
    assert text.code == 10 and len(problems) == 1 and problems[0].endswith(hint)


def test_list_by_dates(pay_cli):
    cli = pay_cli
    account = cli_customer(cli, "JP", "JPY", "dates@example.com")
    assert cli("topup", "create", account, "3000", "--user", "support").code == 0
    from datetime import datetime, timedelta

    from billing_desk.domain.dates import local_zone

    today = datetime.now(local_zone()).date()
    listed = lambda *a: json.loads(cli("payments", "list", *a, "--json", "--user", "finance").out)  # noqa: E731
    assert len(listed("--from", today.isoformat(), "--to", today.isoformat())) == 1
    assert listed("--to", (today - timedelta(days=1)).isoformat()) == []
    bad = cli("payments", "list", "--from", "yesterday", "--user", "finance")
    assert bad.code == 2 and "YYYY-MM-DD" in bad.err


def test_reconcile_every_runs_as_a_scheduled_loop(db_url, sandbox, tmp_path):
    import os
    import subprocess
    import sys


    env = {**os.environ, "BILLING_DESK_DATABASE_URL": db_url, "BILLING_DESK_PASSWORD": STAFF_PASSWORD,
           "BILLING_DESK_CONFIG": str(write_config(tmp_path / "config.toml", sandbox.url)), "HOME": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "billing_desk", "payments", "reconcile", "--every", "1",
                             "--user", "finance"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(2)]
        assert lines == ["No payment changed (0 pending asked).\n"] * 2
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_reconcile_names_a_payment_it_could_not_credit_on_stderr_and_goes_on(pay_cli, sandbox, app):
    cli = pay_cli
    accounts = [cli_customer(cli, "JP", "JPY", f"{who}@example.com") for who in ("stuck", "other")]
    created = [json.loads(cli("topup", "create", account, "3000", "--json", "--user", "support").out)
               for account in accounts]
    stuck_account = accounts[0]
    for c in created:
        pay(sandbox, c["checkout_url"])
    stuck, other = created
    with app.uow.write() as uow:  # the payment's key already names another amount: crediting is refused
        uow.session.add(LedgerEntry(customer_id=stuck["customer_id"], created_at=utcnow(), kind="topup",
                                    service="Top-up", description="left over", status="success", amount=1,
                                    currency="JPY", source="topup", idempotency_key=f"payment-{stuck['payment_id']}"))
        uow.commit()
    r = cli("payments", "reconcile", "--json", "--user", "finance")
    assert r.code == 0, r.err
    assert [(c["payment_id"], c["status"]) for c in json.loads(r.out)] == [(other["payment_id"], "success")]
    assert r.err.count("\n") == 1 and f"billing-desk: payment {stuck['payment_id']} ({stuck_account}" in r.err
    assert "stays pending. Flagged for finance: paid at the gateway but not credited" in r.err
    text = cli("payments", "reconcile", "--user", "finance")
    assert text.code == 0 and "No payment changed (1 pending asked)" in text.out
    assert text.err.count("\n") == 1 and "not credited" in text.err

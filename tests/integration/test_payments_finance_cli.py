"""`payments show` with the story, `payments exceptions` and `payments close`, end to end against
the sandbox over HTTP: --json shapes, text output and exit codes."""

from __future__ import annotations

import json

import pytest

from tests.support.customers import cli_customer
from tests.support.payments import control, write_config


@pytest.fixture
def pay_cli(cli, sandbox, tmp_path):
    cli.monkeypatch.setenv("BILLING_DESK_CONFIG", str(write_config(tmp_path / "config.toml", sandbox.url)))
    return cli


def _topup(cli, account, amount):
    r = cli("topup", "create", account, amount, "--json", "--user", "support")
    assert r.code == 0, r.err
    return json.loads(r.out)


def test_show_exceptions_and_close(pay_cli, sandbox):
    cli = pay_cli
    account = cli_customer(cli, "US", "USD", "us@example.com")
    held = _topup(cli, account, "25.00")
    assert control(sandbox, "/sandbox/complete", {"checkout_url": held["checkout_url"], "action": "pay",
                                                  "paid_amount": "20.00"})["ok"]
    assert cli("payments", "reconcile", "--json", "--user", "finance").code == 0
    pid = str(held["payment_id"])

    shown = json.loads(cli("payments", "show", pid, "--json", "--user", "finance").out)
    for key in ("payment_id", "status", "amount", "checkout_url", "gateway_reference", "created_at", "settled_at",
                "checks", "ledger_entry", "audit"):
        assert key in shown
    assert [c["outcome"] for c in shown["checks"]] == ["refused"] and shown["checks"][0]["trigger"] == "reconcile"
    assert shown["ledger_entry"] is None and shown["audit"][0]["action"] == "payment.create"
    text = cli("payments", "show", pid, "--user", "finance")
    assert text.code == 0 and "checks (1):" in text.out and "refused" in text.out and "payment.checkout" in text.out
    support = json.loads(cli("payments", "show", pid, "--json", "--user", "support").out)
    assert support["status"] == "pending" and "checks" not in support  # support sees the payment, not the story

    queue = json.loads(cli("payments", "exceptions", "--json", "--user", "finance").out)
    assert [(e["payment_id"], e["kind"]) for e in queue] == [(held["payment_id"], "contradicted")]
    text = cli("payments", "exceptions", "--user", "finance")
    assert text.code == 0 and "contradicted" in text.out and "Not credited" in text.out

    refused = cli("payments", "exceptions", "--user", "support")
    assert refused.code == 4 and refused.out == "" and len(refused.err.strip().splitlines()) == 1
    blank = cli("payments", "close", pid, "--reason", " ", "--json", "--user", "finance")
    assert blank.code == 2 and "reason" in blank.err and len(blank.err.strip().splitlines()) == 1
    missing = cli("payments", "close", pid, "--user", "finance")
    assert missing.code == 2 and "--reason" in missing.err

    closed = cli("payments", "close", pid, "--reason", "customer paid 20 USD; refunded at PayPal", "--json",
                 "--user", "finance")
    assert closed.code == 0, closed.err
    assert json.loads(closed.out)["status"] == "failed"
    assert json.loads(closed.out)["reason"] == "Closed by finance: customer paid 20 USD; refunded at PayPal"
    assert json.loads(cli("payments", "exceptions", "--json", "--user", "finance").out) == []
    again = cli("payments", "close", pid, "--reason", "again", "--yes", "--user", "finance")
    assert again.code == 6 and "only a pending payment" in again.err
    assert cli("payments", "show", "999999", "--user", "finance").code == 3


def test_close_in_text_and_no_exceptions(pay_cli, sandbox):
    cli = pay_cli
    account = cli_customer(cli, "JP", "JPY", "jp@example.com")
    assert cli("payments", "exceptions", "--user", "manager").out.startswith("No payment needs a person.")
    p = _topup(cli, account, "3000")
    r = cli("payments", "close", str(p["payment_id"]), "--reason", "started twice", "--user", "manager")
    assert r.code == 0, r.err
    assert f"Payment {p['payment_id']}" in r.out and "Closed by manager: started twice" in r.out

"""Canary: planted gateway secrets never reach the database, the logs, the audit log or any
message, through successful top-ups, refusals, faults and reconciliation."""


from __future__ import annotations

import json
import logging
import uuid
import warnings

import pytest
from sqlalchemy import MetaData, select

from billing_desk.database import open_database
from billing_desk.sandbox import SandboxCredentials, start_sandbox
from tests.support.customers import cli_customer
from tests.support.payments import clear_faults, fault, pay, with_fast_sections

CANARY = f"canary{uuid.uuid4().hex}"
CREDS = SandboxCredentials(vnpay_hash_secret=f"vn-{CANARY}", stripe_secret_key=f"sk_test_{CANARY}st",
                           paypal_client_secret=f"pp-{CANARY}")


def _config(path, url: str, secrets_in_file: bool) -> str:
    lines = [
        "[gateways.vnpay]", f'tmn_code = "{CREDS.vnpay_tmn_code}"',
        f'payment_url = "{url}/vnpay/paymentv2/vpcpay.html"',
        f'api_url = "{url}/vnpay/merchant_webapi/api/transaction"', f'return_url = "{url}/return"',
        "[gateways.stripe]", f'api_base = "{url}/stripe"', f'success_url = "{url}/return"',
        "[gateways.paypal]", f'client_id = "{CREDS.paypal_client_id}"', f'api_base = "{url}/paypal"',
        f'return_url = "{url}/return"',
    ]
    if secrets_in_file:  # the Stripe key from the file, the other two from the environment
        lines.insert(lines.index("[gateways.paypal]"), f'secret_key = "{CREDS.stripe_secret_key}"')
    path.write_text(with_fast_sections("\n".join(lines) + "\n"), encoding="utf-8")
    return str(path)


def _dump(db_url: str) -> str:
    database = open_database(db_url)
    try:
        meta = MetaData()
        with warnings.catch_warnings():  # expression indexes cannot be reflected; rows are all we read
            warnings.simplefilter("ignore")
            meta.reflect(database.engine)
        with database.engine.connect() as conn:
            return "\n".join(repr(row) for table in meta.sorted_tables for row in conn.execute(select(table)))
    finally:
        database.dispose()


@pytest.fixture
def canary_sandbox():
    handle = start_sandbox(credentials=CREDS)
    yield handle
    handle.stop()


@pytest.mark.slow
def test_secrets_stay_out_of_db_logs_audit_and_messages(cli, canary_sandbox, db_url, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    sandbox = canary_sandbox
    cli.monkeypatch.setenv("BILLING_DESK_VNPAY_HASH_SECRET", CREDS.vnpay_hash_secret)
    cli.monkeypatch.setenv("BILLING_DESK_PAYPAL_CLIENT_SECRET", CREDS.paypal_client_secret)
    cli.monkeypatch.setenv("BILLING_DESK_CONFIG", _config(tmp_path / "good.toml", sandbox.url, True))
    texts: list[str] = []

    def run(*args: str) -> None:
        result = cli(*args)
        texts.extend([result.out, result.err])

    accounts = [cli_customer(cli, country, currency, email, "Canary Person") for country, currency, email in
                (("VN", "VND", "vn@example.com"), ("JP", "JPY", "jp@example.com"), ("US", "USD", "us@example.com"))]
    for account, amount in zip(accounts, ("500000", "3000", "25"), strict=True):
        run("topup", "create", account, amount, "--json", "--user", "support")
    links = [json.loads(texts[i])["checkout_url"] for i in (0, 2, 4)]
    pay(sandbox, links[0])
    pay(sandbox, links[1])
    for kind in ("error500", "reset", "lose_reply"):
        fault(sandbox, kind, "/", times=100)
        run("payments", "reconcile", "--json", "--user", "finance")
        run("topup", "create", accounts[1], "3000", "--user", "support")
        clear_faults(sandbox)
    run("payments", "reconcile", "--user", "finance")

    # The same secrets refused by a gateway that does not know them: 401s and refused tokens.
    with_other = start_sandbox()
    try:
        cli.monkeypatch.setenv("BILLING_DESK_CONFIG", _config(tmp_path / "bad.toml", with_other.url, True))
        run("topup", "create", accounts[1], "3000", "--json", "--user", "support")
        run("topup", "create", accounts[2], "25", "--json", "--user", "support")
        pay(sandbox, links[2])
        run("payments", "reconcile", "--json", "--user", "finance")
    finally:
        with_other.stop()
    run("payments", "list", "--json", "--user", "finance")
    run("audit", "list", "--json", "--user", "admin")

    joined = "\n".join(texts)
    assert "refused the secret key" in joined and "success" in joined  # the paths above really ran
    haystacks = {"cli output and errors": joined, "logs": caplog.text, "database": _dump(db_url)}
    for where, text in haystacks.items():
        assert CANARY not in text, f"a planted secret leaked into the {where}"

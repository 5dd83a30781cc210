"""A bad value in the config file stops a command at start: exit 7 (configuration), one line
on stderr naming the file and the key, no traceback, and nothing written to the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from billing_desk.bootstrap import App
from billing_desk.domain.errors import ConfigError
from billing_desk.models import AuditEntry, Customer
from tests.support.cli import CliRunner

# (test id, config file text, the key the message must name); one case per bad value.
BAD_VALUES = [
    ("margin-not-a-number", '[topup]\nexpiry_margin_minutes = "abc"\n', "[topup] expiry_margin_minutes"),
    ("margin-negative", "[topup]\nexpiry_margin_minutes = -5\n", "[topup] expiry_margin_minutes"),
    ("margin-not-finite", "[topup]\nexpiry_margin_minutes = nan\n", "[topup] expiry_margin_minutes"),
    ("minimums-not-a-table", '[topup]\nminimums = "x"\n', "[topup] minimums"),
    ("minimum-not-an-amount", '[topup]\nminimums = {VND="abc"}\n', "[topup] minimums.VND"),
    ("minimum-with-decimals-vnd-has-not", '[topup]\nminimums = {VND="500000.5"}\n', "[topup] minimums.VND"),
    ("minimum-zero", '[topup]\nminimums = {USD="0"}\n', "[topup] minimums.USD"),
    ("minimum-above-the-maximum", '[topup]\nminimums = {USD="20000"}\n', "[topup] minimums.USD"),
    ("minimum-unknown-currency", '[topup]\nminimums = {XYZ="25"}\n', "[topup] minimums"),
    ("minimum-a-list", "[topup]\nminimums = {USD=[25]}\n", "[topup] minimums.USD"),
    ("topup-not-a-table", "topup = 5\n", "[topup]"),
    ("code-key-too-short", '[vouchers]\ncode_key = "0123456789"\n', "[vouchers] code_key"),
    ("code-key-not-text", "[vouchers]\ncode_key = 12345\n", "[vouchers] code_key"),
    ("vouchers-not-a-table", 'vouchers = "x"\n', "[vouchers]"),
    ("database-url-not-text", "[database]\nurl = 5\n", "[database] url"),
    ("database-not-a-table", 'database = "sqlite://"\n', "[database]"),
    ("gateways-not-a-table", "gateways = [1]\n", "[gateways]"),
    ("gateway-not-a-table", '[gateways]\nstripe = "x"\n', "[gateways.stripe]"),
    ("read-timeout-not-a-number", '[gateways.stripe]\nread_timeout = "slow"\n', "[gateways.stripe] read_timeout"),
    ("connect-timeout-zero", "[gateways.vnpay]\nconnect_timeout = 0\n", "[gateways.vnpay] connect_timeout"),
    ("retries-not-a-number", '[gateways.paypal]\nmax_retries = "two"\n', "[gateways.paypal] max_retries"),
    ("retries-not-whole", "[gateways.paypal]\nmax_retries = 1.5\n", "[gateways.paypal] max_retries"),
    ("retries-too-many", "[gateways.paypal]\nmax_retries = 50\n", "[gateways.paypal] max_retries"),
    ("retry-delay-negative", "[gateways.stripe]\nretry_base_delay = -1\n", "[gateways.stripe] retry_base_delay"),
    ("paypal-currency-unknown", '[gateways.paypal]\ncurrencies = ["USD", "XYZ"]\n', "[gateways.paypal] currencies"),
    ("paypal-currencies-not-a-list", '[gateways.paypal]\ncurrencies = "USD"\n', "[gateways.paypal] currencies"),
    ("gateway-url-not-text", "[gateways.stripe]\napi_base = true\n", "[gateways.stripe] api_base"),
    ("secret-not-text", "[gateways.stripe]\nsecret_key = [1, 2]\n", "[gateways.stripe] secret_key"),
]


def _counts(app: App) -> tuple[int, int]:
    with app.uow.read() as uow:
        customers = uow.session.scalar(select(func.count()).select_from(Customer))
        audit = uow.session.scalar(select(func.count()).select_from(AuditEntry))
    return int(customers or 0), int(audit or 0)


@pytest.mark.parametrize(("text", "key"), [pytest.param(t, k, id=i) for i, t, k in BAD_VALUES])
def test_a_bad_value_stops_the_command_with_one_line(text: str, key: str, cli: CliRunner, app: App,
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    monkeypatch.setenv("BILLING_DESK_CONFIG", str(config))
    before = _counts(app)
    r = cli("customer", "create", "--name", "Nguyen Van An", "--email", "an@example.vn", "--country", "VN",
            "--type", "personal", "--user", "support")
    assert r.code == ConfigError.exit_code == 7
    assert r.out == ""
    assert r.err.count("\n") == 1 and r.err.endswith("\n"), r.err
    assert r.err.startswith(f"billing-desk: In the config file {config}, {key} ")
    assert "Traceback" not in r.err
    assert _counts(app) == before


def test_secrets_are_not_repeated_in_the_message(cli: CliRunner, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[vouchers]\ncode_key = "a-secret-but-short"\n', encoding="utf-8")
    monkeypatch.setenv("BILLING_DESK_CONFIG", str(config))
    r = cli("voucher", "list", "--user", "support")
    assert r.code == 7 and "[vouchers] code_key is too short" in r.err
    assert "a-secret-but-short" not in r.err

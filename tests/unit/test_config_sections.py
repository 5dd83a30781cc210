"""The config file read once into typed settings: [topup] as Money and a timedelta, the voucher
code key as a Secret, gateway timeouts and retries as numbers; and a bad value as one line
from the real command, before any database is opened."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from billing_desk.config import Secret, Settings, TopUpSettings, VoucherKeySettings, load_settings
from billing_desk.domain.money import Money

KEY = "k" * 40


def _load(tmp_path: Path, text: str, **env: str) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings({"BILLING_DESK_CONFIG": str(path), **env})


def test_topup_section_becomes_money_and_a_margin(tmp_path: Path) -> None:
    settings = _load(tmp_path, '[topup]\nminimums = { vnd = "600,000", USD = 30, EUR = 25.5 }\n'
                               "expiry_margin_minutes = 7.5\n")
    assert settings.topup.minimums == {"VND": Money(600_000, "VND"), "USD": Money(3000, "USD"),
                                       "EUR": Money(2550, "EUR")}
    assert settings.topup.expiry_margin == timedelta(minutes=7.5)


def test_without_a_topup_section_the_defaults_hold(tmp_path: Path) -> None:
    assert _load(tmp_path, "").topup == TopUpSettings() and TopUpSettings().expiry_margin == timedelta(minutes=30)
    assert dict(TopUpSettings().minimums) == {}


def test_voucher_code_key_from_the_file_is_a_secret(tmp_path: Path) -> None:
    settings = _load(tmp_path, f'[vouchers]\ncode_key = "  {KEY}  "\n')
    assert settings.vouchers.key == Secret(KEY)
    assert KEY not in repr(settings) and KEY not in str(settings.vouchers)
    assert _load(tmp_path, f'[vouchers]\ncode_key = "{KEY}"\n', BILLING_DESK_VOUCHER_KEY="e" * 40).vouchers.key \
        == Secret("e" * 40)


def test_without_a_configured_key_the_key_file_is_used(tmp_path: Path) -> None:
    source = _load(tmp_path, "").vouchers
    assert source.key is None and source.key_file.name == "voucher-code.key"
    assert VoucherKeySettings.from_environment({}).key is None
    assert VoucherKeySettings.from_environment({"BILLING_DESK_VOUCHER_KEY": KEY}).key == Secret(KEY)


def test_gateway_numbers_and_currencies_are_checked_and_kept(tmp_path: Path) -> None:
    settings = _load(tmp_path, "[gateways.stripe]\nconnect_timeout = 2\nread_timeout = 12.5\nmax_retries = 0\n"
                               'retry_base_delay = 0\n[gateways.paypal]\ncurrencies = ["usd", "GBP"]\n'
                               "[gateways.vnpay]\ntmn_code = 12345678\n")
    stripe = settings.gateway("stripe")
    assert (stripe["connect_timeout"], stripe["read_timeout"], stripe["max_retries"]) == (2.0, 12.5, 0)
    assert settings.paypal_currencies == ("USD", "GBP")
    assert settings.gateway("vnpay")["tmn_code"] == "12345678"


def test_a_bad_value_is_one_line_from_the_command_before_the_database(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[topup]\nexpiry_margin_minutes = "abc"\n', encoding="utf-8")
    database = tmp_path / "never.sqlite3"
    env = {**os.environ, "BILLING_DESK_CONFIG": str(config), "BILLING_DESK_DATABASE_URL": f"sqlite:///{database}",
           "BILLING_DESK_PASSWORD": "x", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "billing_desk", "customer", "find", "an", "--user", "ana"],
                            env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 7
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"billing-desk: In the config file {config}, [topup] expiry_margin_minutes must be a number of minutes "
        'from 0 to 10080, like 30, not "abc".'
    ]
    assert not database.exists()

"""Configuration precedence and secret handling."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing_desk.cli.main import build_parser, glue_dash_values
from billing_desk.config import Secret, load_settings
from billing_desk.domain.errors import ConfigError


def test_env_beats_file_beats_default(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[database]\nurl = "sqlite:////tmp/from-file.sqlite3"\n')
    env = {"BILLING_DESK_CONFIG": str(cfg)}
    assert load_settings(env).database_url == "sqlite:////tmp/from-file.sqlite3"
    env["BILLING_DESK_DATABASE_URL"] = "postgresql+psycopg2://u@h/db"
    assert load_settings(env).database_url == "postgresql+psycopg2://u@h/db"
    default = load_settings(
        {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    )
    assert default.database_url.startswith("sqlite:///") and default.database_url.endswith("billing-desk.sqlite3")


def test_missing_or_broken_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings({"BILLING_DESK_CONFIG": str(tmp_path / "nope.toml")})
    bad = tmp_path / "bad.toml"
    bad.write_text("[database\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings({"BILLING_DESK_CONFIG": str(bad)})


def test_secrets_come_from_env_and_never_print(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[gateways.stripe]\nsecret_key = "sk_test_file"\n[gateways.vnpay]\nhash_secret = " padded "\n')
    settings = load_settings({"BILLING_DESK_CONFIG": str(cfg), "BILLING_DESK_PAYPAL_CLIENT_SECRET": "pp-secret"})
    assert settings.gateway("stripe")["secret_key"].reveal() == "sk_test_file"
    assert settings.gateway("vnpay")["hash_secret"].reveal() == "padded"
    assert settings.gateway("paypal")["client_secret"] == Secret("pp-secret")
    assert "sk_test_file" not in repr(settings) and "pp-secret" not in str(settings)


def test_option_values_starting_with_a_dash_are_glued() -> None:
    parser = build_parser()
    argv = ["customer", "update", "5", "--name", "-2+3", "--address", "=SUM(A1)", "--json"]
    assert glue_dash_values(argv, parser) == [
        "customer",
        "update",
        "5",
        "--name=-2+3",
        "--address",
        "=SUM(A1)",
        "--json",
    ]
    assert glue_dash_values(["customer", "find", "--limit", "--json"], parser) == [
        "customer",
        "find",
        "--limit",
        "--json",
    ]

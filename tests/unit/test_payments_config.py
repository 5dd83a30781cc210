"""Gateway secrets from the file, the environment or the OS keyring, always as Secret."""

from __future__ import annotations

import sys
import types

from billing_desk.config import Secret, load_settings


def _write(tmp_path, text: str) -> dict[str, str]:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return {"BILLING_DESK_CONFIG": str(path), "BILLING_DESK_DATABASE_URL": "sqlite:///x.db"}


def test_environment_beats_the_file_and_secrets_never_print(tmp_path):
    env = _write(tmp_path, '[gateways.stripe]\nsecret_key = "sk_test_file"\n[gateways.vnpay]\ntmn_code = "ABCDEFGH"\n')
    env["BILLING_DESK_VNPAY_HASH_SECRET"] = " from-env "
    settings = load_settings(env)
    assert settings.gateway("stripe")["secret_key"] == Secret("sk_test_file")
    assert settings.gateway("vnpay")["hash_secret"].reveal() == "from-env"  # whitespace would break the hash
    assert "sk_test_file" not in repr(settings) and "from-env" not in repr(settings)


def test_keyring_fills_a_secret_the_file_leaves_out(tmp_path, monkeypatch):
    stored = {("billing-desk", "paypal.client_secret"): "from-keyring"}
    fake = types.ModuleType("keyring")
    fake.get_password = lambda service, user: stored.get((service, user))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", fake)
    env = _write(tmp_path, '[gateways.paypal]\nclient_id = "abc"\n')
    assert load_settings(env).gateway("paypal")["client_secret"] == Secret("from-keyring")
    assert "client_secret" not in load_settings(_write(tmp_path, "")).gateway("paypal")


def test_minimums_and_currencies_from_the_config(tmp_path):
    from billing_desk.services.payments.service import build_payment_service

    env = _write(tmp_path, '[gateways.paypal]\ncurrencies = ["USD", "GBP"]\n[topup]\nminimums = { GBP = "30" }\n'
                           'expiry_margin_minutes = 5\n')
    settings = load_settings(env)
    service = build_payment_service(None, settings.gateways, settings.paypal_currencies,  # type: ignore[arg-type]
                                    settings.topup.minimums, settings.topup.expiry_margin)
    assert service.expiry_margin.total_seconds() == 300
    assert service._minimums["GBP"].minor == 3000
    assert service._paypal_currencies == ("USD", "GBP")

"""Where settings come from: environment, then a TOML file, then defaults.

The database URL is ``BILLING_DESK_DATABASE_URL``, else ``database.url`` in the config file
(``BILLING_DESK_CONFIG``, else ``config.toml`` in the user config folder), else an SQLite file
in the user data folder. Gateway sections are read here too; a secret may come from the
environment instead of the file (or, for a configured gateway, from the OS keyring when the
optional ``keyring`` package is installed), and is held in ``Secret`` so that it never prints.
Nothing here runs at import time.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from billing_desk.domain.countries import DEFAULT_PAYPAL_CURRENCIES
from billing_desk.domain.errors import ConfigError
from billing_desk.domain.secret import Secret

__all__ = ["Secret", "Settings", "load_settings"]  # Secret's home is domain/secret.py; kept importable here

APP_NAME = "billing-desk"


@dataclass(frozen=True)
class Settings:
    database_url: str
    config_path: Path | None
    gateways: dict[str, dict[str, Any]] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)  # may hold secrets

    def gateway(self, name: str) -> dict[str, Any]:
        return self.gateways.get(name, {})

    @property
    def paypal_currencies(self) -> tuple[str, ...]:
        """The PayPal currencies this desk offers: ``[gateways.paypal] currencies``, else USD and EUR."""
        configured = self.gateway("paypal").get("currencies")
        return tuple(str(c).upper() for c in configured) if configured else DEFAULT_PAYPAL_CURRENCIES


def user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def default_sqlite_url(name: str = "billing-desk.sqlite3") -> str:
    return f"sqlite:///{user_data_dir() / name}"


def config_file_path(env: Mapping[str, str] | None = None) -> Path:
    explicit = (os.environ if env is None else env).get("BILLING_DESK_CONFIG")
    return Path(explicit) if explicit else user_config_dir() / "config.toml"


_SECRET_ENV = {
    ("vnpay", "hash_secret"): "BILLING_DESK_VNPAY_HASH_SECRET",
    ("stripe", "secret_key"): "BILLING_DESK_STRIPE_SECRET_KEY",
    ("paypal", "client_secret"): "BILLING_DESK_PAYPAL_CLIENT_SECRET",
}


KEYRING_SERVICE = APP_NAME


def keyring_secret(gateway: str, key: str) -> str | None:
    """A secret from the OS keyring (service 'billing-desk', user '<gateway>.<key>'), when the
    optional ``keyring`` package is installed and holds one; otherwise None."""
    try:
        import keyring  # optional: not a dependency
    except ImportError:
        return None
    try:
        value = keyring.get_password(KEYRING_SERVICE, f"{gateway}.{key}")
    except Exception:  # a locked or absent keyring backend is the same as no entry
        return None
    return str(value) if value else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The config file {path} is not valid TOML: {exc}.") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read the config file {path}: {exc.strerror}.") from None


def _gateways(raw: dict[str, Any], env: dict[str, str]) -> dict[str, dict[str, Any]]:
    section = raw.get("gateways", {})
    if not isinstance(section, dict):
        raise ConfigError("[gateways] in the config file must be a table.")
    result: dict[str, dict[str, Any]] = {}
    for name in ("vnpay", "stripe", "paypal", *section.keys()):
        values = dict(section.get(name, {}))
        for (gw, key), var in _SECRET_ENV.items():
            if gw == name:
                if env.get(var):
                    values[key] = env[var]
                elif not values.get(key) and values:
                    values[key] = keyring_secret(gw, key) or values.get(key)
                if isinstance(values.get(key), str):
                    values[key] = Secret(values[key].strip())
        result[name] = values
    return result


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    path = config_file_path(env)
    explicit = "BILLING_DESK_CONFIG" in env
    raw: dict[str, Any] = {}
    if path.exists():
        raw = _read_toml(path)
    elif explicit:
        raise ConfigError(f"BILLING_DESK_CONFIG names {path}, which does not exist.")
    url = env.get("BILLING_DESK_DATABASE_URL") or raw.get("database", {}).get("url") or default_sqlite_url()
    return Settings(
        database_url=str(url),
        config_path=path if path.exists() else None,
        gateways=_gateways(raw, env),
        raw=raw,
    )

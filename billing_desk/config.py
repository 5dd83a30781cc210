"""The one reading of the configuration: environment, then a TOML file, then defaults.

``load_settings`` reads the config file (``BILLING_DESK_CONFIG``, else ``config.toml`` in the
user config folder) and the environment once, checks every key it uses and returns typed
``Settings``: the database URL (``BILLING_DESK_DATABASE_URL``, else ``[database] url``, else
an SQLite file in the user data folder), the ``[gateways.*]`` tables, the ``[topup]`` limits
and where the voucher code key comes from. A wrong value is a ``ConfigError`` naming the file
(or the variable), the key and what is expected, raised before anything connects. Secrets
(from the file, the environment or, for a configured gateway, the OS keyring when the
optional ``keyring`` package is installed) are held in ``Secret`` so that they never print.

Services never import this module: the composition root (``bootstrap.py``) hands them the
typed values. Nothing here runs at import time.
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

import platformdirs

from billing_desk.domain.countries import DEFAULT_PAYPAL_CURRENCIES
from billing_desk.domain.errors import ConfigError, ValidationError
from billing_desk.domain.money import CURRENCIES, PAYPAL_CURRENCIES, Money, parse_money
from billing_desk.domain.secret import Secret
from billing_desk.domain.text import has_control
from billing_desk.domain.topup_limits import limits_for

__all__ = [
    "Secret",  # its home is domain/secret.py; kept importable from here for existing callers
    "Settings",
    "TopUpSettings",
    "VoucherKeySettings",
    "config_file_path",
    "load_settings",
    "user_config_dir",
    "user_data_dir",
]

APP_NAME = "billing-desk"
DATABASE_URL_ENV = "BILLING_DESK_DATABASE_URL"
VOUCHER_KEY_ENV = "BILLING_DESK_VOUCHER_KEY"
VOUCHER_KEY_FILE_NAME = "voucher-code.key"
MIN_VOUCHER_KEY_LENGTH = 32
DEFAULT_EXPIRY_MARGIN = timedelta(minutes=30)
MAX_RETRIES = 10  # with backoff capped at 5 s, more would hold a top-up for minutes
# Upper bounds that keep a typo from becoming an overflow deep inside a socket or a timedelta
# (a timeout of 1e308 s is "timestamp out of range"; 1e308 minutes no timedelta can hold).
MAX_TIMEOUT = 600.0  # seconds: longer than any gateway answer worth waiting for
MAX_RETRY_DELAY = 60.0
MAX_EXPIRY_MARGIN = 7 * 24 * 60.0  # minutes: a week


def user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def default_sqlite_url(name: str = "billing-desk.sqlite3") -> str:
    return f"sqlite:///{user_data_dir() / name}"


def config_file_path(env: Mapping[str, str] | None = None) -> Path:
    explicit = (os.environ if env is None else env).get("BILLING_DESK_CONFIG")
    return Path(explicit) if explicit else user_config_dir() / "config.toml"


# -- the typed settings -----------------------------------------------------------------------


@dataclass(frozen=True)
class TopUpSettings:
    """``[topup]``: minimums per currency that override the built-in ones, and how long past
    its checkout's expiry a pending payment is still asked about before it is failed."""

    minimums: Mapping[str, Money] = field(default_factory=lambda: MappingProxyType({}))
    expiry_margin: timedelta = DEFAULT_EXPIRY_MARGIN


@dataclass(frozen=True)
class VoucherKeySettings:
    """Where the voucher code key comes from: ``key`` when one is configured
    (``BILLING_DESK_VOUCHER_KEY``, else ``[vouchers] code_key``; 32 characters or more), else
    ``key_file``, which the vouchers service creates on first use."""

    key: Secret | None = None
    key_file: Path = field(default_factory=lambda: user_data_dir() / VOUCHER_KEY_FILE_NAME)

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> VoucherKeySettings:
        """The key source of a desk without a config file: the variable, else the key file.

        It is also the default of ``Settings`` built in code (tests, the export's child
        process), so that they honour ``BILLING_DESK_VOUCHER_KEY`` as a configured desk does.
        """
        return _voucher_key(_Checker(None), {}, dict(os.environ if env is None else env))


DEFAULT_BUSY_WAIT = 10.0
MAX_BUSY_WAIT = 300.0


@dataclass(frozen=True)
class Settings:
    """The configuration, checked. ``gateways`` holds one table per ``[gateways.<name>]`` with
    its values checked and its secrets as ``Secret``; the adapters read them."""

    database_url: str
    config_path: Path | None
    # Seconds a write waits for a lock another task holds before the desk says the database is busy.
    busy_wait: float = DEFAULT_BUSY_WAIT
    gateways: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    topup: TopUpSettings = field(default_factory=TopUpSettings)
    vouchers: VoucherKeySettings = field(default_factory=VoucherKeySettings.from_environment)

    def gateway(self, name: str) -> Mapping[str, Any]:
        return self.gateways.get(name, {})

    @property
    def paypal_currencies(self) -> tuple[str, ...]:
        """The PayPal currencies this desk offers: ``[gateways.paypal] currencies``, else USD and EUR."""
        configured = self.gateway("paypal").get("currencies")
        return tuple(str(c).upper() for c in configured) if configured else DEFAULT_PAYPAL_CURRENCIES


# -- reading and checking ---------------------------------------------------------------------


def _shown(value: object) -> str:
    """A wrong value as the person wrote it in TOML, short enough for a one-line message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 40 else value[:37] + "...", ensure_ascii=False)
    return str(value)


class _Checker:
    """Builds the errors of one config file: each names the file, the key and what is expected."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ConfigError(f"In the config file {self.path}, {key} {problem.rstrip('.')}.", field=key)

    def wrong(self, key: str, expected: str, value: object, *, secret: bool = False, detail: str = "") -> NoReturn:
        found = "" if secret else f", not {_shown(value)}"
        self.fail(key, f"must be {expected}{found}" + (f" ({detail.rstrip('.')})" if detail else ""))

    def table(self, parent: Mapping[str, Any], name: str, key: str) -> dict[str, Any]:
        value = parent.get(name, {})
        if not isinstance(value, dict):
            self.wrong(key, f"a table (a {key} heading with its keys below it)", value)
        return value

    def number(self, key: str, value: object, expected: str, *, minimum: float, maximum: float,
               above: bool = False) -> float:
        """A TOML integer or float (not a quoted number: that is text) from ``minimum`` to ``maximum``."""
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.wrong(key, expected, value)
        number = float(value)
        if number < minimum or number > maximum or (above and number == minimum):
            self.wrong(key, expected, value)
        return number

    def text(self, key: str, value: object, *, secret: bool = False) -> str:
        # An unquoted number (a merchant code of digits) is taken as its text.
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.wrong(key, "text in quotes", value, secret=secret)
        if has_control(str(value)):  # a NUL or a line break cannot go into a URL, a header or a hash
            self.wrong(key, "text on one line without control characters", value, secret=True)
        return str(value)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The config file {path} is not valid TOML: {exc}.") from None
    except UnicodeDecodeError as exc:  # TOML is UTF-8; tomllib lets the decoding error through
        raise ConfigError(f"The config file {path} is not UTF-8 text (byte {exc.start} cannot be read); "
                          "save it as UTF-8.") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read the config file {path}: {exc.strerror}.") from None
    except (ValueError, RecursionError):
        # tomllib lets these through too: a number of over 4,300 digits (int's text limit) and
        # arrays or tables nested past the recursion limit.
        raise ConfigError(f"The config file {path} is not valid TOML: a number too long or values nested "
                          "too deeply to read.") from None


def _database_url(check: _Checker, raw: dict[str, Any], env: Mapping[str, str]) -> str:
    url = check.table(raw, "database", "[database]").get("url")
    if url is not None and (not isinstance(url, str) or has_control(url)):
        check.wrong("[database] url", 'a database URL in quotes, like "postgresql+psycopg2://user@host/db"', url,
                    secret=True)
    return env.get(DATABASE_URL_ENV) or url or default_sqlite_url()


def _busy_wait(check: _Checker, raw: dict[str, Any]) -> float:
    section = check.table(raw, "database", "[database]")
    if "busy_wait" not in section:
        return DEFAULT_BUSY_WAIT
    return check.number("[database] busy_wait", section["busy_wait"],
                        f"a number of seconds above 0 and up to {MAX_BUSY_WAIT:g}, like 10",
                        minimum=0, maximum=MAX_BUSY_WAIT, above=True)


# -- [gateways.<name>] ------------------------------------------------------------------------

_SECRET_ENV = {
    ("vnpay", "hash_secret"): "BILLING_DESK_VNPAY_HASH_SECRET",
    ("stripe", "secret_key"): "BILLING_DESK_STRIPE_SECRET_KEY",
    ("paypal", "client_secret"): "BILLING_DESK_PAYPAL_CLIENT_SECRET",
}
# The text keys each adapter reads; other keys are left as written (no adapter reads them).
_GATEWAY_TEXT = {
    "vnpay": ("tmn_code", "return_url", "payment_url", "api_url", "locale", "ip_addr"),
    "stripe": ("success_url", "cancel_url", "api_base"),
    "paypal": ("client_id", "return_url", "cancel_url", "api_base", "brand_name"),
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


def _http_values(check: _Checker, where: str, values: dict[str, Any]) -> None:
    """The timeouts and retries every adapter's HTTP caller takes, as numbers."""
    for key in ("connect_timeout", "read_timeout"):
        if key in values:
            values[key] = check.number(f"{where} {key}", values[key],
                                       f"a number of seconds above 0 and at most {MAX_TIMEOUT:g}, like 5",
                                       minimum=0, maximum=MAX_TIMEOUT, above=True)
    if "retry_base_delay" in values:
        values["retry_base_delay"] = check.number(f"{where} retry_base_delay", values["retry_base_delay"],
                                                  f"a number of seconds from 0 to {MAX_RETRY_DELAY:g}, like 0.5",
                                                  minimum=0, maximum=MAX_RETRY_DELAY)
    if "max_retries" in values:
        count = values["max_retries"]
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_RETRIES:
            check.wrong(f"{where} max_retries", f"a whole number from 0 to {MAX_RETRIES}, like 2", count)


def _paypal_currencies(check: _Checker, value: object) -> list[str]:
    key, expected = "[gateways.paypal] currencies", 'a list of currency codes PayPal takes, like ["USD", "EUR"]'
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        check.wrong(key, expected, value)
    unknown = [c for c in value if c.upper() not in PAYPAL_CURRENCIES]
    if unknown:
        check.fail(key, f"names {_shown(unknown[0])}, which is not a currency PayPal takes here "
                        f"({', '.join(sorted(PAYPAL_CURRENCIES))})")
    return [c.upper() for c in value]


def _gateway(check: _Checker, name: str, table: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    where = f"[gateways.{name}]"
    values = dict(table)
    for key in _GATEWAY_TEXT.get(name, ()):
        if key in values:
            values[key] = check.text(f"{where} {key}", values[key])
    _http_values(check, where, values)
    if name == "paypal" and "currencies" in values:
        values["currencies"] = _paypal_currencies(check, values["currencies"])
    for (gw, key), var in _SECRET_ENV.items():
        if gw != name:
            continue
        if key in values:
            values[key] = check.text(f"{where} {key}", values[key], secret=True)
        if env.get(var):
            values[key] = env[var]
        elif not values.get(key) and values:
            values[key] = keyring_secret(gw, key) or values.get(key)
        if isinstance(values.get(key), str):
            values[key] = Secret(values[key].strip())  # §1.8 of the VNPay guide: whitespace breaks a hash
    return values


def _gateways(check: _Checker, raw: dict[str, Any], env: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    section = check.table(raw, "gateways", "[gateways]")
    return {name: _gateway(check, name, check.table(section, name, f"[gateways.{name}]"), env)
            for name in dict.fromkeys(("vnpay", "stripe", "paypal", *section))}


# -- [topup] ----------------------------------------------------------------------------------


def _minimum(check: _Checker, code: str, value: object) -> Money:
    key, upper = f"[topup] minimums.{code}", code.upper()
    if upper not in CURRENCIES:
        check.fail("[topup] minimums", f"names {_shown(code)}, which is not a currency code this desk knows "
                                       "(an ISO code such as VND, JPY, USD or EUR)")
    expected = f'an amount of {upper}, like "{limits_for(upper, PAYPAL_CURRENCIES).minimum.as_decimal()}"'
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        check.wrong(key, expected, value)
    try:
        # A TOML float prints as the shortest text that reads back the same: what was written.
        money = parse_money(str(value), upper)
    except ValidationError as exc:
        check.wrong(key, expected, value, detail=exc.message)
    maximum = limits_for(money.currency, PAYPAL_CURRENCIES).maximum
    if not 0 < money.minor <= maximum.minor:
        check.fail(key, f"must be above 0 and at most the top-up maximum {maximum}, not {_shown(value)}")
    return money


def _topup(check: _Checker, raw: dict[str, Any]) -> TopUpSettings:
    section = check.table(raw, "topup", "[topup]")
    minimums = section.get("minimums", {})
    if not isinstance(minimums, dict):
        check.wrong("[topup] minimums", 'a table of amounts by currency, like { VND = "500000", USD = "25" }',
                    minimums)
    parsed = {code.upper(): _minimum(check, code, value) for code, value in minimums.items()}
    margin = DEFAULT_EXPIRY_MARGIN
    if "expiry_margin_minutes" in section:
        margin = timedelta(minutes=check.number("[topup] expiry_margin_minutes", section["expiry_margin_minutes"],
                                                f"a number of minutes from 0 to {MAX_EXPIRY_MARGIN:g}, like 30",
                                                minimum=0, maximum=MAX_EXPIRY_MARGIN))
    return TopUpSettings(MappingProxyType(parsed), margin)


# -- [vouchers] -------------------------------------------------------------------------------


def _voucher_key(check: _Checker, raw: dict[str, Any], env: Mapping[str, str]) -> VoucherKeySettings:
    configured = check.table(raw, "vouchers", "[vouchers]").get("code_key")
    key: Secret | None = None
    if configured is not None:
        if not isinstance(configured, str):
            check.wrong("[vouchers] code_key", "text in quotes", configured, secret=True)
        if len(configured.strip()) < MIN_VOUCHER_KEY_LENGTH:
            check.fail("[vouchers] code_key", f"is too short: use at least {MIN_VOUCHER_KEY_LENGTH} random "
                                              "characters, the same on every desk")
        key = Secret(configured.strip())
    if env.get(VOUCHER_KEY_ENV):
        value = env[VOUCHER_KEY_ENV].strip()
        if len(value) < MIN_VOUCHER_KEY_LENGTH:
            raise ConfigError(f"The voucher code key in {VOUCHER_KEY_ENV} is too short: use at least "
                              f"{MIN_VOUCHER_KEY_LENGTH} characters.", field=VOUCHER_KEY_ENV)
        key = Secret(value)
    return VoucherKeySettings(key=key)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the environment and the config file once; every key used is checked here."""
    env = dict(os.environ if env is None else env)
    path = config_file_path(env)
    raw: dict[str, Any] = {}
    if path.exists():
        raw = _read_toml(path)
    elif "BILLING_DESK_CONFIG" in env:
        raise ConfigError(f"BILLING_DESK_CONFIG names {path}, which does not exist.")
    check = _Checker(path)
    return Settings(
        database_url=_database_url(check, raw, env),
        config_path=path if path.exists() else None,
        busy_wait=_busy_wait(check, raw),
        gateways=_gateways(check, raw, env),
        topup=_topup(check, raw),
        vouchers=_voucher_key(check, raw, env),
    )

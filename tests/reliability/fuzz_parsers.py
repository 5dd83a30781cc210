"""atheris (coverage-guided, libFuzzer) over the parsers a person, a file or a gateway reaches.

Run: ``python -m tests.reliability.fuzz_parsers -atheris_runs=20000`` (any libFuzzer flag
works; test_fuzz_parsers.py runs it with ``--long``). Each input picks a parser and feeds it
fuzzed text: an amount in any of the 25 currencies, a voucher code, a day, an instant, a
history cursor, a billing profile's email and tax code, a usage CSV (parsed against a real
SQLite database with one customer and one service), a config file, and a gateway's JSON
reply read by the VNPay and PayPal adapters. The invariant is the suite's: a value, or a
BillingDeskError whose message is one line; any other exception is a crash libFuzzer reports.
atheris is optional (``pip install -e .[fuzz]``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris
import requests
import sqlalchemy  # noqa: F401  (imported before instrumenting: only the desk's own code is traced)

with atheris.instrument_imports(include=["billing_desk"]):
    from billing_desk.config import load_settings
    from billing_desk.domain.dates import parse_day, parse_instant
    from billing_desk.domain.errors import BillingDeskError
    from billing_desk.domain.money import CURRENCIES, Money, parse_money
    from billing_desk.services.customers.profile import validate_profile
    from billing_desk.services.ledger.dtos import HistoryCursor
    from billing_desk.services.ledger.usage import parse_usage_file
    from billing_desk.services.payments.gateways.base import NotJson, parse_json
    from billing_desk.services.payments.gateways.paypal import PayPalGateway
    from billing_desk.services.payments.gateways.vnpay import VNPayGateway
    from billing_desk.services.vouchers.codes import normalise_code

from tests.support.hostile import check_refusal

CODES = sorted(CURRENCIES)
WORK = Path(tempfile.mkdtemp(prefix="bd-fuzz-"))
_DESK: dict[str, object] = {}
_SECRETS = {"BILLING_DESK_VNPAY_HASH_SECRET": "s" * 20, "BILLING_DESK_STRIPE_SECRET_KEY": "sk_fuzz",
            "BILLING_DESK_PAYPAL_CLIENT_SECRET": "p" * 20}


def _usage_app() -> object:
    """A migrated SQLite desk with customer C00000001 (USD) and the service Storage, built once."""
    if "app" not in _DESK:
        from billing_desk.bootstrap import build_app
        from billing_desk.config import Settings
        from billing_desk.database import upgrade
        from billing_desk.domain.enums import Role
        from billing_desk.domain.permissions import Actor

        url = f"sqlite:///{WORK / 'fuzz.sqlite3'}"
        upgrade(url)
        app = build_app(Settings(database_url=url, config_path=None))
        admin_row = app.staff.add(None, "admin", "admin", "fuzz-password-123")
        admin = Actor(admin_row.id, "admin", Role.ADMIN)
        customer = app.customers.create(admin, name="Fuzz Person", email="f@example.com", country="US",
                                        billing_type="personal", address="1 Fuzz Street", tax_code=None)
        app.customers.set_currency(admin, customer.id, "USD")
        app.ledger.add_service(admin, "Storage")
        _DESK["app"] = app
    return _DESK["app"]


def _usage(text: str) -> object:
    app = _usage_app()
    with app.uow.read() as uow:  # type: ignore[attr-defined]
        return parse_usage_file(uow.session, "customer,timestamp,service,description,amount,key\n" + text)


def _config(raw: bytes) -> object:
    path = WORK / "config.toml"
    path.write_bytes(raw)
    # Secrets from the environment: a gateway table without one would otherwise ask the keyring.
    return load_settings({"BILLING_DESK_CONFIG": str(path), "HOME": str(WORK), **_SECRETS})


VNPAY = VNPayGateway({"tmn_code": "BDSANDBX", "hash_secret": "s" * 20, "return_url": "http://x/"})
PAYPAL = PayPalGateway({"client_id": "c", "client_secret": "s", "return_url": "http://x/"})


def _reply(raw: bytes, which: int) -> object:
    response = requests.Response()
    response.status_code, response._content = 200, raw
    response.headers["Content-Type"] = "application/json"
    try:
        body = parse_json(response)
    except NotJson:
        return None
    if which % 2:
        return VNPAY._interpret(body if isinstance(body, dict) else {}, Money(5_000_000, "VND"), "REF1")
    return PAYPAL._judge_capture(body if isinstance(body, dict) else {}, Money(2500, "USD"))


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    which = fdp.ConsumeIntInRange(0, 10)
    if which >= 9:
        raw = fdp.ConsumeBytes(fdp.remaining_bytes())
        call = (lambda: _config(raw)) if which == 9 else (lambda: _reply(raw, fdp.ConsumeIntInRange(0, 1)))
    else:
        code = CODES[fdp.ConsumeIntInRange(0, len(CODES) - 1)]
        text = fdp.ConsumeUnicode(fdp.remaining_bytes())
        call = {
            0: lambda: parse_money(text, code, allow_negative=True),
            1: lambda: parse_money(text, code),
            2: lambda: normalise_code(text),
            3: lambda: parse_day(text),
            4: lambda: parse_instant(text),
            5: lambda: HistoryCursor.from_token(text),
            6: lambda: validate_profile(billing_type="company", name="N", email=text, address=None, country="VN",
                                        tax_code=text[:80] or None),
            7: lambda: validate_profile(billing_type="personal", name=text, email=f"{text[:20]}@example.com",
                                        address=text, country=text[:2], tax_code=None),
            8: lambda: _usage(text),
        }[which]
    try:
        call()
    except BillingDeskError as exc:
        check_refusal(exc)


def main(argv: list[str]) -> None:
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)

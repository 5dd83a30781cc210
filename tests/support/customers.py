"""Customers for tests: one personal customer per billing currency, made through the service
(``make_customer`` gives its id, ``make_account`` its account number) or through the CLI."""

from __future__ import annotations

import json
import re
from typing import Any

from billing_desk.bootstrap import App
from billing_desk.domain.permissions import Actor
from billing_desk.services.customers.dtos import CustomerDTO

# A complete billing profile for each currency (a top-up needs the address).
PROFILES: dict[str, dict[str, str]] = {
    "VND": dict(name="Nguyen Van An", email="an@example.vn", country="VN", address="12 Le Loi, Ho Chi Minh City"),
    "JPY": dict(name="Sato Haruto", email="haruto@example.jp", country="JP", address="1-2 Chiyoda, Tokyo"),
    "USD": dict(name="Emma Smith", email="emma@example.com", country="US", address="1 Main St, Springfield"),
    "EUR": dict(name="Lena Becker", email="lena@example.de", country="DE", address="Hauptstr. 1, Berlin"),
}


def add_customer(app: App, actor: Actor, currency: str | None = "VND", **changes: Any) -> CustomerDTO:
    """A personal customer with ``currency``'s profile (USD's when ``currency`` is None, which
    leaves the currency unchosen), ``changes`` applied; a new name brings its own email."""
    profile = {"billing_type": "personal", **PROFILES[currency or "USD"], **changes}
    if "name" in changes and "email" not in changes:
        profile["email"] = re.sub(r"[^a-z0-9]+", ".", changes["name"].lower()).strip(".") + "@example.com"
    created = app.customers.create(actor, **profile)
    return app.customers.set_currency(actor, created.id, currency) if currency else created


def make_customer(app: App, actor: Actor, currency: str | None = "VND", name: str | None = None,
                  **changes: Any) -> int:
    """``add_customer``'s id."""
    return add_customer(app, actor, currency, **({"name": name} if name else {}), **changes).id


def make_account(app: App, actor: Actor, currency: str, **changes: Any) -> str:
    """``add_customer``'s account number (C00000001), what the payments service is given."""
    return add_customer(app, actor, currency, **changes).account


def cli_customer(cli: Any, country: str, currency: str, email: str, name: str = "Test Person") -> str:
    """A customer with a billing profile and currency, made through the CLI as support."""
    r = cli("customer", "create", "--name", name, "--email", email, "--country", country,
            "--type", "personal", "--address", "1 Test Street", "--json", "--user", "support")
    assert r.code == 0, r.err
    account: str = json.loads(r.out)["account"]
    assert cli("customer", "set-currency", account, currency, "--user", "support").code == 0
    return account

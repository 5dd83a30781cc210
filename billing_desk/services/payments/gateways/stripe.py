"""Stripe Checkout Sessions (JPY here, any currency in principle), over raw ``requests``.

GATEWAYS.md §2: form-encoded bodies with bracket notation and indexed lists, amounts in the
currency's Stripe minor unit (JPY and the other zero-decimal currencies as they are),
``Idempotency-Key`` on the create (our stored key, the same on every retry), a pinned
``Stripe-Version``, and the retry rules of stripe-python (connection errors, 409 and 5xx;
``Stripe-Should-Retry`` overrides). A session is paid only when ``payment_status`` is
``paid``; ``expired`` fails it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import requests

from billing_desk.domain.enums import PaymentMethod
from billing_desk.domain.errors import GatewayDeclined, GatewayUnavailable, SuspectAnswer
from billing_desk.domain.money import Money
from billing_desk.services.payments.gateways.base import (
    Checkout,
    CheckoutRequest,
    HttpCaller,
    NotJson,
    Outcome,
    PaymentRef,
    StatusAnswer,
    checkout_of,
    json_of,
    obj,
    parse_json,
    require,
    retry_policy_of,
    reveal,
    status_unknown,
    timeout_of,
)

API_VERSION = "2026-06-24.dahlia"
DEFAULT_API_BASE = "https://api.stripe.com"
ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND",
                          "VUV", "XAF", "XOF", "XPF"})


def stripe_amount(money: Money) -> int:
    """Stripe's integer: the plain amount for zero-decimal currencies, else hundredths."""
    major = money.as_decimal()
    scaled = major if money.currency in ZERO_DECIMAL else major * 100
    if scaled != scaled.to_integral_value():
        raise GatewayDeclined(f"{money} cannot be charged through Stripe in whole units.")
    return int(scaled)


def encode(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Flatten nested params as Stripe wants them: ``a[b][0][c]=v``, booleans true/false, None dropped."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        pairs.extend(_encode_value(name, value))
    return pairs


def _encode_value(name: str, value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if isinstance(value, Mapping):
        return encode(value, name)
    if isinstance(value, list | tuple):
        return [pair for i, item in enumerate(value) for pair in _encode_value(f"{name}[{i}]", item)]
    if isinstance(value, bool):
        return [(name, "true" if value else "false")]
    if isinstance(value, Decimal | float):
        raise TypeError("Stripe amounts are integers of minor units")
    return [(name, str(value))]


def _should_retry(response: requests.Response) -> bool | None:
    header = response.headers.get("Stripe-Should-Retry")
    if header == "true":
        return True
    if header == "false":
        return False
    return response.status_code in (409, 429) or response.status_code >= 500


def _ours(session: Mapping[str, Any], payment_id: int) -> None:
    # An answer about another session (replayed, or misrouted) must neither become this
    # payment's checkout nor settle it: the client_reference_id we sent names the payment.
    if session.get("client_reference_id") != f"payment-{payment_id}":
        raise SuspectAnswer(f"Stripe answered about checkout session {session.get('id')} "
                            f"({session.get('client_reference_id')}), not about payment {payment_id}; "
                            "the answer was not believed.")


class StripeGateway:
    method = PaymentMethod.STRIPE

    def __init__(self, config: Mapping[str, Any]) -> None:
        require(config, "stripe", "secret_key", "success_url")
        self._config = config
        self.api_base = reveal(config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        self.http = HttpCaller("Stripe", timeout_of(config), retry_policy_of(config), lambda: [self._key()])

    def _key(self) -> str:
        return reveal(self._config["secret_key"]).strip()

    def _headers(self, idempotency_key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._key()}", "Stripe-Version": API_VERSION}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    def session_params(self, request: CheckoutRequest) -> dict[str, Any]:
        return {
            "mode": "payment",
            "line_items": [{
                "price_data": {"currency": request.amount.currency.lower(),
                               "unit_amount": stripe_amount(request.amount),
                               "product_data": {"name": "Billing Desk credit top-up"}},
                "quantity": 1,
            }],
            "success_url": reveal(self._config["success_url"]),
            "cancel_url": reveal(self._config.get("cancel_url")) or None,
            "client_reference_id": f"payment-{request.payment_id}",
            "customer_email": request.customer_email or None,
            "metadata": {"payment_id": request.payment_id, "customer_account": request.customer_account},
            "expires_at": int(request.expires_at.timestamp()),
        }

    def create_checkout(self, request: CheckoutRequest) -> Checkout:
        body = encode(self.session_params(request))
        headers = self._headers(request.idempotency_key)
        response = self.http.call("POST", f"{self.api_base}/v1/checkout/sessions",
                                  lambda: {"data": body, "headers": headers}, safe=True, should_retry=_should_retry)
        if response.status_code == 200:
            session = json_of("Stripe", response)
            _ours(session, request.payment_id)
            return checkout_of("Stripe", session.get("id"), session.get("url"))
        raise self._error(response, creating=True)

    def fetch_status(self, payment: PaymentRef) -> StatusAnswer:
        response = self.http.call("GET", f"{self.api_base}/v1/checkout/sessions/{quote(payment.reference, safe='')}",
                                  lambda: {"headers": self._headers()}, safe=True, should_retry=_should_retry)
        if response.status_code == 404:
            return StatusAnswer(Outcome.PENDING, "Stripe has no such checkout session", found=False)
        if response.status_code != 200:
            raise self._error(response, creating=False)
        session = json_of("Stripe", response)
        if session.get("id") != payment.reference:
            raise SuspectAnswer(f"Stripe answered about checkout session {session.get('id')}, not "
                                f"{payment.reference}; the answer was not believed.")
        _ours(session, payment.payment_id)
        if session.get("payment_status") == "paid":
            paid = session.get("amount_total")
            currency = str(session.get("currency", "")).upper()
            # type(): True == 1 and 2500.0 == 2500 in Python, but neither is Stripe's integer amount.
            if type(paid) is not int or paid != stripe_amount(payment.amount) or currency != payment.amount.currency:
                raise SuspectAnswer(f"Stripe reports {paid} {session.get('currency')} paid, not {payment.amount}; "
                                     "check the Stripe dashboard.")
            return StatusAnswer(Outcome.PAID)
        if session.get("status") == "expired":
            return StatusAnswer(Outcome.FAILED, "Stripe checkout expired or was cancelled")
        return StatusAnswer(Outcome.PENDING)

    def _error(self, response: requests.Response, *, creating: bool) -> Exception:
        status = response.status_code
        try:
            error = obj(obj(parse_json(response)).get("error"))
        except NotJson:
            error = {}
        code = error.get("code") or error.get("type") or f"HTTP {status}"
        if status == 401:
            return GatewayUnavailable("Stripe refused the secret key: check [gateways.stripe] secret_key.")
        if status == 403:
            return GatewayUnavailable("The Stripe key lacks permission for Checkout Sessions.")
        if status in (400, 402) and creating and error.get("type") != "idempotency_error":
            message = self.http.scrub(str(error.get("message") or ""))[:200]
            return GatewayDeclined(f"Stripe refused the checkout ({code}){': ' + message if message else ''}.")
        # 409, 429 and 5xx after the retries: an earlier attempt may have created the session,
        # so the payment stays pending and the next reconcile repeats the create with the same key.
        return status_unknown("Stripe", response)

"""PayPal Orders v2 (USD, EUR and the other PayPal currencies the desk enables).

GATEWAYS.md §3: an OAuth2 client-credentials token, cached until shortly before it expires
and fetched again once on a 401; orders created with intent CAPTURE and the amount as a
string with the currency's decimals (none for HUF, JPY, TWD); the approval link taken from
``approve`` or ``payer-action``; and, because nothing else will, an explicit capture once
the buyer has APPROVED (JSON content type even with an empty body). ``PayPal-Request-Id``
goes on the create (our stored key) and on the capture (``capture-<order id>``), so every
retry is safe. A payment is paid only when its capture is COMPLETED.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
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
    objs,
    parse_json,
    require,
    retry_policy_of,
    reveal,
    status_unknown,
    timeout_of,
)

DEFAULT_API_BASE = "https://api-m.sandbox.paypal.com"
NO_DECIMALS = frozenset({"HUF", "JPY", "TWD"})
TOKEN_MARGIN_SECONDS = 120
_RETRY_STATUSES = frozenset({408, 413, 429, 500, 502, 503, 504, 521, 522, 524})
_PENDING_ISSUES = {"ORDER_NOT_APPROVED", "ORDER_COMPLETION_IN_PROGRESS", "INSTRUMENT_DECLINED",
                   "PAYER_ACTION_REQUIRED"}
_FAILED_ISSUES = {"ORDER_EXPIRED", "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED", "TRANSACTION_REFUSED"}


def paypal_value(money: Money) -> str:
    """The amount string: no decimals for HUF, JPY and TWD, else exactly two."""
    places = 0 if money.currency in NO_DECIMALS else 2
    value = money.as_decimal()
    if value != round(value, places):
        raise GatewayDeclined(f"PayPal cannot take {money}: at most {places} decimals in {money.currency}.")
    return f"{value:.{places}f}"


def approval_link(order: Mapping[str, Any]) -> Any:
    for link in objs(order.get("links")):
        if link.get("rel") in ("approve", "payer-action"):
            return link.get("href")
    return None


def _constant(kwargs: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    return lambda: kwargs


def _issue(response: requests.Response) -> str:
    try:
        body = obj(parse_json(response))
    except NotJson:
        return ""
    details = objs(body.get("details"))
    return str(details[0].get("issue", "")) if details else str(body.get("name", ""))


def _invoice(order: Mapping[str, Any]) -> Any:
    units = objs(order.get("purchase_units"))
    return units[0].get("invoice_id") if units else None


def _ours(order: Mapping[str, Any], idempotency_key: str) -> None:
    # An answer about another order (replayed, or misrouted) must neither become this
    # payment's checkout nor settle it: the invoice id we sent is this payment's key. Another
    # order carries its own; an answer without one (PayPal trims some representations) is
    # judged by its order id alone.
    invoice = _invoice(order)
    if invoice is not None and invoice != idempotency_key:
        raise SuspectAnswer(f"PayPal answered about order {order.get('id')} (invoice {invoice}), "
                            "not about this payment; the answer was not believed.")


def _same_order(order: Mapping[str, Any], payment: PaymentRef) -> None:
    if order.get("id") != payment.reference:
        raise SuspectAnswer(f"PayPal answered about order {order.get('id')}, not {payment.reference}; "
                            "the answer was not believed.")
    _ours(order, payment.idempotency_key)


class PayPalGateway:
    method = PaymentMethod.PAYPAL

    def __init__(self, config: Mapping[str, Any]) -> None:
        require(config, "paypal", "client_id", "client_secret", "return_url")
        self._config = config
        self.api_base = reveal(config.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        policy = replace(retry_policy_of(config), statuses=_RETRY_STATUSES)
        self.http = HttpCaller("PayPal", timeout_of(config), policy, self._secrets)
        self._token: tuple[str, float] | None = None
        self._token_lock = threading.Lock()

    def _secrets(self) -> list[str]:
        token = self._token[0] if self._token else ""
        return [reveal(self._config["client_secret"]).strip(), token]

    # -- token ---------------------------------------------------------------------------
    def _access_token(self, *, renew: bool = False) -> str:
        with self._token_lock:
            if self._token and not renew and self._token[1] > time.monotonic():
                return self._token[0]
            auth = (reveal(self._config["client_id"]).strip(), reveal(self._config["client_secret"]).strip())
            response = self.http.call("POST", f"{self.api_base}/v1/oauth2/token", lambda: {
                "auth": auth, "data": {"grant_type": "client_credentials"},
                "headers": {"Accept": "application/json"}}, safe=True)
            if response.status_code in (400, 401):
                raise GatewayUnavailable("PayPal refused the client id or secret: check [gateways.paypal].")
            if response.status_code != 200:
                raise GatewayUnavailable(f"PayPal's token service answered HTTP {response.status_code}; "
                                         "try again later.")
            body = json_of("PayPal", response)
            token, lifetime = body.get("access_token"), body.get("expires_in", 0)
            if not isinstance(token, str) or not token.isprintable() or not 0 < len(token) <= 4096:
                raise GatewayUnavailable("PayPal's token service gave no usable access token; try again later.")
            if isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or not 0 <= lifetime <= 10**9:
                lifetime = 0  # an odd lifetime: use the token for this call only
            self._token = (token, time.monotonic() + max(0.0, lifetime - TOKEN_MARGIN_SECONDS))
            return self._token[0]

    def _call(self, method: str, path: str, request_id: str | None = None,
              json_body: dict[str, Any] | None = None) -> requests.Response:
        """One resource call with a Bearer token, fetched again once if PayPal says 401."""
        response = None
        for renew in (False, True):
            headers = {"Authorization": f"Bearer {self._access_token(renew=renew)}",
                       "Content-Type": "application/json", "Prefer": "return=representation"}
            if request_id:
                headers["PayPal-Request-Id"] = request_id
            kwargs: dict[str, Any] = {"headers": headers}
            if method == "POST":
                kwargs["json"] = json_body if json_body is not None else {}
            response = self.http.call(method, f"{self.api_base}{path}", _constant(kwargs), safe=True)
            if response.status_code != 401:
                return response
        assert response is not None
        return response

    # -- protocol ------------------------------------------------------------------------
    def order_body(self, request: CheckoutRequest) -> dict[str, Any]:
        ref = f"payment-{request.payment_id}"
        return {
            "intent": "CAPTURE",
            "purchase_units": [{
                "reference_id": ref, "custom_id": ref, "invoice_id": request.idempotency_key,
                "description": f"Billing Desk credit top-up for {request.customer_account}",
                "amount": {"currency_code": request.amount.currency, "value": paypal_value(request.amount)},
            }],
            "payment_source": {"paypal": {"experience_context": {
                "return_url": reveal(self._config["return_url"]),
                "cancel_url": reveal(self._config.get("cancel_url") or self._config["return_url"]),
                "user_action": "PAY_NOW", "shipping_preference": "NO_SHIPPING",
                "brand_name": str(self._config.get("brand_name", "Billing Desk"))}}},
        }

    def create_checkout(self, request: CheckoutRequest) -> Checkout:
        response = self._call("POST", "/v2/checkout/orders", request.idempotency_key, self.order_body(request))
        if response.status_code in (200, 201):
            order = json_of("PayPal", response)
            _ours(order, request.idempotency_key)
            return checkout_of("PayPal", order.get("id"), approval_link(order))
        if response.status_code == 401:
            raise GatewayUnavailable("PayPal refused the access token twice: check [gateways.paypal].")
        if response.status_code in (400, 422):
            raise GatewayDeclined(f"PayPal refused the order ({_issue(response) or 'invalid request'}).")
        raise status_unknown("PayPal", response)

    def fetch_status(self, payment: PaymentRef) -> StatusAnswer:
        response = self._call("GET", f"/v2/checkout/orders/{quote(payment.reference, safe='')}")
        if response.status_code == 404:
            return StatusAnswer(Outcome.PENDING, "PayPal has no such order", found=False)
        if response.status_code != 200:
            raise status_unknown("PayPal", response)
        order = json_of("PayPal", response)
        _same_order(order, payment)
        status = order.get("status")
        if status == "APPROVED":
            return self._capture(payment)
        if status == "COMPLETED":
            return self._judge_capture(order, payment)
        if status == "VOIDED":
            return StatusAnswer(Outcome.FAILED, "PayPal order voided")
        return StatusAnswer(Outcome.PENDING)

    def _capture(self, payment: PaymentRef) -> StatusAnswer:
        response = self._call("POST", f"/v2/checkout/orders/{quote(payment.reference, safe='')}/capture",
                              f"capture-{payment.reference}", {})
        if response.status_code in (200, 201):
            return self._judge_capture(json_of("PayPal", response), payment)
        issue = _issue(response)
        if response.status_code == 422 and issue in ("ORDER_ALREADY_CAPTURED", "ORDER_ALREADY_COMPLETED"):
            again = self._call("GET", f"/v2/checkout/orders/{quote(payment.reference, safe='')}")
            if again.status_code == 200:
                return self._judge_capture(json_of("PayPal", again), payment)
            raise status_unknown("PayPal", again)
        if response.status_code == 422 and issue in _PENDING_ISSUES:
            return StatusAnswer(Outcome.PENDING, f"PayPal: {issue}")
        if response.status_code == 422 and issue in _FAILED_ISSUES:
            return StatusAnswer(Outcome.FAILED, f"PayPal: {issue}")
        raise status_unknown("PayPal", response)

    def _judge_capture(self, order: Mapping[str, Any], payment: PaymentRef) -> StatusAnswer:
        _same_order(order, payment)
        expected = payment.amount
        captures = [c for unit in objs(order.get("purchase_units"))
                    for c in objs(obj(unit.get("payments")).get("captures"))]
        if not captures:
            return StatusAnswer(Outcome.PENDING, "PayPal order has no capture yet")
        capture = captures[0]
        status = capture.get("status")
        if status == "COMPLETED":
            amount = obj(capture.get("amount"))
            if amount.get("currency_code") != expected.currency or amount.get("value") != paypal_value(expected):
                raise SuspectAnswer(f"PayPal captured {amount.get('value')} {amount.get('currency_code')}, "
                                     f"not {expected}; check the PayPal account.")
            return StatusAnswer(Outcome.PAID)
        if status in ("DECLINED", "FAILED"):
            return StatusAnswer(Outcome.FAILED, f"PayPal capture {status.lower()}")
        reason = obj(capture.get("status_details")).get("reason")
        return StatusAnswer(Outcome.PENDING, f"PayPal capture {status}{f' ({reason})' if reason else ''}")

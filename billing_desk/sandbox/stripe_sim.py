"""The sandbox's Stripe: Checkout Sessions create and retrieve (GATEWAYS.md §2).

Checks the secret key (Bearer or Basic), form encoding with indexed lists, a pinned
``Stripe-Version``, zero-decimal amounts and minimums, ``expires_at`` within 30 min to
24 h; replays the first answer for a repeated ``Idempotency-Key`` and refuses the same key
with other parameters. Unlike stripe-mock it keeps state, so sessions can become paid.
"""

from __future__ import annotations

import base64
import hmac
import time
import uuid
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from billing_desk.sandbox.state import Paid, Req, Resp, SandboxState

_ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf",
                 "xof", "xpf"}
_MINIMUMS = {"usd": 50, "eur": 50, "jpy": 50, "gbp": 30, "aud": 50, "cad": 50, "chf": 50, "sgd": 50}


def _error(status: int, kind: str, message: str, code: str | None = None, param: str | None = None) -> Resp:
    return Resp(status, {"error": {"type": kind, "code": code, "message": message, "param": param}},
                {"Request-Id": f"req_{uuid.uuid4().hex[:14]}"})


def authorised(state: SandboxState, req: Req) -> bool:
    header = req.header("authorization") or ""
    key = ""
    if header.startswith("Bearer "):
        key = header[7:]
    elif header.startswith("Basic "):
        try:
            key = base64.b64decode(header[6:]).decode().split(":", 1)[0]
        except ValueError:
            key = ""
    return hmac.compare_digest(key.encode(), state.credentials.stripe_secret_key.encode())


def handle(state: SandboxState, req: Req, rest: str) -> Resp:
    if not authorised(state, req):
        return _error(401, "invalid_request_error", "Invalid API Key provided.")
    if not req.header("stripe-version"):
        return _error(400, "invalid_request_error", "This sandbox wants a pinned Stripe-Version header.")
    if req.method == "POST" and rest == "/v1/checkout/sessions":
        return _create(state, req)
    if req.method == "GET" and rest.startswith("/v1/checkout/sessions/"):
        with state.lock:
            session = state.stripe.get(rest.rsplit("/", 1)[1])
            if session is None:
                return _error(404, "invalid_request_error", "No such checkout session.", "resource_missing", "id")
            if session["status"] == "open" and time.time() > session["expires_at"]:
                session["status"] = "expired"
            return Resp(200, dict(session))
    return _error(404, "invalid_request_error", f"Unrecognized request URL ({req.method}: {rest}).")


def _create(state: SandboxState, req: Req) -> Resp:
    if not (req.header("content-type") or "").startswith("application/x-www-form-urlencoded"):
        return _error(400, "invalid_request_error", "Send the body form-encoded.")
    pairs = parse_qsl(req.body.decode("utf-8"), keep_blank_values=True)
    params = dict(pairs)
    key = req.header("idempotency-key")
    fingerprint = "&".join(f"{k}={v}" for k, v in sorted(pairs))
    with state.lock:
        if key and key in state.stripe_keys:
            seen_params, answer = state.stripe_keys[key]
            if seen_params != fingerprint:
                return _error(400, "idempotency_error", "Keys for idempotent requests can only be used with the "
                              "same parameters they were first used with.")
            state.counts["stripe:replay"] += 1
            return Resp(answer.status, answer.body, {**answer.headers, "Idempotent-Replayed": "true"})
        answer = _validate_and_create(state, params)
        if key and (answer.status < 400 or answer.status >= 500):  # invalid parameters are not saved
            state.stripe_keys[key] = (fingerprint, answer)
        return answer


def _validate_and_create(state: SandboxState, params: dict[str, str]) -> Resp:
    if params.get("mode") != "payment":
        return _error(400, "invalid_request_error", "mode must be payment", param="mode")
    if any(k.startswith("line_items[]") or k.startswith("line_items[price") for k in params):
        return _error(400, "invalid_request_error", "line_items must be an indexed list", param="line_items")
    currency = params.get("line_items[0][price_data][currency]", "")
    unit = params.get("line_items[0][price_data][unit_amount]", "")
    quantity = params.get("line_items[0][quantity]", "")
    if currency != currency.lower() or not currency or not unit.isdigit() or not quantity.isdigit():
        return _error(400, "invalid_request_error", "line_items[0] needs price_data[currency] (lower case), "
                      "price_data[unit_amount] (an integer) and quantity", param="line_items")
    if not params.get("line_items[0][price_data][product_data][name]"):
        return _error(400, "invalid_request_error", "product_data[name] is required", param="line_items")
    total = int(unit) * int(quantity)
    if total < _MINIMUMS.get(currency, 50):
        return _error(400, "invalid_request_error", "Amount must convert to at least 50 cents.",
                      "amount_too_small", "line_items[0][price_data][unit_amount]")
    if len(str(total)) > 8:
        return _error(400, "invalid_request_error", "Amount must be at most 8 digits.", "amount_too_large")
    if not params.get("success_url"):
        return _error(400, "invalid_request_error", "success_url is required", param="success_url")
    now = time.time()
    expires_at = int(params.get("expires_at") or now + 86400)
    if not now + 30 * 60 - 120 <= expires_at <= now + 86400 + 120:
        return _error(400, "invalid_request_error", "expires_at must be 30 minutes to 24 hours from now",
                      param="expires_at")
    sid = f"cs_test_{uuid.uuid4().hex}"
    metadata = {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")}
    session: dict[str, Any] = {
        "id": sid, "object": "checkout.session", "mode": "payment", "status": "open", "payment_status": "unpaid",
        "amount_total": total, "currency": currency, "client_reference_id": params.get("client_reference_id"),
        "metadata": metadata, "expires_at": expires_at, "created": int(now), "payment_intent": None,
        "success_url": params["success_url"], "cancel_url": params.get("cancel_url"),
        "url": f"{state.base_url}/stripe/pay/{sid}",
    }
    state.stripe[sid] = session
    state.counts["stripe:created"] += 1
    return Resp(200, dict(session), {"Request-Id": f"req_{uuid.uuid4().hex[:14]}"})


def settle(state: SandboxState, sid: str, pay: bool, paid: Paid | None = None) -> bool:
    with state.lock:
        session = state.stripe.get(sid)
        if session is None or session["status"] != "open":
            return False
        if pay and paid is not None:
            currency = (paid.currency or session["currency"]).lower()
            major = Decimal(paid.amount)
            session.update(currency=currency, amount_total=int(major if currency in _ZERO_DECIMAL else major * 100))
        if pay:
            session.update(status="complete", payment_status="paid", payment_intent=f"pi_{uuid.uuid4().hex[:24]}")
        else:
            session.update(status="expired")
        return True

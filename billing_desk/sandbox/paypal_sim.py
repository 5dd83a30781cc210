"""The sandbox's PayPal: OAuth2 tokens and Orders v2 create, get and capture (GATEWAYS.md §3).

Checks Basic client credentials and Bearer tokens (which can be expired from a test to see
the client fetch a new one), JSON content type (415 otherwise, also on an empty capture),
amount strings (no decimals for HUF, JPY, TWD; at most two otherwise), unique invoice ids;
a repeated ``PayPal-Request-Id`` returns the latest state of what it first created.
"""

from __future__ import annotations

import base64
import hmac
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl

from billing_desk.sandbox.state import Paid, Req, Resp, SandboxState

_NO_DECIMALS = {"HUF", "JPY", "TWD"}
_VALUE = re.compile(r"^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$")


def _error(status: int, name: str, issue: str | None = None, message: str = "") -> Resp:
    body: dict[str, Any] = {"name": name, "message": message or name, "debug_id": uuid.uuid4().hex[:13]}
    if issue:
        body["details"] = [{"issue": issue, "description": issue.replace("_", " ").lower()}]
    return Resp(status, body)


def token(state: SandboxState, req: Req) -> Resp:
    creds = state.credentials
    header = req.header("authorization") or ""
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":") if header.startswith("Basic ") \
            else ("", "", "")
    except ValueError:
        user, password = "", ""
    if not (hmac.compare_digest(user.encode(), creds.paypal_client_id.encode())
            and hmac.compare_digest(password.encode(), creds.paypal_client_secret.encode())):
        return Resp(401, {"error": "invalid_client", "error_description": "Client Authentication failed"})
    if dict(parse_qsl(req.body.decode())).get("grant_type") != "client_credentials":
        return Resp(400, {"error": "unsupported_grant_type", "error_description": "Grant type is not supported"})
    value = f"A21AA{uuid.uuid4().hex}{uuid.uuid4().hex}"
    with state.lock:
        state.paypal_tokens[value] = time.monotonic() + state.paypal_token_ttl
        state.counts["paypal:token"] += 1
        ttl = state.paypal_token_ttl
    return Resp(200, {"access_token": value, "token_type": "Bearer", "expires_in": ttl, "scope": "sandbox",
                      "app_id": "APP-SANDBOX", "nonce": uuid.uuid4().hex})


def handle(state: SandboxState, req: Req, rest: str) -> Resp:
    header = req.header("authorization") or ""
    with state.lock:
        expiry = state.paypal_tokens.get(header[7:]) if header.startswith("Bearer ") else None
    if expiry is None or expiry < time.monotonic():
        return _error(401, "AUTHENTICATION_FAILURE", message="Authentication failed due to invalid token.")
    parts = rest.strip("/").split("/")  # v2 checkout orders [id] [capture]
    if parts[:3] != ["v2", "checkout", "orders"]:
        return _error(404, "RESOURCE_NOT_FOUND")
    if req.method == "POST" and len(parts) == 3:
        return _create(state, req)
    if req.method == "GET" and len(parts) == 4:
        with state.lock:
            order = state.paypal.get(parts[3])
            return Resp(200, _public(order)) if order else _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
    if req.method == "POST" and len(parts) == 5 and parts[4] == "capture":
        return _capture(state, req, parts[3])
    return _error(404, "RESOURCE_NOT_FOUND")


def _json_body(req: Req) -> Any:
    return req.json() if req.body.strip() else {}


def _create(state: SandboxState, req: Req) -> Resp:
    if not (req.header("content-type") or "").startswith("application/json"):
        return _error(415, "UNSUPPORTED_MEDIA_TYPE")
    request_id = req.header("paypal-request-id")
    if not request_id or len(request_id) > 108:
        return _error(400, "INVALID_REQUEST", "PAYPAL_REQUEST_ID_REQUIRED")
    with state.lock:
        if request_id in state.paypal_request_ids:
            state.counts["paypal:replay"] += 1
            return Resp(200, _public(state.paypal[state.paypal_request_ids[request_id]]))
        body = _json_body(req)
        problem = _check_order(state, body)
        if problem:
            return problem
        unit = body["purchase_units"][0]
        oid = uuid.uuid4().hex[:17].upper()
        experience = ((body.get("payment_source") or {}).get("paypal") or {}).get("experience_context")
        rel = "payer-action" if experience else "approve"
        order = {
            "id": oid, "intent": "CAPTURE", "status": "PAYER_ACTION_REQUIRED" if experience else "CREATED",
            "purchase_units": [{"reference_id": unit.get("reference_id", "default"), "amount": unit["amount"],
                                "custom_id": unit.get("custom_id"), "invoice_id": unit.get("invoice_id")}],
            "links": [{"href": f"{state.base_url}/paypal/v2/checkout/orders/{oid}", "rel": "self", "method": "GET"},
                      {"href": f"{state.base_url}/paypal/checkoutnow?token={oid}", "rel": rel, "method": "GET"}],
            "_return_url": (experience or {}).get("return_url") or "",
        }
        state.paypal[oid] = order
        state.paypal_request_ids[request_id] = oid
        if unit.get("invoice_id"):
            state.paypal_invoices.add(unit["invoice_id"])
        state.counts["paypal:created"] += 1
        return Resp(201, _public(order))


def _check_order(state: SandboxState, body: Any) -> Resp | None:
    if not isinstance(body, dict) or body.get("intent") != "CAPTURE" or not body.get("purchase_units"):
        return _error(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER")
    amount = body["purchase_units"][0].get("amount") or {}
    code, value = str(amount.get("currency_code", "")), amount.get("value")
    if not isinstance(value, str) or not _VALUE.match(value) or len(value) > 32:
        return _error(400, "INVALID_REQUEST", "INVALID_PARAMETER_SYNTAX")
    decimals = len(value.split(".")[1]) if "." in value else 0
    if (code in _NO_DECIMALS and decimals) or decimals > 2:
        return _error(422, "UNPROCESSABLE_ENTITY", "DECIMAL_PRECISION")
    if code == "VND":
        return _error(422, "UNPROCESSABLE_ENTITY", "CURRENCY_NOT_SUPPORTED")
    invoice = body["purchase_units"][0].get("invoice_id")
    if invoice and invoice in state.paypal_invoices:
        return _error(422, "UNPROCESSABLE_ENTITY", "DUPLICATE_INVOICE_ID")
    return None


def _capture(state: SandboxState, req: Req, oid: str) -> Resp:
    if not (req.header("content-type") or "").startswith("application/json"):
        return _error(415, "UNSUPPORTED_MEDIA_TYPE")
    request_id = req.header("paypal-request-id")
    with state.lock:
        order = state.paypal.get(oid)
        if order is None:
            return _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
        key = f"capture:{request_id}" if request_id else None
        if key and state.paypal_request_ids.get(key) == oid:
            state.counts["paypal:capture_replay"] += 1
            return Resp(200, _public(order))
        if order["status"] == "COMPLETED":
            return _error(422, "UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED")
        if order["status"] == "VOIDED":
            return _error(422, "UNPROCESSABLE_ENTITY", "ORDER_EXPIRED")
        if order["status"] != "APPROVED":
            return _error(422, "UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED")
        unit = order["purchase_units"][0]
        unit["payments"] = {"captures": [{"id": uuid.uuid4().hex[:17].upper(), "status": "COMPLETED",
                                          "amount": dict(order.get("_paid") or unit["amount"]),
                                          "final_capture": True}]}
        order["status"] = "COMPLETED"
        if key:
            state.paypal_request_ids[key] = oid
        state.counts["paypal:captured"] += 1
        return Resp(201, _public(order))


def settle(state: SandboxState, oid: str, pay: bool, paid: Paid | None = None) -> bool:
    with state.lock:
        order = state.paypal.get(oid)
        if order is None or order["status"] not in ("CREATED", "PAYER_ACTION_REQUIRED"):
            return False
        if pay and paid is not None:  # what the capture will take
            asked = order["purchase_units"][0]["amount"]
            order["_paid"] = {"currency_code": paid.currency or asked["currency_code"], "value": paid.amount}
        order["status"] = "APPROVED" if pay else "VOIDED"
        return True


def _public(order: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in order.items() if not k.startswith("_")}

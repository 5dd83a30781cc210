"""The sandbox's HTTP server: routing, injected faults, checkout pages and test controls.

Standard library only (``http.server.ThreadingHTTPServer``), so it runs as a command, in a
test's background thread, or behind ``gui --demo``. Routes:

* ``/vnpay/paymentv2/vpcpay.html`` (pay page) and ``/vnpay/merchant_webapi/api/transaction``
* ``/stripe/v1/...`` (API) and ``/stripe/pay/<session>`` (checkout page)
* ``/paypal/v1/oauth2/token``, ``/paypal/v2/...`` (API) and ``/paypal/checkoutnow?token=`` (page)
* ``/sandbox/checkout/<gateway>/<ref>/<pay|cancel>``: the page's buttons (POST)
* ``/sandbox/complete`` (POST JSON ``{"checkout_url", "action"}``, optionally ``"paid_amount"``
  and ``"paid_currency"`` to record another amount paid): the same, for tests
* ``/sandbox/faults`` (POST JSON a fault, DELETE to clear), ``/sandbox/state`` (GET),
  ``/sandbox/paypal/expire-tokens`` (POST)
"""

from __future__ import annotations

import contextlib
import html
import logging
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from billing_desk.sandbox import paypal_sim, stripe_sim, vnpay_sim
from billing_desk.sandbox.state import FAULT_KINDS, Fault, Paid, Req, Resp, SandboxState

log = logging.getLogger("billing_desk.sandbox")
VNPAY_PAY_PATH = "/vnpay/paymentv2/vpcpay.html"
VNPAY_API_PATH = "/vnpay/merchant_webapi/api/transaction"


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: SandboxState) -> None:
        super().__init__(address, SandboxHandler)
        self.state = state
        self.stopping = threading.Event()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("sandbox: connection from %s ended abruptly", client_address)


class SandboxHandler(BaseHTTPRequestHandler):
    server: SandboxServer
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sandbox: " + format, *args)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        req = Req(method, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)),
                  {k.lower(): v for k, v in self.headers.items()}, body)
        state = self.server.state
        fault = None if req.path.startswith("/sandbox/") else state.take_fault(req)
        if fault is not None and fault.kind == "slow" and self.server.stopping.wait(fault.delay):
            return
        if fault is not None and fault.kind == "reset":
            self._reset()
            return
        if fault is not None and fault.kind == "error500":
            self._send(Resp(500, {"error": {"type": "api_error", "message": "sandbox: injected failure"},
                                  "name": "INTERNAL_SERVER_ERROR"}))
            return
        if fault is not None and fault.kind == "rate_limit":
            self._send(Resp(429, {"error": {"type": "rate_limit_error"}, "name": "RATE_LIMIT_REACHED"},
                            {"Retry-After": f"{fault.retry_after:g}"}))
            return
        if fault is not None and fault.kind == "gather":
            # Broken (the other desks did not come in time): serve this one alone.
            with contextlib.suppress(threading.BrokenBarrierError):
                state.barrier(fault).wait(timeout=fault.delay)
        name = f"{method} {_route_name(req.path)}"
        with state.lock:
            state.counts[name] += 1
        try:
            resp = route(state, req)
        except (ValueError, KeyError, TypeError) as exc:
            resp = Resp(400, {"error": {"type": "invalid_request_error", "message": f"bad request: {exc}"}})
        resp = _after_work(state, req.path, resp, fault)
        if fault is not None and fault.kind == "lose_reply":
            self._reset()  # the work is done and kept; only the answer is lost
            return
        if fault is not None and fault.kind == "late_reply" and self.server.stopping.wait(fault.delay):
            return  # the work is done and kept; the answer comes after the client stopped waiting
        self._send(resp)

    def _send(self, resp: Resp) -> None:
        payload, content_type = resp.payload()
        self.send_response(resp.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _reset(self) -> None:
        """Close with a TCP reset (SO_LINGER 0), as a dropped connection looks to the client."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True


def _after_work(state: SandboxState, path: str, resp: Resp, fault: Fault | None) -> Resp:
    """Remember a paid confirmation; apply a fault that falsifies the answer."""
    gateway = path.split("/")[1]  # PayPal's capture and order GET give the same shape
    if resp.status in (200, 201) and _says_paid(resp.body):
        with state.lock:
            state.confirmations[gateway] = resp
    if fault is None:
        return resp
    if fault.kind == "replay":
        with state.lock:
            return state.confirmations.get(gateway, resp)
    if fault.kind == "bad_signature" and isinstance(resp.body, dict) and "vnp_SecureHash" in resp.body:
        return vnpay_sim.forged(state, resp.body)
    return resp


def _says_paid(body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    return (body.get("vnp_ResponseCode") == "00" and body.get("vnp_TransactionStatus") == "00") \
        or body.get("payment_status") == "paid" or body.get("status") == "COMPLETED"


def _route_name(path: str) -> str:
    for prefix in ("/stripe/v1/checkout/sessions/", "/paypal/v2/checkout/orders/"):
        if path.startswith(prefix):
            return prefix + ("*/capture" if path.endswith("/capture") else "*")
    return path


def route(state: SandboxState, req: Req) -> Resp:
    path = req.path
    if path == VNPAY_PAY_PATH and req.method == "GET":
        code, message, txn = vnpay_sim.open_payment(state, req.query)
        if txn is None:
            return Resp(400, _page("VNPay", f"Payment refused: {message} (code {code})."))
        return Resp(200, _checkout_page(state, "vnpay", txn["ref"], f"{int(txn['amount']) // 100:,} VND"))
    if path == VNPAY_API_PATH and req.method == "POST":
        return vnpay_sim.querydr(state, req)
    if path.startswith("/stripe/pay/"):
        return _stripe_page(state, path.rsplit("/", 1)[1])
    if path.startswith("/stripe/"):
        return stripe_sim.handle(state, req, path[len("/stripe"):])
    if path == "/paypal/v1/oauth2/token" and req.method == "POST":
        return paypal_sim.token(state, req)
    if path == "/paypal/checkoutnow":
        return _paypal_page(state, req.query.get("token", ""))
    if path.startswith("/paypal/"):
        return paypal_sim.handle(state, req, path[len("/paypal"):])
    if path.startswith("/sandbox/"):
        return _control(state, req)
    if path.startswith("/return"):
        return Resp(200, _page("Billing Desk", "Thank you. You can close this window; the desk will see the "
                                               "payment when it checks with the gateway."))
    return Resp(404, {"error": "no such sandbox route"})


def _control(state: SandboxState, req: Req) -> Resp:
    path = req.path
    if path.startswith("/sandbox/checkout/") and req.method == "POST":
        _, _, _, gateway, ref, action = path.split("/")
        ok = settle(state, gateway, ref, action == "pay")
        message = ("Paid. You can close this window." if action == "pay" else "Cancelled.") if ok \
            else "This payment can no longer be changed."
        return Resp(200 if ok else 409, _page("Sandbox checkout", message))
    if path == "/sandbox/complete" and req.method == "POST":
        body = req.json()
        urls = body.get("checkout_urls") or [body.get("checkout_url")]
        paid = Paid(str(body["paid_amount"]), body.get("paid_currency")) if body.get("paid_amount") else None
        results = [complete(state, str(url), body.get("action", "pay"), paid) for url in urls]
        return Resp(200 if all(r["ok"] for r in results) else 409, results[0] if len(results) == 1 else results)
    if path == "/sandbox/faults" and req.method == "POST":
        spec = req.json()
        if spec.get("kind") not in FAULT_KINDS:
            return Resp(400, {"error": f"kind must be one of {', '.join(FAULT_KINDS)}"})
        with state.lock:
            state.faults.append(Fault(**spec))
        return Resp(200, {"ok": True})
    if path == "/sandbox/faults" and req.method == "DELETE":
        with state.lock:
            state.faults.clear()
        return Resp(200, {"ok": True})
    if path == "/sandbox/state":
        return Resp(200, state.snapshot())
    if path == "/sandbox/paypal/expire-tokens" and req.method == "POST":
        with state.lock:
            state.paypal_tokens.clear()
        return Resp(200, {"ok": True})
    return Resp(404, {"error": "no such control"})


def settle(state: SandboxState, gateway: str, ref: str, pay: bool, paid: Paid | None = None) -> bool:
    if gateway == "vnpay":
        return vnpay_sim.settle(state, ref, pay, paid)
    if gateway == "stripe":
        return stripe_sim.settle(state, ref, pay, paid)
    if gateway == "paypal":
        return paypal_sim.settle(state, ref, pay, paid)
    return False


def complete(state: SandboxState, url: str, action: str, paid: Paid | None = None) -> dict[str, Any]:
    """What a customer clicking Pay or Cancel on ``url`` does, without a browser; ``paid``
    (amount in major units, and currency or None) makes the gateway record another amount
    or currency as paid than the checkout asked for."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    gateway, ref = "", ""
    if parts.path == VNPAY_PAY_PATH:
        gateway = "vnpay"
        code, message, txn = vnpay_sim.open_payment(state, query)
        if txn is None:
            return {"ok": False, "gateway": gateway, "error": f"{message} (code {code})"}
        ref = txn["ref"]
    elif parts.path.startswith("/stripe/pay/"):
        gateway, ref = "stripe", parts.path.rsplit("/", 1)[1]
    elif parts.path == "/paypal/checkoutnow":
        gateway, ref = "paypal", query.get("token", "")
    ok = settle(state, gateway, ref, action == "pay", paid)
    return {"ok": ok, "gateway": gateway, "reference": ref, "action": action}


def _stripe_page(state: SandboxState, sid: str) -> Resp:
    with state.lock:
        session = state.stripe.get(sid)
    if session is None:
        return Resp(404, _page("Stripe", "No such checkout session."))
    return Resp(200, _checkout_page(state, "stripe", sid, f"{session['amount_total']:,} {session['currency'].upper()}"))


def _paypal_page(state: SandboxState, oid: str) -> Resp:
    with state.lock:
        order = state.paypal.get(oid)
    if order is None:
        return Resp(404, _page("PayPal", "No such order."))
    amount = order["purchase_units"][0]["amount"]
    return Resp(200, _checkout_page(state, "paypal", oid, f"{amount['value']} {amount['currency_code']}"))


def _checkout_page(state: SandboxState, gateway: str, ref: str, amount: str) -> str:
    action = f"/sandbox/checkout/{gateway}/{html.escape(ref)}"
    body = (f"<p>Amount: <strong>{html.escape(amount)}</strong></p>"
            f"<p>Reference: <code>{html.escape(ref)}</code></p>"
            f'<form method="post" action="{action}/pay" style="display:inline"><button>Pay</button></form> '
            f'<form method="post" action="{action}/cancel" style="display:inline"><button>Cancel</button></form>')
    return _page(f"{gateway.capitalize()} sandbox checkout", body, raw=True)


def _page(title: str, message: str, raw: bool = False) -> str:
    content = message if raw else f"<p>{html.escape(message)}</p>"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body style='font-family:sans-serif;max-width:36em;margin:3em auto'><h1>{html.escape(title)}</h1>"
            f"<p><em>Local sandbox: no real money moves.</em></p>{content}</body></html>")

"""The sandbox's memory: credentials, payments per gateway, idempotency stores and faults.

Everything is guarded by one lock; the server's threads only touch state through it.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SandboxCredentials:
    """What the sandbox accepts (test values; a test may plant its own)."""

    vnpay_tmn_code: str = "BDSANDBX"
    vnpay_hash_secret: str = "sandbox-vnpay-hash-secret"
    stripe_secret_key: str = "sk_test_billingdesksandbox"
    paypal_client_id: str = "billing-desk-sandbox-client"
    paypal_client_secret: str = "sandbox-paypal-client-secret"


@dataclass(frozen=True)
class Req:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8") or "null")


@dataclass
class Resp:
    status: int
    body: Any = None  # dict/list → JSON, str → HTML, bytes → as is
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode("utf-8"), "text/html; charset=utf-8"
        return json.dumps(self.body).encode("utf-8"), "application/json"


@dataclass(frozen=True)
class Paid:
    """What the customer really paid when it differs from the checkout: major units, e.g. "25.50"."""

    amount: str
    currency: str | None = None  # None: the checkout's currency


FAULT_KINDS = ("slow", "error500", "rate_limit", "reset", "lose_reply", "late_reply", "bad_signature", "replay",
               "gather")


@dataclass
class Fault:
    """Misbehave on the next ``times`` requests whose path starts with ``path`` (and method).

    Before the work: ``slow`` (wait ``delay``), ``error500``, ``rate_limit`` (429 with
    ``Retry-After``), ``reset``, ``gather`` (hold until ``parties`` such requests are waiting,
    at most ``delay``, then serve them all: one confirmation reaching several desks at once).
    After the work, which is kept: ``lose_reply`` (reset), ``late_reply`` (answer after
    ``delay``, past the client's timeout), ``bad_signature`` (a VNPay answer claiming paid,
    signed with another secret), ``replay`` (the last paid confirmation this gateway gave,
    whichever payment it was about, in place of the answer).
    """

    kind: str
    path: str = "/"
    method: str | None = None
    times: int = 1
    delay: float = 3.0
    retry_after: float = 1.0
    parties: int = 2
    _barrier: threading.Barrier | None = field(default=None, init=False, repr=False)

    def matches(self, req: Req) -> bool:
        return self.times > 0 and req.path.startswith(self.path) and self.method in (None, req.method)


class SandboxState:
    def __init__(self, credentials: SandboxCredentials) -> None:
        self.credentials = credentials
        self.lock = threading.RLock()
        self.base_url = ""
        self.faults: list[Fault] = []
        self.counts: Counter[str] = Counter()
        self.vnpay: dict[str, dict[str, Any]] = {}  # TxnRef → transaction
        self.vnpay_request_ids: set[str] = set()
        self.stripe: dict[str, dict[str, Any]] = {}  # session id → session
        self.stripe_keys: dict[str, tuple[str, Resp]] = {}  # Idempotency-Key → (params, first answer)
        self.paypal: dict[str, dict[str, Any]] = {}  # order id → order
        self.paypal_request_ids: dict[str, str] = {}  # PayPal-Request-Id → order id
        self.paypal_invoices: set[str] = set()
        self.paypal_tokens: dict[str, float] = {}  # token → expiry (monotonic)
        self.paypal_token_ttl = 32400
        self.confirmations: dict[str, Resp] = {}  # gateway → the last answer that said "paid"

    def take_fault(self, req: Req) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(req):
                    fault.times -= 1
                    self.counts[f"fault:{fault.kind}"] += 1
                    return fault
            return None

    def barrier(self, fault: Fault) -> threading.Barrier:
        with self.lock:
            if fault._barrier is None:
                fault._barrier = threading.Barrier(max(1, fault.parties))
            return fault._barrier

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"counts": dict(self.counts), "faults": [{k: v for k, v in vars(f).items() if not k.startswith("_")}
                                                       for f in self.faults if f.times > 0],
                    "vnpay": len(self.vnpay), "stripe": len(self.stripe), "paypal": len(self.paypal)}

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


FAULT_KINDS = ("slow", "error500", "rate_limit", "reset", "lose_reply")


@dataclass
class Fault:
    """Misbehave on the next ``times`` requests whose path starts with ``path`` (and method)."""

    kind: str
    path: str = "/"
    method: str | None = None
    times: int = 1
    delay: float = 3.0
    retry_after: float = 1.0

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

    def take_fault(self, req: Req) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(req):
                    fault.times -= 1
                    self.counts[f"fault:{fault.kind}"] += 1
                    return fault
            return None

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"counts": dict(self.counts), "faults": [vars(f) for f in self.faults if f.times > 0],
                    "vnpay": len(self.vnpay), "stripe": len(self.stripe), "paypal": len(self.paypal)}

"""The one protocol every payment gateway adapter follows, and the HTTP plumbing they share.

An adapter creates a hosted checkout for a payment and later answers "is it paid?"
(capturing first where the gateway needs that). Every call goes through ``HttpCaller``:
a ``(connect, read)`` timeout on each attempt, retries only for calls the adapter declares
safe to repeat (reads, or writes carrying an idempotency key), exponential backoff with
jitter that honours ``Retry-After`` and Stripe's ``Stripe-Should-Retry``, and one mapping of
transport failures to the domain errors: ``GatewayUnavailable`` when nothing can have
happened, ``OutcomeUnknown`` when the request may have taken effect.

Secrets are held as ``domain.secret.Secret`` and revealed only into a request; ``scrub``
removes them from any text that could reach a message, a log or the database.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

import requests
import urllib3.exceptions

from billing_desk.domain.enums import PaymentMethod
from billing_desk.domain.errors import ConfigError, GatewayUnavailable, OutcomeUnknown
from billing_desk.domain.money import Money
from billing_desk.domain.secret import Secret

log = logging.getLogger("billing_desk.gateways")

DEFAULT_TIMEOUT = (5.0, 30.0)
MAX_RETRY_AFTER = 10.0  # a longer Retry-After is better served by the next reconcile run


class Outcome(StrEnum):
    PAID = "paid"
    PENDING = "pending"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    """What an adapter needs to open a checkout; all of it is stored before the first call."""

    payment_id: int
    amount: Money
    idempotency_key: str
    customer_account: str
    customer_email: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Checkout:
    reference: str
    url: str
    data: dict[str, Any] = field(default_factory=dict)  # facts needed to ask again (no secrets)


@dataclass(frozen=True, slots=True)
class PaymentRef:
    """A stored payment as an adapter sees it when asking for its status."""

    payment_id: int
    amount: Money
    idempotency_key: str
    reference: str
    data: Mapping[str, Any]
    created_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class StatusAnswer:
    outcome: Outcome
    reason: str | None = None
    found: bool = True  # False: the gateway has no such payment (yet)


class PaymentGateway(Protocol):
    method: PaymentMethod

    def create_checkout(self, request: CheckoutRequest) -> Checkout:
        """Open a hosted checkout. Raises GatewayDeclined, GatewayUnavailable or OutcomeUnknown."""
        ...

    def fetch_status(self, payment: PaymentRef) -> StatusAnswer:
        """Ask whether it is paid, capturing first where needed. Raises OutcomeUnknown when
        the gateway gives no usable answer."""
        ...


def reveal(value: Any) -> str:
    if isinstance(value, Secret):
        return value.reveal()
    return "" if value is None else str(value)


def require(config: Mapping[str, Any], section: str, *keys: str) -> None:
    missing = [k for k in keys if not reveal(config.get(k)).strip()]
    if missing:
        raise ConfigError(
            f"{section} is not configured: set {', '.join(missing)} under [gateways.{section}] in the "
            "config file (secrets may come from the environment instead)."
        )


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "****")
    return text


def timeout_of(config: Mapping[str, Any]) -> tuple[float, float]:
    return (float(config.get("connect_timeout", DEFAULT_TIMEOUT[0])),
            float(config.get("read_timeout", DEFAULT_TIMEOUT[1])))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 5.0
    statuses: frozenset[int] = frozenset({408, 409, 429, 500, 502, 503, 504})

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER)
        # stripe-python's schedule: 0.5 s × 2^(n-1), capped, jittered within [half, full].
        full: float = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return float(max(full * random.uniform(0.5, 1.0), min(self.base_delay, full)))


def retry_policy_of(config: Mapping[str, Any]) -> RetryPolicy:
    return RetryPolicy(max_retries=int(config.get("max_retries", 2)),
                       base_delay=float(config.get("retry_base_delay", 0.5)))


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached the server (refused, DNS, connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        inner = getattr(reason, "reason", reason)
        return isinstance(inner, urllib3.exceptions.NewConnectionError | urllib3.exceptions.NameResolutionError)
    return False


class HttpCaller:
    """Sends one logical call, with retries; each adapter owns one (and its Session)."""

    def __init__(self, name: str, timeout: tuple[float, float], policy: RetryPolicy,
                 secrets: Callable[[], Iterable[str]], sleep: Callable[[float], None] = time.sleep) -> None:
        self.name = name
        self.timeout = timeout
        self.policy = policy
        self._secrets = secrets
        self._sleep = sleep
        self._local = threading.local()  # a requests.Session is not safe to share across threads

    @property
    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
        return session

    def scrub(self, text: str) -> str:
        return scrub(text, self._secrets())

    def call(self, method: str, url: str, make: Callable[[], dict[str, Any]], *, safe: bool,
             should_retry: Callable[[requests.Response], bool | None] | None = None) -> requests.Response:
        """Send ``method url`` with the keyword arguments ``make()`` builds for each attempt.

        Returns the last response (the caller maps its status). Raises GatewayUnavailable when
        the gateway could not be reached, OutcomeUnknown when a sent request got no answer.
        """
        attempt = 0
        maybe_sent = False  # once any attempt may have arrived, a later failure is "unknown"
        while True:
            attempt += 1
            try:
                response = self.session.request(method, url, timeout=self.timeout, **make())
            except requests.RequestException as exc:
                maybe_sent = maybe_sent or not _never_sent(exc)
                if safe and attempt <= self.policy.max_retries:
                    log.info("%s %s: %s; retrying", self.name, method, type(exc).__name__)
                    self._sleep(self.policy.delay(attempt, None))
                    continue
                raise self._transport_error(exc, maybe_sent) from None
            maybe_sent = True
            verdict = should_retry(response) if should_retry else None
            retryable = response.status_code in self.policy.statuses if verdict is None else verdict
            if retryable and safe and attempt <= self.policy.max_retries:
                wait = _retry_after(response)
                if wait is not None and wait > MAX_RETRY_AFTER:
                    return response
                log.info("%s %s: HTTP %s; retrying", self.name, method, response.status_code)
                self._sleep(self.policy.delay(attempt, wait))
                continue
            return response

    def _transport_error(self, exc: requests.RequestException, sent: bool) -> Exception:
        kind = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
        if not sent:
            return GatewayUnavailable(f"{self.name} could not be reached ({kind}); try again later.")
        return OutcomeUnknown(
            f"{self.name} did not answer ({kind}); the result is not known yet and will be asked again."
        )


def status_unknown(name: str, response: requests.Response) -> OutcomeUnknown:
    return OutcomeUnknown(f"{name} answered HTTP {response.status_code}; the result is not known yet "
                          "and will be asked again.")


def obj(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one: a gateway's answer is read by
    shape, and a part of the wrong shape reads as absent (an answer is never a traceback)."""
    return value if isinstance(value, dict) else {}


def objs(value: Any) -> list[dict[str, Any]]:
    """The JSON objects of ``value`` when it is a list; anything else has none."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


MAX_REFERENCE = 255  # payments.gateway_reference
MAX_URL = 2048
_PRINTABLE_URL = re.compile(r"https?://[\x21-\x7e]+")


def checkout_of(name: str, reference: Any, url: Any, data: dict[str, Any] | None = None) -> Checkout:
    """A checkout whose reference and link can be stored and shown, else OutcomeUnknown (the
    create is repeated later with the same idempotency key)."""
    ref = reference if isinstance(reference, str | int) and not isinstance(reference, bool) else None
    ref_text = str(ref) if ref is not None else ""
    if not 0 < len(ref_text) <= MAX_REFERENCE or not ref_text.isprintable():
        raise OutcomeUnknown(f"{name}'s answer has no usable checkout reference; it will be asked again.")
    if not isinstance(url, str) or len(url) > MAX_URL or not _PRINTABLE_URL.fullmatch(url):
        raise OutcomeUnknown(f"{name}'s answer has no usable payment link; it will be asked again.")
    return Checkout(reference=ref_text, url=url, data=data or {})


class NotJson(ValueError):
    """A reply body that is not JSON the desk can read."""


def parse_json(response: requests.Response) -> Any:
    """The reply's JSON. Raises NotJson for anything else, including JSON nested deeper than
    Python's recursion limit (the decoder raises RecursionError, not ValueError, for that)."""
    try:
        return response.json()
    except (ValueError, RecursionError):
        raise NotJson(response.status_code) from None


def json_of(name: str, response: requests.Response) -> dict[str, Any]:
    try:
        body = parse_json(response)
    except NotJson:
        raise OutcomeUnknown(f"{name} answered HTTP {response.status_code} without JSON; "
                             "it will be asked again.") from None
    if not isinstance(body, dict):
        raise OutcomeUnknown(f"{name} answered with unexpected JSON; it will be asked again.")
    return body

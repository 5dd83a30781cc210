"""Hostile gateway replies through the real top-up and reconcile path, on SQLite and PostgreSQL.

The desk talks to the gateway sandbox through a proxy (tests/support/reply_proxy.py) that
forwards every request, so the sandbox's state moves as a gateway's would, and replaces or
rewrites the reply the adapter reads: non-JSON, a wrong content type, an empty body, odd HTTP
statuses, JSON of any shape (Hypothesis, ``st.recursive``), and the sandbox's own answer with
one field of the wrong type (strings for numbers, 2500.0, true, null, nested values, 10**30),
missing, or carrying non-ASCII, NUL or an over-long reference. VNPay querydr, Stripe Checkout
Sessions (create and retrieve) and PayPal Orders (create, retrieve and capture) are covered.

Invariants:

1. Never a traceback: ``create_topup`` returns or refuses with a BillingDeskError, and
   ``reconcile`` returns, whatever the reply.
2. Never a credit that the gateway did not really give: for a payment nobody paid, no reply
   credits it (it stays pending, or fails when the reply says expired/voided); for a paid
   one, a reply whose amount, currency, status or checksum is not exactly the genuine one
   leaves it pending, and the next honest answer credits it exactly once.
3. What is stored is readable: a payment's reason is one line without control characters or
   lone surrogates; a stored checkout reference is printable and at most 255 characters, its
   link http(s).
4. ``ledger verify`` is clean at the end.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from billing_desk.bootstrap import App, build_app
from billing_desk.config import Settings
from billing_desk.domain.text import has_control
from billing_desk.models import LedgerEntry
from billing_desk.sandbox import SandboxHandle
from billing_desk.sandbox.state import SandboxCredentials
from billing_desk.services.payments.dtos import PaymentRow
from billing_desk.services.payments.gateways.vnpay import FAILED_STATUSES, QUERYDR_RESPONSE_ORDER, pipe_hash
from tests.support.customers import make_account
from tests.support.hostile import Tally, check_refusal
from tests.support.payments import gateway_settings, pay
from tests.support.reply_proxy import Reply, ReplyProxy
from tests.support.staff import StaffActors

QUICK, LONG = 10, 100
RUNS = [pytest.param(QUICK, id="quick"), pytest.param(LONG, id="long", marks=[pytest.mark.long, pytest.mark.slow])]
TALLY = Tally()
SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck), database=None)
VNPAY_SECRET = SandboxCredentials().vnpay_hash_secret
MISSING = object()  # a mutation that deletes the field


@dataclass(frozen=True)
class Gateway:
    name: str
    currency: str
    amount: str
    status_call: str  # the requests whose replies decide a payment's status
    create_call: str | None  # the request that opens a checkout (VNPay's link is built locally)
    keys: tuple[str, ...]  # field names worth generating


GATEWAYS = {
    "vnpay": Gateway("vnpay", "VND", "500000", r"^POST /vnpay/merchant_webapi/", None,
                     (*QUERYDR_RESPONSE_ORDER, "vnp_SecureHash")),
    "stripe": Gateway("stripe", "JPY", "3000", r"^GET /stripe/v1/checkout/sessions/",
                      r"^POST /stripe/v1/checkout/sessions$",
                      ("id", "url", "payment_status", "status", "amount_total", "currency", "error", "message",
                       "type", "code")),
    "paypal": Gateway("paypal", "USD", "25.00",
                      r"^(GET /paypal/v2/checkout/orders/[^/]+$|POST /paypal/v2/checkout/orders/[^/]+/capture$)",
                      r"^POST /paypal/v2/checkout/orders$",
                      ("id", "status", "links", "rel", "href", "purchase_units", "payments", "captures", "amount",
                       "value", "currency_code", "details", "issue", "name", "status_details", "reason")),
}

# -- hostile replies ---------------------------------------------------------------------

ODD_STRINGS = ["", " ", "paid", "PAID", "COMPLETED", "APPROVED", "expired", "VOIDED", "00", "01", "91", "0", "\x00",
               "a\x00b", "đồng", "\ud800", "é" * 300, "x" * 5000, "javascript:alert(1)", "http://", "https://x\x00y",
               "2500", "2500.0", "25.00", "3000", "50000000", "JPY", "jpy", "USD", "VND", "Infinity", "null"]
json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-10**30, 10**30), st.floats(),
    st.sampled_from(ODD_STRINGS), st.text(max_size=20),
)


def json_values(keys: tuple[str, ...]) -> st.SearchStrategy[Any]:
    key = st.sampled_from(keys) | st.text(max_size=8)
    return st.recursive(json_scalar, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(key, kids, max_size=6),
                        max_leaves=15)


CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "text/html", "text/plain", "",
                 "application/xml", "application/json; charset=latin-1", "multipart/form-data"]


def replies(gw: Gateway) -> st.SearchStrategy[Reply]:
    objects = st.dictionaries(st.sampled_from(gw.keys) | st.text(max_size=8), json_values(gw.keys), max_size=8)
    body = st.one_of(objects.map(_dumps), json_values(gw.keys).map(_dumps), st.binary(max_size=300),
                     st.text(max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass")))
    status = st.sampled_from([200, 200, 200, 201, 204, 302, 400, 401, 402, 404, 409, 422, 429, 500, 503, 599])
    return st.builds(Reply, status, st.sampled_from(CONTENT_TYPES), body)


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8", "surrogatepass")


def _named_replies() -> list[tuple[str, Reply]]:
    js = "application/json"
    cases = [
        ("empty body", Reply(200, js, b"")), ("html page", Reply(200, "text/html", b"<html><body>Hi</body></html>")),
        ("not JSON", Reply(200, js, b"{'status': 'paid'")), ("JSON null", Reply(200, js, b"null")),
        ("JSON list", Reply(200, js, b"[]")), ("JSON string", Reply(200, js, b'"paid"')),
        ("JSON number", Reply(200, js, b"1e999")), ("NaN", Reply(200, js, b'{"amount_total": NaN}')),
        ("5,000-digit number", Reply(200, js, b'{"amount_total": ' + b"9" * 5000 + b"}")),
        ("non-UTF-8", Reply(200, js, b'{"status": "\xff\xfe"}')), ("BOM", Reply(200, js, b'\xef\xbb\xbf{}')),
        ("NUL bytes", Reply(200, js, b"\x00" * 10)), ("deep nesting", Reply(200, js, b"[" * 100_000 + b"]" * 100_000)),
        ("204 no content", Reply(204, "", b"")), ("302 redirect", Reply(302, "text/html", b"")),
        ("500 html", Reply(500, "text/html", b"<h1>Bad gateway</h1>")), ("599", Reply(599, js, b"{}")),
        ("JSON as text/plain", Reply(200, "text/plain", b'{"id": 1}')),
    ]
    for label, value in (("string", "x"), ("true", True), ("null", None), ("float", 2500.0), ("nested", {"a": [1]}),
                         ("huge", 10**30), ("NUL", "a\x00b"), ("long", "r" * 300), ("non-ASCII", "đơn hàng")):
        cases.append((f"every field {label}", Reply(200, js, _dumps({k: value for k in (
            "id", "url", "status", "payment_status", "amount_total", "currency", "links", "purchase_units",
            "vnp_ResponseCode", "vnp_TransactionStatus", "vnp_Amount", "vnp_SecureHash", "vnp_TmnCode",
            "access_token", "expires_in", "error", "details", "name")}))))
    return cases


NAMED_REPLIES = _named_replies()

# -- the path ----------------------------------------------------------------------------


@pytest.fixture
def desk(db_url: str, sandbox: SandboxHandle) -> Iterator[tuple[App, ReplyProxy]]:
    proxy = ReplyProxy(sandbox.url)
    app = build_app(Settings(database_url=db_url, config_path=None, gateways=gateway_settings(proxy.url)))
    yield app, proxy
    app.close()
    proxy.stop()


def _credits(app: App, payment_id: int) -> int:
    with app.uow.read() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(LedgerEntry)
                                      .where(LedgerEntry.payment_id == payment_id)) or 0)


def _readable(row: PaymentRow) -> None:
    # A reason may quote the gateway's words, unassigned code points included; it must hold no
    # control character or lone surrogate (a NUL cannot be stored on PostgreSQL, a line break
    # splits the CLI's line). A reference is stricter: printable, as the adapters demand.
    assert not has_control(row.reason or ""), repr(row.reason)
    assert (row.gateway_reference or "x").isprintable(), repr(row.gateway_reference)
    assert row.gateway_reference is None or len(row.gateway_reference) <= 255
    assert row.checkout_url is None or row.checkout_url.startswith(("http://", "https://")), row.checkout_url


class Desk:
    """One gateway's side of a test: a customer, a current payment, and the checks."""

    def __init__(self, app: App, proxy: ReplyProxy, staff: StaffActors, sandbox: SandboxHandle, gw: Gateway) -> None:
        self.app, self.proxy, self.staff, self.sandbox, self.gw = app, proxy, staff, sandbox, gw
        self.account = make_account(app, staff.support, gw.currency)
        self.payment: PaymentRow | None = None
        self.credited = 0

    def fresh(self, paid: bool) -> PaymentRow:
        result = self.app.payments.create_topup(self.staff.support, self.account, self.gw.amount)
        assert result.payment.checkout_url, result.problem
        if paid:
            pay(self.sandbox, result.payment.checkout_url)
        self.payment = result.payment
        return result.payment

    def current(self, paid: bool) -> PaymentRow:
        if self.payment is None or self.row().status != "pending":
            return self.fresh(paid)
        return self.payment

    def row(self) -> PaymentRow:
        assert self.payment is not None
        return self.app.payments.get(self.staff.finance, self.payment.id)

    def reconcile_with(self, pattern: str, rewrite: Callable[[Reply], Reply]) -> PaymentRow:
        seen = self.proxy.rewritten
        with self.proxy.rewriting(pattern, rewrite):
            self.app.payments.reconcile(self.staff.finance, self.account)  # anything but a return fails the test
        assert self.proxy.rewritten > seen, "the hostile reply never reached the desk"
        row = self.row()
        _readable(row)
        return row

    def settle_honestly(self) -> None:
        """No rewriting: a paid payment left pending is credited, once."""
        self.app.payments.reconcile(self.staff.finance, self.account)
        row = self.row()
        assert row.status == "success" and _credits(self.app, row.id) == 1, row


def _unpaid_reply(d: Desk, label: str, reply: Reply) -> None:
    payment = d.current(paid=False)
    row = d.reconcile_with(d.gw.status_call, lambda _real: reply)
    assert row.status in ("pending", "failed"), (label, row)
    assert _credits(d.app, payment.id) == 0, (label, reply)
    TALLY.note(f"{d.gw.name} status reply", "refused" if row.status == "pending" else "accepted")


@pytest.mark.parametrize("gateway", sorted(GATEWAYS))
@pytest.mark.parametrize("examples", RUNS)
def test_no_reply_credits_an_unpaid_payment(desk: tuple[App, ReplyProxy], staff: StaffActors, sandbox: SandboxHandle,
                                            gateway: str, examples: int) -> None:
    app, proxy = desk
    d = Desk(app, proxy, staff, sandbox, GATEWAYS[gateway])
    for label, reply in NAMED_REPLIES:
        _unpaid_reply(d, label, reply)

    @settings(max_examples=examples, **SETTINGS)
    @given(reply=replies(d.gw))
    def check(reply: Reply) -> None:
        _unpaid_reply(d, "generated", reply)

    check()
    assert app.ledger.verify(staff.finance).ok


# -- a paid payment, its genuine answer altered --------------------------------------------

Path_ = tuple[str | int, ...]
_CAPTURE = ("purchase_units", 0, "payments", "captures", 0)
DECISIVE: dict[str, tuple[Path_, ...]] = {
    "stripe": (("payment_status",), ("amount_total",), ("currency",)),
    "paypal": ((*_CAPTURE, "status"), (*_CAPTURE, "amount", "value"), (*_CAPTURE, "amount", "currency_code")),
    "vnpay": tuple((k,) for k in (*QUERYDR_RESPONSE_ORDER, "vnp_SecureHash")),
}
# Once the checksum is right again, these are what must still match the payment asked about.
VNPAY_SIGNED_DECISIVE = tuple((k,) for k in ("vnp_ResponseCode", "vnp_TmnCode", "vnp_TxnRef", "vnp_TransactionStatus",
                                             "vnp_Amount"))


def _get(body: Any, path: Path_) -> Any:
    for step in path:
        if (isinstance(step, int) and isinstance(body, list) and len(body) > step) or (
                isinstance(step, str) and isinstance(body, dict) and step in body):
            body = body[step]
        else:
            return MISSING
    return body


def _set(body: Any, path: Path_, value: Any) -> bool:
    parent = _get(body, path[:-1])
    last = path[-1]
    if isinstance(last, str) and isinstance(parent, dict) and last in parent:
        if value is MISSING:
            del parent[last]
        else:
            parent[last] = value
        return True
    if isinstance(last, int) and isinstance(parent, list) and len(parent) > last:
        parent[last] = None if value is MISSING else value
        return True
    return False


def _pipe(value: Any) -> str:
    return "" if value is None or value is MISSING else str(value)


def _same(gateway: str, path: Path_, old: Any, new: Any, resigned: bool) -> bool:
    """Whether the adapter may take ``new`` for ``old`` without being wrong about the money."""
    if gateway == "vnpay":
        if path == ("vnp_SecureHash",):
            return isinstance(new, str) and new.lower() == old
        if resigned:  # the checksum is right again: only what the adapter compares matters
            return str("" if new is MISSING else new) == str(old)
        return _pipe(new) == _pipe(old)  # the checksum covers the raw values as text
    if gateway == "stripe" and path == ("currency",):
        return new is not MISSING and str(new).upper() == str(old).upper()
    if gateway == "stripe" and path == ("amount_total",):
        return type(new) is int and new == old
    return type(new) is type(old) and new == old


def _resign(body: dict[str, Any]) -> None:
    body["vnp_SecureHash"] = pipe_hash(VNPAY_SECRET, body, QUERYDR_RESPONSE_ORDER)


def _mutated_paid_reply(d: Desk, path: Path_, value: Any, resign: bool) -> None:
    """The genuine answer about a paid payment with one field changed: a credit only if the
    field still says exactly what the gateway said."""
    payment = d.current(paid=True)
    resign = resign and path != ("vnp_SecureHash",)
    decisive = path in (VNPAY_SIGNED_DECISIVE if resign else DECISIVE[d.gw.name])
    seen: dict[str, Any] = {}

    def rewrite(real: Reply) -> Reply:
        try:
            body = json.loads(real.body)
        except ValueError:
            return real
        old = _get(body, path)
        if old is not MISSING and _set(body, path, value if value is MISSING else copy.deepcopy(value)):
            seen.setdefault("same", _same(d.gw.name, path, old, value, resign))
            seen["changed"] = True
            if resign and isinstance(body, dict):
                _resign(body)
        return Reply(real.status, real.content_type, _dumps(body))

    row = d.reconcile_with(d.gw.status_call, rewrite)
    credits = _credits(d.app, payment.id)
    assert credits == (1 if row.status == "success" else 0), row
    if decisive and seen.get("changed") and not seen.get("same"):
        # VNPay's own signed word that the transaction failed may fail it; nothing else may.
        signed_failure = resign and path == ("vnp_TransactionStatus",) and str(value) in FAILED_STATUSES
        assert credits == 0 and (row.status == "pending" or (signed_failure and row.status == "failed")), (
            path, value, row)
        TALLY.note(f"{d.gw.name} paid reply", "refused")
    else:
        TALLY.note(f"{d.gw.name} paid reply", "accepted" if row.status == "success" else "refused")


# Per field, the near misses: the right value as another type, with a space or a NUL, in
# another case or script, nested, huge, null, or gone.
NAMED_VALUES: dict[Path_, list[Any]] = {
    ("payment_status",): ["PAID", "paid ", True, None, MISSING, ["paid"], "paid\x00", "complete"],
    ("amount_total",): ["3000", 3000.0, True, None, MISSING, 10**30, -3000, {"value": 3000}, [3000], 2999, 300000],
    ("currency",): ["JPY\x00", "ＪＰＹ", "usd", None, MISSING, ["jpy"], 392, "jpy "],
    (*_CAPTURE, "status"): ["completed", "COMPLETED ", True, None, MISSING, {"status": "COMPLETED"}],
    (*_CAPTURE, "amount", "value"): [25, 25.0, "25", "25.0", "25.000", "25.00 ", " 25.00", None, MISSING, True,
                                     "2500", "25,00", "２５.００", "\ud800"],
    (*_CAPTURE, "amount", "currency_code"): ["usd", "USD\x00", None, MISSING, ["USD"], "EUR"],
    ("vnp_ResponseCode",): ["0", 0, None, MISSING, "00 ", True, "০০"],
    ("vnp_TxnRef",): [None, MISSING, "someone-else", "\x00", "r" * 300],
    ("vnp_TransactionStatus",): ["0", 0, None, "00\x00", MISSING, "02", "99", "১"],
    ("vnp_Amount",): [50000000.0, "5e7", "050000000", None, MISSING, True, 10**30, "50000001", "500000", -50000000],
    ("vnp_TmnCode",): [None, "bdsandbx", "BDSANDBX\x00", MISSING],
    ("vnp_SecureHash",): ["", None, MISSING, "đ" * 128, "\x00" * 128, 123, ["x"]],
}


@pytest.mark.parametrize("gateway", sorted(GATEWAYS))
@pytest.mark.parametrize("examples", RUNS)
def test_a_paid_answer_altered_is_not_believed(desk: tuple[App, ReplyProxy], staff: StaffActors,
                                               sandbox: SandboxHandle, gateway: str, examples: int) -> None:
    app, proxy = desk
    d = Desk(app, proxy, staff, sandbox, GATEWAYS[gateway])
    paths = DECISIVE[gateway]
    resigns = (False, True) if gateway == "vnpay" else (False,)
    for path in paths:
        for value in NAMED_VALUES.get(path, []):
            for resign in resigns:
                _mutated_paid_reply(d, path, value, resign)

    @settings(max_examples=examples, **SETTINGS)
    @given(path=st.sampled_from(paths), value=json_values(d.gw.keys) | st.just(MISSING),
           resign=st.sampled_from(resigns))
    def check(path: Path_, value: Any, resign: bool) -> None:
        _mutated_paid_reply(d, path, value, resign)

    check()
    d.current(paid=True)
    d.settle_honestly()  # after all that, the honest answer still credits it, once
    assert app.ledger.verify(staff.finance).ok


# -- opening a checkout ------------------------------------------------------------------


def _create_reply(d: Desk, label: str, reply: Reply) -> None:
    assert d.gw.create_call is not None
    # A customer per checkout: a customer's reconcile asks about all its pending payments.
    d.account = make_account(d.app, d.staff.support, d.gw.currency)
    seen = d.proxy.rewritten
    with d.proxy.rewriting(d.gw.create_call, lambda _real: reply):
        try:
            result = d.app.payments.create_topup(d.staff.support, d.account, d.gw.amount)
        except Exception as exc:  # a refusal must be a BillingDeskError, one line
            check_refusal(exc)
            TALLY.note(f"{d.gw.name} create reply", "refused")
            return
    assert d.proxy.rewritten > seen
    d.payment = result.payment
    row = d.row()
    _readable(row)
    assert row.status == "pending" and _credits(d.app, row.id) == 0, (label, row)
    assert result.problem is None or "\n" not in result.problem
    TALLY.note(f"{d.gw.name} create reply", "refused" if row.checkout_url is None else "accepted")
    if row.checkout_url is None:
        # The next reconcile repeats the create with the same idempotency key and gets the link.
        d.app.payments.reconcile(d.staff.finance, d.account)
        again = d.row()
        assert again.status == "pending" and again.checkout_url, again


@pytest.mark.parametrize("gateway", ["paypal", "stripe"])
@pytest.mark.parametrize("examples", RUNS)
def test_odd_checkout_replies_store_nothing_unreadable(desk: tuple[App, ReplyProxy], staff: StaffActors,
                                                       sandbox: SandboxHandle, gateway: str, examples: int) -> None:
    app, proxy = desk
    d = Desk(app, proxy, staff, sandbox, GATEWAYS[gateway])
    link = "http://127.0.0.1:1/pay"
    named = [*NAMED_REPLIES, *(
        (f"reference {label}", Reply(200, "application/json", _dumps(
            {"id": ref, "url": link, "links": [{"rel": "approve", "href": link}], "status": "CREATED"})))
        for label, ref in (("NUL", "cs_\x00"), ("256 chars", "r" * 256), ("non-ASCII", "cs_đơn"), ("empty", ""),
                           ("number", 12345678901234567890), ("true", True), ("float", 1.5), ("list", ["cs_1"]),
                           ("newline", "cs_1\ncs_2"), ("surrogate", "cs_\ud800")))]
    for label, value in (("javascript:", "javascript:alert(1)"), ("NUL", "http://x/\x00"), ("space", "http://x/a b"),
                         ("3,000 chars", "http://x/" + "a" * 3000), ("number", 7), ("object", {"href": link})):
        named.append((f"link {label}", Reply(200, "application/json", _dumps(
            {"id": "ORDER123", "url": value, "links": [{"rel": "approve", "href": value}], "status": "CREATED"}))))
    for label, reply in named:
        _create_reply(d, label, reply)

    @settings(max_examples=examples, **SETTINGS)
    @given(reply=replies(d.gw))
    def check(reply: Reply) -> None:
        _create_reply(d, "generated", reply)

    check()
    assert app.ledger.verify(staff.finance).ok


def test_report(tmp_path: Path) -> None:
    """Prints the replies tried by the tests above in this run (run last in this file)."""
    TALLY.report("hostile gateway replies", tmp_path)

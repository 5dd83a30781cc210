"""Gateway faults against the sandbox: money is credited only on the gateway's confirmation, once.

Each case drives the real flow through the local sandbox over HTTP: support starts the
checkout on the customer's behalf, the customer pays (or not) on the sandbox's page, a fault
is injected on the gateway's API, and two desks reconcile, concurrently, again and again.
Faults: a reply that comes after our timeout although the gateway recorded the work, HTTP
500, 429 with Retry-After, a reset connection, a lost reply, a duplicate confirmation (a
paid answer replayed as the answer about another payment; one confirmation reaching two desks
at the same instant), a customer who paid another amount or currency, and (VNPay, whose
answers are signed) an answer claiming paid with a bad signature.

Invariants, checked after every step:
* no credit without the gateway's confirmation: a payment is success only if the sandbox
  holds it paid with the checkout's own amount and currency;
* never twice: at most one top-up ledger row per payment, only for successful payments, with
  the payment's customer, amount and currency; each balance is the sum of its top-ups;
* another amount or currency paid, a bad signature, an answer about another payment: not
  credited, held for finance (pending, ``flagged_at`` set, its reason readable in the
  payment history starting "Flagged for finance:", passed to the run's ``flagged`` callback),
  and the run goes on with the other payments;
* after the fault clears, every genuinely paid payment is credited exactly once, the gateway
  holds one checkout per payment (idempotency keys) and ``ledger verify`` is clean.

The quick run takes every gateway x every fault once on SQLite and PostgreSQL. The long run
(``--long``) drives 360 payments per seed through random sequences of faults with two
reconcilers racing on PostgreSQL, for several seeds, and prints its figures.
"""

from __future__ import annotations

import random
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from billing_desk.bootstrap import App, build_app
from billing_desk.config import Settings
from billing_desk.domain.enums import LedgerKind, PaymentStatus
from billing_desk.models import CustomerBalance, LedgerEntry, Payment
from billing_desk.sandbox import SandboxHandle
from billing_desk.services.payments.dtos import FlaggedPayment, PaymentRow
from billing_desk.services.payments.reconcile import FLAG_PREFIX
from tests.support.customers import make_account
from tests.support.payments import clear_faults, control, fault, gateway_settings

CURRENCY = {"vnpay": "VND", "stripe": "JPY", "paypal": "USD"}
AMOUNT = {"vnpay": "500000", "stripe": "3000", "paypal": "25.00"}
OTHER_AMOUNT = {"vnpay": "600000", "stripe": "3100", "paypal": "25.50"}
OTHER_CURRENCY = {"stripe": "USD", "paypal": "EUR"}  # VNPay takes VND only
API = {"vnpay": "/vnpay/merchant_webapi/", "stripe": "/stripe/v1/", "paypal": "/paypal/v2/"}  # not the token
STATUS_CALL = {"vnpay": ("/vnpay/merchant_webapi/", "POST"), "stripe": ("/stripe/v1/checkout/sessions/", "GET"),
               "paypal": ("/paypal/v2/checkout/orders/", "GET")}
CREATED = {"stripe": "stripe:created", "paypal": "paypal:created"}
CREATE_CALL = {"stripe": "/stripe/v1/checkout/sessions", "paypal": "/paypal/v2/checkout/orders"}
# A short read timeout keeps a late reply cheap; the late reply comes well after it.
TIMEOUTS = {"connect_timeout": 2.0, "read_timeout": 0.2, "max_retries": 1, "retry_base_delay": 0.01}
LATE = 0.4
# name -> the sandbox's fault and its settings. A Retry-After beyond what the desk waits for
# (10 s) must not hold the run: the payment waits for the next reconcile instead.
TRANSPORT: dict[str, tuple[str, dict[str, Any]]] = {
    "late_reply": ("late_reply", {"delay": LATE}), "error500": ("error500", {}),
    "rate_limit": ("rate_limit", {"retry_after": 0.05}), "rate_limit_120s": ("rate_limit", {"retry_after": 120}),
    "reset": ("reset", {}), "lose_reply": ("lose_reply", {})}
PAIRS = ([(gw, kind) for kind in (*TRANSPORT, "other_amount", "replayed_confirmation", "two_desks_at_once")
          for gw in CURRENCY] + [("vnpay", "bad_signature")])
# Each pair once, the backends taking turns, so each gateway and each kind of fault meets both.
CASES = [pytest.param(gw, kind, ("sqlite", "postgresql")[i % 2], id=f"{gw}-{kind}-{('sqlite', 'postgresql')[i % 2]}",
                      marks=[pytest.mark.slow] if kind == "late_reply" else [])
         for i, (gw, kind) in enumerate(PAIRS)]


# --- the world: two desks, the sandbox, and what the sandbox knows was paid ----------------


@dataclass
class World:
    desks: tuple[App, App]
    sandbox: SandboxHandle
    staff: Any
    gateway: str
    paid: dict[int, bool] = field(default_factory=dict)  # payment -> paid with its own amount?
    flagged: list[FlaggedPayment] = field(default_factory=list)
    reconciles: int = 0
    faults: Counter[str] = field(default_factory=Counter)

    @property
    def app(self) -> App:
        return self.desks[0]

    def start(self, account: str, amount: str | None = None) -> PaymentRow:
        result = self.app.payments.create_topup(self.staff.support, account, amount or AMOUNT[self.gateway])
        self.paid[result.payment.id] = False
        return result.payment

    def row(self, payment_id: int) -> PaymentRow:
        return self.app.payments.get(self.staff.finance, payment_id)

    def open_page(self, payment_id: int) -> None:
        """The customer opens the link and leaves it open (VNPay learns of the payment then)."""
        url = self.row(payment_id).checkout_url
        assert url
        assert requests.get(url, timeout=10).status_code == 200

    def pay(self, payment_id: int, amount: str | None = None, currency: str | None = None) -> None:
        url = self.row(payment_id).checkout_url
        assert url
        body: dict[str, Any] = {"checkout_url": url, "action": "pay"}
        if amount or currency:
            body.update(paid_amount=amount or AMOUNT[self.gateway], paid_currency=currency)
        assert control(self.sandbox, "/sandbox/complete", body)["ok"]
        self.paid[payment_id] = not (amount or currency)

    def inject(self, kind: str, path: str, method: str | None = None, times: int = 1000, **extra: Any) -> None:
        fault(self.sandbox, kind, path, times=times, method=method, **extra)

    def clear(self) -> None:
        clear_faults(self.sandbox)

    def reconcile_both(self) -> list[int]:
        """Both desks reconcile at once; the ids each run settled as success."""
        settled: list[list[int]] = [[], []]
        errors: list[BaseException] = []

        def run(i: int) -> None:
            try:
                changes = self.desks[i].payments.reconcile(self.staff.finance, flagged=self.flagged.append)
                settled[i] = [c.payment_id for c in changes if c.status == PaymentStatus.SUCCESS.value]
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors
        self.reconciles += 2
        both = settled[0] + settled[1]
        assert len(both) == len(set(both)), f"both desks settled {both}"
        return both

    def sandbox_counts(self) -> dict[str, int]:
        counts: dict[str, int] = control(self.sandbox, "/sandbox/state", method="GET")["counts"]
        return counts


def check_money(world: World) -> dict[str, int]:
    """Every invariant on the whole database; returns the payment statuses counted."""
    app = world.app
    with app.uow.read() as uow:
        s = uow.session
        payments = {r.id: r for r in s.execute(select(Payment.id, Payment.customer_id, Payment.amount,
                                                      Payment.currency, Payment.status, Payment.flagged_at,
                                                      Payment.reason))}
        topups = list(s.execute(select(LedgerEntry.payment_id, LedgerEntry.customer_id, LedgerEntry.amount,
                                       LedgerEntry.currency, LedgerEntry.status)
                                .where(LedgerEntry.kind == LedgerKind.TOPUP.value)))
        balances = {r.customer_id: (r.total, r.currency)
                    for r in s.execute(select(CustomerBalance.customer_id, CustomerBalance.total,
                                              CustomerBalance.currency))}
        rows_per_payment = Counter(t.payment_id for t in topups)
        assert s.scalar(select(func.count()).select_from(LedgerEntry)
                        .where(LedgerEntry.kind != LedgerKind.TOPUP.value)) == 0
    assert all(n == 1 for n in rows_per_payment.values()), f"credited twice: {rows_per_payment}"
    success = {pid for pid, p in payments.items() if p.status == PaymentStatus.SUCCESS.value}
    assert set(rows_per_payment) == success, "a top-up row without a successful payment, or the reverse"
    for t in topups:
        p = payments[t.payment_id]
        assert (t.customer_id, t.amount, t.currency, t.status) == (p.customer_id, p.amount, p.currency, "success")
    unconfirmed = {pid for pid in success if not world.paid.get(pid)}
    assert not unconfirmed, f"credited without the gateway's confirmation of that amount: {unconfirmed}"
    owed: Counter[int] = Counter()
    for pid in success:
        owed[payments[pid].customer_id] += payments[pid].amount
    for customer_id, (total, _currency) in balances.items():
        assert total == owed[customer_id], f"customer {customer_id}: balance {total}, top-ups {owed[customer_id]}"
    report = app.ledger.verify(world.staff.finance)
    assert report.ok, report.mismatches
    return Counter(p.status for p in payments.values())


def assert_held(world: World, payment_id: int, *words: str) -> None:
    """Not credited, still pending, flagged with a reason finance can read (and was told of)."""
    row = world.row(payment_id)
    assert row.status == PaymentStatus.PENDING.value
    assert row.reason and row.reason.startswith(FLAG_PREFIX), row.reason
    for word in words:
        assert word in row.reason, row.reason
    with world.app.uow.read() as uow:
        assert uow.session.scalar(select(Payment.flagged_at).where(Payment.id == payment_id)) is not None
    assert payment_id in {f.payment_id for f in world.flagged}
    world.faults["held for finance"] += 1


# --- fixtures ------------------------------------------------------------------------------


def _desks(db_url: str, sandbox: SandboxHandle) -> Iterator[tuple[App, App]]:
    settings = Settings(database_url=db_url, config_path=None, gateways=gateway_settings(sandbox.url, **TIMEOUTS))
    desks = (build_app(settings), build_app(settings))
    yield desks
    for desk in desks:
        desk.close()




def _database(request: pytest.FixtureRequest, backend: str) -> str:
    """A fresh migrated database with the staff, on ``backend`` only."""
    if backend == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    target = request.getfixturevalue("tmp_path") / "billing.sqlite3"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
    return f"sqlite:///{target}"


# --- the quick run: every gateway x every fault once ---------------------------------------


def transport_fault(w: World, kind: str) -> None:
    """The fault on every call to the gateway's API (create, status, capture) while one
    payment is paid, one is open and one is started; then it clears."""
    g = w.gateway
    accounts = [make_account(w.app, w.staff.support, CURRENCY[g]) for _ in range(3)]
    paid, still_open = w.start(accounts[0]), w.start(accounts[1])
    w.pay(paid.id)
    sandbox_kind, extra = TRANSPORT[kind]
    w.inject(sandbox_kind, API[g], **extra)
    late = w.start(accounts[2])  # Stripe and PayPal: the create itself meets the fault
    if g != "vnpay":
        assert late.checkout_url is None and late.status == "pending"
    started = time.monotonic()
    assert w.reconcile_both() == []  # the paid one is not credited: no confirmation came
    assert time.monotonic() - started < 30  # nothing waited out a 120 s Retry-After
    assert w.row(paid.id).status == "pending" and (w.row(paid.id).reason or "").startswith("last check:")
    check_money(w)
    w.clear()
    assert w.reconcile_both() == [paid.id]  # confirmed now, credited once (and the late one got its link)
    w.pay(still_open.id)
    w.pay(late.id)
    assert sorted(w.reconcile_both()) == sorted([still_open.id, late.id])
    assert w.reconcile_both() == []
    assert check_money(w) == {"success": 3}
    counts = w.sandbox_counts()
    w.faults[kind] += counts.get(f"fault:{sandbox_kind}", 0)
    if g in CREATED:
        assert counts[CREATED[g]] == 3  # the retried creates replayed: one checkout per payment
    if g == "paypal":
        assert counts["paypal:captured"] == 3


def other_amount(w: World) -> None:
    """Paid with another amount (and, where the gateway allows, another currency): held."""
    g = w.gateway
    accounts = [make_account(w.app, w.staff.support, CURRENCY[g]) for _ in range(3)]
    wrong, good = w.start(accounts[0]), w.start(accounts[1])
    w.pay(wrong.id, amount=OTHER_AMOUNT[g])
    w.pay(good.id)
    held = [wrong.id]
    if g in OTHER_CURRENCY:
        other = w.start(accounts[2])
        w.pay(other.id, currency=OTHER_CURRENCY[g])
        held.append(other.id)
    assert w.reconcile_both() == [good.id]  # the others go on
    amount_words = {"vnpay": "60000000", "stripe": "3100", "paypal": "25.50"}[g]
    assert_held(w, wrong.id, amount_words)
    if g in OTHER_CURRENCY:
        assert_held(w, held[1], OTHER_CURRENCY[g].lower() if g == "stripe" else OTHER_CURRENCY[g])
    w.inject("error500", API[g], times=1000)  # a later transient failure must not hide why it is held
    assert w.reconcile_both() == []
    assert_held(w, wrong.id, amount_words)
    w.clear()
    assert w.reconcile_both() == []
    for pid in held:
        assert_held(w, pid)
    w.faults["other_amount"] += len(held)
    check_money(w)


def bad_signature(w: World) -> None:
    """A querydr answer claiming paid, badly signed: not credited, held; the others go on."""
    accounts = [make_account(w.app, w.staff.support, "VND") for _ in range(2)]
    unpaid, paid = w.start(accounts[0]), w.start(accounts[1])
    w.open_page(unpaid.id)
    w.pay(paid.id)
    w.inject("bad_signature", API["vnpay"], times=1)  # the first payment asked: the unpaid one
    assert w.reconcile_both() == [paid.id]
    assert_held(w, unpaid.id, "checksum")
    w.inject("bad_signature", API["vnpay"], times=1000)
    assert w.reconcile_both() == []
    assert_held(w, unpaid.id, "checksum")
    check_money(w)
    w.clear()
    w.pay(unpaid.id)
    assert w.reconcile_both() == [unpaid.id]  # genuinely paid: credited once
    assert w.reconcile_both() == []
    w.faults["bad_signature"] += w.sandbox_counts()["fault:bad_signature"]
    assert check_money(w) == {"success": 2}


def replayed_confirmation(w: World) -> None:
    """The gateway's paid confirmation for one payment comes back as the answer about another."""
    g = w.gateway
    accounts = [make_account(w.app, w.staff.support, CURRENCY[g]) for _ in range(2)]
    first = w.start(accounts[0])
    w.pay(first.id)
    assert w.reconcile_both() == [first.id]
    if g in CREATED:  # the create's answer replaced by that confirmation: not taken as this checkout
        w.inject("replay", CREATE_CALL[g], method="POST")
        second = w.start(accounts[1])
        assert second.checkout_url is None and second.status == "pending"
        w.clear()
        assert w.reconcile_both() == []  # its own checkout now (the create repeated with its key)
        assert w.row(second.id).checkout_url and w.row(second.id).gateway_reference != first.gateway_reference
    else:
        second = w.start(accounts[1])  # same amount: only the reference tells the answers apart
    if g == "paypal":
        w.pay(second.id)  # approved, so the capture's answer is the one replaced
    else:
        w.open_page(second.id)
    w.inject("replay", API[g])
    assert w.reconcile_both() == []
    assert_held(w, second.id, "answered about")
    check_money(w)
    w.clear()
    if g != "paypal":
        w.pay(second.id)
    assert w.reconcile_both() == [second.id]
    assert w.reconcile_both() == []
    w.faults["replayed_confirmation"] += w.sandbox_counts()["fault:replay"]
    assert check_money(w) == {"success": 2}


def two_desks_at_once(w: World) -> None:
    """One payment's confirmation reaches both desks at the same instant: credited once."""
    g = w.gateway
    payments = [w.start(make_account(w.app, w.staff.support, CURRENCY[g])) for _ in range(2)]
    for p in payments:
        w.pay(p.id)
    path, method = STATUS_CALL[g]
    w.inject("gather", path, method=method, times=4, parties=2, delay=10.0)
    started = time.monotonic()
    assert sorted(w.reconcile_both()) == sorted(p.id for p in payments)
    assert time.monotonic() - started < 10.0  # the desks met at the sandbox: neither waited it out
    assert w.sandbox_counts()["fault:gather"] == 4
    assert w.reconcile_both() == []
    w.faults["two_desks_at_once"] += 4
    assert check_money(w) == {"success": 2}


@pytest.mark.parametrize(("gateway", "kind", "backend"), CASES)
def test_every_gateway_fault_leaves_money_credited_once_and_only_when_confirmed(
    gateway: str, kind: str, backend: str, request: pytest.FixtureRequest, sandbox: SandboxHandle, staff: Any
) -> None:
    url = _database(request, backend)
    for desks in _desks(url, sandbox):
        w = World(desks, sandbox, staff, gateway)
        if kind in TRANSPORT:
            transport_fault(w, kind)
        else:
            {"other_amount": other_amount, "bad_signature": bad_signature,
             "replayed_confirmation": replayed_confirmation, "two_desks_at_once": two_desks_at_once}[kind](w)
        assert w.reconciles >= 4
        served = sum(v for k, v in w.sandbox_counts().items() if k.startswith("fault:"))
        print(f"\n[gateway faults {gateway} {kind} {backend}] {len(w.paid)} payments, {served} faulty answers "
              f"served, {w.reconciles} reconcile runs, {w.faults['held for finance']} holds checked; "
              f"result {dict(check_money(w))}")


# --- the long run: random sequences of faults over many payments, two desks racing ----------

LONG_SEEDS = (11, 23, 37)
LONG_ROUNDS = 12
LONG_PER_ROUND = 30  # payments started per round: 360 per seed
CUSTOMERS_PER_GATEWAY = 8
FAULT_PATHS = {
    "vnpay": [("/vnpay/merchant_webapi/", "POST")],
    "stripe": [("/stripe/v1/checkout/sessions", "POST"), ("/stripe/v1/checkout/sessions/", "GET"),
               ("/stripe/v1/", None)],
    "paypal": [("/paypal/v2/checkout/orders", "POST"), ("/paypal/v2/checkout/orders/", "GET"),
               ("/paypal/v2/", None)],
}
RANDOM_FAULTS = {"late_reply": {"delay": LATE}, "error500": {}, "rate_limit": {"retry_after": 0.05}, "reset": {},
                 "lose_reply": {}, "replay": {}, "bad_signature": {}, "gather": {"parties": 2, "delay": 1.0}}


@dataclass
class Customers:
    """What each payment's customer did at the gateway, as the sandbox recorded it."""

    other_paid: set[int] = field(default_factory=set)
    cancelled: set[int] = field(default_factory=set)
    left_open: set[int] = field(default_factory=set)


def _random_fault(w: World, rng: random.Random) -> None:
    gateway = rng.choice(list(CURRENCY))
    kinds = [k for k in RANDOM_FAULTS if k != "bad_signature" or gateway == "vnpay"]
    kind = rng.choice(kinds)
    path, method = rng.choice(FAULT_PATHS[gateway])
    w.inject(kind, path, method=method, times=rng.randint(1, 8), **RANDOM_FAULTS[kind])


def _act(w: World, rng: random.Random, who: Customers, pid: int, gateway: str) -> None:
    """The customer of a payment with a link pays, pays another amount, cancels, or leaves it."""
    roll = rng.random()
    if roll < 0.55:
        w.pay(pid)
    elif roll < 0.63:
        w.pay(pid, amount=OTHER_AMOUNT[gateway])
        who.other_paid.add(pid)
    elif roll < 0.75:
        url = w.row(pid).checkout_url
        assert control(w.sandbox, "/sandbox/complete", {"checkout_url": url, "action": "cancel"})["ok"]
        who.cancelled.add(pid)
    else:
        who.left_open.add(pid)


@pytest.mark.long
@pytest.mark.slow
@pytest.mark.parametrize("seed", LONG_SEEDS)
def test_random_fault_sequences_over_many_payments_with_two_reconcilers_racing(
    seed: int, pg_url: str, sandbox: SandboxHandle, staff: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(seed)
    started = time.monotonic()
    for desks in _desks(pg_url, sandbox):
        w = World(desks, sandbox, staff, "vnpay")
        who = Customers()
        accounts = {g: [make_account(w.app, staff.support, CURRENCY[g], name=f"{g} customer {i}")
                        for i in range(CUSTOMERS_PER_GATEWAY)] for g in CURRENCY}
        gateway_of: dict[int, str] = {}
        waiting: set[int] = set()  # started, the customer has not acted yet
        for _ in range(LONG_ROUNDS):
            for _ in range(rng.randint(0, 3)):
                _random_fault(w, rng)  # some creates meet them too
            for _ in range(LONG_PER_ROUND):
                gateway = rng.choice(list(CURRENCY))
                w.gateway = gateway
                p = w.start(rng.choice(accounts[gateway]))
                gateway_of[p.id] = gateway
                waiting.add(p.id)
            for pid in sorted(waiting):
                if w.row(pid).checkout_url and rng.random() < 0.8:
                    _act(w, rng, who, pid, gateway_of[pid])
                    waiting.discard(pid)
            for _ in range(rng.randint(1, 3)):
                _random_fault(w, rng)
            w.reconcile_both()
            check_money(w)
            if rng.random() < 0.5:
                w.clear()
        w.clear()
        for pid in sorted(waiting):  # links fetched late; the customers act now
            if not w.row(pid).checkout_url:
                w.reconcile_both()
            _act(w, rng, who, pid, gateway_of[pid])
        quiet = 0
        while quiet < 2:  # until two rounds in a row change nothing
            quiet = quiet + 1 if not w.reconcile_both() else 0
        statuses = check_money(w)
        rows = {pid: w.row(pid) for pid in gateway_of}
        paid = {pid for pid, ok in w.paid.items() if ok}
        assert {pid for pid, r in rows.items() if r.status == "success"} == paid  # every one, once
        assert {pid for pid, r in rows.items() if r.status == "failed"} == who.cancelled
        for pid in who.other_paid:
            assert_held(w, pid)
        for pid in who.left_open:
            assert rows[pid].status == "pending"
        counts = w.sandbox_counts()
        for gateway, counter in CREATED.items():
            assert counts[counter] == sum(1 for g in gateway_of.values() if g == gateway)  # one checkout each
        assert counts["paypal:captured"] == sum(1 for pid in paid | who.other_paid if gateway_of[pid] == "paypal")
        injected = {k[len("fault:"):]: v for k, v in counts.items() if k.startswith("fault:")}
        with capsys.disabled():
            print(f"\n[gateway faults seed {seed}] {len(gateway_of)} payments "
                  f"({dict(Counter(gateway_of.values()))}), {sum(injected.values())} faults served "
                  f"{dict(sorted(injected.items()))}, {w.reconciles} reconcile runs; result {dict(statuses)}, "
                  f"{len(who.other_paid)} paid another amount and held, {len(who.cancelled)} cancelled, "
                  f"{len(who.left_open)} left open; {time.monotonic() - started:.0f} s")

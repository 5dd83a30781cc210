"""One process of the money-concurrency suite (test_money_concurrency.py).

``run`` builds its own desk (one engine, one connection at a time), waits at the barrier
with the other processes, then runs a seeded random sequence of mixed operations on the
shared customers through the real services: usage (30% of it with keys other processes send
too, many shaped like the system's own keys), staff adjustments and promotions, voucher
redemptions, top-ups started against the gateway sandbox and paid there, reconciliations
racing each other, plan changes and a few reads. Every attempt and what it returned is kept
and handed back to the parent as JSON, which checks it against the database.

Not a test module: the parent starts ``run`` in fresh processes (multiprocessing, spawn).
"""

from __future__ import annotations

import json
import random
import traceback
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from billing_desk.bootstrap import App, build_app
from billing_desk.config import Settings
from billing_desk.domain.enums import CreditSource, EntryStatus, Role
from billing_desk.domain.errors import BillingDeskError
from billing_desk.domain.money import Money
from billing_desk.domain.permissions import Actor
from billing_desk.services.ledger.dtos import HistoryFilter
from tests.support.payments import gateway_settings

MANAGER = Actor(2, "manager", Role.MANAGER)
SUPPORT = Actor(3, "support", Role.SUPPORT)
FINANCE = Actor(4, "finance", Role.FINANCE)
SERVICE = "GPU Container"
# A charge's unit in each currency: top-ups are hundreds of units, usage a few dozen.
UNIT = {"VND": 5_000, "JPY": 30, "USD": 25, "EUR": 25}
TOPUP_UNITS = (100, 200, 400)  # each at least the currency's minimum top-up
SHARED_KEYS = 24  # per customer: the pool of keys every process draws its repeated keys from
# Keys staff or a feed might send that look like the keys the system writes itself
# (payment-<id>, voucher-<id>, plan-..., expire-lot-<id>): they must never be taken for those.
KEY_SHAPES = ("shared-{n}", "payment-{n}", "voucher-{n}", "expire-lot-{n}", "plan-{cid}-20250101000000-pro")
# Operation kinds and their weights.
WEIGHTS = {"usage": 36, "adjust": 13, "redeem": 11, "topup": 11, "reconcile_all": 4, "refresh": 6, "plan": 10,
           "read": 3}


def shared_amount(cid: int, key: str, currency: str) -> Money:
    """The one amount every process charges a shared key with (as a real feed would resend it)."""
    return Money(UNIT[currency] * (zlib.crc32(f"{cid}:{key}".encode()) % 40 + 1), currency)


def shared_key(rng: random.Random, cid: int) -> str:
    n = rng.randrange(SHARED_KEYS)
    shape = KEY_SHAPES[n % len(KEY_SHAPES)]
    return shape.format(n=n // len(KEY_SHAPES) + 1, cid=cid) if "{n}" in shape else shape.format(cid=cid)


@dataclass
class Worker:
    """One process's desk, its random choices and its record of attempts."""

    app: App
    spec: dict[str, Any]
    rng: random.Random
    attempts: list[dict[str, Any]] = field(default_factory=list)
    deferred: list[tuple[int, int, int, str]] = field(default_factory=list)  # (due op, customer, payment, link)
    private_used: dict[int, int] = field(default_factory=dict)  # customer id -> private codes it redeemed

    @property
    def customers(self) -> list[dict[str, Any]]:
        return list(self.spec["customers"])

    def note(self, op: str, cid: int | None, outcome: str, **details: Any) -> None:
        self.attempts.append({"op": op, "cid": cid, "outcome": outcome, **details})

    # -- the operations ------------------------------------------------------------------
    def usage(self, i: int, c: dict[str, Any]) -> None:
        cid, cur = c["id"], c["currency"]
        roll = self.rng.random()
        if roll < 0.30:
            key: str | None = shared_key(self.rng, cid)
            amount = shared_amount(cid, key, cur)
            if self.rng.random() < 0.05:  # a resend with another amount: must be refused
                amount = Money(amount.minor + UNIT[cur], cur)
        else:
            key = None if roll > 0.93 else f"w{self.spec['worker']}-{i}"
            amount = Money(UNIT[cur] * self.rng.randint(1, 40), cur)
        details = {"key": key, "amount": amount.minor}
        try:
            out = self.app.ledger.record_usage(MANAGER, cid, service=SERVICE, amount=amount, key=key)
        except BillingDeskError as exc:
            self.note("usage", cid, f"refused:{type(exc).__name__}", **details)
            return
        self.note("usage", cid, _posted(out.status, out.duplicate), **details)

    def adjust(self, i: int, c: dict[str, Any]) -> None:
        cid, cur = c["id"], c["currency"]
        promotion = self.rng.random() < 0.2
        units = self.rng.randint(1, 60) if promotion or self.rng.random() < 0.55 else -self.rng.randint(1, 60)
        amount = Money(UNIT[cur] * units, cur)
        source = None if promotion else self.rng.choice([None, None, CreditSource.TOPUP, CreditSource.VOUCHER])
        key = f"adj-{self.rng.randrange(12)}" if self.rng.random() < 0.2 else None
        if key is not None:  # a resent keyed adjustment carries the same amount and source
            units = (zlib.crc32(f"{cid}:{key}".encode()) % 60) + 1
            amount, promotion, source = Money(UNIT[cur] * units, cur), False, None
        details = {"key": key, "amount": amount.minor, "kind": "promotion" if promotion else "adjustment"}
        try:
            out = self.app.ledger.adjust(MANAGER, cid, amount, f"concurrency run {self.spec['worker']}-{i}",
                                         promotion=promotion, source=source, key=key)
        except BillingDeskError as exc:
            self.note("adjust", cid, f"refused:{type(exc).__name__}", **details)
            return
        self.note("adjust", cid, _posted(out.status, out.duplicate), **details)

    def redeem(self, i: int, c: dict[str, Any]) -> None:
        """A code of this process's own on a main customer (nobody else redeems it there), or,
        one time in five, a contested code that every process tries on the racing customers."""
        contested = self.rng.random() < 0.2
        if contested:
            target = self.rng.choice([x for x in self.customers if x["racer"]])
            code = self.rng.choice(self.spec["contested"])
        else:
            target = self.rng.choice([x for x in self.customers if not x["racer"]])
            codes = self.spec["private"][target["currency"]]
            used = self.private_used.get(target["id"], 0)
            if used >= len(codes):
                return
            self.private_used[target["id"]] = used + 1
            code = codes[used]
        details = {"contested": contested, "code_tail": code[-4:]}
        try:
            out = self.app.vouchers.redeem(SUPPORT, target["id"], code)
        except BillingDeskError as exc:
            self.note("redeem", target["id"], f"refused:{type(exc).__name__}", **details)
            return
        self.note("redeem", target["id"], "ok", amount=out.amount.minor, redemption_id=out.redemption_id,
                  voucher_id=out.voucher_id, **details)

    def topup(self, i: int, c: dict[str, Any]) -> None:
        cid, cur = c["id"], c["currency"]
        amount = Money(UNIT[cur] * self.rng.choice(TOPUP_UNITS), cur)
        try:
            started = self.app.payments.create_topup(SUPPORT, cid, amount)
        except BillingDeskError as exc:
            self.note("topup", cid, f"refused:{type(exc).__name__}", amount=amount.minor)
            return
        payment = started.payment
        self.note("topup", cid, "ok", payment_id=payment.id, amount=amount.minor,
                  linked=payment.checkout_url is not None)
        if payment.checkout_url is None:
            return
        roll = self.rng.random()
        if roll < 0.7:
            self.customer_acts(payment.id, cid, payment.checkout_url, "pay")
        elif roll < 0.8:
            self.customer_acts(payment.id, cid, payment.checkout_url, "cancel")
        else:
            self.deferred.append((i + self.rng.randint(3, 30), cid, payment.id, payment.checkout_url))

    def customer_acts(self, payment_id: int, cid: int, url: str, action: str) -> None:
        """The customer pays (or cancels) on the gateway's page."""
        answer = requests.post(f"{self.spec['sandbox']}/sandbox/complete",
                               json={"checkout_url": url, "action": action}, timeout=30).json()
        self.note("gateway", cid, "ok" if answer.get("ok") else "refused", payment_id=payment_id, action=action)

    def pay_later(self, i: int) -> None:
        """Customers who took a while pay once their moment has come."""
        for d in [d for d in self.deferred if d[0] <= i]:
            self.deferred.remove(d)
            self.customer_acts(d[2], d[1], d[3], "pay")

    def reconcile_all(self, i: int, c: dict[str, Any]) -> None:
        self._reconcile("reconcile_all", None, lambda: self.app.payments.reconcile(FINANCE))

    def refresh(self, i: int, c: dict[str, Any]) -> None:
        self._reconcile("refresh", c["id"], lambda: self.app.payments.reconcile(SUPPORT, c["id"]))

    def _reconcile(self, op: str, cid: int | None, call: Callable[[], Any]) -> None:
        try:
            changes = call()
        except BillingDeskError as exc:
            self.note(op, cid, f"refused:{type(exc).__name__}")
            return
        self.note(op, cid, "ok", changes=[[ch.payment_id, ch.customer_id, ch.status, ch.amount.minor]
                                          for ch in changes])

    def plan(self, i: int, c: dict[str, Any]) -> None:
        code = self.rng.choice(self.spec["plans"])
        try:
            out = self.app.plans.change(SUPPORT, c["id"], code)
        except BillingDeskError as exc:
            self.note("plan", c["id"], f"refused:{type(exc).__name__}", plan=code)
            return
        self.note("plan", c["id"], "ok", plan=code, kind=out.kind, charge=out.charge.minor)

    def read(self, i: int, c: dict[str, Any]) -> None:
        self.app.ledger.history_page(MANAGER, c["id"], HistoryFilter(services=(SERVICE,)), None, 50)
        self.note("read", c["id"], "ok")

    # -- the run -------------------------------------------------------------------------
    def step(self, i: int) -> None:
        kind = self.rng.choices(list(WEIGHTS), list(WEIGHTS.values()))[0]
        c = self.rng.choice(self.customers)
        try:
            getattr(self, kind)(i, c)
        except Exception as exc:  # not a refusal a person is meant to see: a defect, reported
            self.note(kind, c["id"], "error", error=f"{type(exc).__name__}: {exc}"[:600],
                      trace=traceback.format_exc()[-1500:])

    def finish(self) -> None:
        """The customers who meant to pay later pay now."""
        for _, cid, payment_id, url in self.deferred:
            self.customer_acts(payment_id, cid, url, "pay")
        self.deferred.clear()


def _posted(status: EntryStatus, duplicate: bool) -> str:
    return ("dup-" if duplicate else "") + ("success" if status is EntryStatus.SUCCESS else "failed")


def run(spec: dict[str, Any], barrier: Any, results: Any) -> None:
    """One process: build a desk, wait for the others, run the operations, report as JSON."""
    app = build_app(Settings(database_url=spec["url"], config_path=None,
                             gateways=gateway_settings(spec["sandbox"])))
    worker = Worker(app, spec, random.Random(f"{spec['seed']}:{spec['worker']}"))
    try:
        barrier.wait(timeout=120)
        for i in range(spec["operations"]):
            worker.step(i)
            worker.pay_later(i)
        worker.finish()
    except Exception as exc:
        worker.note("worker", None, "error", error=f"{type(exc).__name__}: {exc}"[:600],
                    trace=traceback.format_exc()[-1500:])
    finally:
        app.close()
        results.put(json.dumps({"worker": spec["worker"], "attempts": worker.attempts}))

"""Demo seed step: months of realistic credit history, written in bulk and kept exact.

For each seeded customer that has a currency (up to ``HISTORY_CUSTOMERS`` of them, so that
``demo seed --customers 100000`` stays quick) it simulates top-ups, a few voucher credits
that expire, and usage across the catalog's services, drawing voucher credit first (earliest
expiring), refusing usage the balance cannot cover as a failed row, and writing off expired
voucher credit, exactly as ``ledger_posting`` would. The outcome goes in with bulk Core
inserts and one balance update per customer that *adds* to the stored figures, so ``ledger
verify`` passes whatever other seed steps posted before. ``--whale`` adds one customer with
about 1,000,000 rows for the performance checks.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from billing_desk.domain.enums import KeyScope
from billing_desk.domain.money import CURRENCIES, PAYPAL_CURRENCIES
from billing_desk.domain.topup_limits import method_for
from billing_desk.models import CustomerBalance, LedgerEntry, VoucherCreditLot, utcnow
from billing_desk.services.customers import Profile, insert_customer

HISTORY_CUSTOMERS = 5_000
WHALE_ROWS = 1_000_000
BATCH = 20_000
_SEARCH_TRIGGER = "ledger_search_ai"  # defined by migration 0002
_B = cast(Table, CustomerBalance.__table__)

# (service, description templates); {n}, {m}, {h} are filled with small random numbers.
_USAGE = (
    ("AI Inference", ("Inference: {m}K tokens on Llama-3-70B", "Inference: {m}K tokens on Qwen2-72B",
                      "Embedding API: {m}K tokens")),
    ("Model Fine-tuning", ("Fine-tuning job ft-{n:05d} ({h} epochs)", "LoRA fine-tuning ft-{n:05d}")),
    ("Storage", ("Storage usage for {h} model(s)", "Dataset storage: {m} GB-month")),
    ("GPU Container", ("GPU Container: {h} h on H100", "GPU Container: {h} h on A100 40GB")),
    ("AI Notebook", ("AI Notebook: {h} h (T4)", "AI Notebook: {h} h (L4)")),
)
# Top-up sizes (the marketplace's minimums up to about ten times them), in minor units.
_TOPUP = {"VND": (500_000, 5_000_000), "JPY": (3_000, 30_000)}
_TOPUP_MAJOR_OTHER = (25, 300)


@dataclass
class _Lot:
    id: int
    granted: int
    remaining: int
    expires_at: datetime
    created_at: datetime


@dataclass
class _Sim:
    """One customer's simulated account: rows to insert and how the figures moved."""

    customer_id: int
    currency: str
    topup: int = 0
    voucher: int = 0
    lots: list[_Lot] = field(default_factory=list)  # every lot granted, for the insert
    active: list[_Lot] = field(default_factory=list)  # lots with credit left, earliest expiry first
    rows: list[dict[str, Any]] = field(default_factory=list)

    def row(self, at: datetime, kind: str, service: str, description: str, amount: int, source: str,
            status: str = "success", reason: str | None = None, key: str | None = None) -> None:
        self.rows.append({"customer_id": self.customer_id, "created_at": at, "kind": kind, "service": service,
                          "description": description, "status": status, "failure_reason": reason,
                          "amount": amount, "currency": self.currency, "source": source, "idempotency_key": key,
                          # usage keys stand for the feed's own, as post_usage scopes them
                          "key_scope": (KeyScope.EXTERNAL if kind == "usage" else KeyScope.SYSTEM).value})

    def expire(self, now: datetime) -> None:
        while self.active and self.active[0].expires_at <= now:
            lot = self.active.pop(0)
            self.row(lot.expires_at, "expiry", "Expiry", "Voucher credit expired unused", -lot.remaining,
                     "voucher", key=f"expire-lot-{lot.id}")
            self.voucher -= lot.remaining
            lot.remaining = 0

    def top_up(self, at: datetime, amount: int, method: str) -> None:
        self.topup += amount
        self.row(at, "topup", "Top-up", f"Top-up via {method}", amount, "topup")

    def voucher_credit(self, at: datetime, lot_id: int, amount: int, days: int) -> None:
        lot = _Lot(lot_id, amount, amount, at + timedelta(days=days), at)
        self.lots.append(lot)
        self.active.append(lot)
        self.active.sort(key=lambda x: (x.expires_at, x.id))
        self.voucher += amount
        self.row(at, "voucher", "Voucher", f"Voucher credit ({days}-day validity)", amount, "voucher")

    def use(self, at: datetime, service: str, description: str, amount: int, key: str | None) -> None:
        self.expire(at)
        if amount > self.topup + self.voucher:
            self.row(at, "usage", service, description, -amount, "topup", "failed", "insufficient credit", key)
            return
        from_voucher = min(amount, self.voucher)
        left = from_voucher
        while left:
            lot = self.active[0]
            take = min(lot.remaining, left)
            lot.remaining -= take
            left -= take
            if not lot.remaining:
                self.active.pop(0)
        self.voucher -= from_voucher
        if from_voucher:
            self.row(at, "usage", service, description, -from_voucher, "voucher", key=key)
        if amount > from_voucher:
            self.topup -= amount - from_voucher
            self.row(at, "usage", service, description, from_voucher - amount, "topup", key=key)


def _scale(currency: str) -> tuple[int, int]:
    if currency in _TOPUP:
        return _TOPUP[currency]
    factor = 10 ** CURRENCIES[currency].exponent
    return _TOPUP_MAJOR_OTHER[0] * factor, _TOPUP_MAJOR_OTHER[1] * factor


def _usage(rng: random.Random) -> tuple[str, str]:
    service, templates = rng.choice(_USAGE)
    return service, rng.choice(templates).format(n=rng.randrange(100_000), m=rng.randrange(1, 900),
                                                 h=rng.randrange(1, 48))


def simulate(rng: random.Random, sim: _Sim, start: datetime, end: datetime, events: int,
             next_lot: Iterator[int], keyed: bool) -> None:
    """``events`` history events between ``start`` and ``end``, in time order."""
    low, high = _scale(sim.currency)
    method = method_for(sim.currency, PAYPAL_CURRENCIES).label  # any PayPal currency, enabled or not
    span = end - start
    unit = max(1, low // 200)  # a typical usage is a small fraction of a small top-up
    for n in range(events):
        at = start + span * ((n + rng.random()) / events)
        roll = rng.random()
        if (n == 0 and not sim.topup) or roll < 0.015 or (sim.topup + sim.voucher < unit * 5 and roll < 0.3):
            sim.top_up(at, rng.randrange(low, high + 1, max(1, low // 10)), method)
        elif roll < 0.02:
            sim.voucher_credit(at, next(next_lot), rng.randrange(low // 5, low + 1, max(1, low // 50)),
                               rng.choice((30, 60, 90, 180)))
        else:
            service, description = _usage(rng)
            # now and then a big job, which fails when the balance cannot cover it
            amount = high * 2 if roll > 0.99 else max(1, int(unit * rng.lognormvariate(0, 0.8)))
            sim.use(at, service, description, amount, f"demo-{sim.customer_id}-{n}" if keyed else None)
    sim.expire(end)


def _insert_rows(session: Session, rows: list[dict[str, Any]]) -> int:
    for start in range(0, len(rows), BATCH):
        session.execute(insert(LedgerEntry), rows[start:start + BATCH])
    return len(rows)


def _write_figures(session: Session, sims: list[_Sim]) -> None:
    """The lots granted and one balance update per customer, added to what is stored."""
    lots = [{"id": lot.id, "customer_id": s.customer_id, "redemption_id": None, "granted": lot.granted,
             "remaining": lot.remaining, "expires_at": lot.expires_at, "created_at": lot.created_at}
            for s in sims for lot in s.lots]
    for start in range(0, len(lots), BATCH):
        session.execute(insert(VoucherCreditLot), lots[start:start + BATCH])
    moves = [{"cid": s.customer_id, "t": s.topup, "v": s.voucher} for s in sims if s.topup or s.voucher]
    if moves:
        session.execute(
            update(_B).where(_B.c.customer_id == bindparam("cid")).values(
                topup=_B.c.topup + bindparam("t"), voucher=_B.c.voucher + bindparam("v"),
                total=_B.c.total + bindparam("t") + bindparam("v"), updated_at=utcnow()),
            moves, execution_options={"synchronize_session": False})


def _lot_ids(session: Session) -> Iterator[int]:
    n = int(session.scalar(select(func.coalesce(func.max(VoucherCreditLot.id), 0))) or 0)
    while True:
        n += 1
        yield n


def _fix_sequence(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT setval(pg_get_serial_sequence('voucher_credit_lots', 'id'), "
                             "(SELECT coalesce(max(id), 1) FROM voucher_credit_lots))"))


def _whale(session: Session, rng: random.Random, lots: Iterator[int], now: datetime) -> tuple[str, int]:
    profile = Profile("company", "Whale AI Compute JSC", "billing@whale-ai.example.com",
                      "1 Duy Tan, Ha Noi", "VN", "VN0101999999")
    customer = insert_customer(session, profile, "VND")
    sim = _Sim(customer.id, "VND")
    start, slices = now - timedelta(days=3 * 365), 20
    span = (now - timedelta(minutes=5) - start) / slices
    written = 0
    for part in range(slices):  # simulate and write a slice at a time: memory stays small
        sim.rows = []
        simulate(rng, sim, start + span * part, start + span * (part + 1), WHALE_ROWS // slices, lots, keyed=False)
        written += _insert_rows(session, sim.rows)
    _write_figures(session, [sim])
    return customer.account, written


@contextmanager
def _bulk_text_index(session: Session) -> Iterator[None]:
    """On SQLite, fill the description trigram index once after the bulk insert instead of
    row by row from its trigger (3x faster for the whale); the trigger is put back as the
    database itself defines it, in the same transaction."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    trigger = session.execute(text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :n"),
                              {"n": _SEARCH_TRIGGER}).scalar()
    if trigger is None:
        yield
        return
    before = int(session.scalar(select(func.coalesce(func.max(LedgerEntry.id), 0))) or 0)
    session.execute(text(f"DROP TRIGGER {_SEARCH_TRIGGER}"))
    yield
    session.execute(text("INSERT INTO ledger_search (rowid, description) "
                         "SELECT id, description FROM ledger_entries WHERE id > :before"), {"before": before})
    session.execute(text(trigger))


def seed_history(session: Session, rng: random.Random, options: Any, customer_ids: list[int]) -> str | None:
    """SEED_STEPS entry: history for the new customers with a currency, and the whale if asked."""
    with _bulk_text_index(session):
        return _seed(session, rng, options, customer_ids)


def _seed(session: Session, rng: random.Random, options: Any, customer_ids: list[int]) -> str:
    now = utcnow()
    with_currency = session.execute(
        select(_B.c.customer_id, _B.c.currency).where(_B.c.customer_id.in_(customer_ids[:HISTORY_CUSTOMERS * 2]))
        .order_by(_B.c.customer_id)
    ).all() if customer_ids else []
    chosen = with_currency[:HISTORY_CUSTOMERS]
    lots = _lot_ids(session)
    sims = []
    for cid, currency in chosen:
        local = random.Random(rng.random())
        sim = _Sim(cid, currency)
        months = local.randrange(3, 13)
        simulate(local, sim, now - timedelta(days=30 * months), now - timedelta(minutes=5),
                 local.randrange(15, 90), lots, keyed=True)
        sims.append(sim)
    rows = _insert_rows(session, [r for s in sims for r in s.rows])
    _write_figures(session, sims)
    more = len(customer_ids) > HISTORY_CUSTOMERS * 2 or len(with_currency) > HISTORY_CUSTOMERS
    parts = [f"credit history: {rows:,} ledger rows for {len(sims):,} customers"
             + (f" (history for the first {HISTORY_CUSTOMERS:,} with a currency only; the rest start at zero)"
                if more else "")]
    if getattr(options, "whale", False):
        account, whale_rows = _whale(session, rng, lots, now)
        parts.append(f"whale customer {account} with {whale_rows:,} ledger rows")
    _fix_sequence(session)
    return "; ".join(parts)

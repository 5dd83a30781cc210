"""Demo seed step: months of realistic credit history, posted in bulk through the ledger.

For each seeded customer that has a currency (up to ``HISTORY_CUSTOMERS`` of them, so that
``demo seed --customers 100000`` stays quick) it makes up a story: top-ups, now and then a
voucher credit that expires, and usage across the catalog's services, with a big job that
the balance cannot cover from time to time. The story is only postings; the ledger's bulk
path (``post_many``, replaying each posting at its own time) decides what they do: which
credit a charge draws, which charge fails, what expires. So the demo's balances are the
ledger's, each credit has its cause (``causes``: the payment or redemption behind it), and
``ledger verify`` passes whatever other seed steps posted before. ``--whale``
adds one customer with about 1,000,000 rows for the performance checks.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from billing_desk.domain.enums import CreditSource, KeyScope, LedgerKind
from billing_desk.domain.money import CURRENCIES, PAYPAL_CURRENCIES, Money
from billing_desk.domain.topup_limits import method_for
from billing_desk.models import CustomerBalance, utcnow
from billing_desk.services.customers import Profile, insert_customer
from billing_desk.services.demo.causes import Causes
from billing_desk.services.ledger import Posting, post_many

HISTORY_CUSTOMERS = 5_000
WHALE_ROWS = 1_000_000
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


def _scale(currency: str) -> tuple[int, int]:
    if currency in _TOPUP:
        return _TOPUP[currency]
    factor = 10 ** CURRENCIES[currency].exponent
    return _TOPUP_MAJOR_OTHER[0] * factor, _TOPUP_MAJOR_OTHER[1] * factor


def _usage(rng: random.Random) -> tuple[str, str]:
    service, templates = rng.choice(_USAGE)
    return service, rng.choice(templates).format(n=rng.randrange(100_000), m=rng.randrange(1, 900),
                                                 h=rng.randrange(1, 48))


def simulate(rng: random.Random, causes: Causes, customer_id: int, currency: str, start: datetime, end: datetime,
             events: int, keyed: bool) -> Iterator[Posting]:
    """``events`` postings between ``start`` and ``end``, in time order.

    The customer tops up when their own reckoning (what they put in less the usage they
    send) runs low; a big job is beyond that reckoning and usually fails. What a charge
    actually draws, or whether it fails, is the ledger's to decide when it is posted."""
    low, high = _scale(currency)
    method = method_for(currency, PAYPAL_CURRENCIES).label  # any PayPal currency, enabled or not
    span = end - start
    unit = max(1, low // 200)  # a typical usage is a small fraction of a small top-up
    reckoning = 0
    for n in range(events):
        at = start + span * ((n + rng.random()) / events)
        roll = rng.random()
        if n == 0 or roll < 0.015 or (reckoning < unit * 5 and roll < 0.3):
            amount = rng.randrange(low, high + 1, max(1, low // 10))
            reckoning += amount
            money = Money(amount, currency)
            yield Posting(customer_id, LedgerKind.TOPUP, money, f"Top-up via {method}", created_at=at,
                          payment_id=causes.payment(customer_id, money, at))
        elif roll < 0.02:
            amount = rng.randrange(low // 5, low + 1, max(1, low // 50))
            days = rng.choice((30, 60, 90, 180))
            money = Money(amount, currency)
            yield Posting(customer_id, LedgerKind.VOUCHER, money,
                          f"Voucher credit ({days}-day validity)", source=CreditSource.VOUCHER,
                          voucher_expires_at=at + timedelta(days=days), created_at=at,
                          voucher_redemption_id=causes.redemption(customer_id, money, at, days))
        else:
            service, description = _usage(rng)
            # now and then a big job, which fails when the balance cannot cover it
            big = roll > 0.99
            amount = high * 2 if big else max(1, int(unit * rng.lognormvariate(0, 0.8)))
            reckoning -= 0 if big else amount
            yield Posting(customer_id, LedgerKind.USAGE, Money(-amount, currency), description, service=service,
                          idempotency_key=f"demo-{customer_id}-{n}" if keyed else None, created_at=at,
                          key_scope=KeyScope.EXTERNAL)  # the simulated feed's own keys, as post_usage scopes them


def _whale(session: Session, rng: random.Random, causes: Causes, now: datetime) -> tuple[str, int]:
    profile = Profile("company", "Whale AI Compute JSC", "billing@whale-ai.example.com",
                      "1 Duy Tan, Ha Noi", "VN", "VN0101999999")
    customer = insert_customer(session, profile, "VND")
    end = now - timedelta(minutes=5)
    # A generator: the bulk path takes it a chunk at a time, so memory stays small.
    postings = simulate(rng, causes, customer.id, "VND", now - timedelta(days=3 * 365), end, WHALE_ROWS, keyed=False)
    return customer.account, post_many(session, postings, replay=True, expire_by=end).rows


def seed_history(session: Session, rng: random.Random, options: Any, customer_ids: list[int]) -> str | None:
    """SEED_STEPS entry: history for the new customers with a currency, and the whale if asked."""
    now = utcnow()
    end = now - timedelta(minutes=5)
    with_currency = session.execute(
        select(_B.c.customer_id, _B.c.currency).where(_B.c.customer_id.in_(customer_ids[:HISTORY_CUSTOMERS * 2]))
        .order_by(_B.c.customer_id)
    ).all() if customer_ids else []
    chosen = with_currency[:HISTORY_CUSTOMERS]
    causes = Causes(session, random.Random(rng.random()))

    def histories() -> Iterator[Posting]:
        for cid, currency in chosen:
            local = random.Random(rng.random())
            months = local.randrange(3, 13)
            yield from simulate(local, causes, cid, currency, now - timedelta(days=30 * months), end,
                                local.randrange(15, 90), keyed=True)

    report = post_many(session, histories(), replay=True, expire_by=end)
    more = len(customer_ids) > HISTORY_CUSTOMERS * 2 or len(with_currency) > HISTORY_CUSTOMERS
    parts = [f"credit history: {report.rows:,} ledger rows for {report.customers:,} customers"
             + (f" (history for the first {HISTORY_CUSTOMERS:,} with a currency only; the rest start at zero)"
                if more else "")]
    if getattr(options, "whale", False):
        account, whale_rows = _whale(session, rng, causes, now)
        parts.append(f"whale customer {account} with {whale_rows:,} ledger rows")
    paid = causes.write(session)
    return "; ".join(parts + ([paid] if paid else []))

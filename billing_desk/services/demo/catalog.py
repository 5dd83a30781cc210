"""Demo seed step for plans and vouchers: the Free/Starter/Pro/Enterprise catalog with a
monthly price in every currency, subscriptions for the new customers, and voucher campaigns
(some redeemed, one revoked, one expired, one scheduled).

Demo codes come from the seed, not from ``secrets``, so a seed gives the same codes; they
are hashed with the desk's own code key (``SeedOptions.voucher_key``, which the front door
takes from the app the composition root built) so that the sample codes printed by
``demo seed`` redeem at that desk. Never use demo codes outside a demo database.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from billing_desk.domain.enums import CreditSource, LedgerKind
from billing_desk.domain.errors import ConfigError
from billing_desk.domain.money import CURRENCIES, Money
from billing_desk.domain.proration import add_months
from billing_desk.models import (
    CustomerBalance,
    Plan,
    PlanPrice,
    Subscription,
    Voucher,
    VoucherCampaign,
    VoucherRedemption,
    utcnow,
)
from billing_desk.services.ledger import Posting, post
from billing_desk.services.vouchers import (
    ALPHABET,
    CODE_LENGTH,
    code_hash,
    credit_expiry,
    format_code,
    last4,
)

SUBSCRIBED_CUSTOMERS = 5_000
# Monthly prices in US cents, and a rough number of each currency's minor units per cent.
_PLANS = (
    ("free", "Free", 0, ["1 notebook", "Community support", "Pay as you go"]),
    ("starter", "Starter", 900, ["3 notebooks", "10 GB storage", "Email support"]),
    ("pro", "Pro", 2900, ["10 notebooks", "100 GB storage", "Fine-tuning", "Priority support"]),
    ("enterprise", "Enterprise", 9900, ["Unlimited notebooks", "1 TB storage", "Dedicated GPU quota", "SLA 99.9%"]),
)
_PER_CENT = {"VND": 250, "JPY": 1.5, "EUR": 0.92, "GBP": 0.79, "AUD": 1.52, "BRL": 5.0, "CAD": 1.36, "CNY": 7.2,
             "CZK": 23.0, "DKK": 6.9, "HKD": 7.8, "HUF": 3.6, "ILS": 3.7, "MYR": 4.7, "MXN": 17.0, "TWD": 0.32,
             "NZD": 1.65, "NOK": 10.6, "PHP": 56.0, "PLN": 4.0, "SGD": 1.35, "SEK": 10.5, "CHF": 0.88, "THB": 36.0,
             "USD": 1}
_VOUCHER_AMOUNT = {"VND": 100_000, "JPY": 1_000, "USD": 1_000, "EUR": 1_000}


def _price(cents: int, code: str) -> int:
    minor = int(cents * _PER_CENT[code])
    scale = CURRENCIES[code].scale
    # Round to a price a person would print: whole units, and thousands for VND.
    step = 1000 if code == "VND" else 1 if scale == 1 else scale
    return (minor // step) * step if minor >= step else minor


def _seed_plans(session: Session, now: datetime) -> dict[str, int]:
    existing = {code: pid for code, pid in session.execute(select(Plan.code, Plan.id))}
    for rank, (code, name, cents, features) in enumerate(_PLANS):
        if code in existing:
            continue
        plan = Plan(code=code, name=name, features=json.dumps(features), rank=rank, retired_at=None, created_at=now)
        session.add(plan)
        session.flush()
        existing[code] = plan.id
        session.add_all(PlanPrice(plan_id=plan.id, currency=c, monthly_price=_price(cents, c)) for c in CURRENCIES)
    session.flush()
    return existing


def _seed_subscriptions(session: Session, rng: random.Random, plans: dict[str, int], ids: list[int],
                        now: datetime) -> int:
    chosen = set(ids[:SUBSCRIBED_CUSTOMERS])
    taken = set(session.scalars(select(Subscription.customer_id).where(Subscription.customer_id.in_(chosen))))
    rows: list[dict[str, Any]] = []
    weights = {"free": 50, "starter": 25, "pro": 18, "enterprise": 7}
    for cid in sorted(chosen - taken):
        code = rng.choices(list(weights), list(weights.values()))[0]
        if code == "free":
            continue  # never subscribed: on Free with no period
        start = now - timedelta(days=rng.randrange(0, 28), hours=rng.randrange(24))
        scheduled = plans["starter"] if code == "pro" and rng.random() < 0.15 else None
        rows.append({"customer_id": cid, "plan_id": plans[code], "period_start": start,
                     "period_end": add_months(start, 1), "scheduled_plan_id": scheduled, "updated_at": start})
    if rows:
        session.execute(insert(Subscription), rows)
    return len(rows)


def _campaign(session: Session, name: str, now: datetime) -> int | None:
    if session.scalar(select(VoucherCampaign.id).where(VoucherCampaign.name == name)) is not None:
        return None  # seeded before: leave it as it is
    campaign = VoucherCampaign(name=name, created_by=None, created_at=now)
    session.add(campaign)
    session.flush()
    return campaign.id


def _add_vouchers(session: Session, key: bytes, rng: random.Random, campaign_id: int, currency: str, count: int,
                  now: datetime, **extra: Any) -> list[tuple[int, str]]:
    made = []
    for _ in range(count):
        plain = "".join(rng.choice(ALPHABET) for _ in range(CODE_LENGTH))
        voucher = Voucher(campaign_id=campaign_id, code_hash=code_hash(key, plain), last4=last4(plain),
                          amount=_VOUCHER_AMOUNT[currency], currency=currency, max_redemptions=1, redemption_count=0,
                          created_at=now, **{"credit_days": 90, "valid_from": None, "valid_until": None, **extra})
        session.add(voucher)
        session.flush()
        made.append((voucher.id, format_code(plain)))
    return made


def _redeem(session: Session, voucher_id: int, customer_id: int, now: datetime) -> None:
    voucher = session.get(Voucher, voucher_id)
    assert voucher is not None
    voucher.redemption_count += 1
    redemption = VoucherRedemption(voucher_id=voucher.id, customer_id=customer_id, amount=voucher.amount,
                                   currency=voucher.currency, redeemed_at=now, staff_id=None)
    session.add(redemption)
    session.flush()
    post(session, Posting(
        customer_id, LedgerKind.VOUCHER, Money(voucher.amount, voucher.currency),
        description=f"Voucher ...{voucher.last4}", source=CreditSource.VOUCHER, voucher_redemption_id=redemption.id,
        voucher_expires_at=credit_expiry(voucher.credit_days, now), idempotency_key=f"voucher-{voucher.id}"))


def _seed_vouchers(session: Session, key: bytes, rng: random.Random, ids: list[int], now: datetime) -> list[str]:
    welcome = _campaign(session, "Welcome 2026", now)
    if welcome is None:
        return []
    samples: list[str] = []
    by_currency = dict(session.execute(
        select(CustomerBalance.customer_id, CustomerBalance.currency)
        .where(CustomerBalance.customer_id.in_(ids[:200]))).all())
    for currency in _VOUCHER_AMOUNT:
        made = _add_vouchers(session, key, rng, welcome, currency, 20, now)
        redeemers = [cid for cid, cur in sorted(by_currency.items()) if cur == currency][:5]
        for (vid, _code), cid in zip(made, redeemers, strict=False):
            _redeem(session, vid, cid, now)
        samples.append(made[-1][1])
    leaked = _campaign(session, "Leaked flyer", now)
    if leaked:
        for vid, _ in _add_vouchers(session, key, rng, leaked, "USD", 5, now):
            voucher = session.get(Voucher, vid)
            assert voucher is not None
            voucher.revoked_at, voucher.revoked_reason = now, "codes were posted publicly"
    summer = _campaign(session, "Summer 2027", now)
    if summer:
        _add_vouchers(session, key, rng, summer, "VND", 5, now, valid_from=now + timedelta(days=180))
    autumn = _campaign(session, "Autumn 2025", now)
    if autumn:
        _add_vouchers(session, key, rng, autumn, "JPY", 5, now, valid_until=now - timedelta(days=30))
    return samples


def seed_catalog(session: Session, rng: random.Random, options: Any, customer_ids: list[int]) -> str | None:
    """SEED_STEPS entry: plans, subscriptions and voucher campaigns."""
    del rng  # a private generator keeps the other steps' data the same with or without this one
    local = random.Random(f"catalog-{getattr(options, 'seed', 1)}")
    now = utcnow()
    plans = _seed_plans(session, now)
    subscribed = _seed_subscriptions(session, local, plans, customer_ids, now)
    parts = [f"plans: {len(plans)} with prices in {len(CURRENCIES)} currencies; {subscribed:,} paid subscriptions"]
    voucher_key = getattr(options, "voucher_key", None)
    if voucher_key is None:
        return "; ".join([*parts, "vouchers skipped (no voucher code key given)"])
    try:
        key = voucher_key()
    except ConfigError as exc:
        return "; ".join([*parts, f"vouchers skipped ({exc.message})"])
    samples = _seed_vouchers(session, key, local, customer_ids, now)
    if samples:
        parts.append("voucher campaigns: Welcome 2026 (some redeemed), Leaked flyer (revoked), Summer 2027 "
                     "(scheduled), Autumn 2025 (expired); unused demo codes to try: " + ", ".join(samples))
    return "; ".join(parts)

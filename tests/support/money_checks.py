"""The money invariants a crash must never break, read straight from the tables.

Each check returns the broken invariants in words (an empty list when all hold), so a crash
test can count violations over many kills and report them all at once.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable

from sqlalchemy import func, select

from billing_desk.bootstrap import App
from billing_desk.domain.enums import KeyScope
from billing_desk.models import (
    AuditEntry,
    LedgerEntry,
    Payment,
    Voucher,
    VoucherAttempt,
    VoucherCreditLot,
    VoucherRedemption,
)


def payment_problems(app: App) -> list[str]:
    """A payment is pending or failed and credited nowhere, or success and credited exactly
    once (one top-up row of its customer, amount and currency, one settle audit row)."""
    with app.uow.read() as r:
        payments = r.session.execute(select(Payment.id, Payment.customer_id, Payment.amount, Payment.currency,
                                            Payment.status)).all()
        rows = defaultdict(list)
        for row in r.session.execute(select(LedgerEntry.payment_id, LedgerEntry.customer_id, LedgerEntry.amount,
                                            LedgerEntry.currency, LedgerEntry.kind, LedgerEntry.status)
                                     .where((LedgerEntry.payment_id.is_not(None)) | (LedgerEntry.kind == "topup"))):
            rows[row.payment_id].append(row)
        settled = Counter(r.session.scalars(select(AuditEntry.entity_id).where(AuditEntry.action == "payment.settle")))
    problems = [f"top-up row(s) {rows[None]} name no payment"] if rows.get(None) else []
    for p in payments:
        credits, audits = rows.pop(p.id, []), settled[str(p.id)]
        if p.status != "success":
            if credits or audits:
                problems.append(f"payment {p.id} is {p.status} but has {len(credits)} credit row(s), "
                                f"{audits} settle audit(s)")
            continue
        good = [c for c in credits if (c.customer_id, c.amount, c.currency, c.kind, c.status)
                == (p.customer_id, p.amount, p.currency, "topup", "success")]
        if len(credits) != 1 or len(good) != 1 or audits != 1:
            problems.append(f"payment {p.id} is success with {len(credits)} credit row(s) ({len(good)} matching) "
                            f"and {audits} settle audit(s)")
    problems += [f"credit row(s) name payment {pid}, which does not exist" for pid in rows if pid is not None]
    return problems


def redemption_problems(app: App) -> list[str]:
    """A redemption is wholly there (the voucher's count, its row, one ledger row and lot, one
    audit row, one successful attempt) or wholly absent; no code is used more than it may be."""
    with app.uow.read() as r:
        s = r.session
        counts = s.execute(select(Voucher.id, Voucher.redemption_count, Voucher.max_redemptions)).all()
        redemptions = s.execute(select(VoucherRedemption.id, VoucherRedemption.voucher_id, VoucherRedemption.amount,
                                       VoucherRedemption.customer_id)).all()
        ledger = Counter(s.scalars(select(LedgerEntry.voucher_redemption_id).where(LedgerEntry.kind == "voucher")))
        lots = Counter(s.scalars(select(VoucherCreditLot.redemption_id)))
        audits = Counter(json.loads(summary).get("redemption_id") for summary in s.scalars(
            select(AuditEntry.summary).where(AuditEntry.action == "voucher.redeem")))
        attempts = s.scalar(select(func.count()).select_from(VoucherAttempt).where(VoucherAttempt.succeeded.is_(True)))
    problems = []
    per_voucher = Counter(red.voucher_id for red in redemptions)
    for vid, used, most in counts:
        if used != per_voucher[vid] or used > most:
            problems.append(f"voucher {vid}: count {used}, {per_voucher[vid]} redemption row(s), at most {most}")
    ids = {red.id for red in redemptions}
    for red in redemptions:
        if (ledger[red.id], lots[red.id], audits[red.id]) != (1, 1, 1):
            problems.append(f"redemption {red.id}: {ledger[red.id]} ledger row(s), {lots[red.id]} lot(s), "
                            f"{audits[red.id]} audit row(s)")
    for what, found in (("ledger row", ledger), ("lot", lots), ("audit row", audits)):
        problems += [f"a voucher {what} names redemption {rid}, which does not exist" for rid in found
                     if rid not in ids]
    if attempts != len(redemptions):
        problems.append(f"{attempts} successful attempt row(s) for {len(redemptions)} redemptions")
    return problems


def import_problems(app: App, files: dict[str, list[str]]) -> list[str]:
    """Per usage file (name -> its keys): every key charged once and an import audit row, or
    nothing of it at all; never a key charged twice."""
    with app.uow.read() as r:
        charged = Counter(r.session.scalars(select(LedgerEntry.idempotency_key).where(
            LedgerEntry.key_scope == KeyScope.EXTERNAL.value, LedgerEntry.kind == "usage")))
        audits = Counter(r.session.scalars(select(AuditEntry.entity_id).where(AuditEntry.action == "usage.import")))
    problems = []
    for name, keys in files.items():
        there = sum(1 for k in keys if charged[k])
        twice = [k for k in keys if charged[k] > 1]
        if twice:
            problems.append(f"{name}: {len(twice)} key(s) charged more than once, e.g. {twice[0]}")
        if there not in (0, len(keys)):
            problems.append(f"{name}: {there} of {len(keys)} keys charged (half an import)")
        if bool(there) != bool(audits[name]):
            problems.append(f"{name}: {there} keys charged but {audits[name]} import audit row(s)")
    return problems


def charged_keys(app: App, keys: Iterable[str]) -> Counter[str]:
    """How many usage rows each of ``keys`` has."""
    wanted = set(keys)
    with app.uow.read() as r:
        return Counter(k for k in r.session.scalars(select(LedgerEntry.idempotency_key).where(
            LedgerEntry.key_scope == KeyScope.EXTERNAL.value, LedgerEntry.kind == "usage")) if k in wanted)

"""The expiry run: writing off expired, unused voucher credit for every customer.

The write-off itself is the ledger's (``expire_voucher_credit``, also applied before every
posting); this run finds the customers with lapsed lots and writes theirs off now, so the
outstanding credit in reports does not count credit nobody can use.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select

from billing_desk.domain.money import Money
from billing_desk.domain.permissions import Actor, Permission
from billing_desk.models import VoucherCreditLot, utcnow
from billing_desk.services import audit
from billing_desk.services.ledger import expire_voucher_credit, lock_balance
from billing_desk.services.uow import UnitOfWorkFactory
from billing_desk.services.vouchers.dtos import ExpiryRun


def expire_all(uow: UnitOfWorkFactory, actor: Actor, now: datetime | None = None) -> ExpiryRun:
    """Write off expired, unused voucher credit for every customer.

    One short transaction per customer; the ledger's idempotency key per lot makes a second
    run, or two runs at once, write nothing twice.
    """
    actor.require(Permission.VOUCHER_ISSUE)
    at = now or utcnow()
    with uow.read() as r:
        customer_ids = list(r.session.scalars(
            select(VoucherCreditLot.customer_id).distinct()
            .where(VoucherCreditLot.remaining > 0, VoucherCreditLot.expires_at.is_not(None),
                   VoucherCreditLot.expires_at <= at)))
    lots = 0
    totals: dict[str, int] = defaultdict(int)
    customers = 0
    for customer_id in customer_ids:
        with uow.write() as w:
            balance = lock_balance(w.session, customer_id)
            before = balance.voucher
            written = expire_voucher_credit(w.session, balance, at)
            if not written:
                continue  # another run or a posting got there first
            amount = before - balance.voucher
            audit.record(w.session, actor, "voucher.expire_credit", "customer", customer_id,
                         {"lots": len(written), "amount": Money(amount, balance.currency).to_json()})
            totals[balance.currency] += amount
            w.commit()
        lots += len(written)
        customers += 1
    return ExpiryRun(customers, lots, tuple(Money(v, c) for c, v in sorted(totals.items())))

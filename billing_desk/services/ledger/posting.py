"""Posting to the ledger: the only code that changes a balance.

Every posting runs inside the caller's write transaction and follows one protocol:
lock the customer's balance row (SELECT ... FOR UPDATE on PostgreSQL; SQLite's write
transaction already holds the database lock), write off expired voucher credit, check the
idempotency key, then insert the ledger rows and move the stored figures (balance and
voucher-credit lots) by exactly the same amounts. Callers never touch ``CustomerBalance``
or ``VoucherCreditLot.remaining`` themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from billing_desk.domain.enums import CreditSource, EntryStatus, KeyScope, LedgerKind
from billing_desk.domain.errors import Conflict, ValidationError
from billing_desk.domain.money import Money
from billing_desk.models import CustomerBalance, LedgerEntry, VoucherCreditLot, utcnow

INSUFFICIENT_CREDIT = "insufficient credit"

# Fixed service labels for the kinds that are not usage.
KIND_LABELS: dict[LedgerKind, str] = {
    LedgerKind.TOPUP: "Top-up",
    LedgerKind.VOUCHER: "Voucher",
    LedgerKind.PLAN_CHARGE: "Subscription",
    LedgerKind.PROMOTION: "Promotion",
    LedgerKind.ADJUSTMENT: "Adjustment",
    LedgerKind.EXPIRY: "Expiry",
}


@dataclass(frozen=True, slots=True)
class PostingResult:
    """What a posting did: ``entry_ids`` written, or ``duplicate`` when the key was seen before."""

    status: EntryStatus
    amount: Money
    entry_ids: tuple[int, ...]
    duplicate: bool = False
    failure_reason: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is EntryStatus.SUCCESS


@dataclass(frozen=True, slots=True)
class Posting:
    """One intended movement of credit for one customer."""

    customer_id: int
    kind: LedgerKind
    amount: Money  # positive for credits, negative for debits
    description: str = ""
    service: str | None = None
    idempotency_key: str | None = None
    staff_id: int | None = None
    payment_id: int | None = None
    voucher_redemption_id: int | None = None
    source: CreditSource | None = None  # for credits; debits pick their sources
    voucher_expires_at: datetime | None = None  # for voucher credits: the lot's expiry
    created_at: datetime | None = None  # for imported feeds; defaults to now
    key_scope: KeyScope = KeyScope.SYSTEM  # who issued the key: staff and feed keys are EXTERNAL


def lock_balance(session: Session, customer_id: int) -> CustomerBalance:
    row = session.execute(
        select(CustomerBalance).where(CustomerBalance.customer_id == customer_id).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise Conflict("This customer has no billing currency yet: choose one first (customer set-currency).")
    session.refresh(row)  # the locked, committed figures, not a stale identity-map copy
    return row


def _entry(p: Posting, amount: int, source: CreditSource, status: EntryStatus, now: datetime,
           reason: str | None = None) -> LedgerEntry:
    return LedgerEntry(
        customer_id=p.customer_id, created_at=p.created_at or now, kind=p.kind.value,
        service=p.service or KIND_LABELS.get(p.kind, p.kind.value), description=p.description,
        status=status.value, failure_reason=reason, amount=amount, currency=p.amount.currency,
        source=source.value, payment_id=p.payment_id, voucher_redemption_id=p.voucher_redemption_id,
        staff_id=p.staff_id, idempotency_key=p.idempotency_key, key_scope=p.key_scope.value,
    )


def _existing(session: Session, p: Posting) -> PostingResult | None:
    if p.idempotency_key is None:
        return None
    rows = session.execute(
        select(LedgerEntry.id, LedgerEntry.amount, LedgerEntry.status, LedgerEntry.failure_reason).where(
            LedgerEntry.customer_id == p.customer_id, LedgerEntry.idempotency_key == p.idempotency_key,
            LedgerEntry.key_scope == p.key_scope.value,
        )
    ).all()
    if not rows:
        return None
    total = sum(r.amount for r in rows)
    if total != p.amount.minor:
        raise Conflict(
            f"The key '{p.idempotency_key}' was already used for {Money(total, p.amount.currency)}, "
            f"not {p.amount}: a key names one charge; use a new key for a new charge."
        )
    status = EntryStatus(rows[0].status)
    return PostingResult(status, p.amount, tuple(r.id for r in rows), duplicate=True,
                         failure_reason=rows[0].failure_reason)


def _check_currency(balance: CustomerBalance, p: Posting) -> None:
    if p.amount.currency != balance.currency:
        raise ValidationError(
            f"The amount is in {p.amount.currency}, but this customer is billed in {balance.currency}.")
    if p.amount.minor == 0:
        raise ValidationError("The amount must not be zero.")


def expire_voucher_credit(session: Session, balance: CustomerBalance, now: datetime) -> list[int]:
    """Write off this customer's voucher lots whose expiry has passed (balance already locked)."""
    lots = session.scalars(
        select(VoucherCreditLot).where(
            VoucherCreditLot.customer_id == balance.customer_id, VoucherCreditLot.remaining > 0,
            VoucherCreditLot.expires_at.is_not(None), VoucherCreditLot.expires_at <= now,
        ).order_by(VoucherCreditLot.expires_at, VoucherCreditLot.id)
    ).all()
    ids = []
    for lot in lots:
        posting = Posting(balance.customer_id, LedgerKind.EXPIRY, Money(-lot.remaining, balance.currency),
                          description="Voucher credit expired unused", idempotency_key=f"expire-lot-{lot.id}",
                          voucher_redemption_id=lot.redemption_id)
        entry = _entry(posting, -lot.remaining, CreditSource.VOUCHER, EntryStatus.SUCCESS, now)
        entry.created_at = now
        session.add(entry)
        balance.voucher -= lot.remaining
        balance.total -= lot.remaining
        lot.remaining = 0
        session.flush()
        ids.append(entry.id)
    return ids


def post(session: Session, p: Posting) -> PostingResult:
    """Apply one posting. A debit larger than the available credit is recorded as a failed
    row ('insufficient credit') that moves nothing; the caller commits either way."""
    now = utcnow()
    balance = lock_balance(session, p.customer_id)
    _check_currency(balance, p)
    expire_voucher_credit(session, balance, now)
    seen = _existing(session, p)
    if seen is not None:
        return seen
    result = _credit(session, balance, p, now) if p.amount.minor > 0 else _debit(session, balance, p, now)
    balance.updated_at = now
    session.flush()
    return result


def _credit(session: Session, balance: CustomerBalance, p: Posting, now: datetime) -> PostingResult:
    source = p.source or (CreditSource.VOUCHER if p.kind is LedgerKind.VOUCHER else CreditSource.TOPUP)
    entry = _entry(p, p.amount.minor, source, EntryStatus.SUCCESS, now)
    session.add(entry)
    if source is CreditSource.VOUCHER:
        balance.voucher += p.amount.minor
        session.add(VoucherCreditLot(customer_id=p.customer_id, redemption_id=p.voucher_redemption_id,
                                     granted=p.amount.minor, remaining=p.amount.minor,
                                     expires_at=p.voucher_expires_at, created_at=now))
    else:
        balance.topup += p.amount.minor
    balance.total += p.amount.minor
    session.flush()
    return PostingResult(EntryStatus.SUCCESS, p.amount, (entry.id,))


def _debit(session: Session, balance: CustomerBalance, p: Posting, now: datetime) -> PostingResult:
    wanted = -p.amount.minor
    # A debit naming its source (a staff correction) draws from that source only; usage
    # names none and takes voucher credit first, then top-up credit.
    available_voucher = 0 if p.source is CreditSource.TOPUP else balance.voucher
    available_topup = 0 if p.source is CreditSource.VOUCHER else balance.topup
    if wanted > available_topup + available_voucher:
        entry = _entry(p, p.amount.minor, CreditSource.TOPUP, EntryStatus.FAILED, now, INSUFFICIENT_CREDIT)
        session.add(entry)
        session.flush()
        return PostingResult(EntryStatus.FAILED, p.amount, (entry.id,), failure_reason=INSUFFICIENT_CREDIT)
    from_voucher = min(wanted, available_voucher)
    from_topup = wanted - from_voucher
    entries = []
    if from_voucher:
        _draw_lots(session, balance.customer_id, from_voucher)
        balance.voucher -= from_voucher
        entries.append(_entry(p, -from_voucher, CreditSource.VOUCHER, EntryStatus.SUCCESS, now))
    if from_topup:
        balance.topup -= from_topup
        entries.append(_entry(p, -from_topup, CreditSource.TOPUP, EntryStatus.SUCCESS, now))
    balance.total -= wanted
    session.add_all(entries)
    session.flush()
    return PostingResult(EntryStatus.SUCCESS, p.amount, tuple(e.id for e in entries))


def _draw_lots(session: Session, customer_id: int, amount: int) -> None:
    """Take ``amount`` from the customer's voucher lots, earliest expiring first."""
    lots = session.scalars(
        select(VoucherCreditLot).where(VoucherCreditLot.customer_id == customer_id, VoucherCreditLot.remaining > 0)
        .order_by(VoucherCreditLot.expires_at.is_(None), VoucherCreditLot.expires_at, VoucherCreditLot.id)
    ).all()
    left = amount
    for lot in lots:
        take = min(lot.remaining, left)
        lot.remaining -= take
        left -= take
        if not left:
            break
    if left:
        raise RuntimeError("voucher lots hold less than the voucher balance; run `billing-desk ledger verify`")


def voucher_lots_total(session: Session, customer_id: int) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(VoucherCreditLot.remaining), 0))
                              .where(VoucherCreditLot.customer_id == customer_id)) or 0)


__all__ = ["INSUFFICIENT_CREDIT", "KIND_LABELS", "Posting", "PostingResult", "expire_voucher_credit",
           "lock_balance", "post", "voucher_lots_total"]

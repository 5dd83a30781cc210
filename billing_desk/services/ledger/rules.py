"""The posting rules: how postings move a customer's figures, in plain Python and nowhere else.

A customer's figures are the stored balance (top-up credit, voucher credit and their total)
and the voucher-credit lots that still hold credit, kept in drawing order: earliest expiry
first, lots without an expiry last, then by id. At the moment a posting is applied:

1. Expiry: every lot whose expiry has passed is written off, earliest first, by one expiry
   row of what it still held (key ``expire-lot-<id>``, so a write-off happens once).
2. A key seen before makes the posting a duplicate of the rows that key wrote, and nothing
   moves; the same key for another amount is a conflict.
3. A credit goes to voucher credit (a voucher, or a credit naming that source; it opens a
   lot) or else to top-up credit.
4. A debit draws voucher credit first, lot by lot in drawing order, then top-up credit; one
   naming its source draws from that source only. A debit the available credit cannot
   cover is recorded as a failed row ('insufficient credit') that moves nothing.

These functions decide rows and move figures in memory; they never read or write the
database. ``posting`` owns that: ``post`` applies them to the ORM rows of one locked balance,
``post_many`` to copies of many balances at once, so both give the same rows and figures.
The figures and lots are protocols that the ORM rows and the bulk path's copies both meet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from billing_desk.domain.enums import CreditSource, EntryStatus, KeyScope, LedgerKind
from billing_desk.domain.errors import Conflict, ValidationError
from billing_desk.domain.money import Money

INSUFFICIENT_CREDIT = "insufficient credit"
NO_CURRENCY = "This customer has no billing currency yet: choose one first (customer set-currency)."
EXPIRED_DESCRIPTION = "Voucher credit expired unused"

# Fixed service labels for the kinds that are not usage.
KIND_LABELS: dict[LedgerKind, str] = {
    LedgerKind.TOPUP: "Top-up",
    LedgerKind.VOUCHER: "Voucher",
    LedgerKind.PLAN_CHARGE: "Subscription",
    LedgerKind.PROMOTION: "Promotion",
    LedgerKind.ADJUSTMENT: "Adjustment",
    LedgerKind.EXPIRY: "Expiry",
}


class Figures(Protocol):
    """A customer's stored balance: a ``CustomerBalance`` row or the bulk path's copy of one."""

    customer_id: int
    currency: str
    total: int
    topup: int
    voucher: int


class Lot(Protocol):
    """A voucher-credit lot: a ``VoucherCreditLot`` row or the bulk path's copy of one."""

    id: int
    remaining: int
    expires_at: datetime | None
    redemption_id: int | None


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
    created_at: datetime | None = None  # for imported feeds and replays; defaults to now
    key_scope: KeyScope = KeyScope.SYSTEM  # who issued the key: staff and feed keys are EXTERNAL


@dataclass(frozen=True, slots=True)
class PostingResult:
    """What a posting did: ``entry_ids`` written, or ``duplicate`` when the key was seen before.

    The bulk path leaves ``entry_ids`` empty for rows it wrote: it inserts without reading ids back."""

    status: EntryStatus
    amount: Money
    entry_ids: tuple[int, ...]
    duplicate: bool = False
    failure_reason: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is EntryStatus.SUCCESS


@dataclass(frozen=True, slots=True)
class Line:
    """One ledger row a posting writes, as the rules decided it."""

    amount: int
    source: CreditSource
    status: EntryStatus = EntryStatus.SUCCESS
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Prior:
    """A ledger row already written under a posting's key."""

    id: int | None  # None for a row of the same batch not yet inserted
    amount: int
    status: str
    failure_reason: str | None


def check(figures: Figures, p: Posting) -> None:
    if p.amount.currency != figures.currency:
        raise ValidationError(
            f"The amount is in {p.amount.currency}, but this customer is billed in {figures.currency}.")
    if p.amount.minor == 0:
        raise ValidationError("The amount must not be zero.")


def lot_order(lot: Lot) -> tuple[bool, datetime | None, int]:
    """Drawing order: earliest expiry first, lots without an expiry last, then oldest first."""
    return (lot.expires_at is None, lot.expires_at, lot.id)


def expire(figures: Figures, lots: list[Any], at: datetime) -> list[tuple[Lot, int]]:
    """Rule 1: write off the lots (in drawing order, with credit left) whose expiry is at or
    before ``at``. Returns each lot with the amount written off; ``lots`` loses them."""
    gone: list[tuple[Lot, int]] = []
    while lots and lots[0].expires_at is not None and lots[0].expires_at <= at:
        lot = lots.pop(0)
        gone.append((lot, lot.remaining))
        figures.voucher -= lot.remaining
        figures.total -= lot.remaining
        lot.remaining = 0
    return gone


def expiry_posting(figures: Figures, lot: Lot, amount: int, at: datetime) -> Posting:
    return Posting(figures.customer_id, LedgerKind.EXPIRY, Money(-amount, figures.currency),
                   description=EXPIRED_DESCRIPTION, idempotency_key=f"expire-lot-{lot.id}",
                   voucher_redemption_id=lot.redemption_id, created_at=at)


def seen(p: Posting, prior: list[Prior]) -> PostingResult:
    """Rule 2: the posting repeats a key that already wrote ``prior`` rows."""
    total = sum(r.amount for r in prior)
    if total != p.amount.minor:
        raise Conflict(
            f"The key '{p.idempotency_key}' was already used for {Money(total, p.amount.currency)}, "
            f"not {p.amount}: a key names one charge; use a new key for a new charge."
        )
    return PostingResult(EntryStatus(prior[0].status), p.amount, tuple(r.id for r in prior if r.id is not None),
                         duplicate=True, failure_reason=prior[0].failure_reason)


def credit_source(p: Posting) -> CreditSource:
    return p.source or (CreditSource.VOUCHER if p.kind is LedgerKind.VOUCHER else CreditSource.TOPUP)


def apply(figures: Figures, lots: list[Any], p: Posting) -> tuple[Line, ...]:
    """Rules 3 and 4 for a checked, new posting: the rows it writes, with the figures and lots
    moved to match. A voucher credit's new lot is the caller's to add (an ORM row or a copy)."""
    amount = p.amount.minor
    if amount > 0:
        source = credit_source(p)
        if source is CreditSource.VOUCHER:
            figures.voucher += amount
        else:
            figures.topup += amount
        figures.total += amount
        return (Line(amount, source),)
    wanted = -amount
    available_voucher = 0 if p.source is CreditSource.TOPUP else figures.voucher
    available_topup = 0 if p.source is CreditSource.VOUCHER else figures.topup
    if wanted > available_topup + available_voucher:
        return (Line(amount, CreditSource.TOPUP, EntryStatus.FAILED, INSUFFICIENT_CREDIT),)
    from_voucher = min(wanted, available_voucher)
    from_topup = wanted - from_voucher
    lines: list[Line] = []
    if from_voucher:
        _draw(lots, from_voucher)
        figures.voucher -= from_voucher
        lines.append(Line(-from_voucher, CreditSource.VOUCHER))
    if from_topup:
        figures.topup -= from_topup
        lines.append(Line(-from_topup, CreditSource.TOPUP))
    figures.total -= wanted
    return tuple(lines)


def _draw(lots: list[Any], amount: int) -> None:
    """Take ``amount`` from the lots in drawing order; a lot emptied leaves the list."""
    left = amount
    while left:
        if not lots:
            raise RuntimeError("voucher lots hold less than the voucher balance; run `billing-desk ledger verify`")
        lot = lots[0]
        take = min(lot.remaining, left)
        lot.remaining -= take
        left -= take
        if not lot.remaining:
            lots.pop(0)


# Enum members to their stored strings: ``.value`` is a descriptor call, and the bulk path
# asks three times a row.
_STORED: dict[LedgerKind | CreditSource | EntryStatus, str] = {
    m: m.value for enum in (LedgerKind, CreditSource, EntryStatus) for m in enum}
_SERVICE: dict[LedgerKind, str] = {k: KIND_LABELS.get(k, k.value) for k in LedgerKind}


def row_values(p: Posting, line: Line, now: datetime) -> dict[str, Any]:
    """The ``ledger_entries`` columns of one row (the posting's time, else ``now``)."""
    return {
        "customer_id": p.customer_id, "created_at": p.created_at or now, "kind": _STORED[p.kind],
        "service": p.service or _SERVICE[p.kind], "description": p.description,
        "status": _STORED[line.status], "failure_reason": line.reason, "amount": line.amount,
        "currency": p.amount.currency, "source": _STORED[line.source], "payment_id": p.payment_id,
        "voucher_redemption_id": p.voucher_redemption_id, "staff_id": p.staff_id,
        "idempotency_key": p.idempotency_key, "key_scope": p.key_scope.value,
    }

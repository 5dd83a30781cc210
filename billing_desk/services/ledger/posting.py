"""Posting to the ledger: the only code that changes a balance, one posting at a time
(``post``) or many customers' postings at once (``post_many``).

The rules are in ``rules``; this module reads the figures they move and writes what they
decided, inside the caller's write transaction. Callers never touch ``CustomerBalance`` or
``VoucherCreditLot.remaining`` themselves.

``post`` locks the customer's balance row (SELECT ... FOR UPDATE on PostgreSQL; SQLite's
write transaction already holds the database lock), writes off expired voucher credit,
checks the idempotency key, then inserts the ledger rows and moves the stored figures by
exactly the same amounts, through the ORM, so that a caller's balance row shows the result.

``post_many`` does the same for a stream of postings, set-wise: per chunk of postings one
query locks the balances of the customers not seen yet, one reads their lots, one looks the
chunk's keys up, and the rows go in with executemany; the figures move in memory and each
balance and lot is written once at the end. All or nothing: a posting the rules refuse
raises, and the caller's transaction must roll back.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import BigInteger, String, Table, bindparam, column, exists, select, update, values
from sqlalchemy.orm import Session

from billing_desk.domain.enums import CreditSource, EntryStatus
from billing_desk.domain.errors import Conflict
from billing_desk.models import CustomerBalance, LedgerEntry, VoucherCreditLot, utcnow
from billing_desk.services.ledger import rules
from billing_desk.services.ledger.bulk_writes import LotIds, RowInserter, TextIndex, slices
from billing_desk.services.ledger.rules import (
    INSUFFICIENT_CREDIT,
    KIND_LABELS,
    Line,
    Posting,
    PostingResult,
    Prior,
)

_L = cast(Table, LedgerEntry.__table__)
_B = cast(Table, CustomerBalance.__table__)
_V = cast(Table, VoucherCreditLot.__table__)
CHUNK = 20_000  # postings applied between two writes of rows: bounds memory, keeps inserts large
_IN_LIST = 5_000  # ids or key pairs per IN list (SQLite allows 32,766 bound values)


def lock_balance(session: Session, customer_id: int) -> CustomerBalance:
    row = session.execute(
        select(CustomerBalance).where(CustomerBalance.customer_id == customer_id).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise Conflict(rules.NO_CURRENCY)
    session.refresh(row)  # the locked, committed figures, not a stale identity-map copy
    return row


def _lots(session: Session, customer_id: int) -> list[VoucherCreditLot]:
    """The customer's lots with credit left, in drawing order."""
    return list(session.scalars(
        select(VoucherCreditLot).where(VoucherCreditLot.customer_id == customer_id, VoucherCreditLot.remaining > 0)
        .order_by(VoucherCreditLot.expires_at.is_(None), VoucherCreditLot.expires_at, VoucherCreditLot.id)))


def _write_off(session: Session, balance: CustomerBalance, lots: list[VoucherCreditLot],
               now: datetime) -> list[LedgerEntry]:
    entries = [LedgerEntry(**rules.row_values(rules.expiry_posting(balance, lot, amount, now),
                                              Line(-amount, CreditSource.VOUCHER), now))
               for lot, amount in rules.expire(balance, lots, now)]
    session.add_all(entries)
    return entries


def expire_voucher_credit(session: Session, balance: CustomerBalance, now: datetime) -> list[int]:
    """Write off this customer's voucher lots whose expiry has passed (balance already locked)."""
    entries = _write_off(session, balance, _lots(session, balance.customer_id), now)
    session.flush()
    return [e.id for e in entries]


def _prior(session: Session, p: Posting) -> list[Prior]:
    if p.idempotency_key is None:
        return []
    rows = session.execute(
        select(LedgerEntry.id, LedgerEntry.amount, LedgerEntry.status, LedgerEntry.failure_reason).where(
            LedgerEntry.customer_id == p.customer_id, LedgerEntry.idempotency_key == p.idempotency_key,
            LedgerEntry.key_scope == p.key_scope.value,
        ).order_by(LedgerEntry.id)
    ).all()
    return [Prior(*r) for r in rows]


def _lot_values(p: Posting, now: datetime) -> dict[str, Any]:
    return {"customer_id": p.customer_id, "redemption_id": p.voucher_redemption_id, "granted": p.amount.minor,
            "remaining": p.amount.minor, "expires_at": p.voucher_expires_at, "created_at": p.created_at or now}


def _opens_lot(p: Posting) -> bool:
    return p.amount.minor > 0 and rules.credit_source(p) is CreditSource.VOUCHER


def post(session: Session, p: Posting) -> PostingResult:
    """Apply one posting. A debit larger than the available credit is recorded as a failed
    row ('insufficient credit') that moves nothing; the caller commits either way."""
    now = utcnow()
    balance = lock_balance(session, p.customer_id)
    rules.check(balance, p)
    lots = _lots(session, p.customer_id)
    _write_off(session, balance, lots, now)
    prior = _prior(session, p)
    if prior:
        return rules.seen(p, prior)
    lines = rules.apply(balance, lots, p)
    entries = [LedgerEntry(**rules.row_values(p, line, now)) for line in lines]
    session.add_all(entries)
    if _opens_lot(p):
        session.add(VoucherCreditLot(**_lot_values(p, now)))
    balance.updated_at = now
    session.flush()
    return PostingResult(lines[0].status, p.amount, tuple(e.id for e in entries), failure_reason=lines[0].reason)


@dataclass(frozen=True, slots=True)
class BulkReport:
    """What ``post_many`` did; ``results`` (one per posting, in order) only when asked for."""

    postings: int
    rows: int
    failed: int
    duplicates: int
    customers: int
    results: tuple[PostingResult, ...] = ()


def post_many(session: Session, postings: Iterable[Posting], *, replay: bool = False,
              expire_by: datetime | None = None, keep_results: bool = False) -> BulkReport:
    """Apply ``postings`` in order, by the rules ``post`` follows, writing set-wise.

    Each posting is applied at the present, as ``post`` applies it; with ``replay``, at its own
    ``created_at`` instead (a history in time order, as the demo seeds it), so expiry is judged
    and written off at that moment. ``expire_by`` then writes off, for every customer of the
    batch, what has expired by that moment (what the nightly ``vouchers expire`` does).
    ORM copies of these balances loaded earlier in the session are stale afterwards
    (``lock_balance`` refreshes its row)."""
    bulk = _Bulk(session, replay=replay, keep_results=keep_results)
    return bulk.run(postings, expire_by)


@dataclass(slots=True)
class _LotCopy:
    """A voucher-credit lot in memory (a ``rules.Lot``)."""

    id: int
    customer_id: int
    granted: int
    remaining: int
    expires_at: datetime | None
    redemption_id: int | None
    created_at: datetime
    stored: int | None  # what the table holds; None for a lot this batch opened


@dataclass(slots=True)
class _BalanceCopy:
    """A customer's figures in memory (a ``rules.Figures``), with the lots that hold credit."""

    customer_id: int
    currency: str
    total: int
    topup: int
    voucher: int
    lots: list[_LotCopy] = field(default_factory=list)  # with credit left, in drawing order
    moved: bool = False
    keyed: bool = False  # has rows with an idempotency key, stored or written by this batch


# Rows under a key: read from the table, or (as the rules' lines) posted by this chunk.
_Seen = dict[tuple[int, str, str], list[Prior] | tuple[Line, ...]]  # (customer, key scope, key)


def _as_prior(earlier: list[Prior] | tuple[Line, ...]) -> list[Prior]:
    if isinstance(earlier, list):
        return earlier
    return [Prior(None, line.amount, line.status.value, line.reason) for line in earlier]


class _Bulk:
    """One ``post_many`` call: copies of the balances it met, rows waiting for their insert."""

    def __init__(self, session: Session, *, replay: bool, keep_results: bool) -> None:
        self._session = session
        self._now = utcnow()
        self._replay = replay
        self._keep = keep_results
        self._balances: dict[int, _BalanceCopy] = {}
        self._lots: list[_LotCopy] = []  # every lot loaded or opened, to write back at the end
        self._rows: list[dict[str, Any]] = []
        self._results: list[PostingResult] = []
        self._lot_ids = LotIds(session)
        self._text_index = TextIndex(session)
        self._inserter = RowInserter(session)
        self._postings = self._written = self._failed = self._duplicates = 0

    def run(self, postings: Iterable[Posting], expire_by: datetime | None) -> BulkReport:
        try:
            for chunk in _chunks(postings, CHUNK):
                self._load({p.customer_id for p in chunk} - self._balances.keys())
                by_key = self._priors(chunk)
                for p in chunk:
                    self._post(p, by_key)
                self._insert_rows()
            if expire_by is not None:
                for balance in self._balances.values():
                    self._expire(balance, expire_by)
                self._insert_rows()
            self._write_figures()
        except BaseException:
            # The trigger goes back even if a caller were to keep the transaction after a
            # refusal; the refusal, not a second error on the way out, is what gets reported.
            with contextlib.suppress(Exception):
                self._text_index.restore()
            raise
        self._text_index.restore()
        return BulkReport(self._postings, self._written, self._failed, self._duplicates, len(self._balances),
                          tuple(self._results))

    def _load(self, customer_ids: set[int]) -> None:
        """Lock and copy the balances and lots of customers met for the first time."""
        ordered = sorted(customer_ids)  # batches meeting the same customers in a chunk lock them in one order
        for ids in slices(ordered, _IN_LIST):
            # Whether the customer has any keyed row: one index probe each, and most customers of a
            # seed have none, so their keys need no lookup at all (see _priors).
            keyed = exists().where(_L.c.customer_id == _B.c.customer_id, _L.c.idempotency_key.is_not(None))
            balances = self._session.execute(
                select(_B.c.customer_id, _B.c.currency, _B.c.total, _B.c.topup, _B.c.voucher, keyed.label("keyed"))
                .where(_B.c.customer_id.in_(ids)).order_by(_B.c.customer_id).with_for_update())
            for b in balances:
                self._balances[b.customer_id] = _BalanceCopy(b.customer_id, b.currency, b.total, b.topup, b.voucher,
                                                             keyed=bool(b.keyed))
            lots = self._session.execute(
                select(_V.c.id, _V.c.customer_id, _V.c.granted, _V.c.remaining, _V.c.expires_at,
                       _V.c.redemption_id, _V.c.created_at)
                .where(_V.c.customer_id.in_(ids), _V.c.remaining > 0)
                .order_by(_V.c.customer_id, _V.c.expires_at.is_(None), _V.c.expires_at, _V.c.id))
            for r in lots:
                lot = _LotCopy(r.id, r.customer_id, r.granted, r.remaining, r.expires_at, r.redemption_id,
                               r.created_at, stored=r.remaining)
                self._balances[r.customer_id].lots.append(lot)
                self._lots.append(lot)
        missing = customer_ids - self._balances.keys()
        if missing:
            raise Conflict(rules.NO_CURRENCY)

    def _priors(self, chunk: list[Posting]) -> _Seen:
        """Rows already written under the chunk's keys, by customer and key (looked up only for
        customers that have keyed rows; those of this batch's earlier chunks count)."""
        found: _Seen = {}
        keyed = {cid for cid in {p.customer_id for p in chunk} if self._balances[cid].keyed}
        if not keyed:
            return found
        pairs = sorted({(p.customer_id, p.key_scope.value, p.idempotency_key) for p in chunk
                        if p.idempotency_key is not None and p.customer_id in keyed})
        for part in slices(pairs, _IN_LIST):
            # A join with the keys as a VALUES list probes the (customer, key) index once per key;
            # SQLite scans the table for a row-value IN list.
            keys = (values(column("cid", BigInteger), column("scope", String), column("k", String), name="keys")
                    .data(part).cte("keys"))
            rows = self._session.execute(
                select(_L.c.customer_id, _L.c.key_scope, _L.c.idempotency_key, _L.c.id, _L.c.amount, _L.c.status,
                       _L.c.failure_reason)
                .select_from(keys.join(_L, (_L.c.customer_id == keys.c.cid) & (_L.c.key_scope == keys.c.scope)
                                       & (_L.c.idempotency_key == keys.c.k)))
                .order_by(_L.c.id))
            for r in rows:
                earlier = found.setdefault((r.customer_id, r.key_scope, r.idempotency_key), [])
                assert isinstance(earlier, list)
                earlier.append(Prior(r.id, r.amount, r.status, r.failure_reason))
        return found

    def _post(self, p: Posting, by_key: _Seen) -> None:
        """``post``'s steps for one posting, on the copies; ``by_key`` gains its key."""
        balance = self._balances[p.customer_id]
        rules.check(balance, p)
        at = (p.created_at or self._now) if self._replay else self._now
        lots = balance.lots
        if lots and lots[0].expires_at is not None and lots[0].expires_at <= at:  # mostly nothing expires
            self._expire(balance, at)
        self._postings += 1
        key = p.idempotency_key
        earlier = by_key.get((p.customer_id, p.key_scope.value, key)) if key is not None else None
        if earlier is not None:
            result = rules.seen(p, _as_prior(earlier))  # raises if the key was used for another amount
            self._duplicates += 1
            if self._keep:
                self._results.append(result)
            return
        lines = rules.apply(balance, lots, p)
        if _opens_lot(p):
            self._open_lot(balance, p)
        balance.moved = True
        now = self._now
        self._rows.extend([rules.row_values(p, line, now) for line in lines])
        if key is not None:
            by_key[(p.customer_id, p.key_scope.value, key)] = lines
            balance.keyed = True
        first = lines[0]
        if first.status is EntryStatus.FAILED:
            self._failed += 1
        if self._keep:
            self._results.append(PostingResult(first.status, p.amount, (), failure_reason=first.reason))

    def _open_lot(self, balance: _BalanceCopy, p: Posting) -> None:
        lot = _LotCopy(id=self._lot_ids.next(), stored=None, **_lot_values(p, self._now))
        bisect.insort(balance.lots, lot, key=rules.lot_order)
        self._lots.append(lot)

    def _expire(self, balance: _BalanceCopy, at: datetime) -> None:
        for lot, amount in rules.expire(balance, balance.lots, at):
            posting = rules.expiry_posting(balance, lot, amount, at)
            self._rows.append(rules.row_values(posting, Line(-amount, CreditSource.VOUCHER), at))
            balance.moved = True

    def _insert_rows(self) -> None:
        if not self._rows:
            return
        self._text_index.before_insert(len(self._rows))
        self._inserter.insert(self._rows)
        self._written += len(self._rows)
        self._rows = []

    def _write_figures(self) -> None:
        """Each lot and balance once: new lots inserted, drawn ones updated, balances set."""
        opened = [{"id": x.id, "customer_id": x.customer_id, "redemption_id": x.redemption_id, "granted": x.granted,
                   "remaining": x.remaining, "expires_at": x.expires_at, "created_at": x.created_at}
                  for x in self._lots if x.stored is None]
        drawn = [{"lot_id": x.id, "left": x.remaining} for x in self._lots
                 if x.stored is not None and x.remaining != x.stored]
        moved = [{"cid": b.customer_id, "t": b.total, "tu": b.topup, "v": b.voucher}
                 for b in self._balances.values() if b.moved]
        for part in slices(opened, CHUNK):
            self._session.execute(_V.insert(), part)
        if drawn:
            self._session.execute(update(_V).where(_V.c.id == bindparam("lot_id"))
                                  .values(remaining=bindparam("left")), drawn)
        for part in slices(moved, CHUNK):
            self._session.execute(
                update(_B).where(_B.c.customer_id == bindparam("cid"))
                .values(total=bindparam("t"), topup=bindparam("tu"), voucher=bindparam("v"), updated_at=self._now),
                part)


def _chunks(postings: Iterable[Posting], size: int) -> Iterator[list[Posting]]:
    it = iter(postings)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


__all__ = ["INSUFFICIENT_CREDIT", "KIND_LABELS", "BulkReport", "Posting", "PostingResult", "expire_voucher_credit",
           "lock_balance", "post", "post_many"]

"""What justifies each grant of credit: the second half of ``ledger verify``.

Balances equal their rows, but a forger who inserts a row and moves the balance by the same
amount keeps that true. So every successful row that adds credit must point at its cause:

* a top-up row at a payment of the same customer, amount and currency that the gateway
  settled (status success), and no payment is credited twice;
* a voucher row at a redemption of the same customer, amount and currency, each redemption
  credited once;
* an adjustment or promotion row at the audit row of the staff action that wrote it (same
  action, customer and staff member, the row's id in its ``entries``); the audit log's own
  chain (``audit verify``) then vouches for that row;
* no other kind ever adds credit (usage, plan charges and expiry only take it away).

And the other way round, every payment settled as success was credited. A forger who also
forges the cause (a payment row, a redemption) must write a second table consistently, and
the audit rows of the settlement or redemption are in the hash chain, where the forgery
shows. Each check reads only the rows that add credit (a small share of the ledger) and
stops at ``LIMIT`` findings: a report of a hundred forged rows is enough to act on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, cast

from sqlalchemy import Table, and_, func, not_, or_, select
from sqlalchemy.orm import Session

from billing_desk.domain.enums import EntryStatus, LedgerKind, PaymentStatus
from billing_desk.domain.money import Money
from billing_desk.models import AuditEntry, Customer, LedgerEntry, Payment, VoucherRedemption
from billing_desk.services.ledger.dtos import Unjustified

LIMIT = 100  # findings kept per check

_L = cast(Table, LedgerEntry.__table__)
_P = cast(Table, Payment.__table__)
_R = cast(Table, VoucherRedemption.__table__)
_C = cast(Table, Customer.__table__)
_STAFF_KINDS = (LedgerKind.ADJUSTMENT.value, LedgerKind.PROMOTION.value)
_CAUSED_KINDS = (LedgerKind.TOPUP.value, LedgerKind.VOUCHER.value, *_STAFF_KINDS)


def _grants() -> Any:
    """The condition of a row that adds credit."""
    return and_(_L.c.status == EntryStatus.SUCCESS.value, _L.c.amount > 0)


def _finding(row: Any, problem: str) -> Unjustified:
    return Unjustified(row.id, row.customer_id, row.account or f"customer {row.customer_id}",
                       Money(int(row.amount), row.currency), problem)


def _entries(session: Session, query: Any) -> Iterator[Any]:
    yield from session.execute(query.add_columns(_C.c.account).outerjoin(_C, _C.c.id == _L.c.customer_id)
                               .order_by(_L.c.id).limit(LIMIT))


def _unlinked(session: Session, kind: LedgerKind, link: Any, cause: Table, noun: str,
              settled: Any) -> list[Unjustified]:
    """Rows of ``kind`` whose ``link`` names no cause, or a cause of another customer, amount
    or currency, or (``settled``) one not settled."""
    query = (select(_L.c.id, _L.c.customer_id, _L.c.amount, _L.c.currency, link.label("link"),
                    cause.c.id.label("cause_id"), cause.c.customer_id.label("c_customer"),
                    cause.c.amount.label("c_amount"), cause.c.currency.label("c_currency"), settled.label("settled"))
             .select_from(_L.outerjoin(cause, cause.c.id == link))
             .where(_L.c.kind == kind.value, _grants(),
                    or_(cause.c.id.is_(None), cause.c.customer_id != _L.c.customer_id,
                        cause.c.amount != _L.c.amount, cause.c.currency != _L.c.currency, not_(settled))))
    found = []
    for row in _entries(session, query):
        if row.link is None:
            problem = f"{kind.value} row points at no {noun}"
        elif row.cause_id is None:
            problem = f"{kind.value} row points at {noun} {row.link}, which does not exist"
        elif row.c_customer != row.customer_id:
            problem = f"{kind.value} row points at {noun} {row.link} of customer {row.c_customer}"
        elif (row.c_amount, row.c_currency) != (row.amount, row.currency):
            problem = (f"{kind.value} row points at {noun} {row.link} of "
                       f"{Money(int(row.c_amount), row.c_currency)}")
        else:
            problem = f"{kind.value} row points at {noun} {row.link}, which did not succeed"
        found.append(_finding(row, problem))
    return found


def _credited_twice(session: Session, kind: LedgerKind, link: Any, noun: str) -> list[Unjustified]:
    """Every row after the first that credits the same cause."""
    first = (select(link.label("link"), func.min(_L.c.id).label("first_id"))
             .where(_L.c.kind == kind.value, _grants(), link.is_not(None))
             .group_by(link).having(func.count() > 1).subquery("twice"))
    query = (select(_L.c.id, _L.c.customer_id, _L.c.amount, _L.c.currency, first.c.link, first.c.first_id)
             .join(first, first.c.link == link)
             .where(_L.c.kind == kind.value, _grants(), _L.c.id != first.c.first_id))
    return [_finding(row, f"{kind.value} row credits {noun} {row.link} again (row {row.first_id} credited it)")
            for row in _entries(session, query)]


def _credit_without_cause(session: Session) -> list[Unjustified]:
    query = select(_L.c.id, _L.c.customer_id, _L.c.amount, _L.c.currency, _L.c.kind).where(
        _grants(), _L.c.kind.not_in(_CAUSED_KINDS))
    return [_finding(row, f"{row.kind} row adds credit, which a {row.kind} never does")
            for row in _entries(session, query)]


def _unaudited(session: Session) -> list[Unjustified]:
    """Staff credit rows with no audit row of the same action, customer and staff member
    listing them. Staff credits are few (each is a person's decision), so the audit rows are
    read and matched here rather than by parsing JSON in two SQL dialects."""
    rows = session.execute(select(_L.c.id, _L.c.customer_id, _L.c.amount, _L.c.currency, _L.c.kind, _L.c.staff_id)
                           .where(_L.c.kind.in_(_STAFF_KINDS), _grants())).all()
    if not rows:
        return []
    vouched: set[tuple[str, str, int | None, int]] = set()
    audited = session.execute(select(AuditEntry.action, AuditEntry.entity_id, AuditEntry.staff_id, AuditEntry.summary)
                              .where(AuditEntry.entity == "customer",
                                     AuditEntry.action.in_([f"credit.{k}" for k in _STAFF_KINDS])))
    for action, entity_id, staff_id, summary in audited:
        for entry_id in _listed_entries(summary):
            vouched.add((action, entity_id, staff_id, entry_id))
    missing = [r for r in rows
               if r.staff_id is None or (f"credit.{r.kind}", str(r.customer_id), r.staff_id, r.id) not in vouched]
    if not missing:
        return []
    accounts = dict(session.execute(select(_C.c.id, _C.c.account).where(
        _C.c.id.in_({r.customer_id for r in missing[:LIMIT]}))).all())
    return [Unjustified(r.id, r.customer_id, accounts.get(r.customer_id, f"customer {r.customer_id}"),
                        Money(int(r.amount), r.currency),
                        f"{r.kind} row has no staff member" if r.staff_id is None
                        else f"{r.kind} row has no audit row of the staff action that made it")
            for r in missing[:LIMIT]]


def _listed_entries(summary: str) -> list[int]:
    try:
        entries = json.loads(summary).get("entries", [])
    except (ValueError, AttributeError):
        return []
    return [e for e in entries if isinstance(e, int)] if isinstance(entries, list) else []


def _settled_not_credited(session: Session) -> list[Unjustified]:
    credited = select(_L.c.id).where(_L.c.kind == LedgerKind.TOPUP.value, _grants(), _L.c.payment_id == _P.c.id)
    rows = session.execute(
        select(_P.c.id, _P.c.customer_id, _P.c.amount, _P.c.currency, _C.c.account)
        .outerjoin(_C, _C.c.id == _P.c.customer_id)
        .where(_P.c.status == PaymentStatus.SUCCESS.value, ~credited.exists())
        .order_by(_P.c.id).limit(LIMIT))
    return [Unjustified(None, r.customer_id, r.account or f"customer {r.customer_id}",
                        Money(int(r.amount), r.currency), f"payment {r.id} succeeded but was never credited")
            for r in rows]


def find_unjustified(session: Session) -> tuple[Unjustified, ...]:
    """Every finding, up to ``LIMIT`` per check, in the order the checks run."""
    paid = _P.c.status == PaymentStatus.SUCCESS.value
    redeemed = _R.c.id.is_not(None)  # a redemption row is the redemption: it has no status
    return (*_unlinked(session, LedgerKind.TOPUP, _L.c.payment_id, _P, "payment", paid),
            *_credited_twice(session, LedgerKind.TOPUP, _L.c.payment_id, "payment"),
            *_settled_not_credited(session),
            *_unlinked(session, LedgerKind.VOUCHER, _L.c.voucher_redemption_id, _R, "redemption", redeemed),
            *_credited_twice(session, LedgerKind.VOUCHER, _L.c.voucher_redemption_id, "redemption"),
            *_unaudited(session),
            *_credit_without_cause(session))

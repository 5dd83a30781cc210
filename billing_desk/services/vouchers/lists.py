"""Reading vouchers: a customer's Voucher List, the manager's list and campaign summaries,
the customer-search source for a voucher's last four, and the expiry run.

The lists are Core selects with keyset pagination (newest id first, ``before_id`` for the
next page); a voucher's status is computed in SQL so that filtering by it needs no scan in
Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.orm import Session

from billing_desk.domain.enums import VoucherBatchState, VoucherStatus
from billing_desk.domain.errors import NotFound, ValidationError
from billing_desk.domain.ids import MAX_ROW_ID, is_row_id
from billing_desk.domain.money import Money
from billing_desk.domain.permissions import Actor, Permission
from billing_desk.domain.text import clean_token
from billing_desk.models import Voucher, VoucherBatch, VoucherCampaign, VoucherCreditLot, VoucherRedemption, utcnow
from billing_desk.services.customers import resolve_customer
from billing_desk.services.uow import UnitOfWorkFactory
from billing_desk.services.vouchers.dtos import CampaignRow, CustomerVoucherRow, VoucherRow
from billing_desk.services.vouchers.issue import campaign_name

MAX_PAGE = 5000


def status_expr(now: datetime) -> ColumnElement[str]:
    """A voucher's status in SQL, for queries that outer-join VoucherBatch on Voucher.batch_id."""
    return case(
        (VoucherBatch.state == VoucherBatchState.VOID.value, literal(VoucherStatus.VOID.value)),
        (VoucherBatch.state == VoucherBatchState.PENDING.value, literal(VoucherStatus.PENDING.value)),
        (Voucher.revoked_at.is_not(None), literal(VoucherStatus.REVOKED.value)),
        (Voucher.redemption_count >= Voucher.max_redemptions, literal(VoucherStatus.USED_UP.value)),
        (and_(Voucher.valid_until.is_not(None), Voucher.valid_until <= now), literal(VoucherStatus.EXPIRED.value)),
        (and_(Voucher.valid_from.is_not(None), Voucher.valid_from > now), literal(VoucherStatus.SCHEDULED.value)),
        else_=literal(VoucherStatus.ACTIVE.value),
    )


def parse_status(text: str | None) -> VoucherStatus | None:
    if not text:
        return None
    try:
        return VoucherStatus(text.strip().lower().replace("-", "_").replace(" ", "_"))
    except ValueError:
        choices = ", ".join(s.value for s in VoucherStatus)
        raise ValidationError(f"Unknown voucher status '{text}'; choose one of {choices}.", field="status") from None


def customer_vouchers(uow: UnitOfWorkFactory, actor: Actor, customer_ref: str | int) -> list[CustomerVoucherRow]:
    """Vouchers this customer redeemed, newest first, with the credit each has left."""
    actor.require(Permission.CUSTOMER_READ)
    now = utcnow()
    with uow.read() as r:
        customer = resolve_customer(r.session, customer_ref)
        lots = (select(VoucherCreditLot.redemption_id, func.sum(VoucherCreditLot.remaining).label("remaining"),
                       func.max(VoucherCreditLot.expires_at).label("expires_at"))
                .where(VoucherCreditLot.customer_id == customer.id).group_by(VoucherCreditLot.redemption_id)
                .subquery())
        query = (
            select(VoucherRedemption.id, VoucherRedemption.voucher_id, Voucher.last4, VoucherCampaign.name,
                   VoucherRedemption.amount, VoucherRedemption.currency, VoucherRedemption.redeemed_at,
                   func.coalesce(lots.c.remaining, 0), lots.c.expires_at)
            .join(Voucher, Voucher.id == VoucherRedemption.voucher_id)
            .outerjoin(VoucherCampaign, VoucherCampaign.id == Voucher.campaign_id)
            .outerjoin(lots, lots.c.redemption_id == VoucherRedemption.id)
            .where(VoucherRedemption.customer_id == customer.id)
            .order_by(VoucherRedemption.redeemed_at.desc(), VoucherRedemption.id.desc())
        )
        rows = []
        for rid, vid, l4, campaign, amount, cur, at, remaining, expires in r.session.execute(query):
            expired = expires is not None and expires <= now
            # Credit past its expiry is written off by the next posting or `vouchers expire`;
            # until then it is shown as nothing left, which is what the customer can spend.
            left = 0 if expired else int(remaining)
            rows.append(CustomerVoucherRow(rid, vid, l4, campaign, Money(int(amount), cur), at, Money(left, cur),
                                           expires, expired))
        return rows


@dataclass(frozen=True, slots=True)
class VoucherFilter:
    status: VoucherStatus | None = None
    campaign: str | None = None
    currency: str | None = None
    customer_id: int | None = None
    last4: str | None = None


def list_vouchers(uow: UnitOfWorkFactory, actor: Actor, flt: VoucherFilter, *, before_id: int | None = None,
                  limit: int = 200) -> list[VoucherRow]:
    actor.require(Permission.VOUCHER_LIST)
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"A page holds 1 to {MAX_PAGE} vouchers.", field="limit")
    if flt.customer_id is not None and not is_row_id(flt.customer_id):
        return []  # no customer has such an id
    if before_id is not None and before_id > MAX_ROW_ID:
        before_id = None  # every id is below it
    now = utcnow()
    status = status_expr(now).label("status")
    query = (select(Voucher.id, Voucher.last4, VoucherCampaign.name, Voucher.amount, Voucher.currency, status,
                    Voucher.redemption_count, Voucher.max_redemptions, Voucher.valid_from, Voucher.valid_until,
                    Voucher.customer_id, Voucher.created_at, Voucher.revoked_reason)
             .outerjoin(VoucherCampaign, VoucherCampaign.id == Voucher.campaign_id)
             .outerjoin(VoucherBatch, VoucherBatch.id == Voucher.batch_id)
             .order_by(Voucher.id.desc()).limit(limit))
    campaign = campaign_name(flt.campaign)
    code = clean_token(flt.currency, "currency").upper()
    ending = clean_token(flt.last4, "last4", "last four characters").upper()
    with uow.read() as r:
        if campaign:
            campaign_id = r.session.scalar(select(VoucherCampaign.id).where(VoucherCampaign.name == campaign))
            if campaign_id is None:
                raise NotFound(f"No voucher campaign named '{campaign}'.")
            query = query.where(Voucher.campaign_id == campaign_id)
        if flt.status:
            query = query.where(status_expr(now) == flt.status.value)
        if code:
            query = query.where(Voucher.currency == code)
        if flt.customer_id is not None:
            query = query.where(Voucher.customer_id == flt.customer_id)
        if ending:
            query = query.where(Voucher.last4 == ending)
        if before_id is not None:
            query = query.where(Voucher.id < before_id)
        return [VoucherRow(vid, l4, camp, Money(int(amt), cur), VoucherStatus(st), int(used), int(mx), vf, vu, cust,
                           created, why)
                for vid, l4, camp, amt, cur, st, used, mx, vf, vu, cust, created, why in r.session.execute(query)]


def iter_vouchers(uow: UnitOfWorkFactory, actor: Actor, flt: VoucherFilter, page: int = 2000) -> Iterator[VoucherRow]:
    """Every matching voucher, page by page (for exports)."""
    before: int | None = None
    while True:
        rows = list_vouchers(uow, actor, flt, before_id=before, limit=page)
        yield from rows
        if len(rows) < page:
            return
        before = rows[-1].id


def campaigns(uow: UnitOfWorkFactory, actor: Actor) -> list[CampaignRow]:
    actor.require(Permission.VOUCHER_LIST)
    status = status_expr(utcnow())
    query = (select(Voucher.campaign_id, status, Voucher.currency, func.count(), func.sum(Voucher.redemption_count),
                    func.sum(Voucher.amount * Voucher.redemption_count))
             .outerjoin(VoucherBatch, VoucherBatch.id == Voucher.batch_id)
             .where(Voucher.campaign_id.is_not(None)).group_by(Voucher.campaign_id, status, Voucher.currency))
    with uow.read() as r:
        by_status: dict[int, dict[str, int]] = defaultdict(dict)
        redeemed: dict[int, int] = defaultdict(int)
        granted: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for cid, st, cur, n, used, credit in r.session.execute(query):
            assert cid is not None  # the query keeps campaign vouchers only
            by_status[cid][st] = by_status[cid].get(st, 0) + int(n)
            redeemed[cid] += int(used or 0)
            granted[cid][cur] += int(credit or 0)
        rows = []
        for cid, name, created in r.session.execute(
                select(VoucherCampaign.id, VoucherCampaign.name, VoucherCampaign.created_at)
                .order_by(VoucherCampaign.id.desc())):
            counts = by_status.get(cid, {})
            rows.append(CampaignRow(cid, name, created, counts, redeemed.get(cid, 0),
                                    tuple(Money(v, c) for c, v in sorted(granted.get(cid, {}).items()))))
        return rows


def search_by_last4(session: Session, query: str) -> Iterator[tuple[int, str]]:
    """Customer-search source: customers who redeemed a voucher ending in these four characters."""
    q = query.strip().lstrip(".").replace("-", "").upper()
    if len(q) != 4 or not q.isalnum():
        return
    rows = session.execute(
        select(VoucherRedemption.customer_id).distinct()
        .join(Voucher, Voucher.id == VoucherRedemption.voucher_id)
        .where(Voucher.last4 == q).limit(100)
    )
    for (customer_id,) in rows:
        yield int(customer_id), f"voucher ...{q}"

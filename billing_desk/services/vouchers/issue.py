"""Issuing and revoking vouchers (managers): one code or a batch of up to 100,000.

A batch is generated in memory, hashed, and written with one bulk Core insert in a single
transaction, so it either exists whole or not at all; only the keyed hash and the last four
characters reach the database. The plain codes are returned once, to be shown; codes meant for
a file are issued by ``batches.issue_to_file``, which keeps them unredeemable until the file is whole.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing_desk.domain.enums import VoucherBatchState
from billing_desk.domain.errors import Cancelled, Conflict, NotFound, ValidationError
from billing_desk.domain.ids import is_row_id
from billing_desk.domain.money import MAX_MINOR, Money
from billing_desk.domain.permissions import Actor, Permission
from billing_desk.domain.text import clean_text
from billing_desk.models import Voucher, VoucherBatch, VoucherCampaign, VoucherCampaignCodes, utcnow
from billing_desk.services import audit
from billing_desk.services.customers import resolve_customer
from billing_desk.services.uow import UnitOfWorkFactory
from billing_desk.services.vouchers.codes import CodeKey, code_hash, generate_codes, last4
from billing_desk.services.vouchers.dtos import IssuedVouchers, IssuePreview, IssueRequest, RevokeResult

MAX_BATCH = 100_000
MAX_CREDIT_DAYS = 3650
MAX_REDEMPTIONS = 1_000_000
# Codes hashed, or inserted, between two progress reports and cancel checks: small enough that
# Cancel answers within a fraction of a second, large enough that each insert stays a bulk one.
STEP = 5_000
ProgressSink = Callable[[int, int], None]
CancelCheck = Callable[[], bool]


class IssueWatch:
    """The caller's progress sink and cancel check for one issue; both optional.

    Progress counts two passes over the batch (hash every code, then insert every row), so a
    batch of ``n`` codes reports up to ``2 * n``. A cancel is honoured only before the commit:
    the whole batch is one transaction, so a cancelled issue leaves no code and no campaign.
    """

    def __init__(self, count: int, progress: ProgressSink | None = None, cancel: CancelCheck | None = None) -> None:
        self.total = 2 * count
        self._progress = progress
        self._cancel = cancel

    def step(self, done: int) -> None:
        if self._cancel is not None and self._cancel():
            raise Cancelled("Issue cancelled: no code was issued.")
        if self._progress is not None:
            self._progress(done, self.total)


def validate_request(req: IssueRequest, now: datetime) -> None:
    """Raise the first problem with ``req``, naming the option to fix."""
    if req.amount.minor <= 0:
        raise ValidationError("A voucher's amount must be more than zero.", field="amount")
    if not 1 <= req.count <= MAX_BATCH:
        raise ValidationError(f"Issue from 1 to {MAX_BATCH:,} codes at a time.", field="count")
    if req.amount.minor * req.count * req.max_redemptions > MAX_MINOR:
        raise ValidationError("The batch's total value is too large; issue fewer or smaller vouchers.", field="amount")
    if not 1 <= req.max_redemptions <= MAX_REDEMPTIONS:
        raise ValidationError("The maximum number of redemptions must be at least 1.", field="max_redemptions")
    if req.valid_from and req.valid_until and req.valid_until <= req.valid_from:
        raise ValidationError("valid-until must be after valid-from.", field="valid_until")
    if req.valid_until and req.valid_until <= now:
        raise ValidationError("valid-until is already in the past; choose a later date.", field="valid_until")
    if req.credit_days is not None and not 1 <= req.credit_days <= MAX_CREDIT_DAYS:
        raise ValidationError(f"Credit days must be from 1 to {MAX_CREDIT_DAYS}.", field="credit_days")
    if req.campaign is not None and not 1 <= len(campaign_name(req.campaign)) <= 200:
        raise ValidationError("A campaign name has 1 to 200 characters.", field="campaign")
    if req.customer_ref is not None and req.max_redemptions > 1:
        raise ValidationError(
            "A voucher for one named customer can be redeemed only once; drop --max-redemptions.",
            field="max_redemptions",
        )


def campaign_name(text: str | None) -> str:
    """A campaign name as it is kept, and so as it is looked up: one line of text."""
    return clean_text(text, "campaign", "campaign name")


def _face_value(req: IssueRequest) -> Money:
    return Money(req.amount.minor * req.count, req.amount.currency)


def preview(req: IssueRequest) -> IssuePreview:
    now = utcnow()
    validate_request(req, now)
    face = _face_value(req)
    most = Money(face.minor * req.max_redemptions, req.amount.currency)
    return IssuePreview(req.count, req.amount, req.max_redemptions, face, most, _campaign_name(req, now))


def _campaign_name(req: IssueRequest, now: datetime) -> str | None:
    if req.campaign:
        return campaign_name(req.campaign)
    if req.count > 1:  # a batch always belongs to a campaign, so it can be listed and revoked as one
        return f"Batch {now:%Y-%m-%d %H:%M:%S} UTC, {req.count:,} x {req.amount}"
    return None


def _campaign(session: Session, name: str | None, actor: Actor, now: datetime) -> int | None:
    if name is None:
        return None
    found = session.scalar(select(VoucherCampaign.id).where(VoucherCampaign.name == name))
    if found is not None:
        return int(found)
    try:
        with session.begin_nested():  # two managers may start the same new campaign at once
            campaign = VoucherCampaign(name=name, created_by=actor.staff_id, created_at=now)
            session.add(campaign)
            session.flush()
            return campaign.id
    except IntegrityError:
        return int(session.scalar(select(VoucherCampaign.id).where(VoucherCampaign.name == name)))  # type: ignore[arg-type]


def _named_customer(session: Session, req: IssueRequest) -> int | None:
    if req.customer_ref is None:
        return None
    customer = resolve_customer(session, req.customer_ref)
    if customer.currency and customer.currency != req.amount.currency:
        raise ValidationError(
            f"{customer.account} is billed in {customer.currency}; issue the voucher in {customer.currency}.",
            field="currency",
        )
    return customer.id


def count_codes(session: Session, campaign_id: int, currency: str, added: int) -> None:
    """Move the campaign's stored count of codes in this currency by ``added``, in the issue's transaction."""
    moved = session.execute(
        update(VoucherCampaignCodes)
        .where(VoucherCampaignCodes.campaign_id == campaign_id, VoucherCampaignCodes.currency == currency)
        .values(codes=VoucherCampaignCodes.codes + added).execution_options(synchronize_session=False))
    if int(moved.rowcount or 0):  # type: ignore[attr-defined]
        return
    try:
        with session.begin_nested():  # a second desk may issue this campaign's first codes in this currency
            session.execute(insert(VoucherCampaignCodes).values(campaign_id=campaign_id, currency=currency,
                                                                codes=added))
    except IntegrityError:
        count_codes(session, campaign_id, currency, added)


def new_codes(key: CodeKey, count: int, watch: IssueWatch | None = None) -> tuple[list[str], list[dict[str, str]]]:
    """``count`` fresh codes, and what the database keeps of each (the keyed hash, the last four)."""
    codes = generate_codes(count)
    secret = key()
    rows = []
    for i, code in enumerate(codes):
        if watch is not None and i % STEP == 0:
            watch.step(i)
        plain = code.replace("-", "")
        rows.append({"code_hash": code_hash(secret, plain), "last4": last4(plain)})
    return codes, rows


def insert_vouchers(session: Session, actor: Actor, req: IssueRequest, now: datetime, codes: list[str],
                    rows: list[dict[str, str]], batch_id: int | None = None,
                    watch: IssueWatch | None = None) -> IssuedVouchers:
    """Insert the vouchers and their audit row in the caller's transaction (bulk Core inserts of
    ``STEP`` rows, so that a watched issue reports progress and can stop between them)."""
    customer_id = _named_customer(session, req)
    name = _campaign_name(req, now)
    campaign_id = _campaign(session, name, actor, now)
    common = {"campaign_id": campaign_id, "amount": req.amount.minor, "currency": req.amount.currency,
              "valid_from": req.valid_from, "valid_until": req.valid_until,
              "max_redemptions": req.max_redemptions, "redemption_count": 0, "customer_id": customer_id,
              "credit_days": req.credit_days, "revoked_at": None, "revoked_reason": None,
              "created_by": actor.staff_id, "created_at": now, "batch_id": batch_id}
    ids: list[int] = []
    for start in range(0, len(rows), STEP if watch is not None else max(len(rows), 1)):
        if watch is not None:
            watch.step(len(rows) + start)
        chunk = rows[start:start + STEP] if watch is not None else rows
        ids.extend(session.scalars(insert(Voucher).returning(Voucher.id, sort_by_parameter_order=True),
                                   [{**common, **r} for r in chunk]))
    if campaign_id is not None:
        count_codes(session, campaign_id, req.amount.currency, len(ids))
    face = _face_value(req)
    entity, entity_id = ("voucher_campaign", campaign_id) if campaign_id else ("voucher", ids[0])
    audit.record(session, actor, "voucher.issue", entity, entity_id, {
        "count": req.count, "amount": req.amount.to_json(), "face_value": face.to_json(),
        "first_id": ids[0], "last_id": ids[-1], "campaign": name, "customer_id": customer_id,
        "valid_from": req.valid_from, "valid_until": req.valid_until,
        "max_redemptions": req.max_redemptions, "credit_days": req.credit_days,
        **({"batch_id": batch_id} if batch_id is not None else {}),
    })
    return IssuedVouchers(tuple(codes), tuple(ids), campaign_id, name, req.amount, face, req.valid_from,
                          req.valid_until, req.max_redemptions, req.credit_days, batch_id)


def issue(uow: UnitOfWorkFactory, key: CodeKey, actor: Actor, req: IssueRequest,
          progress: ProgressSink | None = None, cancel: CancelCheck | None = None) -> IssuedVouchers:
    """Issue live codes returned to the caller only (the desk shows them once, the CLI prints them).

    Codes that go to a file are issued by ``batches.issue_to_file`` instead. ``progress`` and
    ``cancel`` (the desk's task runner gives both) see the work in steps; a cancel before the
    commit rolls the whole batch back.
    """
    actor.require(Permission.VOUCHER_ISSUE)
    now = utcnow()
    validate_request(req, now)
    watch = IssueWatch(req.count, progress, cancel) if progress or cancel else None
    codes, rows = new_codes(key, req.count, watch)
    with uow.write() as w:
        issued = insert_vouchers(w.session, actor, req, now, codes, rows, watch=watch)
        if watch is not None:
            watch.step(watch.total)  # the last moment a cancel can still leave nothing
        w.commit()
    return issued


def _check_reason(reason: str) -> str:
    clean = clean_text(reason, "reason")
    if not clean:
        raise ValidationError("Give a reason for revoking (--reason).", field="reason")
    return clean


def revoke_voucher(uow: UnitOfWorkFactory, actor: Actor, voucher_id: int, reason: str) -> RevokeResult:
    actor.require(Permission.VOUCHER_ISSUE)
    why = _check_reason(reason)
    with uow.write() as w:
        voucher = w.session.get(Voucher, voucher_id) if is_row_id(voucher_id) else None
        if voucher is None:
            raise NotFound(f"No voucher with id {voucher_id}.")
        if voucher.revoked_at is not None:
            raise Conflict(f"Voucher {voucher_id} was already revoked on {voucher.revoked_at:%Y-%m-%d %H:%M} UTC.")
        voucher.revoked_at = utcnow()
        voucher.revoked_reason = why
        audit.record(w.session, actor, "voucher.revoke", "voucher", voucher_id,
                     {"last4": voucher.last4, "redemptions": voucher.redemption_count}, reason=why)
        w.commit()
    return RevokeResult(1, voucher_id, None, why)


def revoke_campaign(uow: UnitOfWorkFactory, actor: Actor, campaign: str, reason: str) -> RevokeResult:
    """Revoke every code of the campaign that could still be redeemed; used-up codes stay as they are."""
    actor.require(Permission.VOUCHER_ISSUE)
    why = _check_reason(reason)
    name = campaign_name(campaign)
    with uow.write() as w:
        campaign_id = w.session.scalar(select(VoucherCampaign.id).where(VoucherCampaign.name == name))
        if campaign_id is None:
            raise NotFound(f"No voucher campaign named '{name}'.")
        now = utcnow()
        result = w.session.execute(
            update(Voucher)
            .where(Voucher.campaign_id == campaign_id, Voucher.revoked_at.is_(None),
                   Voucher.redemption_count < Voucher.max_redemptions,
                   # void codes are dead already; counting them would overstate what was revoked
                   or_(Voucher.batch_id.is_(None), Voucher.batch_id.not_in(
                       select(VoucherBatch.id).where(VoucherBatch.state == VoucherBatchState.VOID.value))))
            .values(revoked_at=now, revoked_reason=why)
            .execution_options(synchronize_session=False)
        )
        count = int(result.rowcount or 0)  # type: ignore[attr-defined]
        if count == 0:
            raise Conflict(f"Campaign '{name}' has no unused codes left to revoke.")
        audit.record(w.session, actor, "voucher.revoke_campaign", "voucher_campaign", campaign_id,
                     {"campaign": name, "revoked": count}, reason=why)
        w.commit()
    return RevokeResult(count, None, name, why)


def credit_expiry(credit_days: int | None, now: datetime) -> datetime | None:
    return now + timedelta(days=credit_days) if credit_days else None

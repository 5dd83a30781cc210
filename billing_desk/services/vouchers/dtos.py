"""Frozen results of the voucher services, for the CLI and the GUI's Qt workers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from billing_desk.domain.enums import VoucherStatus
from billing_desk.domain.money import Money


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True, slots=True)
class IssueRequest:
    """What a manager asks for; validated by ``voucher_issue.validate_request``."""

    amount: Money
    count: int = 1
    campaign: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_redemptions: int = 1
    customer_ref: str | int | None = None
    credit_days: int | None = None


@dataclass(frozen=True, slots=True)
class IssuePreview:
    """Shown before a batch is issued: its total face value."""

    count: int
    amount: Money
    max_redemptions: int
    face_value: Money  # amount x count
    max_credit: Money  # amount x count x max_redemptions: the most it can ever grant
    campaign: str | None

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "amount": self.amount.to_json(), "max_redemptions": self.max_redemptions,
                "face_value": self.face_value.to_json(), "max_credit": self.max_credit.to_json(),
                "campaign": self.campaign}


@dataclass(frozen=True, slots=True)
class IssuedVouchers:
    """The plain codes, returned once and never stored."""

    codes: tuple[str, ...]
    voucher_ids: tuple[int, ...]
    campaign_id: int | None
    campaign: str | None
    amount: Money
    face_value: Money
    valid_from: datetime | None
    valid_until: datetime | None
    max_redemptions: int
    credit_days: int | None
    batch_id: int | None = None  # set when the codes were issued into a file (voucher_batches)

    def to_json(self) -> dict[str, Any]:
        return {"codes": list(self.codes), "voucher_ids": list(self.voucher_ids), "campaign_id": self.campaign_id,
                "campaign": self.campaign, "amount": self.amount.to_json(), "face_value": self.face_value.to_json(),
                "valid_from": _iso(self.valid_from), "valid_until": _iso(self.valid_until),
                "max_redemptions": self.max_redemptions, "credit_days": self.credit_days,
                "batch_id": self.batch_id}


@dataclass(frozen=True, slots=True)
class VoidedBatch:
    """A batch whose run died before its file was finished, now void: none of its codes can redeem."""

    id: int
    codes: int
    out_path: str
    created_at: datetime
    temp_files_removed: int  # part-written files of its codes, deleted
    file_left: bool  # a file is at out_path: it may hold this batch's (void) codes

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "codes": self.codes, "out_path": self.out_path,
                "created_at": self.created_at.isoformat(), "temp_files_removed": self.temp_files_removed,
                "file_left": self.file_left}


@dataclass(frozen=True, slots=True)
class RedemptionResult:
    voucher_id: int
    redemption_id: int
    customer_id: int
    account: str
    amount: Money
    credit_expires_at: datetime | None
    balance_total: Money
    balance_voucher: Money
    last4: str

    def to_json(self) -> dict[str, Any]:
        return {"voucher_id": self.voucher_id, "redemption_id": self.redemption_id, "customer_id": self.customer_id,
                "account": self.account, "amount": self.amount.to_json(),
                "credit_expires_at": _iso(self.credit_expires_at), "last4": self.last4,
                "balance": {"total": self.balance_total.to_json(), "voucher": self.balance_voucher.to_json()}}


@dataclass(frozen=True, slots=True)
class CustomerVoucherRow:
    """One line of a customer's Voucher List."""

    redemption_id: int
    voucher_id: int
    last4: str
    campaign: str | None
    amount: Money
    redeemed_at: datetime
    remaining: Money
    expires_at: datetime | None
    expired: bool

    def to_json(self) -> dict[str, Any]:
        return {"redemption_id": self.redemption_id, "voucher_id": self.voucher_id, "last4": self.last4,
                "campaign": self.campaign, "amount": self.amount.to_json(), "redeemed_at": self.redeemed_at.isoformat(),
                "remaining": self.remaining.to_json(), "expires_at": _iso(self.expires_at), "expired": self.expired}


@dataclass(frozen=True, slots=True)
class VoucherRow:
    """One line of the manager's voucher list."""

    id: int
    last4: str
    campaign: str | None
    amount: Money
    status: VoucherStatus
    redemptions: int
    max_redemptions: int
    valid_from: datetime | None
    valid_until: datetime | None
    customer_id: int | None
    created_at: datetime
    revoked_reason: str | None

    @property
    def credit_granted(self) -> Money:
        return Money(self.amount.minor * self.redemptions, self.amount.currency)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "last4": self.last4, "campaign": self.campaign, "amount": self.amount.to_json(),
                "status": self.status.value, "redemptions": self.redemptions, "max_redemptions": self.max_redemptions,
                "credit_granted": self.credit_granted.to_json(), "valid_from": _iso(self.valid_from),
                "valid_until": _iso(self.valid_until), "customer_id": self.customer_id,
                "created_at": self.created_at.isoformat(), "revoked_reason": self.revoked_reason}


@dataclass(frozen=True, slots=True)
class CampaignRow:
    """A campaign summary: its codes by status, redemptions and credit granted per currency."""

    id: int
    name: str
    created_at: datetime
    by_status: dict[str, int]
    redemptions: int
    credit_granted: tuple[Money, ...]

    @property
    def codes(self) -> int:
        return sum(self.by_status.values())

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "created_at": self.created_at.isoformat(), "codes": self.codes,
                "by_status": dict(self.by_status), "redemptions": self.redemptions,
                "credit_granted": [m.to_json() for m in self.credit_granted]}


@dataclass(frozen=True, slots=True)
class RevokeResult:
    revoked: int
    voucher_id: int | None
    campaign: str | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"revoked": self.revoked, "voucher_id": self.voucher_id, "campaign": self.campaign,
                "reason": self.reason}


@dataclass(frozen=True, slots=True)
class ExpiryRun:
    customers: int
    lots: int
    written_off: tuple[Money, ...]
    voided_batches: tuple[VoidedBatch, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"customers": self.customers, "lots": self.lots,
                                "written_off": [m.to_json() for m in self.written_off]}
        if self.voided_batches:  # only then: scripts compare the usual answer whole
            data["voided_batches"] = [b.to_json() for b in self.voided_batches]
        return data


@dataclass(frozen=True, slots=True)
class FunnelLine:
    """One currency of a campaign's funnel (services/vouchers/funnel.py says where each figure comes from)."""

    currency: str
    codes: int
    redeemed: int
    granted: Money
    spent: Money
    expired: Money
    outstanding: Money

    def to_json(self) -> dict[str, Any]:
        return {"currency": self.currency, "codes": self.codes, "redeemed": self.redeemed,
                "granted": self.granted.to_json(), "spent": self.spent.to_json(),
                "expired": self.expired.to_json(), "outstanding": self.outstanding.to_json()}


@dataclass(frozen=True, slots=True)
class CampaignFunnel:
    """A campaign with its funnel, one line per currency its codes were issued in."""

    id: int
    name: str
    created_at: datetime
    lines: tuple[FunnelLine, ...]

    @property
    def codes(self) -> int:
        return sum(line.codes for line in self.lines)

    @property
    def redeemed(self) -> int:
        return sum(line.redeemed for line in self.lines)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "created_at": self.created_at.isoformat(),
                "lines": [line.to_json() for line in self.lines]}


@dataclass(frozen=True, slots=True)
class RedemptionsByDay:
    campaign_id: int
    days: tuple[date, ...]
    counts: tuple[int, ...]

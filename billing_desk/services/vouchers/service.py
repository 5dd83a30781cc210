"""The voucher service: the one object the CLI and the GUI hold for everything voucher.

It only gathers the use cases that live in their own modules (codes, issue and revoke,
file batches, redeem, lists and expiry) behind one typed surface, with the code key resolved on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, datetime, tzinfo
from pathlib import Path

from billing_desk.domain.permissions import Actor, Permission
from billing_desk.services import audit
from billing_desk.services.uow import UnitOfWorkFactory, rerun_when_transient
from billing_desk.services.vouchers import batches as voucher_batches
from billing_desk.services.vouchers import expiry as voucher_expiry
from billing_desk.services.vouchers import export as voucher_export
from billing_desk.services.vouchers import funnel as voucher_funnel
from billing_desk.services.vouchers import issue as voucher_issue
from billing_desk.services.vouchers import lists as voucher_lists
from billing_desk.services.vouchers import redeem as voucher_redeem
from billing_desk.services.vouchers.codes import CodeKey
from billing_desk.services.vouchers.dtos import (
    CampaignFunnel,
    CampaignRow,
    CustomerVoucherRow,
    ExpiryRun,
    IssuedVouchers,
    IssuePreview,
    IssueRequest,
    RedemptionResult,
    RedemptionsByDay,
    RevokeResult,
    VoidedBatch,
    VoucherRow,
)
from billing_desk.services.vouchers.lists import VoucherFilter, parse_status, search_by_last4
from billing_desk.services.vouchers.redeem import VoucherLocked

__all__ = ["VoucherFilter", "VoucherLocked", "VoucherService", "parse_status", "search_by_last4"]


class VoucherService:
    def __init__(self, uow: UnitOfWorkFactory, key: CodeKey) -> None:
        self._uow = uow
        self._key = key

    def preview_issue(self, actor: Actor, request: IssueRequest) -> IssuePreview:
        """The batch's total face value, to confirm before ``issue``."""
        del actor  # a preview writes nothing; ``issue`` checks the permission
        return voucher_issue.preview(request)

    def issue(self, actor: Actor, request: IssueRequest, progress: Callable[[int, int], None] | None = None,
              cancel: Callable[[], bool] | None = None) -> IssuedVouchers:
        """Live codes for the caller to show once; nothing keeps them but the caller's memory.

        ``progress(done, total)`` and ``cancel()`` follow a large batch; cancelled, nothing is issued."""
        return voucher_issue.issue(self._uow, self._key, actor, request, progress, cancel)

    def issue_to_file(self, actor: Actor, request: IssueRequest, path: str | Path) -> IssuedVouchers:
        """Codes written to a new .csv or .xlsx file (owner-only); they redeem only once it is whole."""
        return voucher_batches.issue_to_file(self._uow, self._key, actor, request, path)

    def void_abandoned(self, actor: Actor, now: datetime | None = None) -> list[VoidedBatch]:
        """Void the file batches whose run stopped before the file was finished (safe to repeat)."""
        return voucher_batches.void_abandoned(self._uow, actor, now)

    def revoke(self, actor: Actor, voucher_id: int, reason: str) -> RevokeResult:
        return voucher_issue.revoke_voucher(self._uow, actor, voucher_id, reason)

    def revoke_campaign(self, actor: Actor, campaign: str, reason: str) -> RevokeResult:
        return voucher_issue.revoke_campaign(self._uow, actor, campaign, reason)

    def redeem(self, actor: Actor, customer_ref: str | int, code: str) -> RedemptionResult:
        # One transaction that rolls back whole on a deadlock: safe to run again.
        return rerun_when_transient(lambda: voucher_redeem.redeem(self._uow, self._key, actor, customer_ref, code))

    def customer_vouchers(self, actor: Actor, customer_ref: str | int) -> list[CustomerVoucherRow]:
        return voucher_lists.customer_vouchers(self._uow, actor, customer_ref)

    def list_vouchers(self, actor: Actor, flt: VoucherFilter | None = None, *, before_id: int | None = None,
             limit: int = 200) -> list[VoucherRow]:
        return voucher_lists.list_vouchers(self._uow, actor, flt or VoucherFilter(), before_id=before_id, limit=limit)

    def iter_all(self, actor: Actor, flt: VoucherFilter | None = None) -> Iterator[VoucherRow]:
        return voucher_lists.iter_vouchers(self._uow, actor, flt or VoucherFilter())

    def campaigns(self, actor: Actor) -> list[CampaignRow]:
        return voucher_lists.campaigns(self._uow, actor)

    def campaign_funnels(self, actor: Actor, now: datetime | None = None) -> list[CampaignFunnel]:
        """Every campaign with its funnel per currency: codes, redeemed, credit granted, spent, expired, outstanding."""
        return voucher_funnel.campaign_funnels(self._uow, actor, now)

    def redemptions_by_day(self, actor: Actor, campaign_id: int, days: int, zone: tzinfo,
                           today: date | None = None) -> RedemptionsByDay:
        return voucher_funnel.redemptions_by_day(self._uow, actor, campaign_id, days, zone, today)

    def expire(self, actor: Actor, now: datetime | None = None) -> ExpiryRun:
        """The daily run: write off expired voucher credit, and void abandoned file batches."""
        run = voucher_expiry.expire_all(self._uow, actor, now)
        return replace(run, voided_batches=tuple(voucher_batches.void_abandoned(self._uow, actor, now)))

    def export_codes(self, actor: Actor, issued: IssuedVouchers, path: str | Path) -> int:
        """The codes just issued (and shown once) to a new .csv or .xlsx file, never over an existing one."""
        actor.require(Permission.VOUCHER_ISSUE)
        count = voucher_export.export_codes(issued, path)
        with self._uow.write() as w:
            entity, entity_id = ("voucher_campaign", issued.campaign_id) if issued.campaign_id else \
                ("voucher", issued.voucher_ids[0])
            audit.record(w.session, actor, "voucher.export_codes", entity, entity_id,
                         {"codes": count, "file": Path(path).name, "first_id": issued.voucher_ids[0],
                          "last_id": issued.voucher_ids[-1]})
            w.commit()
        return count

    def export_list(self, actor: Actor, flt: VoucherFilter | None, path: str | Path) -> int:
        actor.require(Permission.VOUCHER_LIST)
        actor.require(Permission.EXPORT)

        def record(rows: int) -> None:
            with self._uow.write() as w:
                audit.record(w.session, actor, "voucher.export", "voucher", "-",
                             {"rows": rows, "file": Path(path).name, "filter": repr(flt or VoucherFilter())})
                w.commit()

        return voucher_export.export_list(self.iter_all(actor, flt), path, record)

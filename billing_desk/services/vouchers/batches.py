"""Issuing codes into a file, so that a crash at any moment leaves either no redeemable code of
the batch, or every code redeemable and the whole file at its final name.

The order, and why it is this one:

1. The codes are committed in a *pending* batch. Pending codes never redeem (redemption
   refuses them, the lists show them as pending), so from here on a crash leaves codes that
   are dead wherever their plain text lies: nowhere, a part-written temporary file, a whole one.
2. The file is written beside its target under a temporary name and flushed to disk.
3. It takes its final name, never over an existing file, and the folder is flushed, so the
   name survives a power cut too.
4. A second, one-row transaction turns the batch active: only now can a code redeem.

A crash after 4 leaves a live batch and its whole file, which is what was asked. The other
order (file first, then commit, then rename) has a moment when live codes exist only in a
hidden temporary file; making that safe needs a recovery that finds the file and finishes the
rename, which never happens if the next run is on another desk, or never comes. Here safety
needs no recovery. The clean-up (``void_abandoned``, run by the next `voucher issue --out` and
by `vouchers expire`) only tidies: it voids pending batches older than ``ABANDONED_AFTER``, with
an audit row, and deletes their temporary files. Activation and voiding are both conditional
updates from pending, so a run that outlives that margin fails cleanly instead of racing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from billing_desk.domain.enums import VoucherBatchState
from billing_desk.domain.errors import Conflict
from billing_desk.domain.permissions import Actor, Permission
from billing_desk.models import VoucherBatch, utcnow
from billing_desk.services import audit
from billing_desk.services.crashpoints import crash_point
from billing_desk.services.exports import leftover_temps
from billing_desk.services.uow import UnitOfWorkFactory
from billing_desk.services.vouchers.codes import CodeKey
from billing_desk.services.vouchers.dtos import IssuedVouchers, IssueRequest, VoidedBatch
from billing_desk.services.vouchers.export import check_code_file, export_codes
from billing_desk.services.vouchers.issue import insert_vouchers, new_codes, validate_request

# Writing 100,000 codes takes seconds; a batch still pending after this long lost its run.
ABANDONED_AFTER = timedelta(minutes=15)
PENDING, ACTIVE, VOID = VoucherBatchState.PENDING.value, VoucherBatchState.ACTIVE.value, VoucherBatchState.VOID.value
log = logging.getLogger(__name__)


def issue_to_file(uow: UnitOfWorkFactory, key: CodeKey, actor: Actor, req: IssueRequest,
                  path: str | Path) -> IssuedVouchers:
    actor.require(Permission.VOUCHER_ISSUE)
    now = utcnow()
    validate_request(req, now)
    target = check_code_file(path)  # refused before anything is issued
    codes, rows = new_codes(key, req.count)
    with uow.write() as w:
        batch = VoucherBatch(state=PENDING, codes=req.count, out_path=str(target), created_by=actor.staff_id,
                             created_at=now)
        w.session.add(batch)
        w.session.flush()
        issued = insert_vouchers(w.session, actor, req, now, codes, rows, batch_id=batch.id)
        crash_point("voucher.before_commit")
        w.commit()
    crash_point("voucher.after_commit")
    _finish(uow, actor, issued, target)
    crash_point("voucher.after_activate")
    return issued


def _finish(uow: UnitOfWorkFactory, actor: Actor, issued: IssuedVouchers, target: Path) -> None:
    """Write the file, then activate; on any failure (Ctrl-C too) void the batch instead."""
    assert issued.batch_id is not None
    placed = False
    try:
        export_codes(issued, target, temp_tag=_temp_tag(issued.batch_id))
        placed = True
        crash_point("voucher.after_rename")
        _activate(uow, actor, issued.batch_id, target)
    except BaseException:
        if not _void_failed(uow, actor, issued.batch_id, target if placed else None):
            raise


def _activate(uow: UnitOfWorkFactory, actor: Actor, batch_id: int, target: Path) -> None:
    with uow.write() as w:
        if not _settle(w.session, batch_id, ACTIVE):
            raise Conflict("This batch waited so long that it was voided before its file was finished: none of its "
                           "codes can be redeemed. Issue it again.")
        audit.record(w.session, actor, "voucher.batch_activate", "voucher_batch", batch_id, {"file": target.name})
        w.commit()


def _void_failed(uow: UnitOfWorkFactory, actor: Actor, batch_id: int, placed: Path | None) -> bool:
    """Void the batch of a run that failed; True if it is active after all (its activation committed)."""
    try:
        if not _void(uow, actor, batch_id, "its file could not be finished"):
            with uow.read() as r:
                if r.session.scalar(select(VoucherBatch.state).where(VoucherBatch.id == batch_id)) == ACTIVE:
                    return True
    except Exception:
        # The database is out of reach: the batch stays pending (never redeemable) until the next run voids it;
        # a placed file stays too, since its activation may have committed.
        log.warning("could not void voucher batch %s after a failure", batch_id, exc_info=True)
        return False
    if placed is not None:
        placed.unlink(missing_ok=True)  # its codes are void: a file of them must not look usable
    return False


def _void(uow: UnitOfWorkFactory, actor: Actor, batch_id: int, reason: str) -> bool:
    """Void a pending batch; False if it was not pending."""
    with uow.write() as w:
        batch = w.session.get(VoucherBatch, batch_id)
        if batch is None or not _settle(w.session, batch_id, VOID):
            return False
        audit.record(w.session, actor, "voucher.batch_void", "voucher_batch", batch_id,
                     {"codes": batch.codes, "file": Path(batch.out_path).name, "created_at": batch.created_at},
                     reason=reason)
        w.commit()
    return True


def _settle(session: Session, batch_id: int, state: str) -> bool:
    """Move a pending batch to ``state``; the row count decides between a finishing run and a clean-up."""
    result = session.execute(
        update(VoucherBatch).where(VoucherBatch.id == batch_id, VoucherBatch.state == PENDING)
        .values(state=state, settled_at=utcnow()).execution_options(synchronize_session=False))
    return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]


def _temp_tag(batch_id: int) -> str:
    return f"batch{batch_id}"


def void_abandoned(uow: UnitOfWorkFactory, actor: Actor, now: datetime | None = None) -> list[VoidedBatch]:
    """Void the batches whose run stopped before their file was finished (safe to repeat)."""
    actor.require(Permission.VOUCHER_ISSUE)
    cutoff = (now or utcnow()) - ABANDONED_AFTER
    with uow.read() as r:
        stale = r.session.execute(
            select(VoucherBatch.id, VoucherBatch.codes, VoucherBatch.out_path, VoucherBatch.created_at)
            .where(VoucherBatch.state == PENDING, VoucherBatch.created_at <= cutoff).order_by(VoucherBatch.id)).all()
    voided = []
    for batch_id, codes, out_path, created_at in stale:
        # The part-written files go first: killed in between, the batch is still pending for the next run,
        # whereas files left behind a void batch would never be looked for again.
        removed = _remove_temps(Path(out_path), batch_id)
        if _void(uow, actor, batch_id, "abandoned: its run stopped before its file was finished"):
            voided.append(VoidedBatch(batch_id, codes, out_path, created_at, removed, Path(out_path).exists()))
    return voided


def _remove_temps(target: Path, batch_id: int) -> int:
    """Delete a batch's temporary files: plain text of codes that can never redeem, but nobody should find it."""
    removed = 0
    for temp in leftover_temps(target, _temp_tag(batch_id)):
        try:
            temp.unlink()
            removed += 1
        except FileNotFoundError:
            pass
        except OSError:
            log.warning("could not delete %s", temp, exc_info=True)
    return removed


def batch_refusal(session: Session, batch_id: int | None) -> str | None:
    """Why a code of this batch cannot redeem; None when it can (no batch, or an active one)."""
    if batch_id is None:
        return None
    state = session.scalar(select(VoucherBatch.state).where(VoucherBatch.id == batch_id))
    if state == PENDING:
        return ("This voucher is not active: the file of its batch has not been finished, so its codes cannot be "
                "redeemed yet.")
    if state == VOID:
        return "This voucher is void: its batch stopped before its file was finished, so none of its codes can be used."
    return None

"""Verifying the audit chain: each row against its hash, its predecessor and its sequence
number; the newest row against the head; the head against one recorded outside the database.

Rows are read with Core in id order, a page at a time, inside one snapshot (REPEATABLE READ
on PostgreSQL, the read transaction's snapshot on SQLite), so that a desk appending while
verify runs is never taken for a row added behind the head's back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import RowMapping, select
from sqlalchemy.orm import Session

from billing_desk.domain.errors import Cancelled, ValidationError
from billing_desk.models import AuditEntry, AuditHead
from billing_desk.services.audit.chain import GENESIS_HASH, HASHED_COLUMNS, row_hash

_LOG = AuditEntry.__table__
_HASH = re.compile(r"[0-9a-f]{64}")
Progress = Callable[[int, int], None]  # rows checked, rows the head records
CancelCheck = Callable[[], bool]


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The head record as stored: what an operator copies out to check later."""

    last_id: int
    last_hash: str
    rows: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.last_id, "hash": self.last_hash, "rows": self.rows}


@dataclass(frozen=True, slots=True)
class AuditVerification:
    checked: int
    broken_id: int | None  # the first broken (or missing) row, where a row can be named
    problem: str | None
    head: ChainHead | None = None
    recorded_head_id: int | None = None  # the row carrying the hash given as expect_head

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass
class _Walk:
    checked: int = 0
    last_id: int = 0
    last_hash: str = GENESIS_HASH
    version: int = 0


def parse_head_hash(value: str) -> str:
    clean = value.strip().lower()
    if not _HASH.fullmatch(clean):
        raise ValidationError(
            "A recorded head hash is the 64 hexadecimal characters `audit verify` prints; check the copy.",
            field="expect_head",
        )
    return clean


def verify_chain(session: Session, expect_head: str | None, progress: Progress | None = None,
                 cancel: CancelCheck | None = None) -> AuditVerification:
    expected = parse_head_hash(expect_head) if expect_head is not None else None
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    stored = session.execute(select(AuditHead.last_id, AuditHead.last_hash, AuditHead.row_count)).one_or_none()
    head = ChainHead(*stored) if stored is not None else None
    walk = _Walk()
    total = head.rows if head is not None else 0
    for row in _stream(session, on_page=lambda: _tell(walk.checked, total, progress, cancel)):
        broken = _check_row(row, walk, head)
        if broken is not None:
            return AuditVerification(walk.checked, *broken, head=head)
        walk.checked += 1
        walk.last_id, walk.last_hash, walk.version = row["id"], row["hash"], row["hash_version"]
    if progress is not None:
        progress(walk.checked, max(total, walk.checked))
    broken_id, problem = _against_head(walk, head)
    if problem is not None or expected is None:
        return AuditVerification(walk.checked, broken_id, problem, head=head)
    recorded_id, problem = _against_recorded(session, expected)
    return AuditVerification(walk.checked, None, problem, head=head, recorded_head_id=recorded_id)


def _check_row(row: RowMapping, walk: _Walk, head: ChainHead | None) -> tuple[int, str] | None:
    row_id, version = row["id"], row["hash_version"]
    if version not in HASHED_COLUMNS:
        return row_id, f"its hash version {version} is unknown"
    if version < walk.version:
        return row_id, f"it claims hash version {version} after rows of version {walk.version}"
    if row_id < 1:
        return row_id, "its sequence number is out of order"
    # Version 1 ids came from a database sequence, which skips values on rollback; from
    # version 2 on the service numbers rows one by one, so any gap is a deleted row.
    if version >= 2 and row_id != walk.last_id + 1:
        return walk.last_id + 1, f"{_missing(walk.last_id + 1, row_id - 1)} (the sequence jumps to {row_id})"
    if head is not None and row_id > head.last_id:
        return row_id, f"it is past the newest row the head records (row {head.last_id}): added behind its back"
    if row["prev_hash"] != walk.last_hash:
        return row_id, "does not link to the row before it"
    if row_hash(row) != row["hash"]:
        return row_id, "its content does not match its hash"
    return None


def _against_head(walk: _Walk, head: ChainHead | None) -> tuple[int | None, str | None]:
    if head is None:
        return None, "the audit head record is missing, so rows cut off the end of the log cannot be ruled out"
    if walk.last_id < head.last_id:
        ends = f"the log ends at row {walk.last_id}" if walk.checked else "the log is empty"
        return walk.last_id + 1, (
            f"{ends} but its head records row {head.last_id} as the newest: "
            f"{_missing(walk.last_id + 1, head.last_id)}"
        )
    if walk.last_hash != head.last_hash:  # every row checked out, so no row is to blame
        return None, f"the newest row ({walk.last_id}) does not carry the hash the head records"
    if walk.checked != head.rows:
        return None, f"the head records {head.rows} rows but the log holds {walk.checked}"
    return None, None


def _against_recorded(session: Session, expected: str) -> tuple[int | None, str | None]:
    """The chain is intact here, so a row carrying the recorded hash proves that every row up
    to it is as it was when that hash was recorded (each hash covers all rows before it)."""
    if expected == GENESIS_HASH:  # recorded while the log was still empty: nothing to hold
        return None, None
    found = session.scalar(select(AuditEntry.id).where(AuditEntry.hash == expected))
    if found is None:
        return None, (
            f"no row carries the recorded head {expected}: the log was cut back or rewritten after it was recorded"
        )
    return found, None


def _missing(first: int, last: int) -> str:
    return f"row {first} is missing" if first == last else f"rows {first} to {last} are missing"


def _tell(checked: int, total: int, progress: Progress | None, cancel: CancelCheck | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled(f"Verify stopped at your request after {checked:,} rows; nothing was found wrong so far.")
    if progress is not None:
        progress(checked, max(total, checked))


def _stream(session: Session, page: int = 5000, on_page: Callable[[], None] | None = None) -> Iterator[RowMapping]:
    last_id: int | None = None
    while True:
        if on_page is not None:  # between pages: progress, and the place to stop at Cancel
            on_page()
        query = select(_LOG).order_by(_LOG.c.id).limit(page)
        if last_id is not None:
            query = query.where(_LOG.c.id > last_id)
        rows = session.execute(query).mappings().all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1]["id"]

"""The audit hash: which columns each version covers, and that each of them counts."""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from billing_desk.models import AuditEntry
from billing_desk.services.audit.chain import CURRENT_HASH_VERSION, GENESIS_HASH, HASHED_COLUMNS, row_hash

ROW: dict[str, Any] = {
    "id": 7,
    "hash_version": CURRENT_HASH_VERSION,
    "prev_hash": GENESIS_HASH,
    "at": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    "staff_id": 3,
    "staff_name": "support",
    "action": "customer.update",
    "entity": "customer",
    "entity_id": "42",
    "summary": '{"changes":{}}',
    "reason": None,
}


def test_the_current_version_hashes_every_column_but_the_hash() -> None:
    """Adding a column to audit_log without a new hash version (and its list) fails here."""
    columns = {c.name for c in AuditEntry.__table__.columns} - {"hash"}
    assert set(HASHED_COLUMNS[CURRENT_HASH_VERSION]) == columns == set(ROW)


def test_a_later_version_never_drops_a_column() -> None:
    versions = sorted(HASHED_COLUMNS)
    for older, newer in itertools.pairwise(versions):
        assert set(HASHED_COLUMNS[older]) <= set(HASHED_COLUMNS[newer])


@pytest.mark.parametrize("column", HASHED_COLUMNS[CURRENT_HASH_VERSION])
def test_every_hashed_column_changes_the_hash(column: str) -> None:
    changed = {
        "id": 8,
        "hash_version": 1,
        "prev_hash": "1" * 64,
        "at": ROW["at"] + timedelta(microseconds=1),
        "staff_id": None,
        "reason": "",
    }.get(column, str(ROW[column]) + " ")
    assert row_hash({**ROW, column: changed}) != row_hash(ROW)


def test_an_unknown_version_has_no_hash() -> None:
    assert row_hash({**ROW, "hash_version": 99}) is None


def test_version_1_hashes_exactly_as_before_0005() -> None:
    """Rows written before 0005 keep verifying: their formula, frozen here, left out id and staff_id."""
    row = {**ROW, "hash_version": 1, "reason": "goodwill"}
    old = [GENESIS_HASH, row["at"].isoformat(), "support", "customer.update", "customer", "42", '{"changes":{}}',
           "goodwill"]
    payload = json.dumps(old, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    assert row_hash(row) == hashlib.sha256(payload.encode("utf-8")).hexdigest()

"""How an audit row's hash is computed, by hash version.

Version 1 (rows written before migration 0005) hashes a fixed list of eight values and
leaves out ``id`` and ``staff_id``. Version 2 hashes every column of the row but the hash
itself, as canonical JSON keyed by column name, so that the row's sequence number (its id),
who wrote it (staff id and name) and its version are all covered. A column added later
(the database login, say) is a new version with its own column list: rows keep the version
they were written with, so old rows stay verifiable and new rows cover the new column.
``tests/unit/test_audit_chain.py`` fails when a column of ``audit_log`` is in no list.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

GENESIS_HASH = "0" * 64
CURRENT_HASH_VERSION = 2

# The columns each version covers, in the order they appear in the hashed JSON.
HASHED_COLUMNS: dict[int, tuple[str, ...]] = {
    1: ("prev_hash", "at", "staff_name", "action", "entity", "entity_id", "summary", "reason"),
    2: (
        "id",
        "hash_version",
        "prev_hash",
        "at",
        "staff_id",
        "staff_name",
        "action",
        "entity",
        "entity_id",
        "summary",
        "reason",
    ),
}


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _plain(value: Any) -> Any:
    # Timestamps are hashed as ISO text, as version 1 did; both databases return the same
    # microsecond-precision UTC instant, so the text is the same on the way in and out.
    return value.isoformat() if isinstance(value, datetime) else value


def row_hash(row: Mapping[Any, Any]) -> str | None:
    """The hash ``row`` (column name → value) should carry; None for an unknown version."""
    version = row["hash_version"]
    columns = HASHED_COLUMNS.get(version)
    if columns is None:
        return None
    if version == 1:
        payload = canonical_json([_plain(row[c]) for c in columns])
    else:
        payload = canonical_json({c: _plain(row[c]) for c in columns})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()

"""Frozen data of the credit ledger that crosses to the CLI and the GUI.

The GUI's Credit History tab pages with ``HistoryCursor`` (keyset: created_at, id, newest
first) and asks for ``HistoryTotals`` separately, so a page can be shown before the count and
sum over a large history are ready. Everything here is immutable and thread-safe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from billing_desk.domain.enums import EntryStatus, LedgerKind
from billing_desk.domain.errors import ValidationError
from billing_desk.domain.ids import MAX_ROW_ID
from billing_desk.domain.money import Money
from billing_desk.services.customers import Balance


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """What the staff member narrowed the history to; empty fields mean "any".

    ``date_from``/``date_to`` are whole days in the staff member's local time zone
    (``domain.dates.local_zone``), both inclusive; ``text`` matches the description,
    case-insensitively, anywhere.
    """

    services: tuple[str, ...] = ()
    statuses: tuple[EntryStatus, ...] = ()
    kinds: tuple[LedgerKind, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    text: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "services": list(self.services), "statuses": [s.value for s in self.statuses],
            "kinds": [k.value for k in self.kinds],
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None, "text": self.text,
        }

    def describe(self) -> str:
        """One line for people (export header, audit): 'service Storage; from 2026-01-01'."""
        parts = []
        if self.services:
            parts.append("service " + ", ".join(self.services))
        if self.statuses:
            parts.append("status " + ", ".join(s.value for s in self.statuses))
        if self.kinds:
            parts.append("kind " + ", ".join(k.value for k in self.kinds))
        if self.date_from:
            parts.append(f"from {self.date_from.isoformat()}")
        if self.date_to:
            parts.append(f"to {self.date_to.isoformat()}")
        if self.text:
            parts.append(f"description contains '{self.text}'")
        return "; ".join(parts) or "all transactions"


@dataclass(frozen=True, slots=True, order=True)
class HistoryCursor:
    """Where the next page starts: strictly older than (created_at, id)."""

    created_at: datetime
    id: int

    def to_token(self) -> str:
        return f"{self.created_at.astimezone(UTC).isoformat()}~{self.id}"

    @classmethod
    def from_token(cls, token: str) -> HistoryCursor:
        try:
            at, _, ident = token.strip().rpartition("~")
            when = datetime.fromisoformat(at)
            if when.tzinfo is None:
                raise ValueError("naive")
            number = int(ident)
            if not 0 < number <= MAX_ROW_ID:
                raise ValueError("no row has this id")
            return cls(when.astimezone(UTC), number)
        except (ValueError, AttributeError, OverflowError):
            raise ValidationError(
                f"'{token}' is not a page cursor; pass the next_cursor printed by the previous page.",
                field="after",
            ) from None


@dataclass(frozen=True, slots=True)
class HistoryRow:
    id: int
    created_at: datetime  # aware, UTC
    kind: LedgerKind
    service: str
    description: str
    status: EntryStatus
    failure_reason: str | None
    amount: Money
    source: str  # 'topup' or 'voucher': which credit the row moves

    @property
    def cursor(self) -> HistoryCursor:
        return HistoryCursor(self.created_at, self.id)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "created_at": self.created_at.isoformat(), "kind": self.kind.value,
            "service": self.service, "description": self.description, "status": self.status.value,
            "failure_reason": self.failure_reason, "amount": self.amount.to_json(), "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class HistoryPage:
    rows: tuple[HistoryRow, ...]
    next_cursor: HistoryCursor | None  # None: this was the last page


@dataclass(frozen=True, slots=True)
class HistoryTotals:
    """How many rows match the filter, and the sum of the successful ones (failed rows
    moved no money). ``total`` is None for a customer with no billing currency yet."""

    count: int
    total: Money | None

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "sum": self.total.to_json() if self.total else None}


@dataclass(frozen=True, slots=True)
class ServiceSpending:
    """One service's spending per day, positive minor units, aligned with ``DailySpending.days``."""

    service: str
    per_day: tuple[int, ...]
    plan_charges: bool = False  # the plan's charges (one big day at an upgrade), not usage

    @property
    def total(self) -> int:
        return sum(self.per_day)


@dataclass(frozen=True, slots=True)
class DailySpending:
    """What a customer spent per service per whole local day (the staff member's zone),
    oldest day first: successful usage and plan charges; failed rows, credits and
    corrections are not spending. ``services`` holds only services with spending, by name;
    ``currency`` is None for a customer with no billing currency (and so no spending)."""

    currency: str | None
    days: tuple[date, ...]
    services: tuple[ServiceSpending, ...]

    def per_day(self, service: str) -> tuple[int, ...]:
        """The service's figures, all zero if it spent nothing in the period."""
        found = next((s for s in self.services if s.service == service), None)
        return found.per_day if found else (0,) * len(self.days)

    def to_json(self) -> dict[str, Any]:
        return {"currency": self.currency, "days": [d.isoformat() for d in self.days],
                "services": {s.service: list(s.per_day) for s in self.services}}


@dataclass(frozen=True, slots=True)
class ServiceDTO:
    id: int
    name: str
    is_usage: bool  # False for the fixed labels (Top-up, Voucher, ...)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "usage": self.is_usage}


@dataclass(frozen=True, slots=True)
class PostingOutcome:
    """What one usage or adjustment did to one customer."""

    customer_id: int
    account: str
    status: EntryStatus
    amount: Money
    entry_ids: tuple[int, ...]
    duplicate: bool
    failure_reason: str | None
    balance: Balance

    def to_json(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id, "account": self.account, "status": self.status.value,
            "amount": self.amount.to_json(), "entry_ids": list(self.entry_ids), "duplicate": self.duplicate,
            "failure_reason": self.failure_reason, "balance": self.balance.to_json(),
        }


@dataclass(frozen=True, slots=True)
class ImportReport:
    """The outcome of one usage file: every line was applied, or none was."""

    lines: int
    charged: int
    failed: int  # recorded as failed rows: insufficient credit
    duplicates: int  # keys seen before: skipped, never charged twice
    totals: tuple[Money, ...] = field(default=())  # charged sum per currency
    # Of the duplicates, keys whose charge was refused when first seen: a replayed file must
    # still say that those lines were not charged.
    duplicates_failed: int = 0

    @property
    def not_charged(self) -> int:
        """Lines refused for insufficient credit, now or when their key was first seen."""
        return self.failed + self.duplicates_failed

    def to_json(self) -> dict[str, Any]:
        return {"lines": self.lines, "charged": self.charged, "failed": self.failed,
                "duplicates": self.duplicates, "totals": [m.to_json() for m in self.totals],
                "duplicates_failed": self.duplicates_failed}


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One customer whose stored figure differs from the sum of its rows."""

    customer_id: int
    account: str
    figure: str  # 'total', 'topup', 'voucher', 'voucher lots', 'balance row missing' or 'rows in XXX'
    stored: Money | None
    ledger: Money | None

    def describe(self) -> str:
        if self.figure.startswith("rows in "):
            return f"{self.account}: has ledger {self.figure}, not in the currency of its balance"
        if self.stored is None or self.ledger is None:
            return f"{self.account}: has ledger rows or voucher credit but no balance row"
        return (f"{self.account}: {self.figure} stored {self.stored} but the ledger says {self.ledger} "
                f"(difference {self.stored - self.ledger})")

    def to_json(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id, "account": self.account, "figure": self.figure,
                "stored": self.stored.to_json() if self.stored else None,
                "ledger": self.ledger.to_json() if self.ledger else None}


@dataclass(frozen=True, slots=True)
class Unjustified:
    """Credit without its cause (a ledger row, ``entry_id``), or a cause without its credit
    (a settled payment never credited: ``entry_id`` is None)."""

    entry_id: int | None
    customer_id: int
    account: str
    amount: Money
    problem: str

    def describe(self) -> str:
        where = f"ledger row {self.entry_id}" if self.entry_id is not None else "payment"
        return f"{self.account}: {where} of {self.amount}: {self.problem}"

    def to_json(self) -> dict[str, Any]:
        return {"entry_id": self.entry_id, "customer_id": self.customer_id, "account": self.account,
                "amount": self.amount.to_json(), "problem": self.problem}


@dataclass(frozen=True, slots=True)
class VerifyReport:
    customers: int
    rows: int
    mismatches: tuple[Mismatch, ...]
    seconds: float
    unjustified: tuple[Unjustified, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.unjustified

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "customers": self.customers, "rows": self.rows,
                "mismatches": [m.to_json() for m in self.mismatches],
                "unjustified": [u.to_json() for u in self.unjustified], "seconds": round(self.seconds, 3)}



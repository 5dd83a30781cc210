"""Audit tamper evidence: random tamperings of a seeded audit log, each caught by `audit verify`.

Each tampering is what someone with direct SQL access to the database could do: edit any
column of any row, delete any row (the newest too) or the newest few, reorder rows, truncate
the log (with or without its head), edit or delete the head, append a forged row. The guard
triggers are dropped (SQLite) or disabled (PostgreSQL) first and put back afterwards, as a
careful tamperer would. Verify must report the log broken and name the row, or the head
mismatch. A tamperer who also rewrites the head to match (cut the tail and re-anchor it;
edit a row and re-chain every row after it) leaves a consistent database: verify is shown to
pass on it (the limit docs/RELIABILITY.md states) and to fail once given the head hash an
operator recorded outside the database (`--expect-head`). After each tampering the log is
put back and must verify intact again, so that no catch is a leftover of the one before.
"""

from __future__ import annotations

import functools
import json
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Integer, delete, insert, select, update
from sqlalchemy.engine import Engine

from billing_desk.bootstrap import App
from billing_desk.domain.enums import Role
from billing_desk.domain.permissions import SYSTEM_ACTOR, Actor
from billing_desk.models import AuditEntry, AuditHead
from billing_desk.services.audit import record
from billing_desk.services.audit.chain import row_hash
from tests.support.audit_tamper import tamper_audit

QUICK_TAMPERINGS = 50
LONG_TAMPERINGS = 1000
SEEDED_ROWS = 40
LOG = AuditEntry.__table__
HEAD = AuditHead.__table__
Row = dict[str, Any]


@dataclass(frozen=True)
class Snapshot:
    rows: list[Row]
    head: Row

    @property
    def newest(self) -> int:
        return int(self.rows[-1]["id"])


@dataclass(frozen=True)
class Tampering:
    """What was done, and what verify must say: the rows it may name (None: the head)."""

    kind: str
    apply: Callable[[Connection], None]
    names: frozenset[int] | None
    needs_recorded_head: bool = False  # a consistent rewrite, caught only against a copy kept outside


# --- the tamperer: guards off, direct SQL, guards back on ---------------------------------


class Tamperer:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def run(self, action: Callable[[Connection], None]) -> None:
        tamper_audit(self.engine, action)

    def snapshot(self) -> Snapshot:
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(select(LOG).order_by(LOG.c.id))]
            head = dict(conn.execute(select(HEAD)).one()._mapping)
        return Snapshot(rows, head)

    def restore(self, snap: Snapshot) -> None:
        def put_back(conn: Connection) -> None:
            conn.execute(delete(HEAD))
            conn.execute(delete(LOG))
            conn.execute(insert(LOG), snap.rows)
            conn.execute(insert(HEAD), [snap.head])

        self.run(put_back)


# --- the tamperings -----------------------------------------------------------------------


def _other_text(rng: random.Random, value: str) -> str:
    """The same text with one character changed (same length: hashes stay 64 characters)."""
    if not value:
        return "x"
    pos = rng.randrange(len(value))
    pool = [c for c in "0123456789abcdefXYZ é{}" if c != value[pos]]
    return value[:pos] + rng.choice(pool) + value[pos + 1 :]


def _other_value(rng: random.Random, name: str, value: Any, snap: Snapshot) -> Any:
    column = LOG.c[name]
    if name == "id":  # moved past the end, or before the start
        return rng.choice([snap.newest + rng.randint(1, 3), -rng.randint(0, 3)])
    if isinstance(value, datetime):
        return value + rng.choice([timedelta(microseconds=1), timedelta(seconds=1), -timedelta(days=1)])
    if isinstance(column.type, Integer):
        choices = [v for v in (None, 0, 1, 2, 3, 4, 5) if v != value and (v is not None or column.nullable)]
        return rng.choice(choices)
    if value is None:
        return rng.choice(["", "x", "reason"])
    if column.nullable and rng.random() < 0.2:
        return None
    return _other_text(rng, str(value))


def edit_any_column(rng: random.Random, snap: Snapshot, name: str | None = None) -> Tampering:
    row = rng.choice(snap.rows)
    name = name or rng.choice([c.name for c in LOG.columns])
    new = _other_value(rng, name, row[name], snap)
    names = {row["id"], new} if name == "id" else {row["id"]}
    return Tampering(
        f"edit {name}",
        lambda conn: conn.execute(update(LOG).where(LOG.c.id == row["id"]).values({name: new})),
        frozenset(names),
    )


def delete_a_row(rng: random.Random, snap: Snapshot, newest: bool | None = None) -> Tampering:
    newest = rng.random() < 0.3 if newest is None else newest
    row_id = snap.newest if newest else rng.choice(snap.rows[:-1])["id"]
    kind = "delete the newest row" if row_id == snap.newest else "delete a row"
    return Tampering(kind, lambda conn: conn.execute(delete(LOG).where(LOG.c.id == row_id)), frozenset({row_id}))


def delete_the_tail(rng: random.Random, snap: Snapshot) -> Tampering:
    first = snap.newest - rng.randint(1, 5)
    return Tampering(
        "delete the newest rows", lambda conn: conn.execute(delete(LOG).where(LOG.c.id >= first)), frozenset({first})
    )


def reorder(rng: random.Random, snap: Snapshot) -> Tampering:
    a, b = sorted(rng.sample([r["id"] for r in snap.rows], 2))

    def swap(conn: Connection) -> None:
        for old, new in ((a, -1_000), (b, a), (-1_000, b)):
            conn.execute(update(LOG).where(LOG.c.id == old).values(id=new))

    return Tampering("swap two rows", swap, frozenset({a}))


def truncate(rng: random.Random, snap: Snapshot, with_head: bool | None = None) -> Tampering:
    with_head = rng.random() < 0.3 if with_head is None else with_head

    def empty(conn: Connection) -> None:
        tables = ("audit_log", "audit_head") if with_head else ("audit_log",)
        for table in tables:
            conn.exec_driver_sql(f"DELETE FROM {table}" if conn.dialect.name == "sqlite" else f"TRUNCATE {table}")

    if with_head:
        return Tampering("truncate the log and its head", empty, None)
    return Tampering("truncate the log", empty, frozenset({snap.rows[0]["id"]}))


def edit_the_head(rng: random.Random, snap: Snapshot, change: str | None = None) -> Tampering:
    head = snap.head
    change = change or rng.choice(["last_id", "last_hash", "row_count", "delete"])
    if change == "delete":
        return Tampering("delete the head", lambda conn: conn.execute(delete(HEAD)), None)
    value = _other_text(rng, head[change]) if change == "last_hash" else head[change] + rng.choice([-2, -1, 1, 2])
    return Tampering(f"edit the head's {change}", lambda conn: conn.execute(update(HEAD).values({change: value})), None)


def forge_an_append(rng: random.Random, snap: Snapshot) -> Tampering:
    """A well-formed row chained onto the newest, its hash computed as the service would;
    the head is left alone."""
    forged = {**snap.rows[-1], "id": snap.newest + 1, "prev_hash": snap.rows[-1]["hash"], "reason": "forged"}
    forged["hash"] = row_hash(forged)
    return Tampering(
        "append a forged row", lambda conn: conn.execute(insert(LOG), [forged]), frozenset({snap.newest + 1})
    )


def cut_and_reanchor(rng: random.Random, snap: Snapshot) -> Tampering:
    keep = rng.randint(1, len(snap.rows) - 1)
    last = snap.rows[keep - 1]

    def cut(conn: Connection) -> None:
        conn.execute(delete(LOG).where(LOG.c.id > last["id"]))
        conn.execute(update(HEAD).values(last_id=last["id"], last_hash=last["hash"], row_count=keep))

    return Tampering("delete the newest rows and rewrite the head", cut, None, needs_recorded_head=True)


def rewrite_and_rechain(rng: random.Random, snap: Snapshot) -> Tampering:
    start = rng.randrange(len(snap.rows))

    def rechain(conn: Connection) -> None:
        prev = snap.rows[start - 1]["hash"] if start else snap.rows[0]["prev_hash"]
        for n, original in enumerate(snap.rows[start:]):
            row = {**original, "prev_hash": prev}
            if n == 0:
                row["summary"] = json.dumps({"rewritten": True})
            row["hash"] = row_hash(row)
            conn.execute(update(LOG).where(LOG.c.id == row["id"]).values(summary=row["summary"], prev_hash=prev,
                                                                          hash=row["hash"]))
            prev = row["hash"]
        conn.execute(update(HEAD).values(last_hash=prev))

    return Tampering("edit a row, re-chain the rows after it and the head", rechain, None, needs_recorded_head=True)


Maker = Callable[[random.Random, Snapshot], Tampering]
TAMPERINGS: list[tuple[Maker, int]] = [
    (edit_any_column, 40),
    (delete_a_row, 15),
    (delete_the_tail, 8),
    (reorder, 10),
    (truncate, 6),
    (edit_the_head, 9),
    (forge_an_append, 4),
    (cut_and_reanchor, 4),
    (rewrite_and_rechain, 4),
]


# --- the run ------------------------------------------------------------------------------


def _every_kind() -> list[Maker]:
    """The first tamperings of a run: each column edited, each kind and variant once; the
    rest are drawn at random."""
    columns: list[Maker] = [functools.partial(edit_any_column, name=c.name) for c in LOG.columns]
    variants: list[Maker] = [
        functools.partial(delete_a_row, newest=False),
        functools.partial(delete_a_row, newest=True),
        functools.partial(truncate, with_head=False),
        functools.partial(truncate, with_head=True),
        *(functools.partial(edit_the_head, change=c) for c in ("last_id", "last_hash", "row_count", "delete")),
    ]
    others = [m for m, _ in TAMPERINGS if m not in (edit_any_column, delete_a_row, truncate, edit_the_head)]
    return columns + variants + others


def _seed(app: App) -> None:
    """Rows from every kind of writer: four staff roles and the system, reasons or none,
    summaries with non-ASCII text."""
    actors = [Actor(i + 1, name, Role(name)) for i, name in enumerate(("admin", "manager", "support", "finance"))]
    actors.append(SYSTEM_ACTOR)
    rng = random.Random(7)
    while True:
        with app.uow.read() as uow:
            if uow.session.scalar(select(HEAD.c.row_count)) >= SEEDED_ROWS:
                return
        with app.uow.write() as uow:
            n = rng.randrange(10_000)
            record(uow.session, rng.choice(actors), rng.choice(["customer.update", "credit.adjust", "voucher.issue"]),
                   "customer", n, {"n": n, "name": "Nguyễn Thị Lan", "amount": {"minor": n * 100, "currency": "VND"}},
                   rng.choice([None, "goodwill", "đã hoàn tiền"]))
            uow.commit()


@dataclass
class Tally:
    tried: Counter[str] = field(default_factory=Counter)
    caught: Counter[str] = field(default_factory=Counter)
    caught_only_with_recorded_head: Counter[str] = field(default_factory=Counter)

    def line(self, backend: str) -> str:
        return (f"{backend}: {sum(self.tried.values())} tamperings tried, {sum(self.caught.values())} caught "
                f"({sum(self.caught_only_with_recorded_head.values())} of them consistent rewrites caught by "
                f"the recorded head); by kind: {dict(sorted(self.tried.items()))}")


def _check_cli(cli: Any, tampering: Tampering, snap: Snapshot, service_result: Any) -> None:
    args = ["audit", "verify", "--json", "--user", "manager"]
    if tampering.needs_recorded_head:
        args[3:3] = ["--expect-head", snap.head["last_hash"]]
    r = cli(*args)
    out = json.loads(r.out)
    assert r.code == 1 and out["ok"] is False, (tampering.kind, r)
    assert (out["broken_id"], out["problem"]) == (service_result.broken_id, service_result.problem)


def _tamper_and_verify(app: App, cli: Any, count: int, seed: int) -> Tally:
    _seed(app)
    tamperer = Tamperer(app.database.engine)
    snap = tamperer.snapshot()
    admin = Actor(1, "admin", Role.ADMIN)
    intact = app.audit.verify(admin)
    assert intact.ok and intact.checked == len(snap.rows) == SEEDED_ROWS
    rng = random.Random(seed)
    makers, weights = zip(*TAMPERINGS, strict=True)
    every_kind = _every_kind()
    tally, cli_checked = Tally(), set()
    for n in range(count):
        maker = every_kind[n] if n < len(every_kind) else rng.choices(makers, weights)[0]
        tampering = maker(rng, snap)
        tally.tried[tampering.kind] += 1
        tamperer.run(tampering.apply)
        result = app.audit.verify(admin)
        if tampering.needs_recorded_head:
            assert result.ok, f"{tampering.kind}: expected to pass without the recorded head (the stated limit)"
            result = app.audit.verify(admin, expect_head=snap.head["last_hash"])
            assert "recorded head" in (result.problem or ""), (tampering.kind, result)
            tally.caught_only_with_recorded_head[tampering.kind] += 1
        assert not result.ok, f"not caught: {tampering.kind}"
        if tampering.names is None:
            assert "head" in (result.problem or ""), (tampering.kind, result)
        elif not tampering.needs_recorded_head:
            assert result.broken_id in tampering.names, (tampering.kind, tampering.names, result)
        tally.caught[tampering.kind] += 1
        if tampering.kind not in cli_checked:  # once per kind through the front door too
            cli_checked.add(tampering.kind)
            _check_cli(cli, tampering, snap, result)
        tamperer.restore(snap)
        assert app.audit.verify(admin, expect_head=snap.head["last_hash"]).ok, f"not restored after {tampering.kind}"
    return tally


def _report(app: App, tally: Tally, count: int) -> None:
    print("\n" + tally.line(app.database.engine.dialect.name))
    assert sum(tally.tried.values()) == sum(tally.caught.values()) == count


def test_tamperings_are_caught(app: App, cli: Any) -> None:
    _report(app, _tamper_and_verify(app, cli, QUICK_TAMPERINGS, seed=20_260_101), QUICK_TAMPERINGS)


@pytest.mark.long
def test_a_thousand_tamperings_are_caught(app: App, cli: Any) -> None:
    _report(app, _tamper_and_verify(app, cli, LONG_TAMPERINGS, seed=1_000), LONG_TAMPERINGS)

"""Hypothesis stateful test of the ledger against a small model of the rules.

Random top-ups, voucher credits (some already expired), usages with reused keys, adjustments
and promotions, one posting at a time through the services (``post``) and in random batches
for two customers through the bulk path (``post_many``, at the present or replayed at past
moments, with or without a final expiry sweep); after every step the stored balance equals
the sum of the successful rows per source, the voucher lots hold exactly the voucher
balance, nothing is negative, and every figure equals what the model says the rules give.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from billing_desk.domain.enums import CreditSource, EntryStatus, KeyScope, LedgerKind
from billing_desk.domain.errors import Conflict, InsufficientCredit
from billing_desk.domain.money import Money
from billing_desk.models import CustomerBalance, LedgerEntry, VoucherCreditLot
from billing_desk.services.ledger import Posting, bulk_writes, post_many
from tests.support.customers import make_customer
from tests.support.ledger import caused, credit

FAR = timedelta(days=400)


@dataclass
class Model:
    topup: int = 0
    lots: list[list] = field(default_factory=list)  # [expires_at or None, seq, remaining]
    keys: dict[str, int] = field(default_factory=dict)  # usage key -> amount charged
    key_ok: dict[str, bool] = field(default_factory=dict)  # bulk usage key -> whether it succeeded
    seq: int = 0

    @property
    def voucher(self) -> int:
        return sum(lot[2] for lot in self.lots)

    def expire(self, at: datetime | None = None) -> None:
        now = at or datetime.now(UTC)
        for lot in self.lots:
            if lot[0] is not None and lot[0] <= now:
                lot[2] = 0

    def add_lot(self, amount: int, expires: datetime | None) -> None:
        self.seq += 1
        self.lots.append([expires, self.seq, amount])

    def draw_voucher(self, amount: int) -> None:
        order = sorted((lot for lot in self.lots if lot[2]), key=lambda lot: (lot[0] is None, lot[0] or 0, lot[1]))
        for lot in order:
            take = min(lot[2], amount)
            lot[2] -= take
            amount -= take
        assert amount == 0

    def debit(self, amount: int, source: CreditSource | None) -> bool:
        avail_v = 0 if source is CreditSource.TOPUP else self.voucher
        avail_t = 0 if source is CreditSource.VOUCHER else self.topup
        if amount > avail_v + avail_t:
            return False
        from_v = min(amount, avail_v)
        self.draw_voucher(from_v)
        self.topup -= amount - from_v
        return True

    def apply(self, p: Posting, at: datetime) -> tuple[EntryStatus, bool]:
        """One posting of a bulk batch as the rules take it at ``at``: (status, duplicate);
        Conflict if its key was used for another amount."""
        self.expire(at)
        amount, key = p.amount.minor, p.idempotency_key
        if key is not None and key in self.keys:
            if self.keys[key] != -amount:
                raise Conflict("key reused")
            return (EntryStatus.SUCCESS if self.key_ok[key] else EntryStatus.FAILED), True
        if amount > 0:
            if (p.source or (CreditSource.VOUCHER if p.kind is LedgerKind.VOUCHER else None)) is CreditSource.VOUCHER:
                self.add_lot(amount, p.voucher_expires_at)
            else:
                self.topup += amount
            return EntryStatus.SUCCESS, False
        ok = self.debit(-amount, p.source)
        if key is not None:
            self.keys[key], self.key_ok[key] = -amount, ok
        return (EntryStatus.SUCCESS if ok else EntryStatus.FAILED), False


@dataclass(frozen=True)
class BulkOp:
    """A posting of a bulk batch, before it is given a customer and a moment."""

    other: bool  # for the second customer
    kind: str  # topup, voucher, promotion (voucher credit without expiry), usage, debit
    amount: int
    expired: bool = False  # a voucher whose lot has expired by the moment it is posted
    key: str | None = None
    source: CreditSource | None = None  # a debit's named source

    def posting(self, cid: int, at: datetime | None) -> Posting:
        money = Money(self.amount, "USD")
        if self.kind == "topup":
            return Posting(cid, LedgerKind.TOPUP, money, "bulk top-up", created_at=at)
        if self.kind == "voucher":
            expires = (at or datetime.now(UTC)) + (timedelta(seconds=-1) if self.expired else FAR)
            return Posting(cid, LedgerKind.VOUCHER, money, "bulk voucher", voucher_expires_at=expires, created_at=at)
        if self.kind == "promotion":
            return Posting(cid, LedgerKind.PROMOTION, money, "bulk promotion", source=CreditSource.VOUCHER,
                           created_at=at)
        kind = LedgerKind.USAGE if self.kind == "usage" else LedgerKind.ADJUSTMENT
        # Keys on debits are the feed's or staff's own, scoped as post_usage and adjustments scope them.
        return Posting(cid, kind, -money, "bulk debit", service="Storage" if self.kind == "usage" else None,
                       idempotency_key=self.key, source=self.source, created_at=at, key_scope=KeyScope.EXTERNAL)


BULK_OPS = st.one_of(
    st.builds(BulkOp, st.booleans(), st.just("topup"), st.integers(1, 50_000)),
    st.builds(BulkOp, st.booleans(), st.sampled_from(["voucher", "promotion"]), st.integers(1, 20_000),
              st.booleans()),
    st.builds(BulkOp, st.booleans(), st.just("usage"), st.integers(1, 40_000),
              key=st.sampled_from([None, "k1", "k2", "k3", "b1"])),
    st.builds(BulkOp, st.booleans(), st.just("debit"), st.integers(1, 30_000),
              source=st.sampled_from([None, CreditSource.TOPUP, CreditSource.VOUCHER])),
)


def _machine(app, staff):
    class LedgerMachine(RuleBasedStateMachine):
        @initialize()
        def customer(self):
            self.cid = make_customer(app, staff.manager, "USD", f"Prop Test{id(self)}")
            self.model = Model()
            self.other = make_customer(app, staff.manager, "USD", f"Bulk Test{id(self)}")
            self.other_model = Model()

        @rule(amount=st.integers(1, 50_000))
        def top_up(self, amount):
            self.model.expire()
            credit(app, self.cid, amount, "USD")
            self.model.topup += amount

        @rule(amount=st.integers(1, 20_000), expired=st.booleans())
        def voucher_credit(self, amount, expired):
            self.model.expire()  # the posting writes off what expired before adding the new lot
            expires = datetime.now(UTC) + (timedelta(seconds=-1) if expired else FAR)
            credit(app, self.cid, amount, "USD", voucher=True, expires_at=expires)
            self.model.add_lot(amount, expires)

        @rule(amount=st.integers(-10, 40_000), key=st.sampled_from([None, "k1", "k2", "k3"]))
        def usage(self, amount, key):
            if amount <= 0:  # refused before any posting: nothing changes, not even expiry
                with pytest.raises(Exception, match="more than zero"):
                    app.ledger.record_usage(staff.manager, self.cid, service="Storage", amount=f"{amount / 100:.2f}")
                return
            text = f"{amount // 100}.{amount % 100:02d}"
            if key in self.model.keys and self.model.keys[key] != amount:
                with pytest.raises(Conflict):  # the whole transaction rolls back, expiry included
                    app.ledger.record_usage(staff.manager, self.cid, service="Storage", amount=text, key=key)
                return
            out = app.ledger.record_usage(staff.manager, self.cid, service="AI Inference", amount=text, key=key)
            self.model.expire()
            if key in self.model.keys:
                assert out.duplicate
                return
            ok = self.model.debit(amount, None)
            assert out.status is (EntryStatus.SUCCESS if ok else EntryStatus.FAILED)
            if key is not None:
                self.model.keys[key] = amount
                self.model.key_ok[key] = ok

        @rule(ops=st.lists(BULK_OPS, min_size=1, max_size=8), replay=st.booleans(), sweep=st.booleans())
        def bulk(self, ops, replay, sweep):
            """A batch for both customers through post_many, replayed an hour ago or at the present."""
            base = datetime.now(UTC) - timedelta(hours=1)
            moments = [base + timedelta(seconds=i) if replay else None for i in range(len(ops))]
            postings = [op.posting(self.other if op.other else self.cid, at)
                        for op, at in zip(ops, moments, strict=True)]
            models = {self.cid: copy.deepcopy(self.model), self.other: copy.deepcopy(self.other_model)}
            try:
                expected = [models[p.customer_id].apply(p, p.created_at or datetime.now(UTC)) for p in postings]
            except Conflict:
                expected = None
            with app.uow.write() as uow:
                postings = [caused(uow.session, p) for p in postings]  # the payments and redemptions behind credits
                if expected is None:  # the whole batch is refused; leaving the block rolls it back
                    with pytest.raises(Conflict, match="already used"):
                        post_many(uow.session, postings, replay=replay, keep_results=True)
                    return
                report = post_many(uow.session, postings, replay=replay, keep_results=True,
                                   expire_by=datetime.now(UTC) if sweep else None)
                uow.commit()
            assert [(r.status, r.duplicate) for r in report.results] == expected
            assert (report.postings, report.customers) == (len(ops), len({p.customer_id for p in postings}))
            assert report.duplicates == sum(duplicate for _status, duplicate in expected)
            assert report.failed == sum(status is EntryStatus.FAILED and not dup for status, dup in expected)
            if sweep:
                for cid in {p.customer_id for p in postings}:
                    models[cid].expire()
            self.model, self.other_model = models[self.cid], models[self.other]

        @rule(amount=st.integers(-30_000, 30_000).filter(bool),
              source=st.sampled_from([None, CreditSource.TOPUP, CreditSource.VOUCHER]), promotion=st.booleans())
        def adjust(self, amount, source, promotion):
            text = f"{'-' if amount < 0 else ''}{abs(amount) // 100}.{abs(amount) % 100:02d}"
            if promotion and amount < 0:
                with pytest.raises(Exception, match="positive"):
                    app.ledger.adjust(staff.manager, self.cid, text, "test", promotion=True)
                return
            before = copy.deepcopy(self.model)
            self.model.expire()
            if amount < 0 and not self.model.debit(-amount, source):
                with pytest.raises(InsufficientCredit):  # refused: the transaction rolls back
                    app.ledger.adjust(staff.manager, self.cid, text, "test", source=source)
                self.model = before
                return
            app.ledger.adjust(staff.manager, self.cid, text, "test", promotion=promotion, source=source)
            if amount > 0:
                target = source or (CreditSource.VOUCHER if promotion else CreditSource.TOPUP)
                if target is CreditSource.VOUCHER:
                    self.model.add_lot(amount, None)
                else:
                    self.model.topup += amount

        @invariant()
        def figures_match_rows_and_model(self):
            for cid, model in ((self.cid, self.model), (self.other, self.other_model)):
                with app.uow.read() as uow:
                    s = uow.session
                    row = s.get(CustomerBalance, cid)
                    bal = type("Bal", (), {"topup": row.topup, "voucher": row.voucher, "total": row.total})
                    sums = dict(s.execute(select(LedgerEntry.source, func.sum(LedgerEntry.amount)).where(
                        LedgerEntry.customer_id == cid, LedgerEntry.status == "success").group_by(LedgerEntry.source)
                    ).all())
                    lots = s.scalar(select(func.coalesce(func.sum(VoucherCreditLot.remaining), 0))
                                    .where(VoucherCreditLot.customer_id == cid))
                    if uow.dialect == "sqlite":  # the bulk path's one-pass description index agrees with the rows
                        s.connection().exec_driver_sql("INSERT INTO ledger_search(ledger_search) "
                                                       "VALUES ('integrity-check')")
                assert bal.topup >= 0 and bal.voucher >= 0 and bal.total == bal.topup + bal.voucher
                assert (bal.topup, bal.voucher) == (sums.get("topup", 0), sums.get("voucher", 0))
                assert lots == bal.voucher
                # the model writes off expired lots when the next posting does
                assert (bal.topup, bal.voucher) == (model.topup, model.voucher)

    return LedgerMachine


@pytest.mark.slow
def test_ledger_state_machine(app, staff, monkeypatch):
    # Small batches take the bulk path's one-pass description indexing too (SQLite).
    monkeypatch.setattr(bulk_writes, "BULK_TEXT_INDEX_ROWS", 1)
    machine = _machine(app, staff)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=12, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
    report = app.ledger.verify(staff.finance)
    assert not report.mismatches
    # The bulk promotions are bare postings, with no staff action behind them (no service
    # posts promotions in bulk): they are all that verify may find without a cause.
    assert {u.problem for u in report.unjustified} <= {"promotion row has no staff member"}

"""Hypothesis stateful test of the ledger against a small model of the rules.

Random top-ups, voucher credits (some already expired), usages with reused keys, adjustments
and promotions; after every step the stored balance equals the sum of the successful rows per
source, the voucher lots hold exactly the voucher balance, nothing is negative, and every
figure equals what the model says the rules give.
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

from billing_desk.domain.enums import CreditSource, EntryStatus
from billing_desk.domain.errors import Conflict, InsufficientCredit
from billing_desk.models import CustomerBalance, LedgerEntry, VoucherCreditLot
from tests.support.customers import make_customer
from tests.support.ledger import credit

FAR = timedelta(days=400)


@dataclass
class Model:
    topup: int = 0
    lots: list[list] = field(default_factory=list)  # [expires_at or None, seq, remaining]
    keys: dict[str, int] = field(default_factory=dict)  # usage key -> amount charged
    seq: int = 0

    @property
    def voucher(self) -> int:
        return sum(lot[2] for lot in self.lots)

    def expire(self) -> None:
        now = datetime.now(UTC)
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


def _machine(app, staff):
    class LedgerMachine(RuleBasedStateMachine):
        @initialize()
        def customer(self):
            self.cid = make_customer(app, staff.manager, "USD", f"Prop Test{id(self)}")
            self.model = Model()

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
            with app.uow.read() as uow:
                s = uow.session
                row = s.get(CustomerBalance, self.cid)
                bal = type("Bal", (), {"topup": row.topup, "voucher": row.voucher, "total": row.total})
                sums = dict(s.execute(select(LedgerEntry.source, func.sum(LedgerEntry.amount)).where(
                    LedgerEntry.customer_id == self.cid, LedgerEntry.status == "success").group_by(LedgerEntry.source)
                ).all())
                lots = s.scalar(select(func.coalesce(func.sum(VoucherCreditLot.remaining), 0))
                                .where(VoucherCreditLot.customer_id == self.cid))
            assert bal.topup >= 0 and bal.voucher >= 0 and bal.total == bal.topup + bal.voucher
            assert (bal.topup, bal.voucher) == (sums.get("topup", 0), sums.get("voucher", 0))
            assert lots == bal.voucher
            # the model writes off expired lots when the next posting does
            assert (bal.topup, bal.voucher) == (self.model.topup, self.model.voucher)

    return LedgerMachine


@pytest.mark.slow
def test_ledger_state_machine(app, staff):
    machine = _machine(app, staff)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=12, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
    assert app.ledger.verify(staff.finance).ok

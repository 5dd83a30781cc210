"""The demo seed gives every seeded top-up its settled payment."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from billing_desk.models import LedgerEntry, Payment
from billing_desk.services.demo.seed import DemoService, SeedOptions


@pytest.mark.demo_database
def test_seeded_topups_have_their_payments(app, staff):
    report = DemoService(app.uow).seed(SeedOptions(customers=60, seed=3), actor=staff.admin)
    assert any("payments:" in d for d in report.details)
    with app.uow.read() as uow:
        s = uow.session
        topups = s.execute(select(LedgerEntry.customer_id, LedgerEntry.amount, LedgerEntry.currency,
                                  Payment.customer_id, Payment.amount, Payment.currency, Payment.status)
                           .outerjoin(Payment, Payment.id == LedgerEntry.payment_id)
                           .where(LedgerEntry.kind == "topup")).all()
        paid = s.scalar(select(func.count()).select_from(Payment).where(Payment.status == "success"))
    # each top-up row points at its own settled payment, and every settled payment has its row
    assert topups and all(r[:3] == r[3:6] and r[6] == "success" for r in topups)
    assert paid == len(topups)
    assert app.ledger.verify(staff.finance).ok
    page = app.payments.list_payments(staff.finance, limit=50)
    assert len(page.rows) == 50 and {r.status for r in page.rows} <= {"success", "failed"}

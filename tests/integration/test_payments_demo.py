"""The demo seed gives every seeded top-up its settled payment."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from billing_desk.models import LedgerEntry, Payment
from billing_desk.services.demo.seed import DemoService, SeedOptions


@pytest.mark.demo_database
def test_seeded_topups_have_their_payments(app, staff):
    report = DemoService(app.uow).seed(SeedOptions(customers=60, seed=3), actor=staff.admin)
    assert any(d.startswith("payments:") for d in report.details)
    with app.uow.read() as uow:
        s = uow.session
        topups = s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "topup"))
        ledger = sorted(tuple(r) for r in s.execute(select(LedgerEntry.customer_id, LedgerEntry.amount)
                                  .where(LedgerEntry.kind == "topup")).all())
        paid = sorted(tuple(r) for r in s.execute(select(Payment.customer_id, Payment.amount)
                                .where(Payment.status == "success")).all())
    assert topups > 0 and ledger == paid
    page = app.payments.list_payments(staff.finance, limit=50)
    assert len(page.rows) == 50 and {r.status for r in page.rows} <= {"success", "failed"}

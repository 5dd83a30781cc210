"""The ledger's demo seed step leaves balances that `ledger verify` accepts."""

from __future__ import annotations

import random

from billing_desk.services.demo import seed as demo
from billing_desk.services.demo.history import seed_history
from billing_desk.services.ledger.dtos import HistoryFilter


def test_seeded_history_is_consistent_and_realistic(app, staff):
    rng = random.Random(7)
    with app.uow.write() as uow:
        ids = demo._seed_customers(uow.session, rng, 60)
        detail = seed_history(uow.session, rng, demo.SeedOptions(customers=60), ids)
        uow.commit()
    assert detail and "ledger rows" in detail
    report = app.ledger.verify(staff.finance)
    assert report.ok, [m.describe() for m in report.mismatches]
    assert report.rows > 60 * 10
    with_history = [cid for cid in ids if app.ledger.history_totals(staff.support, cid).count]
    assert len(with_history) >= 40
    kinds = {r.kind.value for cid in with_history for r in app.ledger.history_page(staff.support, cid, limit=500).rows}
    assert {"topup", "usage"} <= kinds
    services = {r.service for cid in with_history[:20]
                for r in app.ledger.history_page(staff.support, cid, HistoryFilter(kinds=()), limit=500).rows}
    assert {"Storage", "AI Inference", "GPU Container"} <= services
    # the seeded figures keep working with real postings on top
    cid = with_history[0]
    balance = app.ledger.balance(staff.support, cid)
    app.ledger.record_usage(staff.manager, cid, service="Storage", amount=str(balance.total.as_decimal()))
    assert app.ledger.balance(staff.support, cid).total.minor == 0
    assert app.ledger.verify(staff.finance).ok
    # the description index covers seeded rows and, with its trigger back, new ones too
    seeded = app.ledger.history_page(staff.support, cid, HistoryFilter(), None, 1).rows[0]
    assert seeded.description.startswith("Storage")
    app.ledger.adjust(staff.manager, cid, "1", "unusual zebra refund")
    with app.uow.read() as uow:
        if uow.dialect == "sqlite":
            found = uow.session.connection().exec_driver_sql(
                "SELECT count(*) FROM ledger_search WHERE ledger_search MATCH '\"zebra\"'").scalar()
            assert found == 1
            # FTS5 compares its index with the content table and raises on any difference
            uow.session.connection().exec_driver_sql(
                "INSERT INTO ledger_search(ledger_search) VALUES ('integrity-check')")

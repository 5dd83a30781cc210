"""The credit-history query: filters, keyset pages, totals, and the plans that keep it fast."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert

from billing_desk.domain.enums import EntryStatus, LedgerKind
from billing_desk.domain.errors import ValidationError
from billing_desk.domain.money import Money
from billing_desk.models import CustomerBalance, LedgerEntry
from billing_desk.services.ledger import history as ledger_history
from billing_desk.services.ledger.dtos import HistoryCursor, HistoryFilter
from tests.support.customers import make_customer

SERVICES = ["AI Inference", "Storage", "GPU Container"]
BASE = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)


def _fill(app, cid: int, n: int = 300) -> list[dict]:
    """n rows, several sharing a timestamp (ties), a few failed; balance kept consistent."""
    rows, topup = [], 0
    for i in range(n):
        at = BASE + timedelta(hours=(i // 3) * 5)
        if i % 10 == 0:
            rows.append(dict(kind="topup", service="Top-up", description=f"Top-up #{i}", status="success",
                             amount=1_000_000, source="topup", created_at=at))
            topup += 1_000_000
        elif i % 17 == 0:
            rows.append(dict(kind="usage", service=SERVICES[i % 3], description=f"{SERVICES[i % 3]} 100% run_{i}",
                             status="failed", failure_reason="insufficient credit", amount=-5_000, source="topup",
                             created_at=at))
        else:
            rows.append(dict(kind="usage", service=SERVICES[i % 3], description=f"{SERVICES[i % 3]} usage run_{i}",
                             status="success", amount=-1_000, source="topup", created_at=at))
            topup -= 1_000
    for r in rows:
        r.update(customer_id=cid, currency="VND", failure_reason=r.get("failure_reason"))
    with app.uow.write() as uow:
        uow.session.execute(insert(LedgerEntry), rows)
        bal = uow.session.get(CustomerBalance, cid)
        bal.topup = bal.total = topup
        uow.commit()
    return rows


def _expected(rows: list[dict], pred) -> list[tuple]:
    """Newest first; rows sharing a time come in reverse insertion (id) order."""
    ordered = sorted(((r["created_at"], i, r["description"]) for i, r in enumerate(rows) if pred(r)), reverse=True)
    return [(at, text) for at, _, text in ordered]


def _walk(app, actor, cid, f, limit):
    seen, after = [], None
    while True:
        page = app.ledger.history_page(actor, cid, f, after, limit)
        seen.extend(page.rows)
        assert len(page.rows) <= limit
        if page.next_cursor is None:
            return seen
        after = HistoryCursor.from_token(page.next_cursor.to_token())


@pytest.mark.parametrize(("f", "pred"), [
    (HistoryFilter(), lambda r: True),
    (HistoryFilter(services=("storage",)), lambda r: r["service"] == "Storage"),
    (HistoryFilter(services=("Storage", "GPU Container")), lambda r: r["service"] in ("Storage", "GPU Container")),
    (HistoryFilter(statuses=(EntryStatus.FAILED,)), lambda r: r["status"] == "failed"),
    (HistoryFilter(statuses=(EntryStatus.SUCCESS,), services=("AI Inference",)),
     lambda r: r["status"] == "success" and r["service"] == "AI Inference"),
    (HistoryFilter(kinds=(LedgerKind.TOPUP, LedgerKind.USAGE)), lambda r: True),
    (HistoryFilter(kinds=(LedgerKind.TOPUP,)), lambda r: r["kind"] == "topup"),
    (HistoryFilter(text="100%"), lambda r: "100%" in r["description"]),
    (HistoryFilter(text="RUN_1"), lambda r: "run_1" in r["description"]),
    (HistoryFilter(date_from=date(2026, 3, 3), date_to=date(2026, 3, 5)),
     # whole local days in Asia/Ho_Chi_Minh (UTC+7): [2026-03-02 17:00Z, 2026-03-05 17:00Z)
     lambda r: datetime(2026, 3, 2, 17, tzinfo=UTC) <= r["created_at"] < datetime(2026, 3, 5, 17, tzinfo=UTC)),
])
def test_filters_and_keyset_pages_match_a_plain_recount(app, staff, f, pred):
    cid = make_customer(app, staff.manager)
    rows = _fill(app, cid)
    got = _walk(app, staff.support, cid, f, limit=7)
    assert [(r.created_at, r.description) for r in got] == _expected(rows, pred)
    assert len({r.id for r in got}) == len(got)
    # ties are broken by id, newest first
    assert got == sorted(got, key=lambda r: (r.created_at, r.id), reverse=True)
    totals = app.ledger.history_totals(staff.support, cid, f)
    assert totals.count == len(got)
    assert totals.total == Money(sum(r["amount"] for r in rows if pred(r) and r["status"] == "success"), "VND")


def test_bad_filters_are_refused(app, staff):
    cid = make_customer(app, staff.manager)
    with pytest.raises(ValidationError, match="Unknown service"):
        app.ledger.history_page(staff.support, cid, HistoryFilter(services=("Nope",)))
    with pytest.raises(ValidationError, match="before it starts"):
        app.ledger.history_page(staff.support, cid, HistoryFilter(date_from=date(2026, 2, 1), date_to=date(2026, 1, 1)))
    with pytest.raises(ValidationError, match="page"):
        app.ledger.history_page(staff.support, cid, limit=0)
    with pytest.raises(ValidationError, match="cursor"):
        HistoryCursor.from_token("garbage")


@pytest.mark.parametrize(("f", "index"), [
    (HistoryFilter(), "ix_ledger_entries_customer_created_id"),
    (HistoryFilter(services=("Storage",)), "ix_ledger_entries_customer_service_created_id"),
    (HistoryFilter(services=("Storage", "AI Inference")), "ix_ledger_entries_customer_service_created_id"),
    (HistoryFilter(statuses=(EntryStatus.FAILED,)), "ix_ledger_entries_customer_status_created_id"),
    (HistoryFilter(kinds=(LedgerKind.TOPUP,)), "ix_ledger_entries_customer_kind_created_id"),
])
def test_page_query_walks_an_index_without_sorting(app, staff, f, index):
    cid = make_customer(app, staff.manager)
    _fill(app, cid, 50)
    after = HistoryCursor(BASE + timedelta(days=3), 10**9)
    with app.uow.read() as uow:
        if uow.dialect == "postgresql":  # a tiny table would be seq-scanned; ask how it would go at scale
            uow.session.connection().exec_driver_sql("SET enable_seqscan = off")
        plan = ledger_history.explain(uow.session, cid, f, after)
    assert index in plan, plan
    if uow.dialect == "sqlite":
        # only the outer merge of a multi-value filter may sort (at most values x page rows)
        inner = plan.split("MERGE")[0] if "UNION" in plan or "MERGE" in plan else plan
        assert "USE TEMP B-TREE FOR ORDER BY" not in inner or len(f.services) > 1, plan


def test_rare_text_deep_in_a_long_history_is_found_through_the_trigram_index(app, staff):
    cid = make_customer(app, staff.manager)
    n = ledger_history.PROBE + 700
    rows = [dict(customer_id=cid, created_at=BASE + timedelta(minutes=i), kind="usage", service="Storage",
                 description=f"Storage usage for {i % 7} model(s)", status="failed",
                 failure_reason="insufficient credit", amount=-1, currency="VND", source="topup") for i in range(n)]
    for i in (3, 5, n - 2):  # two old needles, one new; one written in another case
        rows[i]["description"] = f"Fine-tuning job FT-0424{i} (3 epochs)" if i == 5 else f"Fine-tuning job ft-0424{i}"
    with app.uow.write() as uow:
        uow.session.execute(insert(LedgerEntry), rows)
        uow.commit()
    page = app.ledger.history_page(staff.support, cid, HistoryFilter(text="ft-0424"), None, 2)
    assert [r.description for r in page.rows] == [f"Fine-tuning job ft-0424{n - 2}",
                                                  "Fine-tuning job FT-04245 (3 epochs)"]
    rest = app.ledger.history_page(staff.support, cid, HistoryFilter(text="ft-0424"), page.next_cursor, 2)
    assert [r.description for r in rest.rows] == ["Fine-tuning job ft-04243"] and rest.next_cursor is None
    assert app.ledger.history_totals(staff.support, cid, HistoryFilter(text="FT-0424")).count == 3
    common = app.ledger.history_page(staff.support, cid, HistoryFilter(text="usage for 6"), None, 100)
    assert len(common.rows) == 100 and all("usage for 6" in r.description for r in common.rows)
    short = app.ledger.history_page(staff.support, cid, HistoryFilter(text="FT"), None, 10)
    assert len(short.rows) == 3


def test_sqlite_rare_text_plan_starts_from_the_trigram_matches(app, staff):
    cid = make_customer(app, staff.manager)
    _fill(app, cid, 20)
    with app.uow.read() as uow:
        if uow.dialect != "sqlite":
            pytest.skip("PostgreSQL picks between pg_trgm and the btree walk by itself")
        plan = ledger_history.explain(uow.session, cid, HistoryFilter(text="ft-0424"), fts=True)
    assert "ledger_search VIRTUAL TABLE" in plan and "INTEGER PRIMARY KEY" in plan, plan
    assert "ix_ledger_entries_customer_created_id" not in plan, plan

"""Hostile input through the services, on SQLite and PostgreSQL.

Two invariants:

1. Nothing written on refusal. Every command a person or a file reaches (create and edit a
   customer, charge usage, import a usage CSV, adjust credit, issue and redeem vouchers, add a
   plan) is given hostile values; when it refuses, the refusal is a BillingDeskError with a
   one-line message and every table (audit log included) has exactly the rows it had.
2. SQL payloads are text. Quotes, LIKE wildcards, the escape character, statement
   terminators, tautologies, FTS operators, NUL and very long text in every search and filter
   (customer search, credit-history text, voucher campaign/currency/last four, payments by
   customer, audit by staff and entity) raise no database error, return only rows the literal
   text matches, and leave every table as it was.

Credit exists only through the real services (staff adjustments, audited), so `ledger verify`
stays clean; it is run at the end of each test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from billing_desk.bootstrap import App
from billing_desk.domain.money import Money
from billing_desk.services.ledger.dtos import HistoryFilter
from billing_desk.services.payments import PaymentFilters
from billing_desk.services.vouchers import IssueRequest, VoucherFilter
from tests.support.customers import add_customer
from tests.support.hostile import SQL_PAYLOADS, Tally, attempt, hostile_text, row_counts
from tests.support.staff import StaffActors

QUICK, LONG = 30, 1000
RUNS = [pytest.param(QUICK, id="quick"), pytest.param(LONG, id="long", marks=[pytest.mark.long])]
TALLY = Tally()
# Names and descriptions that hold what the payloads look for, so a search has real matches
# (and wrong ones to avoid).
SEEDED = ["O'Brien & Sons", "100% Pure_Co", "Back\\slash Ltd", "Drop; Table", "Quote \"Q\" Inc", "Plain Person",
          "Nguyễn Văn An", "Straße GmbH", "a%b_c", "x' OR 1=1 --"]
SHORT_SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck), database=None)


@pytest.fixture
def engine(app: App) -> Iterator[Engine]:
    e = create_engine(app.settings.database_url)
    yield e
    e.dispose()


@pytest.fixture
def seeded(app: App, staff: StaffActors) -> dict[str, Any]:
    ids = []
    for i, name in enumerate(SEEDED):
        c = add_customer(app, staff.support, "USD", name=name, email=f"c{i}.{i}@example.com",
                         tax_code=None)
        ids.append(c.id)
        app.ledger.adjust(staff.manager, c.id, "100.00", f"Opening credit for {name}")
        for desc in (name, f"Usage {i} 50%_off \\ 'quoted'", "ordinary line"):
            app.ledger.record_usage(staff.manager, c.id, service="Storage", amount="0.01", description=desc)
    app.vouchers.issue(staff.manager, IssueRequest(Money(500, "USD"), count=1, campaign="Spring 50%_off 'x'"))
    app.vouchers.issue(staff.manager, IssueRequest(Money(500, "USD"), count=1, campaign="Plain"))
    return {"ids": ids}


# A refused redemption is kept on purpose: the brute-force guard counts failed attempts
# (services/vouchers/redeem.py), and a refusal during a lock is audited. Nothing else may move.
RECORDED_REFUSALS = {"voucher redeem": {"voucher_attempts", "audit_log"}}


def refused_writes_nothing(engine: Engine, tally: Tally, name: str, call: Callable[[], Any]) -> None:
    before = row_counts(engine)
    if attempt(tally, name, call) is None:
        after = row_counts(engine)
        changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
        allowed = RECORDED_REFUSALS.get(name, set())
        assert set(changed) <= allowed and all(b <= a <= b + 1 for b, a in changed.values()), (
            f"{name} refused but wrote: {changed}")


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


@pytest.mark.parametrize("examples", RUNS)
def test_refused_commands_write_nothing(app: App, staff: StaffActors, engine: Engine, seeded: dict[str, Any],
                                        examples: int) -> None:
    customer = seeded["ids"][5]
    money_text = st.one_of(hostile_text, st.sampled_from(["-5", "0", "1e3", "9" * 30, str(2**64), "25.555", "€5",
                                                          "1.234", "ＵＳＤ　２５", "25"]))
    commands: dict[str, Callable[[Any], Callable[[], Any]]] = {
        "customer create": lambda v: lambda: app.customers.create(
            staff.support, name=v[0], email=v[1], country=v[2][:3], billing_type="company", tax_code=v[3]),
        "customer update": lambda v: lambda: app.customers.update(staff.support, customer, email=v[1], tax_code=v[3]),
        "usage record": lambda v: lambda: app.ledger.record_usage(
            staff.manager, v[2], service=v[0], amount=v[4], description=v[1], key=v[3]),
        "usage import": lambda v: lambda: app.ledger.import_usage(staff.manager, "hostile.csv", text=(
            "customer,timestamp,service,description,amount,key\n"
            f"{_csv_cell(v[2])},{_csv_cell(v[3])},Storage,{_csv_cell(v[1])},{_csv_cell(v[4])},{_csv_cell(v[0])}\n")),
        "credit adjust": lambda v: lambda: app.ledger.adjust(staff.manager, customer, v[4], v[1], key=v[3] or None),
        "voucher redeem": lambda v: lambda: app.vouchers.redeem(staff.support, customer, v[0]),
        "voucher issue": lambda v: lambda: app.vouchers.issue(staff.manager, IssueRequest(
            Money(100, "USD"), campaign=v[1], customer_ref=v[2])),
        "plan add": lambda v: lambda: app.plans.add_plan(staff.manager, code=v[0], name=v[1],
                                                          prices={"USD": Money(100, "USD")}, features=[v[3]]),
        "service add": lambda v: lambda: app.ledger.add_service(staff.manager, v[1]),
    }

    @settings(max_examples=examples, **SHORT_SETTINGS)
    @given(command=st.sampled_from(sorted(commands)),
           values=st.tuples(hostile_text, hostile_text, hostile_text, hostile_text, money_text))
    def check(command: str, values: tuple[str, ...]) -> None:
        refused_writes_nothing(engine, TALLY, command, commands[command](values))

    check()
    assert app.ledger.verify(staff.finance).ok


def _lowers(text: str) -> set[str]:
    """Python's lower case and the databases' (one character for one: 'İ' is 'i', not 'i̇')."""
    return {text.lower(), "".join(ch.lower()[:1] for ch in text)}


def _text_matches(needle: str, *fields: str | None) -> bool:
    return any(n in f for f in (x for field in fields for x in _lowers(field or "")) for n in _lowers(needle))


@pytest.mark.parametrize("examples", RUNS)
def test_sql_payloads_in_every_search(app: App, staff: StaffActors, engine: Engine, seeded: dict[str, Any],
                                      examples: int) -> None:
    ids = seeded["ids"]
    before = row_counts(engine)

    def searches(q: str) -> None:
        hits = attempt(TALLY, "customer search", lambda: app.customers.find(staff.support, q, limit=50))
        for h in hits or []:
            needle = q.strip().lower()
            assert _text_matches(needle, h.account, h.email, h.tax_code, h.name) or h.matched not in (
                "account", "email", "tax code", "name"), (q, h)
        page = attempt(TALLY, "history text", lambda: app.ledger.history_page(
            staff.support, ids[0], HistoryFilter(text=q), limit=200))
        for row in page.rows if page else ():
            assert _text_matches(q.strip(), row.description), (q, row.description)
        # An empty filter (what is left of whitespace) means "any", as everywhere in the desk.
        campaign, token = " ".join(q.split()), q.strip().upper()
        for flt, label, keep in ((VoucherFilter(campaign=q), "voucher campaign", lambda v: v.campaign == campaign),
                                 (VoucherFilter(currency=q), "voucher currency", lambda v: v.amount.currency == token),
                                 (VoucherFilter(last4=q), "voucher last4", lambda v: v.last4 == token)):
            rows = attempt(TALLY, label, lambda flt=flt: app.vouchers.list_vouchers(staff.manager, flt))
            if campaign and token:
                assert all(keep(v) for v in rows or []), (label, q, rows)
        pay = attempt(TALLY, "payments by customer", lambda: app.payments.list_payments(
            staff.finance, PaymentFilters(customer=q)))
        ref = q.strip().lower()
        assert pay is None or not ref or all(ref in (p.customer_account.lower(), str(p.customer_id)) for p in pay.rows)
        for by, entity in ((q, None), (None, q)):
            rows = attempt(TALLY, "audit filter", lambda by=by, entity=entity: app.audit.list(
                staff.admin, by=by, entity=entity))
            for r in rows or [] if q.strip() else []:
                assert (by is None or r.staff_name == by.strip()) and (entity is None or r.entity == entity.strip())

    for payload in SQL_PAYLOADS:
        searches(payload)

    @settings(max_examples=examples, **SHORT_SETTINGS)
    @given(q=hostile_text)
    def check(q: str) -> None:
        searches(q)

    check()
    # A payload that matches a seeded name literally finds it (the search still works).
    assert [h.name for h in app.customers.find(staff.support, "100% pure_co")] == ["100% Pure_Co"]
    assert [h.name for h in app.customers.find(staff.support, "x' or 1=1 --")] == ["x' OR 1=1 --"]
    assert row_counts(engine) == before, "a search wrote or dropped rows"
    assert app.ledger.verify(staff.finance).ok


def test_a_non_ascii_service_name_added_twice_is_a_conflict(app: App, staff: StaffActors, engine: Engine) -> None:
    """Found by the long run: SQLite's lower() folds ASCII only, so the duplicate check missed an
    exact repeat of 'Äpfel' and the insert hit the unique index (IntegrityError)."""
    app.ledger.add_service(staff.manager, "Äpfel Storage")
    before = row_counts(engine)
    assert attempt(TALLY, "service add", lambda: app.ledger.add_service(staff.manager, "Äpfel Storage")) is None
    assert row_counts(engine) == before


def test_a_search_never_matches_across_two_fields(app: App, staff: StaffActors) -> None:
    """Found by the long run on PostgreSQL: '0 |' found C00000010 (name "x' OR 1=1 --"), whose
    search text "c00000010 | x' or 1=1 --..." holds it across the account and the name."""
    c = add_customer(app, staff.support, "USD", name="Anna Nguyen", email="anna@example.com", tax_code=None)
    tail = c.account[-1].lower()
    assert app.customers.find(staff.support, f"{tail} | anna") == []
    assert app.customers.find(staff.support, "nguyen | anna@") == []
    assert [h.id for h in app.customers.find(staff.support, "nna nguy")] == [c.id]


def test_report(tmp_path: Path) -> None:
    """Prints the inputs tried by the tests above in this run (run last in this file)."""
    TALLY.report("hostile services", tmp_path)

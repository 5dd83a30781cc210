"""Finding a payment by any part of its gateway reference (issue 11), on both databases, against
references the sandbox gateways really hand out."""

from __future__ import annotations

import pytest

from billing_desk.bootstrap import App
from billing_desk.domain.errors import ValidationError
from billing_desk.sandbox import SandboxHandle
from billing_desk.services.payments import PaymentFilters
from tests.support.staff import StaffActors


def _customer(app: App, staff: StaffActors, name: str, country: str, currency: str) -> int:
    c = app.customers.create(staff.admin, name=name, email=f"{name.split()[0].lower()}@example.com",
                             country=country, billing_type="personal", address="1 Main St")
    app.customers.set_currency(staff.admin, c.id, currency)
    return c.id


def test_any_part_of_eight_or_more_finds_the_payment(pay_app: App, staff: StaffActors,
                                                     sandbox: SandboxHandle) -> None:
    lan = _customer(pay_app, staff, "Nguyen Thi Lan", "VN", "VND")
    emma = _customer(pay_app, staff, "Emma Stone", "US", "USD")
    vnd = pay_app.payments.create_topup(staff.support, lan, "500000").payment
    usd = [pay_app.payments.create_topup(staff.support, emma, amount).payment for amount in ("30", "40")]
    for payment in (vnd, *usd):
        ref = payment.gateway_reference
        assert ref is not None and len(ref) >= 12, ref
        middle = ref[len(ref) // 2 - 4: len(ref) // 2 + 5]  # 9 characters from the middle
        for part in (ref, ref[-8:], middle, middle.swapcase()):
            page = pay_app.payments.list_payments(staff.finance, PaymentFilters(reference=part))
            found = [r.id for r in page.rows]
            assert payment.id in found, (part, ref)
            if all(part.lower() not in (p.gateway_reference or "").lower() for p in (vnd, *usd) if p is not payment):
                assert found == [payment.id], (part, found)
        hits = pay_app.customers.find(staff.support, ref[-10:])
        assert hits and hits[0].id == payment.customer_id and hits[0].matched == "payment reference"


def test_wildcards_are_plain_characters_and_short_parts_are_refused(pay_app: App, staff: StaffActors,
                                                                    sandbox: SandboxHandle) -> None:
    emma = _customer(pay_app, staff, "Emma Stone", "US", "USD")
    pay_app.payments.create_topup(staff.support, emma, "30")
    for wild in ("%%%%%%%%", "________"):
        assert pay_app.payments.list_payments(staff.finance, PaymentFilters(reference=wild)).rows == ()
    with pytest.raises(ValidationError, match="at least 8 characters"):
        pay_app.payments.list_payments(staff.finance, PaymentFilters(reference="cs_test"))


def test_the_part_search_is_served_by_an_index_on_both_databases(app: App) -> None:
    from sqlalchemy import select, text

    from billing_desk.models import Payment
    from billing_desk.services.payments.queries import reference_contains

    dialect = "sqlite" if app.database.is_sqlite else "postgresql"
    query = select(Payment.id).where(reference_contains("a1b2c3d4e5", dialect))
    with app.database.engine.connect() as conn:
        if dialect == "postgresql":
            conn.execute(text("SET enable_seqscan = off"))  # an empty table would be scanned otherwise
        compiled = query.compile(conn, compile_kwargs={"literal_binds": True})
        explain = "EXPLAIN QUERY PLAN" if dialect == "sqlite" else "EXPLAIN"
        plan = "\n".join(str(r[-1]) for r in conn.execute(text(f"{explain} {compiled}")))
    # PostgreSQL: the trigram index of 0008; SQLite: the FTS5 trigram table of 0012, not a scan.
    expected = "ix_payments_reference_trgm" if dialect == "postgresql" else "VIRTUAL TABLE INDEX"
    assert expected in plan, plan


def test_reference_search_follows_the_reference_as_it_changes(pay_app: App, staff: StaffActors,
                                                              sandbox: SandboxHandle) -> None:
    """The reference arrives by an UPDATE after the insert (the gateway answers later); the search
    must find the new one and forget the old."""
    from sqlalchemy import select, update

    from billing_desk.models import Payment
    from billing_desk.services.payments.queries import reference_contains

    dialect = "sqlite" if pay_app.database.is_sqlite else "postgresql"
    emma = _customer(pay_app, staff, "Emma Stone", "US", "USD")
    pid = pay_app.payments.create_topup(staff.support, emma, "30").payment.id
    with pay_app.database.engine.begin() as conn:
        for ref in ("first-ref-AAAA1111", "second-ref-BBBB2222"):
            conn.execute(update(Payment).where(Payment.id == pid).values(gateway_reference=ref))
    with pay_app.database.engine.connect() as conn:
        def found(part: str) -> list[int]:
            return list(conn.execute(select(Payment.id).where(reference_contains(part, dialect))).scalars())
        assert found("bbbb2222") == [pid]  # any case, as LIKE
        assert found("AAAA1111") == []


def test_cli_lists_the_payment_by_part_of_its_reference(cli, pay_app: App, staff: StaffActors,  # type: ignore[no-untyped-def]
                                                        sandbox: SandboxHandle) -> None:
    import json

    emma = _customer(pay_app, staff, "Emma Stone", "US", "USD")
    wanted, _other = (pay_app.payments.create_topup(staff.support, emma, a).payment for a in ("30", "40"))
    assert wanted.gateway_reference
    found = cli("payments", "list", "--reference", wanted.gateway_reference[-9:], "--user", "finance", "--json")
    assert found.code == 0, found.err
    assert [row["payment_id"] for row in json.loads(found.out)] == [wanted.id]
    short = cli("payments", "list", "--reference", "abc", "--user", "finance")
    assert short.code == 2 and "at least 8 characters" in short.err

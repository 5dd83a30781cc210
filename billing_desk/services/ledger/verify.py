"""`ledger verify`: every stored balance figure against the rows it must equal, in one query,
then every grant of credit against its cause (``justification``).

One grouped pass over customer_balances, ledger_entries (successful rows summed per customer
and source) and voucher_credit_lots together; only customers that disagree come back.
Being a single statement, it reads balances and rows from one snapshot on both databases, so
it can run while desks keep posting. Never a loop per customer: at 10,000,000 rows that
would take hours, the grouped scan takes seconds.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import case, func, literal_column, null, or_, select, union_all
from sqlalchemy.orm import Session

from billing_desk.domain.enums import CreditSource, EntryStatus
from billing_desk.domain.money import Money
from billing_desk.models import Customer, CustomerBalance, LedgerEntry, VoucherCreditLot
from billing_desk.services.ledger.dtos import Mismatch, VerifyReport
from billing_desk.services.ledger.justification import find_unjustified

_L = LedgerEntry.__table__
_B = CustomerBalance.__table__
_C = Customer.__table__
_V = VoucherCreditLot.__table__
_ZERO: Any = literal_column("0")


def _moved(source: CreditSource) -> Any:
    """A ledger row's contribution to one source's figure: its amount if it succeeded there."""
    return case(((_L.c.status == EntryStatus.SUCCESS.value) & (_L.c.source == source.value), _L.c.amount),
                else_=_ZERO)


def _ledger_arm() -> Any:
    """Each ledger row as its contribution: its amount under its source if it succeeded."""
    return select(
        _L.c.customer_id, null().label("currency"), _ZERO.label("has_balance"), _ZERO.label("total"),
        _ZERO.label("topup"), _ZERO.label("voucher"),
        _moved(CreditSource.TOPUP).label("l_topup"), _moved(CreditSource.VOUCHER).label("l_voucher"),
        literal_column("1").label("n"), _ZERO.label("lots"),
        _L.c.currency.label("l_cur_min"), _L.c.currency.label("l_cur_max"))


def verify_query() -> Any:
    """SQLite's form (PostgreSQL's is ``joined_query``). One row per disagreeing customer,
    plus always the first row, which carries the window totals (balances and rows checked)
    even when everything agrees.

    Balances, ledger rows and voucher lots go through one UNION ALL into one GROUP BY
    customer: a single pass over each table, a hash aggregate on PostgreSQL (parallel), one
    sorter on SQLite, and no join between aggregates (SQLite would nest-loop a FULL JOIN of
    two unindexed aggregates: 15 s at 88,000 customers).
    """
    balances = select(_B.c.customer_id, _B.c.currency, literal_column("1").label("has_balance"), _B.c.total,
                      _B.c.topup, _B.c.voucher, _ZERO.label("l_topup"), _ZERO.label("l_voucher"),
                      _ZERO.label("n"), _ZERO.label("lots"), null().label("l_cur_min"), null().label("l_cur_max"))
    lots = select(_V.c.customer_id, null().label("currency"), _ZERO, _ZERO, _ZERO, _ZERO, _ZERO, _ZERO, _ZERO,
                  _V.c.remaining, null(), null())
    facts = union_all(balances, _ledger_arm(), lots).subquery("facts")
    c = facts.c
    grouped = (select(c.customer_id, func.max(c.currency).label("currency"),
                      func.sum(c.has_balance).label("has_balance"), func.sum(c.total).label("total"),
                      func.sum(c.topup).label("topup"), func.sum(c.voucher).label("voucher"),
                      func.sum(c.l_topup).label("l_topup"), func.sum(c.l_voucher).label("l_voucher"),
                      func.sum(c.n).label("n"), func.sum(c.lots).label("lots"),
                      func.min(c.l_cur_min).label("l_cur_min"), func.max(c.l_cur_max).label("l_cur_max"))
               .group_by(c.customer_id).subquery("grouped"))
    g = grouped.c
    checked = select(grouped, func.sum(g.n).over().label("all_rows"),
                     func.sum(g.has_balance).over().label("all_customers"),
                     func.row_number().over().label("rn")).subquery("checked")
    k = checked.c
    return (
        select(checked, _C.c.account)
        .outerjoin(_C, _C.c.id == k.customer_id)
        .where(or_(k.rn == 1, k.has_balance == 0, k.topup != k.l_topup, k.voucher != k.l_voucher,
                   k.total != k.l_topup + k.l_voucher, k.voucher != k.lots,
                   k.l_cur_min != k.currency, k.l_cur_max != k.currency))
        .order_by(k.customer_id)
    )


def joined_query() -> Any:
    """PostgreSQL's form: aggregate ledger rows and lots per customer (a parallel partial
    hash aggregate), then FULL JOIN the balances: 1.9 s at 10,000,000 rows, against 6.7 s
    for the UNION form, which PostgreSQL does not parallelise."""
    ledger = (select(_L.c.customer_id, func.sum(_moved(CreditSource.TOPUP)).label("topup"),
                     func.sum(_moved(CreditSource.VOUCHER)).label("voucher"),
                     func.count().label("n"), func.min(_L.c.currency).label("cur_min"),
                     func.max(_L.c.currency).label("cur_max"))
              .group_by(_L.c.customer_id).subquery("ledger"))
    lots = (select(_V.c.customer_id, func.sum(_V.c.remaining).label("remaining"))
            .group_by(_V.c.customer_id).subquery("lots"))
    topup, voucher = func.coalesce(ledger.c.topup, 0), func.coalesce(ledger.c.voucher, 0)
    remaining = func.coalesce(lots.c.remaining, 0)
    inner = (
        select(func.coalesce(_B.c.customer_id, lots.c.customer_id, ledger.c.customer_id).label("customer_id"),
               _B.c.customer_id.is_not(None).label("has_balance"), _B.c.currency,
               func.coalesce(_B.c.total, 0).label("total"), func.coalesce(_B.c.topup, 0).label("topup"),
               func.coalesce(_B.c.voucher, 0).label("voucher"),
               topup.label("l_topup"), voucher.label("l_voucher"), remaining.label("lots"),
               ledger.c.cur_min.label("l_cur_min"), ledger.c.cur_max.label("l_cur_max"),
               func.sum(func.coalesce(ledger.c.n, 0)).over().label("all_rows"),
               func.count(_B.c.customer_id).over().label("all_customers"), func.row_number().over().label("rn"))
        # FULL joins both ways: lots or rows of a customer without a balance row must surface.
        .select_from(_B.join(lots, lots.c.customer_id == _B.c.customer_id, full=True)
                     .join(ledger, ledger.c.customer_id == func.coalesce(_B.c.customer_id, lots.c.customer_id),
                           full=True))
        .subquery("checked")
    )
    return (
        select(inner, _C.c.account)
        .outerjoin(_C, _C.c.id == inner.c.customer_id)
        .where(or_(inner.c.rn == 1, ~inner.c.has_balance, inner.c.topup != inner.c.l_topup,
                   inner.c.voucher != inner.c.l_voucher, inner.c.total != inner.c.l_topup + inner.c.l_voucher,
                   inner.c.voucher != inner.c.lots, inner.c.l_cur_min != inner.c.currency,
                   inner.c.l_cur_max != inner.c.currency))
        .order_by(inner.c.customer_id)
    )


def _mismatches(row: Any) -> list[Mismatch]:
    account = row.account or f"customer {row.customer_id}"
    if not row.has_balance:
        return [Mismatch(row.customer_id, account, "balance row missing", None, None)]
    cur = row.currency
    if row.l_cur_min is not None and (row.l_cur_min != cur or row.l_cur_max != cur):
        other = row.l_cur_min if row.l_cur_min != cur else row.l_cur_max
        return [Mismatch(row.customer_id, account, f"rows in {other}", None, None)]
    ledger_total = int(row.l_topup) + int(row.l_voucher)
    pairs = (("total", row.total, ledger_total), ("topup", row.topup, int(row.l_topup)),
             ("voucher", row.voucher, int(row.l_voucher)), ("voucher lots", row.voucher, int(row.lots)))
    return [Mismatch(row.customer_id, account, figure, Money(int(stored), cur), Money(int(expected), cur))
            for figure, stored, expected in pairs if int(stored) != int(expected)]


def run_verify(session: Session) -> VerifyReport:
    started = time.perf_counter()
    found: list[Mismatch] = []
    customers = rows = 0
    query = joined_query() if session.get_bind().dialect.name == "postgresql" else verify_query()
    for row in session.execute(query):
        if row.rn == 1:
            customers, rows = int(row.all_customers), int(row.all_rows or 0)
        found.extend(_mismatches(row))
    # Each statement of find_unjustified reads a cause with its credit (they commit together),
    # and staff rows before their audit rows, so desks posting meanwhile raise no false alarm.
    unjustified = find_unjustified(session)
    return VerifyReport(customers, rows, tuple(found), time.perf_counter() - started, unjustified)

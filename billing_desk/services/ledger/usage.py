"""Usage charges: validating what a person or the metering feed sent, then posting.

Everything here runs inside the caller's write unit of work and goes through
``ledger_posting.post``, which alone moves balances. Validation happens before anything is
written; a bad line of a usage file names its line number and nothing of the file is kept.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from billing_desk.domain.dates import parse_instant
from billing_desk.domain.enums import KeyScope, LedgerKind
from billing_desk.domain.errors import BillingDeskError, Conflict, ValidationError
from billing_desk.domain.money import Money, parse_money
from billing_desk.domain.text import clean_text, clean_token
from billing_desk.models import Customer, UsageService, utcnow
from billing_desk.services.crashpoints import crash_point
from billing_desk.services.customers import resolve_customer
from billing_desk.services.ledger.dtos import ImportReport
from billing_desk.services.ledger.posting import Posting, PostingResult, post

IMPORT_COLUMNS = ("customer", "timestamp", "service", "description", "amount", "key")
MAX_KEY = 200
MAX_DESCRIPTION = 500
# The feed's clock and ours may differ a little; a charge far in the future is a typo.
FUTURE_SLACK = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class UsageLine:
    """One validated usage charge, ready to post."""

    customer_id: int
    service: str
    description: str
    amount: Money  # positive: what the customer is charged
    key: str | None
    at: datetime | None
    line: int = 0  # where it came from in a usage file, for error messages


def usage_services(session: Session) -> dict[str, str]:
    """Catalog names that usage may charge, by case-folded name."""
    names = session.scalars(select(UsageService.name).where(UsageService.is_usage.is_(True)))
    return {n.casefold(): n for n in names}


def check_service(catalog: dict[str, str], name: str | None) -> str:
    canonical = catalog.get((name or "").strip().casefold())
    if canonical is None:
        known = ", ".join(sorted(catalog.values()))
        raise ValidationError(f"Unknown service '{name}'; usage can be charged to: {known} "
                              "(a manager adds new ones with `billing-desk service add`).", field="service")
    return canonical


def check_key(key: str | None) -> str | None:
    clean = clean_token(key, "key") or None
    if clean is not None and len(clean) > MAX_KEY:
        raise ValidationError(f"The key is {len(clean)} characters long; keep it to {MAX_KEY}.", field="key")
    return clean


def check_description(text: str | None, fallback: str, field: str = "description") -> str:
    clean = clean_text(text, field) or fallback
    if len(clean) > MAX_DESCRIPTION:
        raise ValidationError(f"The {field} is too long; keep it to {MAX_DESCRIPTION} characters.", field=field)
    return clean


def amount_in_currency(amount: str | Money, account: str, currency: str) -> Money:
    """What a person typed (either sign), or a Money, as an amount in the customer's currency."""
    if not isinstance(amount, Money):
        return parse_money(amount, currency, allow_negative=True)
    if amount.currency != currency:
        raise ValidationError(f"The amount is in {amount.currency}, but {account} is billed in {currency}.",
                              field="amount")
    return amount


def charge_amount(amount: str | Money, customer: Customer) -> Money:
    """A usage amount: positive, in the customer's currency, no more decimals than it has."""
    if customer.currency is None:
        raise Conflict(f"{customer.account} has no billing currency yet, so it cannot be charged.")
    try:
        money = amount_in_currency(amount, customer.account, customer.currency)
    except ValidationError as exc:
        raise ValidationError(exc.message, field="amount") from None
    if money.minor <= 0:
        raise ValidationError("A usage amount must be more than zero; use `credit adjust` to give credit back.",
                              field="amount")
    return money


def check_time(at: datetime | None) -> datetime | None:
    if at is not None and at > utcnow() + FUTURE_SLACK:
        raise ValidationError(f"The timestamp {at.isoformat()} is in the future.", field="timestamp")
    return at


def usage_line(customer: Customer, catalog: dict[str, str], service: str, amount: str | Money,
               description: str | None, key: str | None, at: datetime | None) -> UsageLine:
    canonical = check_service(catalog, service)
    return UsageLine(customer.id, canonical, check_description(description, f"{canonical} usage"),
                     charge_amount(amount, customer), check_key(key), check_time(at))


def post_usage(session: Session, line: UsageLine, staff_id: int | None) -> PostingResult:
    return post(session, Posting(
        customer_id=line.customer_id, kind=LedgerKind.USAGE, amount=-line.amount, description=line.description,
        service=line.service, idempotency_key=line.key, staff_id=staff_id, created_at=line.at,
        key_scope=KeyScope.EXTERNAL,
    ))


def post_usage_lines(session: Session, lines: Sequence[UsageLine],
                     staff_id: int | None) -> list[tuple[UsageLine, PostingResult]]:
    """Post a usage file's lines in the caller's transaction; a line the ledger refuses names its number."""
    done = []
    for number, line in enumerate(lines, start=1):
        try:
            done.append((line, post_usage(session, line, staff_id)))
        except (ValidationError, Conflict) as exc:
            raise type(exc)(f"Line {line.line}: {exc.message}", field=exc.field) from None
        if number == (len(lines) + 1) // 2:
            crash_point("usage_import.mid_import")  # half the file's rows written, none committed
    return done


def parse_usage_file(session: Session, text: str) -> list[UsageLine]:
    """Every line of a usage CSV, validated; the first bad line raises with its number."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        return _parse_rows(session, reader)
    except csv.Error as exc:  # e.g. a field beyond the csv module's 128 KiB limit
        raise ValidationError(f"Line {reader.line_num}: this is not a usage CSV ({exc}).") from None


def _parse_rows(session: Session, reader: Any) -> list[UsageLine]:
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in IMPORT_COLUMNS if c not in header]
    if missing:
        raise ValidationError(f"Line 1: the header lacks column(s) {', '.join(missing)}; "
                              f"expected {','.join(IMPORT_COLUMNS)}.")
    where = {c: header.index(c) for c in IMPORT_COLUMNS}
    catalog = usage_services(session)
    lines: list[UsageLine] = []
    customers: dict[str, Customer] = {}
    for cells in reader:
        number = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        lines.append(_parse_line(session, customers, catalog, cells, where, number))
    if not lines:
        raise ValidationError("The file has no usage lines under its header.")
    return lines


def _parse_line(session: Session, customers: dict[str, Customer], catalog: dict[str, str],
                cells: list[str], where: dict[str, int], number: int) -> UsageLine:
    if len(cells) < len(where) or len(cells) < max(where.values()) + 1:
        raise ValidationError(f"Line {number}: expected {len(IMPORT_COLUMNS)} columns, found {len(cells)}.")
    get = {c: cells[i].strip() for c, i in where.items()}
    try:
        ref = get["customer"].upper()
        if ref not in customers:
            customers[ref] = resolve_customer(session, ref)
        at = parse_instant(get["timestamp"], "timestamp") if get["timestamp"] else None
        parsed = usage_line(customers[ref], catalog, get["service"], get["amount"], get["description"],
                            get["key"], at)
        return replace(parsed, line=number)
    except BillingDeskError as exc:
        raise type(exc)(f"Line {number}: {exc.message}", field=exc.field) from None


def summarise(results: Sequence[tuple[UsageLine, PostingResult]]) -> ImportReport:
    """What a usage file did: counts per outcome and the charged sum per currency."""
    charged = failed = duplicates = duplicates_failed = 0
    totals: dict[str, int] = {}
    for line, result in results:
        if result.duplicate:
            duplicates += 1
            if not result.succeeded:
                duplicates_failed += 1
        elif result.succeeded:
            charged += 1
            totals[line.amount.currency] = totals.get(line.amount.currency, 0) + line.amount.minor
        else:
            failed += 1
    return ImportReport(len(results), charged, failed, duplicates,
                        tuple(Money(v, c) for c, v in sorted(totals.items())), duplicates_failed)

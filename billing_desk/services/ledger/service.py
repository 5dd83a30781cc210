"""LedgerService: the credit ledger's use cases for the CLI and the GUI.

Reads (history pages, totals, balance, catalog) and writes (usage, usage files, adjustments
and promotions, new catalog services), plus ``verify``. Each call is one unit of work; writes
check the permission, post through ``ledger_posting`` (the only code that moves balances),
write their audit row and commit once. Safe to call from any thread: nothing is shared
between calls but the unit-of-work factory.

GUI entry points (Credit History tab):
    history_page(actor, customer_ref, filters, after, limit) -> HistoryPage
    history_totals(actor, customer_ref, filters) -> HistoryTotals
GUI entry point (Overview tab):
    daily_spending(actor, customer_ref, days=90) -> DailySpending
GUI entry points (finance's Month report):
    month_report(actor, "2026-11", "VND") -> MonthReport;  report_currencies(actor) -> tuple[str, ...]
Export lives in ``services.exports.ExportService.export_credit_history``.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from pathlib import Path

from sqlalchemy import func, or_, select

from billing_desk.domain.dates import local_zone
from billing_desk.domain.enums import CreditSource, EntryStatus
from billing_desk.domain.errors import Conflict, InsufficientCredit, ValidationError
from billing_desk.domain.money import Money
from billing_desk.domain.permissions import Actor, Permission
from billing_desk.domain.text import clean_text
from billing_desk.models import UsageService, utcnow
from billing_desk.services import audit
from billing_desk.services.crashpoints import crash_point
from billing_desk.services.customers import Balance, balance_of, resolve_customer
from billing_desk.services.ledger import credit_report, history
from billing_desk.services.ledger import spending as ledger_spending
from billing_desk.services.ledger.adjustments import adjustment_posting
from billing_desk.services.ledger.credit_report import MonthReport
from billing_desk.services.ledger.dtos import (
    DailySpending,
    HistoryCursor,
    HistoryFilter,
    HistoryPage,
    HistoryTotals,
    ImportReport,
    PostingOutcome,
    ServiceDTO,
    VerifyReport,
)
from billing_desk.services.ledger.posting import PostingResult, post
from billing_desk.services.ledger.usage import (
    parse_usage_file,
    post_usage,
    post_usage_lines,
    summarise,
    usage_line,
    usage_services,
)
from billing_desk.services.ledger.verify import run_verify
from billing_desk.services.uow import UnitOfWorkFactory, rerun_when_transient

DEFAULT_PAGE = 200
MAX_SERVICE_NAME = 100


class LedgerService:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    # -- reads -------------------------------------------------------------------------

    def history_page(self, actor: Actor, customer_ref: str | int, filters: HistoryFilter | None = None,
                     after: HistoryCursor | None = None, limit: int = DEFAULT_PAGE) -> HistoryPage:
        """One page of the customer's credit history, newest first; pass ``next_cursor`` back
        as ``after`` for the next page."""
        actor.require(Permission.HISTORY_READ)
        with self._uow.read() as uow:
            customer = resolve_customer(uow.session, customer_ref)
            f = history.normalise_filter(uow.session, filters or HistoryFilter())
            return history.fetch_page(uow.session, customer.id, f, after, limit)

    def history_totals(self, actor: Actor, customer_ref: str | int,
                       filters: HistoryFilter | None = None) -> HistoryTotals:
        """Count of matching rows and sum of the successful ones (slower on a huge history:
        the GUI runs it after the first page is shown)."""
        actor.require(Permission.HISTORY_READ)
        with self._uow.read() as uow:
            customer = resolve_customer(uow.session, customer_ref)
            f = history.normalise_filter(uow.session, filters or HistoryFilter())
            return history.totals(uow.session, customer.id, customer.currency, f)

    def daily_spending(self, actor: Actor, customer_ref: str | int, *, days: int = 90, today: date | None = None,
                       zone: tzinfo | None = None) -> DailySpending:
        """Spending per service per whole local day, for the ``days`` days ending with ``today``
        (default: today in ``zone``, the staff member's zone unless given). Summed in the
        database, so a million-row history costs one index range scan of the period."""
        actor.require(Permission.HISTORY_READ)
        zone = zone or local_zone()
        period = ledger_spending.local_days(today or datetime.now(zone).date(), days)
        with self._uow.read() as uow:
            customer = resolve_customer(uow.session, customer_ref)
            return ledger_spending.spending(uow.session, customer.id, customer.currency, period, zone)

    def month_report(self, actor: Actor, month: str, currency: str, *, zone: tzinfo | None = None) -> MonthReport:
        """The month-end credit report of ``month`` ("YYYY-MM", local days of ``zone``, by default
        the desk's) in ``currency``: the credit owed, proved from the ledger and from the
        balances (see ``credit_report``)."""
        actor.require(Permission.CREDIT_REPORT)
        credit_report.parse_month(month)  # a bad month or currency is refused before connecting
        credit_report.report_currency(currency)
        with self._uow.read() as uow:
            return credit_report.month_report(uow.session, month, currency, zone or local_zone())

    def report_currencies(self, actor: Actor) -> tuple[str, ...]:
        actor.require(Permission.CREDIT_REPORT)
        with self._uow.read() as uow:
            return credit_report.currencies_in_use(uow.session)

    def balance(self, actor: Actor, customer_ref: str | int) -> Balance | None:
        actor.require(Permission.HISTORY_READ)
        with self._uow.read() as uow:
            return balance_of(uow.session, resolve_customer(uow.session, customer_ref))

    def services(self, actor: Actor, *, usage_only: bool = False) -> list[ServiceDTO]:
        actor.require(Permission.HISTORY_READ)
        query = select(UsageService).order_by(UsageService.is_usage.desc(), UsageService.name)
        if usage_only:
            query = query.where(UsageService.is_usage.is_(True))
        with self._uow.read() as uow:
            return [ServiceDTO(s.id, s.name, s.is_usage) for s in uow.session.scalars(query)]

    def verify(self, actor: Actor) -> VerifyReport:
        actor.require(Permission.LEDGER_VERIFY)
        with self._uow.read() as uow:
            return run_verify(uow.session)

    # -- writes ------------------------------------------------------------------------

    def add_service(self, actor: Actor, name: str) -> ServiceDTO:
        actor.require(Permission.SERVICE_CATALOG)
        clean = clean_text(name, "name", "service name")
        if not clean or len(clean) > MAX_SERVICE_NAME:
            raise ValidationError(f"A service name is 1 to {MAX_SERVICE_NAME} characters.", field="name")
        with self._uow.write() as uow:
            # The exact name too: SQLite's lower() folds ASCII only, so 'Ä' != 'ä' there and an
            # exact repeat of a non-ASCII name would reach the unique index (IntegrityError).
            taken = uow.session.scalar(select(UsageService.name).where(or_(
                UsageService.name == clean, func.lower(UsageService.name) == clean.lower())).limit(1))
            if taken is not None:
                raise Conflict(f"The catalog already has '{taken}'.", field="name")
            row = UsageService(name=clean, is_usage=True, created_at=utcnow())
            uow.session.add(row)
            uow.session.flush()
            audit.record(uow.session, actor, "service.add", "usage_service", row.id, {"name": clean})
            uow.commit()
            return ServiceDTO(row.id, row.name, row.is_usage)

    def record_usage(self, actor: Actor, customer_ref: str | int, *, service: str, amount: str | Money,
                     description: str | None = None, key: str | None = None) -> PostingOutcome:
        """Charge one usage. Not enough credit is not an error: the attempt is recorded as a
        failed row and returned with status FAILED. A repeated key is returned as a duplicate."""
        actor.require(Permission.USAGE_RECORD)

        def charge() -> PostingOutcome:
            return self._record_usage(actor, customer_ref, service, amount, description, key)

        # One transaction, idempotent by its key: safe to run again after a deadlock.
        return rerun_when_transient(charge)

    def _record_usage(self, actor: Actor, customer_ref: str | int, service: str, amount: str | Money,
                      description: str | None, key: str | None) -> PostingOutcome:
        with self._uow.write() as uow:
            customer = resolve_customer(uow.session, customer_ref)
            line = usage_line(customer, usage_services(uow.session), service, amount, description, key, None)
            result = post_usage(uow.session, line, actor.staff_id)
            if not result.duplicate:
                audit.record(uow.session, actor, "usage.record", "customer", customer.id,
                             _posting_summary(line.service, result, key))
            uow.commit()
            return _outcome(customer.id, customer.account, result, balance_of(uow.session, customer))

    def import_usage(self, actor: Actor, source: str | Path, *, text: str | None = None) -> ImportReport:
        """Apply a usage CSV (customer,timestamp,service,description,amount,key) atomically:
        the first bad line raises with its line number and nothing of the file is written."""
        actor.require(Permission.USAGE_RECORD)
        content = text if text is not None else _read_text(Path(source))
        with self._uow.write() as uow:
            lines = parse_usage_file(uow.session, content)
            report = summarise(post_usage_lines(uow.session, lines, actor.staff_id))
            audit.record(uow.session, actor, "usage.import", "usage_file", Path(str(source)).name[:64],
                         {**report.to_json(), "file": str(source)})
            crash_point("usage_import.before_commit")
            uow.commit()
        crash_point("usage_import.after_commit")  # the file is applied, but the feed has not been told
        return report

    def adjust(self, actor: Actor, customer_ref: str | int, amount: str | Money, reason: str, *,
               promotion: bool = False, source: CreditSource | None = None,
               key: str | None = None) -> PostingOutcome:
        """A manager's correction (either sign) or promotion credit (positive), with a reason.
        A debit beyond the available credit is refused and nothing is written."""
        actor.require(Permission.CREDIT_ADJUST)
        with self._uow.write() as uow:
            customer = resolve_customer(uow.session, customer_ref)
            posting = adjustment_posting(customer, amount, reason, promotion=promotion, source=source,
                                         key=key, staff_id=actor.staff_id)
            result = post(uow.session, posting)
            if result.status is EntryStatus.FAILED and not result.duplicate:
                raise InsufficientCredit(
                    f"{customer.account} has too little {source.value + ' ' if source else ''}credit for "
                    f"{posting.amount}; nothing was changed.", field="amount")
            if not result.duplicate:
                audit.record(uow.session, actor, f"credit.{posting.kind.value}", "customer", customer.id,
                             _posting_summary(posting.service or posting.kind.value, result, key),
                             reason=posting.description)
            uow.commit()
            return _outcome(customer.id, customer.account, result, balance_of(uow.session, customer))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValidationError(f"No file at {path}.", field="file") from None
    except UnicodeDecodeError:
        raise ValidationError(f"{path} is not UTF-8 text; save the CSV as UTF-8.", field="file") from None
    except OSError as exc:
        raise ValidationError(f"Cannot read {path}: {exc.strerror}.", field="file") from None
    except ValueError:  # a path with a NUL in it names no file
        raise ValidationError(f"No file at {path}.", field="file") from None


def _posting_summary(service: str, result: PostingResult, key: str | None) -> dict[str, object]:
    return {"service": service, "amount": result.amount.to_json(), "status": result.status.value,
            "entries": list(result.entry_ids), "key": key, "failure_reason": result.failure_reason}


def _outcome(customer_id: int, account: str, result: PostingResult, balance: Balance | None) -> PostingOutcome:
    assert balance is not None  # a posting succeeded or failed only for a customer with a currency
    return PostingOutcome(customer_id, account, result.status, result.amount, result.entry_ids,
                          result.duplicate, result.failure_reason, balance)

"""ExportService: a customer's credit history to .xlsx or .csv, streamed, cancellable, audited.

Rows stream from the database a keyset page at a time into a temporary file beside the
target; only a finished export is renamed into place, so a cancelled or failed export leaves
no partial file (and never clobbers an older export of the same name). The audit row is written
between the two: a file is in place only once its record is, so a database too busy to take the
record fails the export whole instead of reporting failure beside a finished file (issue 11). Called from a GUI
worker thread: ``progress(done, total)`` is invoked from that thread after each page, and
``cancel()`` is polled at the same points.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from billing_desk.domain.dates import local_zone
from billing_desk.domain.errors import Cancelled, ValidationError
from billing_desk.domain.permissions import Actor, Permission
from billing_desk.models import utcnow
from billing_desk.services import audit
from billing_desk.services.customers import resolve_customer
from billing_desk.services.exports import ExportResult, export_format, write_atomically
from billing_desk.services.ledger import history
from billing_desk.services.ledger.credit_report_export import MonthReportExport
from billing_desk.services.ledger.dtos import HistoryFilter
from billing_desk.services.ledger.history_csv import write_csv
from billing_desk.services.ledger.history_xlsx import ExportMeta, write_xlsx
from billing_desk.services.uow import UnitOfWorkFactory

Progress = Callable[[int, int], None]
CancelCheck = Callable[[], bool]
PAGE = 2000


class ExportService(MonthReportExport):  # export_month_report: credit_report_export.py
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def export_credit_history(self, actor: Actor, customer_ref: str | int, filters: HistoryFilter | None,
                              path: str | Path, fmt: str | None = None, progress: Progress | None = None,
                              cancel: CancelCheck | None = None) -> ExportResult:
        """Write the customer's filtered history to ``path`` (xlsx or csv); raises Cancelled
        when ``cancel()`` turns true, leaving no file behind."""
        actor.require(Permission.HISTORY_EXPORT)
        target = Path(path).expanduser()
        chosen = export_format(target, fmt)
        if not target.parent.is_dir():
            raise ValidationError(f"The folder {target.parent} does not exist.", field="path")
        started = time.perf_counter()
        with self._uow.read() as uow:
            customer = resolve_customer(uow.session, customer_ref)
            f = history.normalise_filter(uow.session, filters or HistoryFilter())
            total = history.totals(uow.session, customer.id, customer.currency, f).count
            meta = ExportMeta(f"{customer.name} ({customer.account})", customer.currency or "USD", f.describe(),
                              utcnow(), f"{actor.name} ({actor.role.value})", local_zone(), total)

            def on_rows(done: int) -> None:
                if cancel is not None and cancel():
                    raise Cancelled(f"Export cancelled after {done} of {total} rows; no file was written.")
                if progress is not None:
                    progress(done, total)

            on_rows(0)
            pages = history.iterate(uow.session, customer.id, f, PAGE)
            details: dict[str, object] = {"account": customer.account, "filter": f.to_json(), "format": chosen,
                                          "file": target.name}
            writer = write_xlsx if chosen == "xlsx" else write_csv
            rows = write_atomically(target, lambda temp: writer(temp, meta, pages, on_rows),
                                    lambda rows: self._record(actor, customer.id, details, rows))
        return ExportResult(str(target), chosen, rows, time.perf_counter() - started)

    def _record(self, actor: Actor, customer_id: int, details: dict[str, object], rows: int) -> None:
        """The audit row, written before the file takes its name: when the database is too busy
        to take it, the export fails whole (no file), never "failed" beside a finished file."""
        with self._uow.write() as uow:
            audit.record(uow.session, actor, "export.credit_history", "customer", customer_id,
                         {**details, "rows": rows})
            uow.commit()


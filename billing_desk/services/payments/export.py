"""The payments review's export: every payment under finance's filter, to .xlsx or .csv.

The same machinery as the credit history's export (ledger/history_export.py), which this
service extends: keyset pages streamed into openpyxl's write-only workbook or a CSV beside the
target, progress and Cancel between pages, the audit row ("export.payments") written before
the file takes its name, so a cancelled or failed export leaves no file. Amounts are number
cells in each payment's own currency format (the rows mix currencies; they are never added).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from openpyxl import Workbook

from billing_desk.domain.dates import local_zone, zone_name
from billing_desk.domain.errors import Cancelled, ValidationError
from billing_desk.domain.money import format_plain
from billing_desk.domain.permissions import Actor, Permission
from billing_desk.models import utcnow
from billing_desk.services import audit
from billing_desk.services.customers import resolve_customer
from billing_desk.services.exports import (
    SheetCells,
    about_sheet,
    close_data_sheet,
    csv_text,
    data_sheet,
    write_atomically,
)
from billing_desk.services.ledger import EXPORT_PAGE, CancelCheck, ExportResult, Progress, export_format
from billing_desk.services.ledger import ExportService as LedgerExports
from billing_desk.services.payments import review
from billing_desk.services.payments.dtos import PaymentFilters, PaymentRow, PaymentSort

HEADERS = ("Payment", "Date", "Account", "Customer", "Gateway", "Amount", "Currency", "Status", "Reason",
           "Reference", "Started by", "Settled at")
WIDTHS = (10, 20, 12, 28, 9, 18, 9, 9, 40, 36, 14, 20)
DATA_SHEET = "Payments"


@dataclass(frozen=True, slots=True)
class PaymentExportMeta:
    filter: str
    sort: str
    exported_at: datetime  # aware
    staff: str
    zone: tzinfo
    rows: int

    @property
    def zone_name(self) -> str:
        return zone_name(self.zone)

    def local(self, value: datetime | None) -> datetime | None:
        return value.astimezone(self.zone).replace(tzinfo=None) if value else None


Pages = Iterable[list[PaymentRow]]


def write_payments_xlsx(path: Path, meta: PaymentExportMeta, pages: Pages, on_rows: Callable[[int], None]) -> int:
    wb = Workbook(write_only=True)
    about_sheet(wb, "Payments export", (
        ("Filter", meta.filter), ("Order", meta.sort), ("Exported at", meta.local(meta.exported_at) or ""),
        ("Time zone", meta.zone_name), ("Exported by", meta.staff), ("Rows", meta.rows)))
    ws = data_sheet(wb, DATA_SHEET, HEADERS, WIDTHS)
    per_currency: dict[str, SheetCells] = {}  # each currency its number format, styles built once
    done = 0
    for page in pages:
        for r in page:
            cells = per_currency.get(r.amount.currency) or per_currency.setdefault(
                r.amount.currency, SheetCells(ws, r.amount.currency))
            settled = meta.local(r.settled_at)
            ws.append([r.id, cells.date(meta.local(r.created_at) or r.created_at), cells.text(r.customer_account),
                       cells.text(r.customer_name), r.method, cells.money(r.amount.minor), r.amount.currency,
                       r.status, cells.text(r.reason), cells.text(r.gateway_reference), cells.text(r.started_by),
                       cells.date(settled) if settled else None])
        done += len(page)
        on_rows(done)
    close_data_sheet(ws, len(HEADERS), done)
    wb.active = 1  # open on the rows; the About sheet stays first for the record
    wb.save(path)
    return done


def write_payments_csv(path: Path, meta: PaymentExportMeta, pages: Pages, on_rows: Callable[[int], None]) -> int:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle)
        for label, value in (("Filter", meta.filter), ("Order", meta.sort),
                             ("Exported at", f"{meta.local(meta.exported_at):%Y-%m-%d %H:%M:%S} ({meta.zone_name})"),
                             ("Exported by", meta.staff), ("Rows", str(meta.rows))):
            out.writerow([f"# {label}", csv_text(value)])
        out.writerow(HEADERS)
        done = 0
        for page in pages:
            out.writerows(
                (r.id, f"{meta.local(r.created_at):%Y-%m-%d %H:%M:%S}", csv_text(r.customer_account),
                 csv_text(r.customer_name), r.method, format_plain(r.amount.minor, r.amount.currency).replace(",", ""),
                 r.amount.currency, r.status, csv_text(r.reason), csv_text(r.gateway_reference),
                 csv_text(r.started_by), f"{meta.local(r.settled_at):%Y-%m-%d %H:%M:%S}" if r.settled_at else "")
                for r in page)
            done += len(page)
            on_rows(done)
    return done


class ExportService(LedgerExports):
    """The credit history's exports plus finance's payments export (payments sit above the
    ledger, so the payments export extends the ledger's service rather than the other way)."""

    def export_payments(self, actor: Actor, filters: PaymentFilters | None, sort: PaymentSort | str,
                        path: str | Path, fmt: str | None = None, progress: Progress | None = None,
                        cancel: CancelCheck | None = None) -> ExportResult:
        """Write the filtered payments to ``path`` (xlsx or csv) in ``sort``'s order; raises
        Cancelled when ``cancel()`` turns true, leaving no file behind."""
        actor.require(Permission.PAYMENT_REVIEW)
        actor.require(Permission.EXPORT)
        order, f = review.checked_sort(sort), review.checked_filters(filters or PaymentFilters())
        target = Path(path).expanduser()
        chosen = export_format(target, fmt)
        if not target.parent.is_dir():
            raise ValidationError(f"The folder {target.parent} does not exist.", field="path")
        started = time.perf_counter()
        with self._uow.read() as uow:
            customer_id = resolve_customer(uow.session, f.customer).id if f.customer else None
            total = sum(t.count for t in review.totals(uow.session, f, customer_id).lines)
            meta = PaymentExportMeta(f.describe(), order.value, utcnow(), f"{actor.name} ({actor.role.value})",
                                     local_zone(), total)

            def on_rows(done: int) -> None:
                if cancel is not None and cancel():
                    raise Cancelled(f"Export cancelled after {done} of {total} rows; no file was written.")
                if progress is not None:
                    progress(done, total)

            on_rows(0)
            pages = review.iterate(uow.session, f, customer_id, order, EXPORT_PAGE)
            writer = write_payments_xlsx if chosen == "xlsx" else write_payments_csv
            details: dict[str, object] = {"filter": f.to_json(), "sort": order.value, "format": chosen,
                                          "file": target.name}
            rows = write_atomically(target, lambda temp: writer(temp, meta, pages, on_rows),
                                    lambda rows: self._record_payments(actor, details, rows))
        return ExportResult(str(target), chosen, rows, time.perf_counter() - started)

    def _record_payments(self, actor: Actor, details: dict[str, object], rows: int) -> None:
        with self._uow.write() as uow:
            audit.record(uow.session, actor, "export.payments", "payment", "*", {**details, "rows": rows})
            uow.commit()

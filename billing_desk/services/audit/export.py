"""The audit log under a filter, to .xlsx or .csv: the same machinery as the other exports
(keyset pages streamed into a write-only workbook beside the target, progress and Cancel
between pages, the "export.audit" row written before the file takes its name, so a cancelled
or failed export leaves no file). Every text cell passes the formula guard: a customer's name
in a summary may start with '='.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from sqlalchemy import func, select, union_all

from billing_desk.domain.dates import local_zone, zone_name
from billing_desk.domain.errors import Cancelled, ValidationError
from billing_desk.domain.permissions import Actor, Permission
from billing_desk.models import utcnow
from billing_desk.services.audit.browse import (
    AuditFilters,
    CustomerLookup,
    _customer_branches,
    _where,
    checked_filters,
    iterate,
    resolve_filter_customer,
)
from billing_desk.services.audit.chain import canonical_json
from billing_desk.services.audit.verify import CancelCheck, Progress
from billing_desk.services.exports import (
    ExportResult,
    SheetCells,
    about_sheet,
    close_data_sheet,
    csv_text,
    data_sheet,
    export_format,
    write_atomically,
)
from billing_desk.services.uow import UnitOfWorkFactory

# The audit service's append: (session, actor, action, entity, entity id, summary).
Recorder = Callable[..., Any]

HEADERS = ("Row", "When", "Staff", "Action", "Entity", "Entity id", "Customer", "Summary", "Reason")
WIDTHS = (10, 20, 14, 24, 16, 12, 12, 80, 30)
PAGE = 2000


def export_audit(uow_factory: UnitOfWorkFactory, actor: Actor, filters: AuditFilters | None, path: str | Path,
                 fmt: str | None = None, progress: Progress | None = None,
                 cancel: CancelCheck | None = None, *, record: Recorder,
                 lookup: CustomerLookup | None) -> ExportResult:
    """``record`` is the audit service's append (passed in: the service builds on this module)."""
    actor.require(Permission.AUDIT_READ)
    actor.require(Permission.EXPORT)
    f = checked_filters(filters or AuditFilters())
    target = Path(path).expanduser()
    chosen = export_format(target, fmt)
    if not target.parent.is_dir():
        raise ValidationError(f"The folder {target.parent} does not exist.", field="path")
    started = time.perf_counter()
    with uow_factory.read() as uow:
        customer = resolve_filter_customer(uow.session, f, lookup)
        total = _count(uow.session, f, customer[0] if customer else None)

        def on_rows(done: int) -> None:
            if cancel is not None and cancel():
                raise Cancelled(f"Export cancelled after {done:,} of {total:,} rows; no file was written.")
            if progress is not None:
                progress(done, total)

        on_rows(0)
        pages = iterate(uow.session, f, customer, PAGE)
        about = [("Filter", f.describe()), ("Exported", utcnow().astimezone(local_zone()).replace(tzinfo=None)),
                 ("By", f"{actor.name} ({actor.role.value})"), ("Time zone", _zone_name()), ("Rows", total)]
        writer = _write_xlsx if chosen == "xlsx" else _write_csv
        details: dict[str, object] = {"filter": f.to_json(), "format": chosen, "file": target.name}

        def audited(rows: int) -> None:
            with uow_factory.write() as w:
                record(w.session, actor, "export.audit", "audit_log", "*", {**details, "rows": rows})
                w.commit()

        rows = write_atomically(target, lambda temp: writer(temp, about, pages, on_rows), audited)
    return ExportResult(str(target), chosen, rows, time.perf_counter() - started)


def _count(session: Any, f: AuditFilters, customer_id: int | None) -> int:
    from billing_desk.models import AuditEntry
    log = AuditEntry.__table__
    if customer_id is None:
        return int(session.scalar(_where(select(func.count()).select_from(log), f, None)) or 0)
    every = union_all(*(_where(b, f, None).with_only_columns(log.c.id) for b in _customer_branches(customer_id)))
    return int(session.scalar(select(func.count()).select_from(every.subquery())) or 0)


def _zone_name() -> str:
    return zone_name(local_zone())


def _local(value: Any) -> Any:
    return value.astimezone(local_zone()).replace(tzinfo=None)


def _summary(row: dict[str, Any]) -> str:
    return canonical_json(row["summary"])


def _write_xlsx(temp: Path, about: list[tuple[str, Any]], pages: Iterable[list[dict[str, Any]]],
                on_rows: Callable[[int], None]) -> int:
    wb = Workbook(write_only=True)
    about_sheet(wb, "Audit log", about)
    ws = data_sheet(wb, "Audit", HEADERS, WIDTHS)
    cells = SheetCells(ws, "USD")  # dates only: no money column here
    done = 0
    for page in pages:
        for r in page:
            ws.append([r["id"], cells.date(_local(r["at"])), cells.text(r["staff_name"]), cells.text(r["action"]),
                       cells.text(r["entity"]), cells.text(str(r["entity_id"])), cells.text(r.get("customer")),
                       cells.text(_summary(r)), cells.text(r["reason"])])
        done += len(page)
        on_rows(done)
    close_data_sheet(ws, len(HEADERS), done)
    wb.save(temp)
    return done


def _write_csv(temp: Path, about: list[tuple[str, Any]], pages: Iterable[list[dict[str, Any]]],
               on_rows: Callable[[int], None]) -> int:
    done = 0
    with temp.open("w", newline="", encoding="utf-8-sig") as handle:
        out = csv.writer(handle)
        out.writerow(HEADERS)
        for page in pages:
            out.writerows((r["id"], f"{_local(r['at']):%Y-%m-%d %H:%M:%S}", csv_text(r["staff_name"]),
                           csv_text(r["action"]), csv_text(r["entity"]), csv_text(str(r["entity_id"])),
                           csv_text(r.get("customer")), csv_text(_summary(r)), csv_text(r["reason"]))
                          for r in page)
            done += len(page)
            on_rows(done)
    return done

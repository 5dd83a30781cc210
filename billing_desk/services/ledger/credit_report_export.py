"""The month-end credit report to Excel: ``ExportService.export_month_report``.

Kept apart from the credit-history export it sits beside (``ExportService`` takes it in as a
base class): the report is small (a few hundred rows), so it is written in one go, with no
progress or cancel, but like every export it appears whole or not at all, and only once its
audit row is in.
"""

from __future__ import annotations

import time
from pathlib import Path

from billing_desk.domain.dates import local_zone
from billing_desk.domain.errors import ValidationError
from billing_desk.domain.permissions import Actor, Permission
from billing_desk.models import utcnow
from billing_desk.services import audit
from billing_desk.services.exports import ExportResult, atomic_file
from billing_desk.services.ledger.credit_report import MonthReport
from billing_desk.services.ledger.credit_report_xlsx import write_month_report
from billing_desk.services.ledger.service import LedgerService
from billing_desk.services.uow import UnitOfWorkFactory


class MonthReportExport:
    _uow: UnitOfWorkFactory

    def export_month_report(self, actor: Actor, month: str, currency: str, path: str | Path, *,
                            report: MonthReport | None = None) -> ExportResult:
        """The month-end credit report as .xlsx at ``path``, audited "export.month_report".
        ``report``: the same month's report already computed (the one on screen), written
        instead of a new one, so the file shows what was shown and the ledger is read once."""
        actor.require(Permission.CREDIT_REPORT)
        actor.require(Permission.EXPORT)
        target = Path(path).expanduser()
        if target.suffix.lower() != ".xlsx":
            raise ValidationError("The month report is exported to Excel: give a file name ending in .xlsx.",
                                  field="path")
        if not target.parent.is_dir():
            raise ValidationError(f"The folder {target.parent} does not exist.", field="path")
        started = time.perf_counter()
        zone = local_zone()
        if report is None or (report.month, report.currency) != (month.strip(), currency.strip().upper()):
            report = LedgerService(self._uow).month_report(actor, month, currency, zone=zone)
        with atomic_file(target) as temp:
            rows = write_month_report(temp, report, staff=f"{actor.name} ({actor.role.value})", made_at=utcnow(),
                                      zone=zone)
            self._record_month_report(actor, report, target)
        return ExportResult(str(target), "xlsx", rows, time.perf_counter() - started)

    def _record_month_report(self, actor: Actor, report: MonthReport, target: Path) -> None:
        """Before the file takes its name: a database too busy for the record fails the export whole."""
        with self._uow.write() as uow:
            audit.record(uow.session, actor, "export.month_report", "credit_report", report.month,
                         {"month": report.month, "currency": report.currency, "file": target.name,
                          "closing": report.closing.total.to_json(), "difference": report.difference.to_json()})
            uow.commit()

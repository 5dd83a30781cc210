"""The audit log table (managers and admins): when (local), who, action, customer, summary,
newest first, keyset-paged by the audit service."""

from __future__ import annotations

from PySide6.QtCore import QObject

from billing_desk.services.audit import AuditRow
from billing_desk.views.audit.audit_detail import summary_line
from billing_desk.views.formatting import local_time, tr
from billing_desk.views.table_models.paged_model import Column, PagedTableModel
from billing_desk.views.tasks import TaskRunner

PAGE = 100  # a screenful and a half; each page is one indexed query (docs/performance/audit.md)


def summary_text(row: AuditRow) -> str:
    """One line: "field: value" pairs, before/after as "old → new"."""
    return summary_line(row)


def audit_columns() -> list[Column]:
    return [
        Column("when", tr("When"), lambda r: local_time(r.at, seconds=True), width=150),
        Column("who", tr("Who"), lambda r: r.staff_name, width=80),
        Column("action", tr("Action"), lambda r: r.action, width=140),
        Column("customer", tr("Customer"), lambda r: r.customer or "", width=95),
        Column("summary", tr("Summary"), summary_text, tooltip=summary_text, stretch=True),
    ]


class AuditModel(PagedTableModel):
    def __init__(self, runner: TaskRunner, page_size: int = PAGE, parent: QObject | None = None) -> None:
        super().__init__(runner, audit_columns(), page_size, parent)

"""One audit row in full, beside the table: who did what to which thing and when, then the
before and after values where the row holds them, and the rest of its summary readably.

Rows hold before/after in two shapes: ``{"before": {...}, "after": {...}}`` (plan edits, staff
changes) and ``{"changes": {field: {"before": x, "after": y}}}`` (customer profile edits).
Anything else is shown whole, one "key: value" line each, nested values indented.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from billing_desk.services.audit import AuditRow
from billing_desk.views.formatting import local_time, tr

Change = tuple[str, Any, Any]  # field, before, after


def changes_of(summary: dict[str, Any]) -> tuple[list[Change], dict[str, Any]]:
    """The before/after pairs the summary holds, and what is left of it."""
    rest = dict(summary)
    before, after = rest.get("before"), rest.get("after")
    if isinstance(after, dict) and (before is None or isinstance(before, dict)):  # a creation has no before
        before = before or {}
        rest.pop("before", None)
        del rest["after"]
        keys = list(dict.fromkeys([*before, *after]))
        return [(k, before.get(k), after.get(k)) for k in keys], rest
    changes = rest.get("changes")
    if isinstance(changes, dict) and all(isinstance(v, dict) and {"before", "after"} <= set(v)
                                         for v in changes.values()):
        del rest["changes"]
        return [(k, v["before"], v["after"]) for k, v in changes.items()], rest
    return [], rest


def value_text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("display"), str):  # money: "300,000 ₫"
        return str(value["display"])
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def summary_line(row: AuditRow) -> str:
    changes, rest = changes_of(row.summary)
    parts = [f"{k}: {value_text(b)} → {value_text(a)}" for k, b, a in changes]
    parts += [f"{k}: {value_text(v)}" for k, v in rest.items()]
    return "; ".join(parts)


def readable(summary: dict[str, Any]) -> str:
    lines: list[str] = []
    for key, value in summary.items():
        if isinstance(value, dict | list):
            lines.append(f"{key}:")
            lines += ["    " + line for line in json.dumps(value, ensure_ascii=False, indent=2,
                                                          sort_keys=True).splitlines()]
        else:
            lines.append(f"{key}: {value_text(value)}")
    return "\n".join(lines)


class AuditDetail(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("auditDetail")
        self.title = QLabel(tr("Choose a row to see it in full."))
        self.title.setObjectName("sectionTitle")
        self.title.setWordWrap(True)
        self.facts = QLabel()
        self.facts.setWordWrap(True)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.changes = QTableWidget(0, 3)
        self.changes.setObjectName("auditChanges")
        self.changes.setHorizontalHeaderLabels([tr("Field"), tr("Before"), tr("After")])
        self.changes.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.changes.verticalHeader().hide()
        header = self.changes.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.changes.setWordWrap(True)  # an address before and after, whole, not elided
        self.changes.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.changes.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.rest_label = QLabel(tr("Details"))
        self.rest = QPlainTextEdit()
        self.rest.setObjectName("auditSummary")
        self.rest.setReadOnly(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.facts)
        layout.addWidget(self.changes, 1)
        layout.addWidget(self.rest_label)
        layout.addWidget(self.rest, 1)
        self.show_row(None)

    def show_row(self, row: AuditRow | None) -> None:
        self.row = row
        if row is None:
            self.title.setText(tr("Choose a row to see it in full."))
            self.facts.clear()
            self.changes.setRowCount(0)
            self.changes.hide()
            self.rest.clear()
            self.rest_label.hide()
            self.rest.hide()
            return
        self.title.setText(tr("Row {id}: {action}").format(id=row.id, action=row.action))
        facts = [tr("When: {when}").format(when=local_time(row.at, seconds=True)),
                 tr("Who: {who}").format(who=row.staff_name),
                 tr("About: {entity} {id}").format(entity=row.entity, id=row.entity_id)]
        if row.customer:
            facts.append(tr("Customer: {account}").format(account=row.customer))
        if row.reason:
            facts.append(tr("Reason: {reason}").format(reason=row.reason))
        self.facts.setText("\n".join(facts))
        changes, rest = changes_of(row.summary)
        self.changes.setRowCount(len(changes))
        for i, (field, before, after) in enumerate(changes):
            for column, text in enumerate((field, value_text(before), value_text(after))):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.changes.setItem(i, column, item)
        self.changes.setVisible(bool(changes))
        self.rest.setPlainText(readable(rest))
        self.rest_label.setText(tr("Other details") if changes else tr("Details"))
        self.rest_label.setVisible(bool(rest))
        self.rest.setVisible(bool(rest))

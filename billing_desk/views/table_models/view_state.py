"""Column widths per table, remembered in QSettings (per person, not in the database)."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QHeaderView, QTableView

from billing_desk.views.table_models.paged_model import PagedTableModel


def restore_columns(table: QTableView, settings: QSettings, key: str) -> None:
    header = table.horizontalHeader()
    model = table.model()
    stretchy = isinstance(model, PagedTableModel) and any(c.stretch for c in model.columns)
    header.setStretchLastSection(not stretchy)
    state = settings.value(f"tables/{key}")
    if isinstance(state, QByteArray) and not state.isEmpty() and header.restoreState(state):
        return
    if isinstance(model, PagedTableModel):
        for i, column in enumerate(model.columns):
            if column.stretch:
                header.setSectionResizeMode(i, QHeaderView.ResizeMode.Stretch)
            elif column.width:
                table.setColumnWidth(i, column.width)


def save_columns(table: QTableView, settings: QSettings, key: str) -> None:
    settings.setValue(f"tables/{key}", table.horizontalHeader().saveState())

"""Column widths per table, remembered in QSettings (per person, not in the database)."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QTableView

from billing_desk.views.table_models.paged_model import PagedTableModel


def restore_columns(table: QTableView, settings: QSettings, key: str) -> None:
    state = settings.value(f"tables/{key}")
    if isinstance(state, QByteArray) and not state.isEmpty() and table.horizontalHeader().restoreState(state):
        return
    model = table.model()
    if isinstance(model, PagedTableModel):
        for i, column in enumerate(model.columns):
            if column.width:
                table.setColumnWidth(i, column.width)
        table.horizontalHeader().setStretchLastSection(True)


def save_columns(table: QTableView, settings: QSettings, key: str) -> None:
    settings.setValue(f"tables/{key}", table.horizontalHeader().saveState())

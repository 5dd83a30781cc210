"""Column widths per table, remembered in QSettings (per person, not in the database), and the
read-only table view the tabs put over a ``PagedTableModel``."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

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


def data_table(model: PagedTableModel, settings: QSettings, key: str, *, name: str = "",
               select_rows: bool = True, row_height: int = 0, view: QTableView | None = None) -> QTableView:
    """A table view over ``model``: alternating rows, no row numbers, remembered column widths.
    ``view``: a QTableView subclass to set up instead of a plain one."""
    table = view if view is not None else QTableView()
    if name:
        table.setObjectName(name)
    table.setModel(model)
    table.setAlternatingRowColors(True)
    table.verticalHeader().hide()
    if row_height:
        table.verticalHeader().setDefaultSectionSize(row_height)
    if select_rows:
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    restore_columns(table, settings, key)
    return table

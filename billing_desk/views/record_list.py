"""A page that lists a few records from one service call (the plans catalog, the staff): the
table over a ``PagedTableModel`` fed as one page, a status line that leads with what the last
action did, and a row of buttons that follow the selected row.

Subclasses give the columns, the source of the rows (run in the task runner), the status summary and what
the buttons do; this class owns loading, selection and the note.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from billing_desk.views.context import ViewContext
from billing_desk.views.dialogs.error_dialog import show_error
from billing_desk.views.formatting import tr
from billing_desk.views.table_models.paged_model import ROW_ROLE, Column, PagedTableModel
from billing_desk.views.table_models.view_state import data_table, save_columns


class RecordList(QWidget):
    loaded = Signal(int)  # rows listed

    def __init__(self, ctx: ViewContext, columns: Sequence[Column], table_key: str, table_name: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._table_key = table_key
        self.model = PagedTableModel(ctx.runner, columns)
        self.model.load_failed.connect(lambda e: show_error(self, e))
        self.model.page_loaded.connect(self._on_loaded)
        self.table = data_table(self.model, ctx.settings, table_key, name=table_name)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self.on_selection())
        self.status_label = QLabel()
        self.status_label.setObjectName("statusLabel")
        self._note: str | None = None

    # -- what a subclass gives ------------------------------------------------------------
    def source(self) -> Callable[[], Sequence[Any]]:
        """What reads the rows: built here in the GUI thread, called in the task runner (so it
        holds the service and the actor, never a widget). A few dozen rows: one call, one page."""
        raise NotImplementedError

    def summary(self) -> str:
        raise NotImplementedError

    def on_selection(self) -> None:
        """Enable the buttons that fit the selected row."""

    # -- building -------------------------------------------------------------------------
    def button(self, text: str, name: str, slot: Callable[[], None], primary: bool = False) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName("primaryButton" if primary else name)
        button.setAccessibleName(name)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    def lay_out(self, buttons: Sequence[QPushButton]) -> None:
        bar = QHBoxLayout()
        bar.addWidget(self.status_label, 1)
        for button in buttons:
            bar.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self.on_selection()

    # -- loading and selection ------------------------------------------------------------
    def reload(self) -> None:
        self.status_label.setText(tr("Loading…"))
        fetch = self.source()
        self.model.set_source(lambda _after, _limit: (fetch(), None))

    def refresh(self) -> None:  # F5
        self.reload()

    def note(self, text: str) -> None:
        """Say what was just done, ahead of the summary, once the next load arrives."""
        self._note = text

    def _on_loaded(self, count: int) -> None:
        note, self._note = self._note, None
        summary = self.summary()
        self.status_label.setText(f"{note} {summary}" if note else summary)
        self.on_selection()
        self.loaded.emit(count)

    def rows(self) -> list[Any]:
        return [self.model.row(i) for i in range(self.model.rowCount())]

    def selected(self) -> Any:
        chosen = self.table.selectionModel().selectedRows()
        return self.model.data(chosen[0], ROW_ROLE) if chosen else None

    def select_where(self, wanted: Callable[[Any], bool]) -> None:
        for i, row in enumerate(self.rows()):
            if wanted(row):
                self.table.selectRow(i)
                return

    def save_state(self) -> None:
        save_columns(self.table, self.ctx.settings, self._table_key)

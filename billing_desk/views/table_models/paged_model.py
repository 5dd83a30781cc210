"""A read-only table model that pages through a keyset-paginated service query.

Columns are data (``Column``: key, header, how to display, alignment, colour); ``ROW_ROLE``
returns a row's DTO. Pages load through ``canFetchMore``/``fetchMore`` (Qt's fetchmore
pattern, after Vorta's and Anki's table models), with the page query running in the task
runner: the view asks for more when it scrolls near the end, the worker fetches, and the
rows are inserted in the GUI thread. A new source (a filter change) bumps a generation
number, so a page that was still in flight for the old filter is dropped on arrival.

The PySide6 port of Qt's fetchmore example inserts one row too many; here a page of ``n``
rows is ``beginInsertRows(parent, start, start + n - 1)``, and ``n <= 0`` returns early.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from billing_desk.domain.money import Money
from billing_desk.views.formatting import AMOUNT_ALIGN, money_text, tabular_font
from billing_desk.views.tasks import QueryOp, TaskRunner

ROW_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
ModelIndex = QModelIndex | QPersistentModelIndex
# A page source: (cursor after which to start, page size) -> (rows, cursor of the next page or None).
PageFetch = Callable[[Any, int], tuple[Sequence[Any], Any]]


def keyset_source(query: Callable[[Any, int], Any]) -> PageFetch:
    """A PageFetch over a service query ``(after, limit) -> page`` whose page has ``rows`` and
    ``next_cursor`` (the history and payments pages)."""
    def fetch(after: Any, limit: int) -> tuple[Sequence[Any], Any]:
        page = query(after, limit)
        return page.rows, page.next_cursor
    return fetch


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    display: Callable[[Any], str]
    align: Qt.AlignmentFlag = LEFT
    color: Callable[[Any], QColor | None] | None = None
    tooltip: Callable[[Any], str | None] | None = None
    numeric: bool = False  # tabular figures
    sort_key: Callable[[Any], Any] | None = None  # a Python value (money as int: Qt roles are 32-bit)
    width: int = 0  # default width in pixels; 0 lets the view decide
    stretch: bool = False  # takes the room left over (e.g. a description)


def amount_column(key: str, header: str, get: Callable[[Any], Money], *,
                  color: Callable[[Any], QColor | None] | None = None, width: int = 130) -> Column:
    """A money column: formatted by domain/money.py, right-aligned, sorted by minor units.

    ``get`` takes the amount from a row; ``color`` (if any) takes the whole row.
    """
    return Column(key, header, lambda r: money_text(get(r)), AMOUNT_ALIGN, color, numeric=True,
                  sort_key=lambda r: get(r).minor, width=width)


@dataclass
class _State:
    rows: list[Any] = field(default_factory=list)
    cursor: Any = None
    exhausted: bool = True
    loading: bool = False
    generation: int = 0


class PagedTableModel(QAbstractTableModel):
    page_loaded = Signal(int)  # rows added by the page that just arrived
    load_failed = Signal(object)  # the exception

    def __init__(self, runner: TaskRunner, columns: Sequence[Column], page_size: int = 200,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self.columns = list(columns)
        self.page_size = page_size
        self._fetch: PageFetch | None = None
        self._s = _State()
        self._font = tabular_font()

    # --- source ---------------------------------------------------------------------------
    def set_source(self, fetch: PageFetch | None) -> None:
        """Replace the query (new customer or filter): empty the table and load page one."""
        self.beginResetModel()
        self._s = _State(generation=self._s.generation + 1, exhausted=fetch is None)
        self._fetch = fetch
        self.endResetModel()
        if fetch is not None:
            self.fetchMore(QModelIndex())

    def reload(self) -> None:
        self.set_source(self._fetch)

    @property
    def loading(self) -> bool:
        return self._s.loading

    def row(self, index: int) -> Any:
        return self._s.rows[index]

    # --- paging ---------------------------------------------------------------------------
    def canFetchMore(self, parent: ModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._s.exhausted and not self._s.loading

    def fetchMore(self, parent: ModelIndex = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent) or self._fetch is None:
            return
        state, fetch, size = self._s, self._fetch, self.page_size
        cursor = state.cursor
        state.loading = True
        QueryOp(self._runner, lambda: fetch(cursor, size),
                lambda page: self._on_page(state, page)).failure(lambda e: self._on_failed(state, e)).run()

    def _on_page(self, state: _State, page: tuple[Sequence[Any], Any]) -> None:
        if state is not self._s:
            return  # an answer for a filter that has since changed
        rows, cursor = page
        state.loading = False
        state.cursor = cursor
        state.exhausted = cursor is None
        n = len(rows)
        if n > 0:
            start = len(state.rows)
            self.beginInsertRows(QModelIndex(), start, start + n - 1)
            state.rows.extend(rows)
            self.endInsertRows()
        self.page_loaded.emit(n)

    def _on_failed(self, state: _State, error: BaseException) -> None:
        if state is not self._s:
            return
        state.loading = False
        state.exhausted = True  # don't retry in a loop; the tab offers a reload
        self.load_failed.emit(error)

    # --- Qt model -------------------------------------------------------------------------
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._s.rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.header
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(column.align)
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._s.rows):
            return None
        row, column = self._s.rows[index.row()], self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.display(row)
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(column.align)
        if role == Qt.ItemDataRole.ForegroundRole and column.color is not None:
            return column.color(row)
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip is not None:
            return column.tooltip(row)
        if role == Qt.ItemDataRole.FontRole and column.numeric:
            return self._font
        if role == SORT_ROLE:
            return column.sort_key(row) if column.sort_key else column.display(row)
        return None

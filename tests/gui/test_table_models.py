"""Window-less tests of the paged table model: paging, the fetchMore off-by-one, re-query on
filter change, stale pages dropped, failures; and the credit-history model on a real ledger."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt

from billing_desk.bootstrap import App
from billing_desk.domain.enums import EntryStatus
from billing_desk.domain.errors import ValidationError
from billing_desk.domain.money import Money
from billing_desk.services.customers.dtos import CustomerDTO
from billing_desk.services.ledger.dtos import HistoryFilter
from billing_desk.views.formatting import NEGATIVE, POSITIVE
from billing_desk.views.table_models.credit_history_model import CreditHistoryModel
from billing_desk.views.table_models.paged_model import ROW_ROLE, SORT_ROLE, Column, PagedTableModel, keyset_source
from billing_desk.views.tasks import TaskRunner
from tests.support.ledger import seed_history
from tests.support.staff import StaffActors


@pytest.fixture
def runner():  # type: ignore[no-untyped-def]
    r = TaskRunner()
    yield r
    r.shutdown()


def numbers(total: int):  # type: ignore[no-untyped-def]
    """A keyset source over 0..total-1: the cursor is the last number handed out."""
    def fetch(after: int | None, limit: int) -> tuple[Sequence[int], int | None]:
        start = 0 if after is None else after + 1
        rows = list(range(start, min(start + limit, total)))
        more = start + limit < total
        return rows, (rows[-1] if more else None)
    return fetch


COLUMNS = [Column("n", "N", str), Column("double", "Double", lambda r: str(r * 2))]


def _load_page(qtbot, model: PagedTableModel) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(model.page_loaded, timeout=3000):
        model.fetchMore(QModelIndex())


def test_pages_arrive_one_at_a_time_with_exact_row_counts(qtbot, runner: TaskRunner) -> None:
    model = PagedTableModel(runner, COLUMNS, page_size=10)
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))
    with qtbot.waitSignal(model.page_loaded, timeout=3000):
        model.set_source(numbers(25))
    assert model.rowCount() == 10 and model.canFetchMore(QModelIndex())
    _load_page(qtbot, model)
    _load_page(qtbot, model)
    # the off-by-one of the PySide6 fetchmore example would insert 11 rows per page
    assert inserted == [(0, 9), (10, 19), (20, 24)]
    assert model.rowCount() == 25 and not model.canFetchMore(QModelIndex())
    assert model.data(model.index(24, 1)) == "48"
    assert model.data(model.index(3, 0), ROW_ROLE) == 3


def test_an_empty_page_inserts_nothing(qtbot, runner: TaskRunner) -> None:
    model = PagedTableModel(runner, COLUMNS, page_size=10)
    inserted: list[object] = []
    model.rowsInserted.connect(lambda *a: inserted.append(a))
    with qtbot.waitSignal(model.page_loaded, timeout=3000) as blocker:
        model.set_source(numbers(0))
    assert blocker.args == [0] and inserted == [] and model.rowCount() == 0
    assert not model.canFetchMore(QModelIndex())


def test_exactly_one_full_page_stops_without_an_extra_fetch(qtbot, runner: TaskRunner) -> None:
    calls: list[Any] = []
    source = numbers(10)

    def counting(after, limit):  # type: ignore[no-untyped-def]
        calls.append(after)
        return source(after, limit)

    model = PagedTableModel(runner, COLUMNS, page_size=10)
    with qtbot.waitSignal(model.page_loaded, timeout=3000):
        model.set_source(counting)
    assert model.rowCount() == 10 and not model.canFetchMore(QModelIndex()) and calls == [None]


def test_no_second_fetch_while_one_is_in_flight(qtbot, runner: TaskRunner) -> None:
    model = PagedTableModel(runner, COLUMNS, page_size=10)
    with qtbot.waitSignal(model.page_loaded, timeout=3000):
        model.set_source(numbers(100))
        assert model.loading and not model.canFetchMore(QModelIndex())
        model.fetchMore(QModelIndex())  # ignored: a page is already on its way
    qtbot.waitUntil(lambda: runner.pending == 0)
    assert model.rowCount() == 10


def test_a_new_source_drops_the_old_pages_in_flight(qtbot, runner: TaskRunner) -> None:
    model = PagedTableModel(runner, COLUMNS, page_size=10)
    model.set_source(numbers(100))  # its page is still queued when the filter changes
    with qtbot.waitSignal(model.page_loaded, timeout=3000, check_params_cb=lambda n: n == 3):
        model.set_source(numbers(3))
    qtbot.waitUntil(lambda: runner.pending == 0)
    assert [model.data(model.index(i, 0)) for i in range(model.rowCount())] == ["0", "1", "2"]


def test_a_failed_page_is_reported_and_not_retried_in_a_loop(qtbot, runner: TaskRunner) -> None:
    def broken(after, limit):  # type: ignore[no-untyped-def]
        raise ValidationError("A page holds 1 to 1000 rows.")

    model = PagedTableModel(runner, COLUMNS, page_size=10)
    with qtbot.waitSignal(model.load_failed, timeout=3000) as blocker:
        model.set_source(broken)
    assert str(blocker.args[0]) == "A page holds 1 to 1000 rows."
    assert not model.canFetchMore(QModelIndex()) and model.rowCount() == 0


def test_credit_history_model_pages_and_filters_a_real_ledger(qtbot, runner: TaskRunner, desk_app: App,
                                                             staff: StaffActors,
                                                             customers: dict[str, CustomerDTO]) -> None:
    lan = customers["lan"]
    seed_history(desk_app, staff, lan, 12)
    model = CreditHistoryModel(runner, page_size=5)

    def source(flt: HistoryFilter):  # type: ignore[no-untyped-def]
        ledger, actor = desk_app.ledger, staff.support
        return keyset_source(lambda after, limit: ledger.history_page(actor, lan.id, flt, after, limit))

    with qtbot.waitSignal(model.page_loaded, timeout=5000):
        model.set_source(source(HistoryFilter()))
    while model.canFetchMore(QModelIndex()):
        _load_page(qtbot, model)
    assert model.rowCount() == 14  # opening credit + 12 usages + 1 failed
    newest = model.row(0)
    assert newest.status == EntryStatus.FAILED
    assert model.data(model.index(0, 3)).startswith("Failed")
    assert [model.headerData(i, Qt.Orientation.Horizontal) for i in range(5)] == \
        ["Date", "Service", "Description", "Status", "Amount"]
    usage = model.index(1, 4)
    assert model.data(usage) == "-12,000 ₫" and model.data(usage, Qt.ItemDataRole.ForegroundRole) == NEGATIVE
    assert model.data(usage, SORT_ROLE) == -12000
    assert model.data(usage, Qt.ItemDataRole.TextAlignmentRole) & int(Qt.AlignmentFlag.AlignRight)
    credit = model.index(13, 4)
    assert model.data(credit) == "5,000,000 ₫" and model.data(credit, Qt.ItemDataRole.ForegroundRole) == POSITIVE
    times = [model.row(i).created_at for i in range(model.rowCount())]
    assert times == sorted(times, reverse=True)
    with qtbot.waitSignal(model.page_loaded, timeout=5000):
        model.set_source(source(HistoryFilter(text="batch 1")))
    qtbot.waitUntil(lambda: runner.pending == 0)
    assert {model.row(i).description for i in range(model.rowCount())} == {"Inference batch 1", "Inference batch 10",
                                                                           "Inference batch 11"}
    assert all(isinstance(model.row(i).amount, Money) for i in range(model.rowCount()))
    assert datetime.now(UTC) >= times[0]

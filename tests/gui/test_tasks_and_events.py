"""The task runner delivers results and errors in the GUI thread; the bus carries notices."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThread

from billing_desk.domain.changes import Changes
from billing_desk.domain.errors import Cancelled, ValidationError
from billing_desk.views.change_bus import ChangeBus
from billing_desk.views.tasks import CancelToken, CollectionOp, Progress, QueryOp, TaskRunner


@pytest.fixture
def runner():  # type: ignore[no-untyped-def]
    r = TaskRunner()
    yield r
    r.shutdown()


def test_a_query_runs_off_the_gui_thread_and_answers_in_it(qtbot, runner: TaskRunner) -> None:
    seen: dict[str, object] = {}
    gui_thread = QThread.currentThread()

    def work() -> int:
        seen["worker"] = threading.current_thread().name
        return 42

    def done(value: int) -> None:
        seen["value"] = value
        seen["in_gui"] = QThread.currentThread() is gui_thread

    with qtbot.waitSignal(runner.idle, timeout=3000):
        QueryOp(runner, work, done).run()
    assert seen == {"worker": seen["worker"], "value": 42, "in_gui": True}
    assert str(seen["worker"]).startswith("bd-db")


def test_a_failure_reaches_the_failure_callback(qtbot, runner: TaskRunner) -> None:
    errors: list[BaseException] = []

    def boom() -> None:
        raise ValidationError("Enter an amount.")

    with qtbot.waitSignal(runner.idle, timeout=3000):
        QueryOp(runner, boom, lambda _v: None).failure(errors.append).run()
    assert [str(e) for e in errors] == ["Enter an amount."]


def test_database_work_runs_in_order_on_one_worker(qtbot, runner: TaskRunner) -> None:
    order: list[int] = []
    with qtbot.waitSignal(runner.idle, timeout=3000):
        for i in range(20):
            QueryOp(runner, lambda i=i: i, order.append).run()
    assert order == list(range(20))


def test_gateway_calls_use_their_own_pool(qtbot, runner: TaskRunner) -> None:
    names: list[str] = []
    with qtbot.waitSignal(runner.idle, timeout=3000):
        QueryOp(runner, lambda: threading.current_thread().name, names.append, gateway=True).run()
    assert names[0].startswith("bd-gw")


def test_a_write_publishes_its_changes_before_success(qtbot, runner: TaskRunner) -> None:
    bus = ChangeBus()
    events: list[str] = []
    bus.changed.connect(lambda changes, _who: events.append(f"bus {sorted(changes.customer_ids)}"))
    with qtbot.waitSignal(runner.idle, timeout=3000):
        CollectionOp(runner, bus, lambda: 7, lambda cid: Changes.for_customer(cid, ledger=True),
                     lambda cid: events.append(f"done {cid}")).run()
    assert events == ["bus [7]", "done 7"]


def test_a_failed_write_publishes_nothing(qtbot, runner: TaskRunner) -> None:
    bus = ChangeBus()
    events: list[object] = []
    bus.changed.connect(lambda c, _w: events.append(c))

    def boom() -> int:
        raise ValidationError("no")

    with qtbot.waitSignal(runner.idle, timeout=3000):
        CollectionOp(runner, bus, boom, lambda cid: Changes.for_customer(cid)).failure(events.append).run()
    assert len(events) == 1 and isinstance(events[0], ValidationError)


def test_each_runner_keeps_its_own_default_failure_handler(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Two desks in one process: an operation with no failure callback reaches the handler of
    the runner it ran on, whichever runner was built last."""
    first_seen: list[BaseException] = []
    second_seen: list[BaseException] = []
    first = TaskRunner(default_failure=first_seen.append)
    second = TaskRunner(default_failure=second_seen.append)

    def fail(message: str):  # type: ignore[no-untyped-def]
        def op() -> int:
            raise ValidationError(message)
        return op

    try:
        with qtbot.waitSignal(first.idle, timeout=3000):
            QueryOp(first, fail("read on the first"), lambda _v: None).run()
        with qtbot.waitSignal(second.idle, timeout=3000):
            CollectionOp(second, ChangeBus(), fail("write on the second"), lambda cid: Changes.for_customer(cid)).run()
        with qtbot.waitSignal(first.idle, timeout=3000):
            CollectionOp(first, ChangeBus(), fail("write on the first"), lambda cid: Changes.for_customer(cid)).run()
    finally:
        first.shutdown()
        second.shutdown()
    assert [str(e) for e in first_seen] == ["read on the first", "write on the first"]
    assert [str(e) for e in second_seen] == ["write on the second"]


def test_without_a_handler_a_runner_logs_the_error(qtbot, runner: TaskRunner,  # type: ignore[no-untyped-def]
                                                   caplog: pytest.LogCaptureFixture) -> None:
    def boom() -> None:
        raise KeyError("balance_row")

    with qtbot.waitSignal(runner.idle, timeout=3000):
        QueryOp(runner, boom, lambda _v: None).run()
    assert "Unexpected error in a background task" in caplog.text


def test_cancel_token_and_progress(qtbot, runner: TaskRunner) -> None:
    token = CancelToken()
    progress = Progress(interval=0)
    reports: list[tuple[int, int]] = []
    progress.changed.connect(lambda d, t: reports.append((d, t)))
    started = threading.Event()

    def long_work() -> int:
        done = 0
        while True:
            started.set()
            token.raise_if_cancelled()
            done += 1
            progress(done, 0)
            if done > 10_000_000:
                return done

    errors: list[BaseException] = []
    QueryOp(runner, long_work, lambda _v: None).failure(errors.append).run()
    assert started.wait(3)
    token.cancel()
    qtbot.waitUntil(lambda: bool(errors), timeout=3000)
    assert isinstance(errors[0], Cancelled) and token() is True
    qtbot.waitUntil(lambda: bool(reports), timeout=3000)
    assert reports[0][0] >= 1


def test_changes_touch_only_their_customers() -> None:
    notice = Changes.for_customer(3, payments=True)
    assert notice.touches(3) and not notice.touches(4) and not notice.touches(None)
    assert notice.balance and not Changes.for_customer(3, profile=True).balance
    assert Changes(ledger=True).touches(99)  # no ids: any customer

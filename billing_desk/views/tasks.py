"""The task runner: every database and gateway call of the GUI runs here, never on the GUI thread.

One single-worker executor serialises database work (a SQLite file has one writer anyway,
and a strict order keeps "write, then re-read" sequences correct); a small pool runs gateway
calls, which wait on the network and must not queue behind a long export; and one more
worker takes long reads (exports), so a 30-second export never holds up the page queries
of the tab the agent is looking at (the credit-history export itself runs in a child process,
``billing_desk.views.export_process``; that worker only waits for it and relays its progress). A task never
touches a widget: its result or error travels back to the GUI thread through a queued Qt
signal, and the callback runs there. ``QueryOp`` and ``CollectionOp`` (after Anki's
``aqt.operations``) keep call sites short: a read with on_success, a write that publishes
what changed on the change bus.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, Signal

from billing_desk.domain.changes import Changes
from billing_desk.domain.errors import Cancelled
from billing_desk.domain.progress import DEFAULT_INTERVAL, ThrottledProgress
from billing_desk.views.change_bus import ChangeBus

log = logging.getLogger(__name__)
T = TypeVar("T")
FailureHandler = Callable[[BaseException], None]


class CancelToken:
    """Set from the GUI thread, polled by the task between chunks of work."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    def __call__(self) -> bool:  # services may take a plain "is it cancelled?" callable
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled("Stopped at your request.")


class Progress(QObject):
    """A thread-safe progress reporter: call it from the task, connect ``changed`` in the GUI.

    The domain's ``ThrottledProgress`` decides which reports pass (about 20 a second, the
    last one always) so a tight loop cannot flood the event loop; the signal carries them.
    """

    changed = Signal(int, int)  # done, total (total 0 = unknown)

    def __init__(self, parent: QObject | None = None, interval: float = DEFAULT_INTERVAL) -> None:
        super().__init__(parent)
        self._throttle = ThrottledProgress(self.changed.emit, interval)

    def __call__(self, done: int, total: int = 0) -> None:
        self._throttle(int(done), int(total))


class _Relay(QObject):
    """Lives in the GUI thread; a worker emits, Qt queues, the callback runs in the GUI thread."""

    finished = Signal(object, object, object)  # callback, value, error

    def __init__(self) -> None:
        super().__init__()
        self.finished.connect(self._deliver)

    @staticmethod
    def _deliver(callback: Callable[[Any, BaseException | None], None], value: Any,
                 error: BaseException | None) -> None:
        callback(value, error)


def _log_unexpected(error: BaseException) -> None:
    log.error("Unexpected error in a background task", exc_info=error)


class TaskRunner(QObject):
    """Owns the executors. ``pending`` counts tasks not yet delivered (tests wait on ``idle``).

    ``default_failure`` handles the errors of operations that set no failure callback of their
    own. It belongs to this runner, not to a class, so two desks in one process (tests build
    several) each show their errors over their own window: the composition root hands the
    window's error dialog to the runner it builds the window with. Until then errors are logged.
    """

    idle = Signal()

    def __init__(self, gateway_workers: int = 3, default_failure: FailureHandler | None = None) -> None:
        super().__init__()
        self.default_failure: FailureHandler = default_failure or _log_unexpected
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bd-db")
        self._gateway = ThreadPoolExecutor(max_workers=gateway_workers, thread_name_prefix="bd-gw")
        self._long = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bd-long")
        self._relay = _Relay()
        self._pending = 0
        self._closed = False

    @property
    def pending(self) -> int:
        return self._pending

    def run_db(self, fn: Callable[[], T], done: Callable[[T | None, BaseException | None], None]) -> Future[T]:
        return self._submit(self._db, fn, done)

    def run_gateway(self, fn: Callable[[], T],
                    done: Callable[[T | None, BaseException | None], None]) -> Future[T]:
        return self._submit(self._gateway, fn, done)

    def run_long(self, fn: Callable[[], T], done: Callable[[T | None, BaseException | None], None]) -> Future[T]:
        return self._submit(self._long, fn, done)

    def _submit(self, pool: ThreadPoolExecutor, fn: Callable[[], T],
                done: Callable[[T | None, BaseException | None], None]) -> Future[T]:
        self._pending += 1

        def work() -> T:
            try:
                value = fn()
            except BaseException as exc:  # delivered to the GUI, which decides how to show it
                self._relay.finished.emit(self._finish(done), None, exc)
                raise
            self._relay.finished.emit(self._finish(done), value, None)
            return value

        return pool.submit(work)

    def _finish(self, done: Callable[[Any, BaseException | None], None]) -> Callable[[Any, Any], None]:
        def deliver(value: Any, error: BaseException | None) -> None:
            self._pending -= 1
            try:
                if not self._closed:
                    done(value, error)
            finally:
                if self._pending == 0:
                    self.idle.emit()
        return deliver

    def shutdown(self) -> None:
        self._closed = True
        self._db.shutdown(wait=True, cancel_futures=True)
        self._gateway.shutdown(wait=True, cancel_futures=True)
        self._long.shutdown(wait=True, cancel_futures=True)


class QueryOp(Generic[T]):
    """A read: ``QueryOp(runner, fn, on_success).failure(cb).run()``.

    Without a failure callback, errors go to the default handler of the runner the operation
    runs on (for a desk, the error dialog over its window).
    """

    def __init__(self, runner: TaskRunner, op: Callable[[], T], success: Callable[[T], None],
                 *, gateway: bool = False, long: bool = False) -> None:
        self._runner = runner
        self._long = long
        self._op = op
        self._success = success
        self._failure: FailureHandler | None = None
        self._gateway = gateway

    def failure(self, callback: FailureHandler) -> QueryOp[T]:
        self._failure = callback
        return self

    def _done(self, value: T | None, error: BaseException | None) -> None:
        if error is not None:
            (self._failure or self._runner.default_failure)(error)
        else:
            self._success(value)  # type: ignore[arg-type]

    def run(self) -> Future[T]:
        submit = (self._runner.run_gateway if self._gateway
                  else self._runner.run_long if self._long else self._runner.run_db)
        return submit(self._op, self._done)


class CollectionOp(QueryOp[T]):
    """A write: on success, publish ``changes(result)`` on the bus before calling on_success."""

    def __init__(self, runner: TaskRunner, bus: ChangeBus, op: Callable[[], T],
                 changes: Callable[[T], Changes], success: Callable[[T], None] | None = None,
                 *, initiator: object = None, gateway: bool = False) -> None:
        super().__init__(runner, op, success or (lambda _v: None), gateway=gateway)
        self._bus = bus
        self._changes = changes
        self._initiator = initiator

    def _done(self, value: T | None, error: BaseException | None) -> None:
        if error is None:
            self._bus.publish(self._changes(value), self._initiator)  # type: ignore[arg-type]
        super()._done(value, error)

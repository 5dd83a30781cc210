"""Exports in a child process, so the GUI process's GIL is never held by the serialisation.

Writing 1,000,000 rows of XML is pure Python for a minute and more; in a worker thread of the
GUI process it competes with the GUI thread for the GIL and stalls the window (issue 6). Here
``ProcessExporter.export_credit_history`` takes the ``ExportService`` method's arguments,
starts a "spawn" child (a fresh interpreter: safe with Qt and with the parent's threads, and
the only start method on Windows and macOS), and waits for it in the calling thread, which
does no heavy work: it relays the child's progress reports, passes Cancel on, and returns the
``ExportResult`` or raises the child's error. ``export_payments`` (finance's payments review)
runs the same way: the job names which export the child runs. Only plain picklable values cross: the database
URL, the actor, the customer, the filter DTO, the path and the format. The child builds its
own ``App`` and calls the same service, so the permission check and the audit row are those
of every other export. The child runs at a lower CPU priority (``nice`` 10 on POSIX), so on a
busy machine it does not take the CPU from the window either.

Cancel sets an event that the service's cancel check reads between pages; a child that does
not stop within ``stop_grace`` seconds is terminated, and the temporary file it may leave is
removed (the service writes beside the target and renames only a finished file).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

from billing_desk.config import DEFAULT_BUSY_WAIT
from billing_desk.domain import errors
from billing_desk.domain.errors import BillingDeskError, Cancelled
from billing_desk.domain.permissions import Actor
from billing_desk.domain.progress import ThrottledProgress
from billing_desk.services.audit import AuditFilters
from billing_desk.services.ledger import ExportResult, HistoryFilter
from billing_desk.services.payments import PaymentFilters, PaymentSort

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
CancelCheck = Callable[[], bool]
STOP_GRACE = 5.0  # seconds a child may take to stop after Cancel before it is terminated
REPORT_INTERVAL = 0.2  # the child reports progress at most 5 times a second
POLL = 0.05  # how often the waiting thread looks at Cancel
CHILD_NICENESS = 10  # an export is background work: on a busy machine the window's thread goes first


@dataclass(frozen=True)
class ExportJob:
    """Everything the child needs, as plain picklable values; ``what`` names the export."""

    database_url: str
    actor: Actor
    customer_ref: str | int | None
    filters: HistoryFilter | PaymentFilters | AuditFilters | None
    path: str
    fmt: str | None = None
    busy_wait: float = DEFAULT_BUSY_WAIT
    what: str = "credit_history"  # or "payments", "audit"
    sort: str = PaymentSort.NEWEST.value


class ExportProcessFailed(RuntimeError):
    """The child failed unexpectedly; the message carries its traceback for the log."""


class ProcessExporter:
    """``ExportService.export_credit_history``'s signature, run in a child process."""

    def __init__(self, database_url: str, stop_grace: float = STOP_GRACE,
                 busy_wait: float = DEFAULT_BUSY_WAIT) -> None:
        self._url = database_url
        self._grace = stop_grace
        self._busy_wait = busy_wait

    def export_credit_history(self, actor: Actor, customer_ref: str | int, filters: HistoryFilter | None,
                              path: str | Path, fmt: str | None = None, progress: Progress | None = None,
                              cancel: CancelCheck | None = None) -> ExportResult:
        job = ExportJob(self._url, actor, customer_ref, filters, str(Path(path).expanduser()), fmt, self._busy_wait)
        return run_in_child(job, progress, cancel, self._grace)

    def export_payments(self, actor: Actor, filters: PaymentFilters | None, sort: PaymentSort | str,
                        path: str | Path, fmt: str | None = None, progress: Progress | None = None,
                        cancel: CancelCheck | None = None) -> ExportResult:
        """``ExportService.export_payments`` in a child process."""
        job = ExportJob(self._url, actor, None, filters, str(Path(path).expanduser()), fmt, self._busy_wait,
                        what="payments", sort=str(sort))  # a StrEnum's str() is its value
        return run_in_child(job, progress, cancel, self._grace)

    def export_audit(self, actor: Actor, filters: AuditFilters | None, path: str | Path, fmt: str | None = None,
                     progress: Progress | None = None, cancel: CancelCheck | None = None) -> ExportResult:
        """``AuditService.export`` in a child process."""
        job = ExportJob(self._url, actor, None, filters, str(Path(path).expanduser()), fmt, self._busy_wait,
                        what="audit")
        return run_in_child(job, progress, cancel, self._grace)


def run_in_child(job: ExportJob, progress: Progress | None = None, cancel: CancelCheck | None = None,
                 stop_grace: float = STOP_GRACE) -> ExportResult:
    """Start the child, relay its reports until it answers, and clean up after it."""
    ctx = multiprocessing.get_context("spawn")
    reader, writer = ctx.Pipe(duplex=False)
    stop = ctx.Event()
    parts_before = _part_files(job.path)
    child = ctx.Process(target=child_main, args=(job, writer, stop), name="bd-export", daemon=True)
    child.start()
    writer.close()  # the child holds the only write end, so its exit reads as end-of-file
    try:
        return _follow(child, reader, stop, progress, cancel, stop_grace)
    finally:
        reader.close()
        stop.set()  # harmless after an answer; stops a child the parent gave up on
        if not _joined(child, stop_grace):
            _terminate(child)
        if child.exitcode != 0:  # killed or crashed: its temporary file may still be there
            _remove_new_parts(job.path, parts_before)


def _follow(child: BaseProcess, reader: Connection, stop: Event, progress: Progress | None,
            cancel: CancelCheck | None, grace: float) -> ExportResult:
    deadline: float | None = None
    while True:
        if deadline is None and cancel is not None and cancel():
            stop.set()
            deadline = time.monotonic() + grace
        if reader.poll(POLL):
            try:
                message = reader.recv()
            except EOFError:
                raise _died(child) from None
            kind, *payload = message
            if kind == "progress":
                if progress is not None:
                    progress(*payload)
            elif kind == "done":
                return payload[0]  # type: ignore[no-any-return]
            else:
                raise _rebuild(kind, payload)
        elif deadline is not None and time.monotonic() > deadline:
            _terminate(child)
            raise Cancelled("Export cancelled; it did not stop in time, so it was ended; no file was written.")
        elif not child.is_alive() and not reader.poll(0):
            raise _died(child)


def _rebuild(kind: str, payload: list[Any]) -> BaseException:
    if kind == "error":
        name, message, field = payload
        cls = getattr(errors, name, BillingDeskError)
        if not (isinstance(cls, type) and issubclass(cls, BillingDeskError)):
            cls = BillingDeskError
        return cls(message, field=field)  # type: ignore[no-any-return]
    summary, trace = payload
    return ExportProcessFailed(f"The export process failed: {summary}\n{trace}")


def _died(child: BaseProcess) -> ExportProcessFailed:
    _joined(child, 1.0)
    return ExportProcessFailed(f"The export process ended without an answer (exit code {child.exitcode}).")


def _joined(child: BaseProcess, timeout: float) -> bool:
    child.join(timeout)
    return not child.is_alive()


def _terminate(child: BaseProcess) -> None:
    if child.is_alive():
        log.warning("Export process %s did not stop; terminating it", child.pid)
        child.terminate()
        if not _joined(child, 2.0):
            child.kill()
            child.join()


def _part_files(path: str) -> set[Path]:
    target = Path(path)
    try:
        return set(target.parent.glob(f".{target.name}.*.part"))
    except OSError:
        return set()


def _remove_new_parts(path: str, before: set[Path]) -> None:
    for part in _part_files(path) - before:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()


# --- the child's side ---------------------------------------------------------------------------
def _pipe_reporter(writer: Connection) -> ThrottledProgress:
    """Sends (done, total) through the pipe, at most every REPORT_INTERVAL, and the last one always."""
    return ThrottledProgress(lambda done, total: writer.send(("progress", done, total)), REPORT_INTERVAL)


def _lower_priority() -> None:
    """On two busy cores the GUI thread's stalls are mostly waits for a CPU (its run-queue time
    in /proc/<pid>/task/<tid>/schedstat); a niced child gives the CPU up when the window wakes."""
    nice = getattr(os, "nice", None)  # POSIX only; Windows keeps the normal priority
    if nice is not None:
        with contextlib.suppress(OSError):
            nice(CHILD_NICENESS)


def _run_job(app: Any, job: ExportJob, progress: Progress, cancel: CancelCheck) -> ExportResult:
    if job.what == "payments":
        assert job.filters is None or isinstance(job.filters, PaymentFilters)
        result: ExportResult = app.exports.export_payments(job.actor, job.filters, job.sort, job.path, job.fmt,
                                                           progress, cancel)
        return result
    if job.what == "audit":
        assert job.filters is None or isinstance(job.filters, AuditFilters)
        audited: ExportResult = app.audit.export(job.actor, job.filters, job.path, job.fmt, progress, cancel)
        return audited
    assert job.customer_ref is not None and (job.filters is None or isinstance(job.filters, HistoryFilter))
    result = app.exports.export_credit_history(job.actor, job.customer_ref, job.filters, job.path, job.fmt,
                                               progress, cancel)
    return result


def child_main(job: ExportJob, writer: Connection, stop: Event) -> None:
    """The child's entry point: build an App on the database, export, send the answer back."""
    from billing_desk.bootstrap import build_app  # the child's imports; the parent has them already
    from billing_desk.config import Settings

    _lower_priority()
    try:
        app = build_app(Settings(database_url=job.database_url, config_path=None, busy_wait=job.busy_wait))
        try:
            result = _run_job(app, job, _pipe_reporter(writer), stop.is_set)
        finally:
            app.close()
        writer.send(("done", result))
    except BillingDeskError as exc:
        writer.send(("error", type(exc).__name__, exc.message, exc.field))
    except Exception as exc:  # sent back whole: the parent logs it, the person sees a short message
        writer.send(("failed", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
    finally:
        writer.close()

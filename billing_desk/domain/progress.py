"""The one progress throttle: forwards (done, total) reports to a sink at most every interval.

Long work reports after every page or item, far more often than a person can read; each
forwarded report costs a queued Qt signal in the GUI or a pickled message through the export
child's pipe. ``ThrottledProgress`` drops the reports that come too soon after the last one it
forwarded, but never the first (so a bar appears at once) nor the final one, ``done == total``
(so a bar never stops short of full). Plain Python and no threads of its own: the Qt reporter
of the task runner and the export child process both wrap it with their own sink.
"""

from __future__ import annotations

import time
from collections.abc import Callable

ProgressSink = Callable[[int, int], None]
Clock = Callable[[], float]
DEFAULT_INTERVAL = 0.05  # about 20 reports a second: smooth for the eye, cheap for the event loop


class ThrottledProgress:
    """Call it as ``progress(done, total)``; a total of 0 means "unknown", so no report is final.

    One caller at a time (the task or the child reporting its own work); the clock is
    injectable so tests need no sleep.
    """

    def __init__(self, sink: ProgressSink, interval: float = DEFAULT_INTERVAL,
                 clock: Clock = time.monotonic) -> None:
        self._sink = sink
        self._interval = interval
        self._clock = clock
        self._last: float | None = None  # when the last report went through; None: none yet

    def __call__(self, done: int, total: int = 0) -> None:
        now = self._clock()
        final = total > 0 and done >= total
        if final or self._last is None or now - self._last >= self._interval:
            self._last = now
            self._sink(done, total)

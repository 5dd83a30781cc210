"""Named crash points, for the crash-consistency tests and nothing else.

``crash_point("voucher.after_commit")`` kills this process on the spot when the environment
variable ``BILLING_DESK_CRASH_AT`` names that point. SIGKILL, not an exception: no ``finally``,
no ``atexit``, no buffered write reaches the disk, so a test sees exactly what a power cut or
an OOM kill between two steps would leave. Unset (always, outside tests), a point costs one
dictionary lookup.
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "BILLING_DESK_CRASH_AT"


def crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        # Windows has no SIGKILL; there os.kill with SIGTERM is TerminateProcess, just as abrupt.
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))

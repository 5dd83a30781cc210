"""Text that people and files hand us: how it is quoted back in a message.

An error message echoes what was typed so the person can see what to fix, but what was typed
may be a pasted page, a 5,000-digit number or hold a NUL or a line break. ``shown`` quotes it
safely: control characters become visible escapes (so a message stays one line and can be
stored) and long text is cut short.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls and lone surrogates (what undecodable bytes on a command line
# become): none is visible, PostgreSQL refuses NUL outright and neither driver can encode a
# surrogate.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

SHOWN_LENGTH = 40


def _escape(match: re.Match[str]) -> str:
    return ascii(match.group())[1:-1]


def shown(value: object, limit: int = SHOWN_LENGTH) -> str:
    """``value`` as a message may quote it: one line, control characters escaped, at most
    ``limit`` characters of it (then an ellipsis)."""
    text = str(value)
    cut = text[:limit] + ("…" if len(text) > limit else "")
    return _CONTROL.sub(_escape, cut)

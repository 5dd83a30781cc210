"""Typed errors a person can act on.

Every message is written for the person at the desk or the terminal: it says what is
wrong and what to do. The GUI shows it in a dialog (beside the field when ``field`` is
set); the CLI prints it on one line and exits non-zero.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL and lone surrogates: invisible, or impossible to encode.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def one_line(text: str) -> str:
    """``text`` with each control character written as a visible escape (``\\x00``, ``\\n``)."""
    return _CONTROL.sub(lambda found: ascii(found.group())[1:-1], text)


class BillingDeskError(Exception):
    """Base of every error that is meant to be shown, not traced."""

    exit_code = 1

    def __init__(self, message: str, *, field: str | None = None) -> None:
        # A message often quotes what was typed, and is printed on one line, shown in a dialog
        # and sometimes stored (a refused voucher attempt, a payment's reason): a quoted NUL or
        # line break must neither split it nor reach the database.
        message = one_line(message)
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class ValidationError(BillingDeskError):
    exit_code = 2


class NotFound(BillingDeskError):
    exit_code = 3


class PermissionDenied(BillingDeskError):
    exit_code = 4


class AuthenticationFailed(BillingDeskError):
    exit_code = 5


class Conflict(BillingDeskError):
    """The request is valid but the current state forbids it (e.g. a locked currency)."""

    exit_code = 6


class InsufficientCredit(Conflict):
    pass


class ConfigError(BillingDeskError):
    exit_code = 7


class DatabaseUnavailable(BillingDeskError):
    exit_code = 8


class DatabaseBusy(BillingDeskError):
    """Another task holds the lock this write needs (an import, a batch, another desk) for
    longer than a write waits: an expected condition, not a fault. Nothing was changed.

    ``transient``: the database broke the transaction off at once (a PostgreSQL deadlock or
    serialization failure) rather than after the busy wait, so running it again may well succeed.
    """

    exit_code = 11

    def __init__(self, message: str, *, field: str | None = None, transient: bool = False) -> None:
        super().__init__(message, field=field)
        self.transient = transient


class SchemaMismatch(BillingDeskError):
    exit_code = 9


class SchemaBehind(SchemaMismatch):
    """The database has no schema yet, or an older one: upgrading it brings it up to date.

    The message says so in words any front door can show; the CLI adds the command to run
    (``billing_desk.cli.hints``), the GUI its own advice.
    """


class GatewayError(BillingDeskError):
    exit_code = 10


class GatewayDeclined(GatewayError):
    """The gateway answered and said no: the payment has failed for good."""


class GatewayUnavailable(GatewayError):
    """The gateway could not be reached or refused for now; nothing was created."""


class OutcomeUnknown(GatewayError):
    """A request may or may not have taken effect (timeout, 5xx): ask again later."""


class SuspectAnswer(OutcomeUnknown):
    """The gateway's answer cannot be believed as it stands: a wrong checksum, an answer about
    another payment, or another amount or currency paid. Nothing is credited, and finance must
    look, because asking again may give the same answer for ever."""


class Cancelled(BillingDeskError):
    """Long work stopped at the person's request."""

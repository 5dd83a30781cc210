"""Errors in words for a person: a domain error's own message, never a traceback.

An unexpected exception is logged with its traceback (for the developers) and the person
sees a short apology with what to try. Where the domain leaves the remedy to each front door
(an out-of-date database: the CLI names its command), the desk adds its own advice here.
Widgets that show an error inline and the error dialog both take their words from here.
"""

from __future__ import annotations

import logging

from billing_desk.domain.errors import (
    AuthenticationFailed,
    BillingDeskError,
    Cancelled,
    Conflict,
    DatabaseBusy,
    DatabaseUnavailable,
    GatewayError,
    NotFound,
    PermissionDenied,
    SchemaBehind,
    ValidationError,
)
from billing_desk.views.formatting import tr

log = logging.getLogger(__name__)


def error_title(error: BaseException) -> str:
    titles: list[tuple[type[BaseException], str]] = [
        (ValidationError, tr("Please check your input")),
        (PermissionDenied, tr("Not allowed for your role")),
        (AuthenticationFailed, tr("Login failed")),
        (NotFound, tr("Not found")),
        (Conflict, tr("Cannot do that now")),
        (GatewayError, tr("Payment gateway problem")),
        (DatabaseBusy, tr("Database busy")),
        (DatabaseUnavailable, tr("Database unavailable")),
        (Cancelled, tr("Stopped")),
    ]
    for kind, title in titles:
        if isinstance(error, kind):
            return title
    return tr("Something went wrong")


def error_message(error: BaseException) -> str:
    if isinstance(error, SchemaBehind):
        return tr("{problem} Ask whoever looks after the Billing Desk database to upgrade it, then start "
                  "the desk again.").format(problem=error.message)
    if isinstance(error, BillingDeskError):
        return error.message
    log.error("Unexpected error", exc_info=error)
    return tr("An unexpected problem stopped this action. Nothing was changed by the part that failed; "
              "try again, and if it happens again, tell the Billing Desk maintainers (details are in the log).")

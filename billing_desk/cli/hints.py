"""The command line's own remedies: the command to run, added to a message that leaves it out.

Domain and service messages reach the GUI too, so they say what is wrong without naming a
command (a person at the desk cannot type `billing-desk db upgrade` into a dialog, and the
coming translations key on those messages). Where the terminal can say exactly what to run,
the CLI recognises the case (an error's type, a result's state) and appends its hint here, so
the line it prints reads as it always did.
"""

from __future__ import annotations

from billing_desk.domain.errors import BillingDeskError, SchemaBehind
from billing_desk.services.payments import TopUpResult

UPGRADE_DATABASE = "run `billing-desk db upgrade`"
ASK_FOR_THE_LINK = "run `payments reconcile` (or refresh the customer) in a minute to get it"


def with_hint(message: str, hint: str) -> str:
    """'The database … yet.' and a hint → 'The database … yet: run `billing-desk db upgrade`.'"""
    return f"{message.removesuffix('.')}: {hint}."


def error_text(error: BillingDeskError) -> str:
    """An error's message as the terminal shows it, with the command to run where there is one."""
    if isinstance(error, SchemaBehind):
        return with_hint(error.message, UPGRADE_DATABASE)
    return error.message


def topup_problem(result: TopUpResult) -> str | None:
    """A started top-up's problem as the terminal shows it: with no link yet, how to get it."""
    if result.problem and result.payment.checkout_url is None:
        return with_hint(result.problem, ASK_FOR_THE_LINK)
    return result.problem

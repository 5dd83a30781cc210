"""The CLI's hints: messages that leave the command out (the GUI shows them too) are printed
with it, reading as the terminal always showed them."""

from __future__ import annotations

from billing_desk.cli.hints import UPGRADE_DATABASE, error_text, with_hint
from billing_desk.domain.errors import SchemaBehind, SchemaMismatch, ValidationError


def test_a_hint_continues_the_sentence() -> None:
    assert with_hint("The database at x has no Billing Desk schema yet.", UPGRADE_DATABASE) == (
        "The database at x has no Billing Desk schema yet: run `billing-desk db upgrade`.")


def test_only_a_database_behind_gets_the_upgrade_command() -> None:
    behind = SchemaBehind("The database at x is at schema 0001, older than this Billing Desk (0004).")
    assert error_text(behind) == ("The database at x is at schema 0001, older than this Billing Desk (0004): "
                                  "run `billing-desk db upgrade`.")
    newer = SchemaMismatch("The database at x is at schema 9999, newer than this Billing Desk (0004): "
                           "install the newer Billing Desk that migrated it.")
    assert error_text(newer) == newer.message
    assert error_text(ValidationError("Enter an amount.")) == "Enter an amount."

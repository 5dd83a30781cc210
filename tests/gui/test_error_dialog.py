"""Errors reach a person as a sentence, never a traceback."""

from __future__ import annotations

import logging

import pytest

from billing_desk.domain.errors import GatewayUnavailable, PermissionDenied, SchemaBehind
from billing_desk.views.dialogs.error_dialog import show_error
from billing_desk.views.error_text import error_message


def test_a_domain_error_shows_its_own_message(qtbot) -> None:
    box = show_error(None, PermissionDenied("support (support) may not export data; ask a manager or an admin."))
    qtbot.addWidget(box)
    assert box.windowTitle() == "Not allowed for your role"
    assert box.text() == "support (support) may not export data; ask a manager or an admin."
    box.close()
    box = show_error(None, GatewayUnavailable("VNPay did not answer; nothing was charged. Try again."))
    qtbot.addWidget(box)
    assert box.windowTitle() == "Payment gateway problem"


def test_an_unexpected_error_is_logged_not_shown(qtbot, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        box = show_error(None, KeyError("balance_row"))
    qtbot.addWidget(box)
    assert box.windowTitle() == "Something went wrong"
    assert "Traceback" not in box.text() and "KeyError" not in box.text() and "balance_row" not in box.text()
    assert "try again" in box.text()
    assert any("Unexpected error" in r.message for r in caplog.records)


def test_an_old_database_gets_the_desks_advice_not_a_command(qtbot) -> None:
    text = error_message(SchemaBehind("The database at sqlite:///x has no Billing Desk schema yet."))
    assert text.startswith("The database at sqlite:///x has no Billing Desk schema yet. Ask whoever looks after")
    assert "billing-desk" not in text and "`" not in text

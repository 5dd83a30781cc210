"""The Add credit dialog as a new user meets it (issue 11): hints in the account's currency, Enter
confirms a valid amount, the dialog is as tall as its step, a settled top-up says it succeeded, and
Open without a browser says so and offers the link to copy."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from billing_desk.bootstrap import App
from billing_desk.sandbox import SandboxHandle
from billing_desk.views.dialogs.add_credit_dialog import AddCreditDialog
from tests.support.desk import DeskFactory, open_add_credit
from tests.support.payments import pay
from tests.support.staff import StaffActors


def _gap_below(dialog: AddCreditDialog, widget) -> int:  # type: ignore[no-untyped-def]
    """Pixels between the bottom of ``widget`` and the top of the button row."""
    bottom = widget.mapTo(dialog, QPoint(0, widget.height())).y()
    return dialog.next_button.mapTo(dialog, QPoint(0, 0)).y() - bottom


def test_vnd_hint_enter_confirms_and_success_headline(qtbot, make_desk: DeskFactory, staff: StaffActors,  # type: ignore[no-untyped-def]
                                                      pay_app: App, sandbox: SandboxHandle) -> None:
    _desk, dialog = open_add_credit(qtbot, make_desk, staff, pay_app)
    amount = dialog.amount
    assert amount is not None
    assert "500,000" in amount.custom_edit.placeholderText()
    qtbot.keyClicks(amount.custom_edit, "five hundred")
    assert "500,000" in amount.error_label.text() and "25.50" not in amount.error_label.text()
    qtbot.keyClick(amount.custom_edit, Qt.Key.Key_Return)  # not a valid amount: Enter does nothing
    assert dialog.pages.currentIndex() == 1 and dialog.isVisible()
    qtbot.waitUntil(lambda: _gap_below(dialog, amount.notice_label) < 60, timeout=2000)  # no empty half
    amount.custom_edit.clear()
    qtbot.keyClicks(amount.custom_edit, "1000000")
    assert dialog.next_button.isEnabled()
    qtbot.keyClick(amount.custom_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 2, timeout=10000)
    follow = dialog.follow
    assert follow.headline.text() == "Top-up of 1,000,000 ₫ started"
    qtbot.waitUntil(lambda: _gap_below(dialog, follow.note_label) < 60, timeout=2000)
    pay(sandbox, follow.link_edit.text())
    with qtbot.waitSignal(follow.settled, timeout=15000):
        pass
    assert follow.headline.text() == "Top-up of 1,000,000 ₫ succeeded"
    assert "started" not in follow.headline.text()
    dialog.close()


def test_open_without_a_browser_offers_the_link(qtbot, make_desk: DeskFactory, staff: StaffActors,  # type: ignore[no-untyped-def]
                                                pay_app: App, sandbox: SandboxHandle) -> None:
    _desk, dialog = open_add_credit(qtbot, make_desk, staff, pay_app)
    assert dialog.amount is not None
    dialog.amount.presets.button(0).click()
    dialog.next_button.click()
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 2, timeout=10000)
    follow = dialog.follow
    link = follow.link_edit.text()
    # The offscreen platform has no browser: QDesktopServices.openUrl answers False, as on a desk without one.
    follow.open_button.click()
    assert "No web browser could be opened" in follow.note_label.text()
    assert follow.link_edit.selectedText() == link and link.startswith(sandbox.url)
    dialog.close()  # stops following the payment before the desk's workers shut down

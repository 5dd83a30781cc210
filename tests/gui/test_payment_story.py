"""The payment story dialog and the exceptions view, driven with pytest-qt against the sandbox over
HTTP, on both databases: finance reads a payment's checks, re-checks it and sees it credited;
finance closes a held payment with a reason and it leaves the queue."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication

from billing_desk.bootstrap import App
from billing_desk.domain.money import Money
from billing_desk.domain.permissions import Actor
from billing_desk.sandbox import SandboxHandle
from billing_desk.views.change_bus import ChangeBus
from billing_desk.views.context import ViewContext
from billing_desk.views.export_process import ProcessExporter
from billing_desk.views.finance.exceptions_view import ExceptionsView
from billing_desk.views.finance.payment_story_dialog import PaymentStoryDialog, open_payment_story
from billing_desk.views.tasks import TaskRunner
from tests.support.customers import make_account
from tests.support.payments import control, pay
from tests.support.staff import StaffActors


@pytest.fixture
def contexts(pay_app: App, qsettings: QSettings) -> Iterator:  # type: ignore[type-arg]
    runners: list[TaskRunner] = []

    def make(actor: Actor) -> ViewContext:
        runner = TaskRunner()
        runners.append(runner)
        return ViewContext(app=pay_app, actor=actor, runner=runner, bus=ChangeBus(), settings=qsettings,
                           exporter=ProcessExporter(pay_app.settings.database_url))

    yield make
    for runner in runners:
        runner.shutdown()


def _emitted(qtbot, signal, action: Callable[[], object], timeout: int = 10000) -> tuple:  # type: ignore[no-untyped-def,type-arg]
    """Do ``action`` and wait for ``signal``; its arguments. A plain slot and waitUntil, not
    qtbot.waitSignal: that blocker's event loop, left in a reference cycle, was collected by the
    sandbox's server thread, and a Qt timer deleted off the GUI thread crashed a later test."""
    seen: list[tuple] = []  # type: ignore[type-arg]

    def slot(*args: object) -> None:
        seen.append(args)

    signal.connect(slot)
    try:
        action()
        qtbot.waitUntil(lambda: bool(seen), timeout=timeout)
    finally:
        signal.disconnect(slot)
    return seen[0]


def test_story_dialog_shows_the_checks_and_rechecks_a_pending_payment(qtbot, contexts, pay_app: App,  # type: ignore[no-untyped-def]
                                                                       sandbox: SandboxHandle, staff: StaffActors):
    account = make_account(pay_app, staff.support, "JPY")
    p = pay_app.payments.create_topup(staff.support, account, "3000").payment
    pay_app.payments.reconcile(staff.finance)  # one check: not paid yet
    ctx = contexts(staff.finance)
    published = []
    ctx.bus.changed.connect(lambda changes, _initiator: published.append(changes))

    dialog = open_payment_story(None, ctx, p.id)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.story is not None, timeout=10000)  # loaded in the task runner
    story = dialog.story
    assert story.payment.id == p.id and dialog.isVisible()
    assert dialog.link_edit.text() == p.checkout_url and dialog.link_edit.isReadOnly()
    assert dialog.reference_edit.text() == p.gateway_reference
    assert dialog.checks_table.rowCount() == 1 and dialog.checks_table.item(0, 1).text() == "finance"
    assert dialog.checks_table.item(0, 3).text() == "Not paid yet"
    assert dialog.audit_table.rowCount() == 2 and "No ledger row" in dialog.ledger_label.text()
    assert dialog.recheck_button.isEnabled()

    pay(sandbox, p.checkout_url)
    (after,) = _emitted(qtbot, dialog.loaded, lambda: qtbot.mouseClick(dialog.recheck_button,
                                                                        Qt.MouseButton.LeftButton))
    assert after.payment.status == "success" and dialog.status_value.text() == "Success"
    assert dialog.checks_table.rowCount() == 2 and dialog.checks_table.item(1, 2).text() == "Re-check"
    assert "¥3,000" in dialog.ledger_label.text() and not dialog.recheck_button.isEnabled()
    assert "1 settled" in dialog.status_label.text()
    assert published and published[-1].payments and published[-1].touches(p.customer_id)
    assert pay_app.customers.get(staff.support, account).balance.total == Money(3000, "JPY")


def test_finance_closes_a_held_payment_with_a_reason(qtbot, contexts, pay_app: App,  # type: ignore[no-untyped-def]
                                                     sandbox: SandboxHandle, staff: StaffActors):
    account = make_account(pay_app, staff.support, "USD")
    held = pay_app.payments.create_topup(staff.support, account, "25.00").payment
    assert control(sandbox, "/sandbox/complete", {"checkout_url": held.checkout_url, "action": "pay",
                                                  "paid_amount": "20.00"})["ok"]
    pay_app.payments.reconcile(staff.finance)  # paid with another amount: held, not credited
    view = ExceptionsView(contexts(staff.finance))
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.model.rowCount() == 1 and not view.model.loading, timeout=10000)
    assert view.model.index(0, 0).data() == "Contradicting answer"
    assert "20.00 USD" in view.model.index(0, 1).data()
    assert view.model.index(0, 2).data() == str(held.id) and view.model.index(0, 4).data() == "$25.00"

    view.table.selectRow(0)
    assert _emitted(qtbot, view.payment_activated, lambda: qtbot.keyClick(view.table, Qt.Key.Key_Return)) == (
        held.id,)

    (summary,) = _emitted(qtbot, view.rechecked, lambda: qtbot.mouseClick(view.recheck_button,
                                                                          Qt.MouseButton.LeftButton))
    assert [f.payment_id for f in summary.flagged] == [held.id]  # asked again: still held
    qtbot.waitUntil(lambda: view.model.rowCount() == 1 and not view.model.loading, timeout=10000)
    assert "1 held for finance" in view.status_label.text()

    view.table.selectRow(0)
    assert view.close_button.isEnabled()
    qtbot.mouseClick(view.close_button, Qt.MouseButton.LeftButton)
    dialog = view.close_dialog
    assert dialog is not None and dialog.isVisible() and not dialog.close_button.isEnabled()
    qtbot.keyClicks(dialog.reason_edit, "   ")
    assert not dialog.close_button.isEnabled()  # a reason is required
    dialog.reason_edit.clear()
    qtbot.keyClicks(dialog.reason_edit, "paid 20 USD instead of 25; refunded at PayPal")
    count = _emitted(qtbot, view.loaded, lambda: qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton))
    assert count == (0,) and view.model.rowCount() == 0  # it left the list
    assert "closed as failed" in view.status_label.text()
    row = pay_app.payments.get(staff.finance, held.id)
    assert row.status == "failed" and row.reason == "Closed by finance: paid 20 USD instead of 25; refunded at PayPal"
    assert pay_app.customers.get(staff.support, account).balance.total == Money(0, "USD")


def test_support_cannot_recheck_or_close_and_the_link_copies(qtbot, contexts, pay_app: App,  # type: ignore[no-untyped-def]
                                                              sandbox: SandboxHandle, staff: StaffActors):
    account = make_account(pay_app, staff.support, "JPY")
    p = pay_app.payments.create_topup(staff.support, account, "3000").payment
    view = ExceptionsView(contexts(staff.support))
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: not view.model.loading, timeout=10000)
    assert view.model.rowCount() == 0 and not view.recheck_button.isEnabled() and not view.close_button.isEnabled()

    dialog = PaymentStoryDialog(None, contexts(staff.manager), p.id)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.story is not None, timeout=10000)
    qtbot.mouseClick(dialog.link_copy, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == p.checkout_url

"""The payment story dialog and the exceptions view, driven with pytest-qt against the sandbox over
HTTP, on both databases: finance reads a payment's checks, re-checks it and sees it credited;
finance closes a held payment with a reason and it leaves the queue."""

from __future__ import annotations

from collections.abc import Iterator

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
    shown = qtbot.waitSignal(dialog.loaded, timeout=10000)  # delivered by the event loop, so not missed
    shown.wait()
    story = shown.args[0]
    assert story.payment.id == p.id and dialog.isVisible()
    assert dialog.link_edit.text() == p.checkout_url and dialog.link_edit.isReadOnly()
    assert dialog.reference_edit.text() == p.gateway_reference
    assert dialog.checks_table.rowCount() == 1 and dialog.checks_table.item(0, 1).text() == "finance"
    assert dialog.checks_table.item(0, 3).text() == "Not paid yet"
    assert dialog.audit_table.rowCount() == 2 and "No ledger row" in dialog.ledger_label.text()
    assert dialog.recheck_button.isEnabled()

    pay(sandbox, p.checkout_url)
    with qtbot.waitSignal(dialog.loaded, timeout=10000) as reloaded:
        qtbot.mouseClick(dialog.recheck_button, Qt.MouseButton.LeftButton)
    after = reloaded.args[0]
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
    with qtbot.waitSignal(view.payment_activated, timeout=3000) as activated:
        qtbot.keyClick(view.table, Qt.Key.Key_Return)
    assert activated.args == [held.id]

    with qtbot.waitSignal(view.rechecked, timeout=10000) as rechecked:
        qtbot.mouseClick(view.recheck_button, Qt.MouseButton.LeftButton)
    assert [f.payment_id for f in rechecked.args[0].flagged] == [held.id]  # asked again: still held
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
    with qtbot.waitSignal(view.loaded, timeout=10000) as reloaded:
        qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    assert reloaded.args == [0] and view.model.rowCount() == 0  # it left the list
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
    copy = next(b for b in dialog.findChildren(type(dialog.recheck_button)) if b.text() == "Copy")
    qtbot.mouseClick(copy, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == p.checkout_url

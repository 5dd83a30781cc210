"""Add credit dialog and Payment History tab against the local gateway sandbox over HTTP."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication

from billing_desk.bootstrap import App
from billing_desk.sandbox import SandboxHandle
from billing_desk.services.customers.dtos import CustomerDTO
from billing_desk.views.payment_history_tab import PaymentHistoryTab
from tests.support.desk import DeskFactory, open_add_credit, open_customer, show_tab, shown_add_credit, wait_idle
from tests.support.payments import pay
from tests.support.staff import StaffActors


def test_top_up_from_amount_to_settled_balance(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                               pay_app: App, sandbox: SandboxHandle) -> None:
    desk, dialog = open_add_credit(qtbot, make_desk, staff, pay_app)
    amount = dialog.amount
    assert "UnionPay" in amount.cards_label.text() and "non-refundable" in amount.notice_label.text()
    assert amount.minimum_label.text().startswith("Minimum 500,000 ₫")
    qtbot.keyClicks(amount.custom_edit, "400000")
    assert amount.error_label.text() == "The minimum top-up is 500,000 ₫." and not dialog.next_button.isEnabled()
    amount.custom_edit.clear()
    qtbot.keyClicks(amount.custom_edit, "12.5")
    assert "no decimals" in amount.error_label.text()
    amount.presets.button(1).click()
    assert amount.custom_edit.text() == "1,000,000" and dialog.next_button.isEnabled()
    qtbot.mouseClick(dialog.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 2, timeout=10000)
    link = dialog.follow.link_edit.text()
    assert link.startswith(sandbox.url) and "Pending" in dialog.follow.status_label.text()
    dialog.follow.copy_button.click()
    assert QApplication.clipboard().text() == link
    pay(sandbox, link)
    with qtbot.waitSignal(dialog.follow.settled, timeout=15000):
        pass
    assert "Success" in dialog.follow.status_label.text()
    qtbot.waitUntil(lambda: desk.window.header.balance_label.text() == "1,000,000 ₫", timeout=5000)
    dialog.close()
    tab = show_tab(qtbot, desk, 2)
    assert isinstance(tab, PaymentHistoryTab)
    assert tab.model.rowCount() == 1
    assert [tab.model.data(tab.model.index(0, c)) for c in (1, 2, 3)] == ["1,000,000 ₫", "VNPay", "Success"]


def test_incomplete_profile_comes_first_then_currency(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                                      pay_app: App) -> None:
    emma = pay_app.customers.create(staff.admin, name="Emma Müller", email="emma@example.de", country="DE",
                                    billing_type="personal")
    desk = make_desk(staff.support, pay_app)
    open_customer(qtbot, desk, emma.id)
    desk.window.header.add_credit_button.click()
    dialog = shown_add_credit()
    assert dialog.pages.currentIndex() == 0
    assert [dialog.currency_combo.itemData(i) for i in range(dialog.currency_combo.count())] == ["USD", "EUR"]
    qtbot.waitUntil(lambda: dialog.currency_combo.isVisible(), timeout=5000)
    left = dialog.currency_combo.mapTo(dialog, dialog.currency_combo.rect().topLeft()).x()
    assert left == dialog.form.email_edit.mapTo(dialog, dialog.form.email_edit.rect().topLeft()).x()  # aligned
    assert dialog.currency_combo.width() == dialog.form.email_edit.width()
    dialog.form.email_edit.clear()
    qtbot.keyClicks(dialog.form.email_edit, "emma@")
    dialog.next_button.click()
    qtbot.waitUntil(lambda: bool(dialog.form.errors["email"].text()), timeout=5000)
    assert "not an email address" in dialog.form.errors["email"].text()
    qtbot.keyClicks(dialog.form.email_edit, "example.de")
    qtbot.keyClicks(dialog.form.address_edit, "1 Hauptstr, Berlin")
    dialog.currency_combo.setCurrentIndex(1)
    dialog.next_button.click()
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == 1, timeout=5000)
    assert dialog.amount.limits.currency == "EUR"
    assert "PayPal balance" in dialog.amount.cards_label.text()
    saved = pay_app.customers.get(staff.support, emma.id)
    assert saved.currency == "EUR" and saved.address == "1 Hauptstr, Berlin"
    dialog.close()
    wait_idle(qtbot, desk)


def test_refresh_status_and_copy_link_in_payment_history(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                                         pay_app: App, sandbox: SandboxHandle) -> None:
    sato = pay_app.customers.create(staff.admin, name="Sato Vision K.K.", email="b@sato.example.jp", country="JP",
                                    billing_type="company", address="Tokyo", tax_code="JP1234567890")
    pay_app.customers.set_currency(staff.admin, sato.id, "JPY")
    started = pay_app.payments.create_topup(staff.support, sato.id, "5000")
    desk = make_desk(staff.support, pay_app)
    open_customer(qtbot, desk, sato.id)
    tab = show_tab(qtbot, desk, 2)
    assert tab.model.data(tab.model.index(0, 3)) == "Pending" and tab.model.data(tab.model.index(0, 2)) == "Stripe"
    assert not tab.copy_button.isEnabled()
    tab.table.selectRow(0)
    assert tab.copy_button.isEnabled()
    tab.copy_button.click()
    assert QApplication.clipboard().text() == started.payment.checkout_url
    pay(sandbox, started.payment.checkout_url)
    tab.refresh_button.click()
    qtbot.waitUntil(lambda: "is now" in tab.status_label.text(), timeout=10000)
    # as people say it: no stored status word, no internal id
    assert tab.status_label.text() == "The top-up of ¥5,000 (Stripe) is now Success."
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1 and tab.model.data(tab.model.index(0, 3)) == "Success",
                    timeout=5000)
    qtbot.waitUntil(lambda: desk.window.header.balance_label.text() == "¥5,000", timeout=5000)
    assert not tab.model.canFetchMore(QModelIndex())


def test_finance_sees_payments_but_cannot_top_up(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                                 customers: dict[str, CustomerDTO]) -> None:
    desk = make_desk(staff.finance)
    open_customer(qtbot, desk, customers["lan"].id)
    assert not desk.window.header.add_credit_button.isEnabled()
    assert show_tab(qtbot, desk, 2).refresh_button.isEnabled()


def test_search_finds_a_customer_by_payment_reference_and_voucher_last_four(
        qtbot, make_desk: DeskFactory, staff: StaffActors, pay_app: App, sandbox: SandboxHandle) -> None:
    from billing_desk.domain.money import Money
    from billing_desk.services.vouchers.dtos import IssueRequest

    sato = pay_app.customers.create(staff.admin, name="Sato Vision K.K.", email="b@sato.example.jp", country="JP",
                                    billing_type="company", address="Tokyo", tax_code="JP1234567890")
    pay_app.customers.set_currency(staff.admin, sato.id, "JPY")
    started = pay_app.payments.create_topup(staff.support, sato.id, "5000")
    code = pay_app.vouchers.issue(staff.manager, IssueRequest(amount=Money(1_000, "JPY"))).codes[0]
    pay_app.vouchers.redeem(staff.support, sato.id, code)
    desk = make_desk(staff.support, pay_app)
    search = desk.window.search
    for query, matched in ((started.payment.gateway_reference, "payment"), (code[-4:], "voucher")):
        search.clear()
        search.setFocus()
        with qtbot.waitSignal(search.results_shown, timeout=5000, check_params_cb=lambda n: n >= 1):
            qtbot.keyClicks(search, query)
        wait_idle(qtbot, desk)
        first = search.popup.item(0).text()
        assert "Sato Vision K.K." in first and matched in first, (query, first)
    with qtbot.waitSignal(desk.window.customer_opened, timeout=5000):
        qtbot.keyClick(search, Qt.Key.Key_Return)
    assert desk.window.header.name_label.text() == "Sato Vision K.K."

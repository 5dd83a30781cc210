"""The Payments workspace at a finance desk, against the gateway sandbox over HTTP: who gets it,
filters and totals, sorting by amount, a payment's story, reconcile with its summary, and the
event loop turning while a gateway answers late."""

from __future__ import annotations

import itertools
import time

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication

from billing_desk.bootstrap import App
from billing_desk.sandbox import SandboxHandle
from billing_desk.views.app import Desk
from billing_desk.views.finance.payments_review import PaymentsReview
from billing_desk.views.finance.payments_workspace import PaymentsWorkspace
from billing_desk.views.table_models.paged_model import ROW_ROLE
from billing_desk.views.table_models.payment_review_model import AMOUNT_COLUMN
from tests.support.customers import make_account
from tests.support.desk import DeskFactory, wait_idle
from tests.support.payments import AMOUNTS, clear_faults, fault, pay
from tests.support.staff import StaffActors

CTRL = Qt.KeyboardModifier.ControlModifier
STRIPE_STATUS = "/stripe/v1/checkout/sessions/"


def _payments(app: App, staff: StaffActors, sandbox: SandboxHandle) -> dict[str, object]:
    """VND 500,000 settled, VND 2,000,000 and JPY 3,000 and USD 25.00 pending."""
    vnd, jpy, usd = (make_account(app, staff.support, c) for c in ("VND", "JPY", "USD"))
    settled = app.payments.create_topup(staff.support, vnd, AMOUNTS["VND"]).payment
    pay(sandbox, settled.checkout_url)
    app.payments.reconcile(staff.finance)
    return {"settled": settled, "vnd": app.payments.create_topup(staff.support, vnd, "2,000,000").payment,
            "jpy": app.payments.create_topup(staff.support, jpy, AMOUNTS["JPY"]).payment,
            "usd": app.payments.create_topup(staff.support, usd, AMOUNTS["USD"]).payment}


def _review(qtbot, desk: Desk) -> PaymentsReview:  # type: ignore[no-untyped-def]
    qtbot.keyClick(desk.window, Qt.Key.Key_2, CTRL)
    workspace = desk.window.workspaces.stack.currentWidget()
    assert isinstance(workspace, PaymentsWorkspace)
    workspace.tabs.setCurrentWidget(workspace.review)
    wait_idle(qtbot, desk)
    return workspace.review


def _settle(qtbot, desk: Desk, review: PaymentsReview) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not review.filters_bar.pending(), timeout=3000)
    wait_idle(qtbot, desk)


def _rows(review: PaymentsReview) -> list[tuple[str, str]]:
    m = review.model
    return [(m.data(m.index(r, 3)), m.data(m.index(r, 4))) for r in range(m.rowCount())]


def test_finance_filters_sorts_and_sees_totals(qtbot, make_desk: DeskFactory, staff: StaffActors, pay_app: App,
                                                sandbox: SandboxHandle) -> None:
    _payments(pay_app, staff, sandbox)
    desk = make_desk(staff.finance, pay_app)
    assert desk.window.workspaces.bar.isVisible()
    review = _review(qtbot, desk)
    assert review.model.rowCount() == 4
    assert {t.currency for t in review.totals.lines} == {"VND", "JPY", "USD"}
    assert "4 payments" in review.totals_label.text()
    assert review.totals_table.rowCount() == len(review.totals.lines)

    bar = review.filters_bar
    bar.status_combo.setCurrentIndex(bar.status_combo.findData("success"))
    _settle(qtbot, desk, review)
    assert _rows(review) == [("500,000 ₫", "Success")]
    totals = review.totals.lines
    assert [(t.currency, t.status, t.count, t.amount.minor) for t in totals] == [("VND", "success", 1, 500_000)]

    bar.status_combo.setCurrentIndex(0)
    bar.currency_combo.setCurrentIndex(bar.currency_combo.findData("VND"))
    _settle(qtbot, desk, review)
    assert sorted(_rows(review)) == [("2,000,000 ₫", "Pending"), ("500,000 ₫", "Success")]
    assert {(t.status, t.count) for t in review.totals.lines} == {("success", 1), ("pending", 1)}
    table = review.totals_table
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == ["VND", "VND"]
    assert [table.item(r, 3).text() for r in range(table.rowCount())] == ["500,000 ₫", "2,000,000 ₫"]

    qtbot.keyClicks(bar.min_edit, "1,000,000x")  # a typo: shown beside the field, no query
    _settle(qtbot, desk, review)
    assert bar.error_label.isVisible() and review.model.rowCount() == 2
    bar.min_edit.clear()
    qtbot.keyClicks(bar.min_edit, "600,000")
    _settle(qtbot, desk, review)
    assert not bar.error_label.isVisible() and _rows(review) == [("2,000,000 ₫", "Pending")]
    bar.min_edit.clear()
    bar.currency_combo.setCurrentIndex(0)
    _settle(qtbot, desk, review)

    header = review.table.horizontalHeader()
    at = QPoint(header.sectionViewportPosition(AMOUNT_COLUMN) + 10, header.height() // 2)
    amounts = []
    for _ in range(2):  # Qt starts a newly clicked column ascending or descending; click until descending
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=at)
        wait_idle(qtbot, desk)
        amounts = [review.model.row(r).amount.minor for r in range(review.model.rowCount())]
        if review.sort.value == "amount_desc":
            break
    assert review.sort.value == "amount_desc" and amounts == sorted(amounts, reverse=True) and len(amounts) == 4
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=at)
    wait_idle(qtbot, desk)
    assert review.sort.value == "amount_asc"
    assert [review.model.row(r).amount.minor for r in range(4)] == sorted(amounts)
    customer_at = QPoint(header.sectionViewportPosition(1) + 10, header.height() // 2)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=customer_at)  # not sortable
    wait_idle(qtbot, desk)
    assert review.sort.value == "amount_asc" and header.sortIndicatorSection() == AMOUNT_COLUMN

    # Another desk starts a top-up: F5 reads the payments again.
    vnd = next(review.model.row(r) for r in range(4) if review.model.row(r).amount.currency == "VND")
    pay_app.payments.create_topup(staff.support, vnd.customer_id, "5,000,000")
    qtbot.keyClick(desk.window, Qt.Key.Key_F5)
    wait_idle(qtbot, desk)
    assert review.model.rowCount() == 5
    assert {(t.currency, t.status): t.count for t in review.totals.lines}[("VND", "pending")] == 2


def test_finance_opens_a_payment_s_story(qtbot, make_desk: DeskFactory, staff: StaffActors, pay_app: App,
                                         sandbox: SandboxHandle) -> None:
    made = _payments(pay_app, staff, sandbox)
    desk = make_desk(staff.finance, pay_app)
    review = _review(qtbot, desk)
    row = next(r for r in range(review.model.rowCount()) if review.model.row(r).id == made["settled"].id)
    review.table.setCurrentIndex(review.model.index(row, 0))
    review.table.setFocus()
    qtbot.keyClick(review.table, Qt.Key.Key_Return)
    from billing_desk.views.finance.payment_story_dialog import PaymentStoryDialog
    qtbot.waitUntil(lambda: any(isinstance(w, PaymentStoryDialog) and w.isVisible()
                                for w in QApplication.topLevelWidgets()), timeout=5000)
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, PaymentStoryDialog) and w.isVisible())
    wait_idle(qtbot, desk)
    dialog.close()

    review._row_menu(row).actions()[0].trigger()  # the customer's menu: open them in Customers
    qtbot.waitUntil(lambda: desk.window.customer is not None, timeout=5000)
    assert desk.window.workspaces.current_key() == "customers"
    assert desk.window.customer.id == made["settled"].customer_id
    wait_idle(qtbot, desk)


def test_finance_reconciles_against_the_sandbox_and_sees_the_summary(
        qtbot, make_desk: DeskFactory, staff: StaffActors, pay_app: App, sandbox: SandboxHandle) -> None:
    made = _payments(pay_app, staff, sandbox)
    pay(sandbox, made["vnd"].checkout_url)
    pay(sandbox, made["jpy"].checkout_url, action="cancel")
    support_desk = make_desk(staff.support, pay_app)
    desk = make_desk(staff.finance, pay_app)
    review = _review(qtbot, desk)
    changed = []
    desk.bus.changed.connect(lambda changes, _i: changed.append(changes))
    review.reconcile_button.run("all")
    assert review.progress.isVisible()
    qtbot.waitUntil(lambda: not review.progress.busy, timeout=20000)
    text = review.status_label.text()
    assert "about 3 pending payments: 1 settled, 1 failed, 1 still pending, 0 could not reach the gateway" in text
    wait_idle(qtbot, desk)
    statuses = {review.model.row(r).id: review.model.row(r).status for r in range(review.model.rowCount())}
    assert statuses[made["vnd"].id] == "success" and statuses[made["jpy"].id] == "failed"
    lines = {(t.currency, t.status, t.count) for t in review.totals.lines}
    assert lines >= {("VND", "success", 2), ("JPY", "failed", 1)}
    assert changed and made["vnd"].customer_id in changed[-1].customer_ids and changed[-1].payments
    wait_idle(qtbot, support_desk)

    # The selected rows only: the PayPal one, still pending, is asked about again and only it.
    row = next(r for r in range(review.model.rowCount()) if review.model.row(r).id == made["usd"].id)
    review.table.selectRow(row)
    assert review.selected_ids() == [made["usd"].id]
    review.reconcile_button.run("selected")
    qtbot.waitUntil(lambda: not review.progress.busy, timeout=20000)
    assert "about 1 pending payments: 0 settled, 0 failed, 1 still pending" in review.status_label.text()
    wait_idle(qtbot, desk)


def test_support_gets_no_payments_workspace(qtbot, make_desk: DeskFactory, staff: StaffActors) -> None:
    desk = make_desk(staff.support)
    window = desk.window
    assert window.workspaces.keys() == ["customers"] and not window.workspaces.bar.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_2, CTRL)
    assert window.workspaces.current_key() == "customers"
    assert window.findChild(PaymentsWorkspace) is None
    assert window.workspaces.show_workspace("payments") is False


def test_workspace_choice_is_remembered_and_alt_keys_still_switch_tabs(qtbot, make_desk: DeskFactory,
                                                                       staff: StaffActors) -> None:
    first_desk = make_desk(staff.finance)
    first = first_desk.window
    qtbot.keyClick(first, Qt.Key.Key_2, CTRL)
    assert first.workspaces.current_key() == "payments"
    wait_idle(qtbot, first_desk)
    first.close()
    second_desk = make_desk(staff.finance)
    second = second_desk.window
    assert second.workspaces.current_key() == "payments"
    qtbot.keyClick(second, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)  # a customer tab: back to Customers
    assert second.workspaces.current_key() == "customers" and second.tabs.currentIndex() == 2
    qtbot.keyClick(second, Qt.Key.Key_2, CTRL)
    qtbot.keyClick(second, Qt.Key.Key_1, CTRL)
    assert second.workspaces.current_key() == "customers"
    wait_idle(qtbot, second_desk)


def test_the_window_keeps_turning_while_a_gateway_answers_late(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                                               pay_app: App, sandbox: SandboxHandle) -> None:
    made = _payments(pay_app, staff, sandbox)
    pay(sandbox, made["jpy"].checkout_url)
    fault(sandbox, "error500", "/stripe/v1/checkout/sessions", method="POST", times=20)
    unstarted = pay_app.payments.create_topup(staff.support, made["jpy"].customer_id, "5000").payment
    assert unstarted.gateway_reference is None  # its checkout never started: an exception once checked
    fault(sandbox, "late_reply", STRIPE_STATUS, method="GET", times=5, delay=1.5)  # past the 1 s read timeout
    desk = make_desk(staff.finance, pay_app)
    review = _review(qtbot, desk)
    ticks: list[float] = []
    timer = QTimer(interval=10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    started = time.perf_counter()
    review.reconcile_button.run("all")
    qtbot.waitUntil(lambda: not review.progress.busy, timeout=30000)
    timer.stop()
    took = time.perf_counter() - started
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert took > 1.0  # the late answer was really waited for
    assert max(gaps) < 0.25, f"the event loop stalled {max(gaps) * 1000:.0f} ms"
    assert "could not reach the gateway" in review.status_label.text()
    clear_faults(sandbox)
    wait_idle(qtbot, desk)  # the run's notice reloaded the table
    assert review.model.rowCount() == 5 and review.model.data(review.model.index(0, 0), ROW_ROLE) is not None
    workspace = desk.window.workspaces.page("payments")
    assert isinstance(workspace, PaymentsWorkspace)
    workspace.tabs.setCurrentWidget(workspace.exceptions)  # the one never started is there, once
    wait_idle(qtbot, desk)
    queue = workspace.exceptions.model
    assert [queue.row(r).payment.id for r in range(queue.rowCount())] == [unstarted.id]
    assert workspace.exceptions.table.rowHeight(0) < 90  # fitted at its shown width, not while hidden
    workspace.exceptions.payment_activated.emit(unstarted.id)  # what its double-click says
    from billing_desk.views.finance.payment_story_dialog import PaymentStoryDialog
    shown = [w for w in QApplication.topLevelWidgets() if isinstance(w, PaymentStoryDialog) and w.isVisible()]
    assert len(shown) == 1
    wait_idle(qtbot, desk)
    shown[0].close()


def test_export_writes_the_filtered_payments(qtbot, make_desk: DeskFactory, staff: StaffActors, pay_app: App,
                                             sandbox: SandboxHandle, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _payments(pay_app, staff, sandbox)
    desk = make_desk(staff.finance, pay_app)
    review = _review(qtbot, desk)
    bar = review.filters_bar
    bar.status_combo.setCurrentIndex(bar.status_combo.findData("pending"))
    _settle(qtbot, desk, review)
    target = tmp_path / "payments.xlsx"
    review.export_to(str(target))
    assert review.progress.isVisible() and not review.export_button.isEnabled()
    qtbot.waitUntil(lambda: not review.progress.busy, timeout=30000)
    assert review.status_label.text() == f"Exported 3 payments to {target}"
    assert target.exists() and review.export_button.isEnabled()
    from openpyxl import load_workbook
    rows = list(load_workbook(target, read_only=True).worksheets[1].iter_rows(values_only=True))  # after About
    status = rows[0].index("Status")
    assert len(rows) == 4 and {str(r[status]).lower() for r in rows[1:]} == {"pending"}
    wait_idle(qtbot, desk)


def test_cancel_stops_a_reconcile_run_after_the_payment_in_hand(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                                                 pay_app: App, sandbox: SandboxHandle) -> None:
    _payments(pay_app, staff, sandbox)
    fault(sandbox, "late_reply", "/", times=100, delay=1.5)  # every gateway answers late
    desk = make_desk(staff.finance, pay_app)
    review = _review(qtbot, desk)
    review.reconcile_button.run("all")
    assert not review.reconcile_button.isEnabled() and review.progress.cancel_button.isEnabled()
    qtbot.mouseClick(review.progress.cancel_button, Qt.MouseButton.LeftButton)
    assert not review.progress.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not review.progress.busy, timeout=20000)
    text = review.status_label.text()
    assert text.startswith("Stopped at your request.") and "about 3 pending payments" not in text
    assert review.reconcile_button.isEnabled() and not review.progress.isVisible()
    clear_faults(sandbox)
    wait_idle(qtbot, desk)

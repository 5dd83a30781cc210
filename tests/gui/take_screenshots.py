"""Screenshots of every tab and dialog on the demo database, for docs/screenshots.

Run under a real (virtual) X server so the window is drawn as on a desk:
    xvfb-run -a -s "-screen 0 1400x900x24" env -u QT_QPA_PLATFORM \
        .venv/bin/python tests/gui/take_screenshots.py docs/screenshots [WIDTHxHEIGHT]
(the window's size: 1280x800 unless given; docs/screenshots/1024x700 holds the small-screen set).
It makes a fresh demo database in a temporary home, starts the gateway sandbox (as
`billing-desk gui --demo` does), pays one top-up, leaves one pending, redeems a voucher and
upgrades a plan for one customer, then grabs the real window tab by tab.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ["HOME"] = tempfile.mkdtemp(prefix="bd-shots-")
os.environ.setdefault("BILLING_DESK_TIMEZONE", "Asia/Ho_Chi_Minh")

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from billing_desk.domain.errors import BillingDeskError
from billing_desk.domain.money import Money
from billing_desk.sandbox.server import complete
from billing_desk.sandbox.state import Fault
from billing_desk.services.demo.seed import DEMO_PASSWORD
from billing_desk.services.vouchers.dtos import IssueRequest
from billing_desk.views import app as desk_app
from billing_desk.views.dialogs.add_credit_dialog import AddCreditDialog
from billing_desk.views.dialogs.login_dialog import LoginDialog

TABS = ("overview", "credit-history", "payment-history", "vouchers", "plans", "settings")
PAYMENT_TABS = ("payments-review", "payments-exceptions", "payments-month-report")


def prepare(app, actor) -> int:  # type: ignore[no-untyped-def]
    match = next(m for m in app.customers.find(actor, "nguyen", 50) if m.currency == "VND")
    cid = match.id
    paid = app.payments.create_topup(actor, cid, "2,000,000")
    complete(desk_app._SANDBOX.state, paid.payment.checkout_url, "pay")
    app.payments.reconcile(actor, cid)
    app.payments.create_topup(actor, cid, "1,000,000")  # left pending
    with contextlib.suppress(BillingDeskError):  # a profile edit: the Audit workspace shows its before/after
        app.customers.update(actor, cid, address="48 Hang Bac, Hoan Kiem, Ha Noi")
    code = app.vouchers.issue(actor, IssueRequest(amount=Money(300_000, "VND"), campaign="Tet 2027")).codes[0]
    app.vouchers.redeem(actor, cid, code)
    current = app.plans.current(actor, cid).plan
    for plan in app.plans.catalog(actor, "VND"):
        if plan.price and plan.price.minor > 0 and (current is None or plan.rank > current.rank):
            with contextlib.suppress(BillingDeskError):  # too little credit: the screenshots do without
                app.plans.change(actor, cid, plan.code)
            break
    not_started(app, actor)
    voucher_campaign(app, actor)
    return cid


def voucher_campaign(app, actor) -> None:  # type: ignore[no-untyped-def]
    """A batch campaign some customers redeemed, one code revoked: the Vouchers workspace's funnel."""
    issued = app.vouchers.issue(actor, IssueRequest(amount=Money(100_000, "VND"), count=500, credit_days=60,
                                                    campaign="Spring 2027 newsletter"))
    people = [m.id for m in app.customers.find(actor, "tran", 50) if m.currency == "VND"][:12]
    for customer, code in zip(people, issued.codes, strict=False):
        with contextlib.suppress(BillingDeskError):
            app.vouchers.redeem(actor, customer, code)
    app.vouchers.revoke(actor, issued.voucher_ids[-1], "Posted on a coupon forum")


def not_started(app, actor) -> None:  # type: ignore[no-untyped-def]
    """One top-up whose checkout Stripe never created (the sandbox answers 500), checked once
    since: the Exceptions tab has something to show."""
    state = desk_app._SANDBOX.state
    match = next(m for m in app.customers.find(actor, "sato", 50) if m.currency == "JPY")
    state.faults.append(Fault("error500", "/stripe/v1/checkout/sessions", "POST", times=50))
    payment = app.payments.create_topup(actor, match.id, "5,000").payment
    app.payments.reconcile_run(actor, [payment.id])
    state.faults.clear()


def catalog_steps(app, desk, shot) -> list[Callable[[], None]]:  # type: ignore[no-untyped-def]
    """The Plans workspace and its form (the manager's desk), then the Staff workspace and its
    form at an admin's desk, each form showing a refusal beside its field."""
    window = desk.window
    plans = window.workspaces.page("plans")
    admin: list[object] = []

    def plan_form() -> None:
        entries = [e for e in plans.entries() if e.plan.prices]  # type: ignore[attr-defined]
        plans.select_code(entries[-1].plan.code)  # type: ignore[attr-defined]
        plans.edit_selected()  # type: ignore[attr-defined]
        plans.form.prices["USD"].edit.setText("19.999")  # type: ignore[attr-defined]

    def plan_form_shot() -> None:
        shot(plans.form, "plan-edit")  # type: ignore[attr-defined]
        plans.form.close()  # type: ignore[attr-defined]

    def admin_desk() -> None:
        actor = app.staff.authenticate("admin", DEMO_PASSWORD)
        other = desk_app.build_desk(app, actor, QSettings(os.path.join(os.environ["HOME"], "a.ini"),
                                                          QSettings.Format.IniFormat))
        other.window.resize(window.size())
        other.window.show()
        other.window.workspaces.show_workspace("staff")
        admin.append(other)

    def staff_form() -> None:
        page = admin[0].window.workspaces.page("staff")  # type: ignore[attr-defined]
        page.add_member()
        page.form.name_edit.setText("linh")
        page.form.password_edit.setText("qwerty123456")
        page.form.repeat_edit.setText("qwerty12345")

    def staff_form_shot() -> None:
        form = admin[0].window.workspaces.page("staff").form  # type: ignore[attr-defined]
        shot(form, "staff-add")
        form.close()
        admin[0].window.close()  # type: ignore[attr-defined]

    return [lambda: window.workspaces.show_workspace("plans"), lambda: shot(window, "plans-catalog"),
            plan_form, plan_form_shot, admin_desk, lambda: shot(admin[0].window, "staff"),  # type: ignore[attr-defined]
            staff_form, staff_form_shot]


def voucher_steps(window, shot) -> list[Callable[[], None]]:  # type: ignore[no-untyped-def]
    """The Vouchers workspace, its Issue dialog filled in, and the codes shown once after issuing."""
    def workspace():  # type: ignore[no-untyped-def]
        window.workspaces.show_workspace("vouchers")
        return window.workspaces.page("vouchers")

    def issue() -> None:
        dialog = workspace().issue_dialog
        dialog.campaign_edit.setText("Summer 2027 webinar")
        dialog.amount_edit.setText("50,000")
        dialog.currency_combo.setCurrentIndex(dialog.currency_combo.findData("VND"))
        dialog.count_spin.setValue(250)
        dialog.credit_check.setChecked(True)
        dialog.until_check.setChecked(True)

    def issued() -> None:
        workspace().issue_dialog.confirm_button.click()

    def close_codes() -> None:
        codes = workspace().codes_dialog
        codes.saved = True
        codes.reject()

    return [workspace, lambda: shot(window, "vouchers-campaigns"), lambda: workspace().open_issue(), issue,
            lambda: shot(workspace().issue_dialog, "vouchers-issue"), issued,
            lambda: shot(workspace().codes_dialog, "vouchers-codes"), close_codes]


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    width, height = (int(n) for n in (sys.argv[2] if len(sys.argv) > 2 else "1280x800").split("x"))
    out.mkdir(parents=True, exist_ok=True)
    qt = QApplication([])
    desk_app.apply_look(qt)
    app = desk_app.prepare_demo_database(desk_app.demo_database_url())
    actor = app.staff.authenticate("manager", DEMO_PASSWORD)
    cid = prepare(app, actor)
    desk = desk_app.build_desk(app, actor, QSettings(os.path.join(os.environ["HOME"], "s.ini"),
                                                      QSettings.Format.IniFormat))
    window = desk.window
    window.resize(width, height)
    window.show()
    steps: list[Callable[[], None]] = []

    def shot(widget: QWidget, name: str) -> None:
        widget.grab().save(str(out / f"{name}.png"))
        print("saved", out / f"{name}.png")

    def login() -> None:
        dialog = LoginDialog(app, desk.runner, app.database.url, "support")
        dialog.show()
        QTest.qWait(300)
        shot(dialog, "login")
        dialog.close()

    def search() -> None:
        window.search.setFocus()
        QTest.keyClicks(window.search, "nguyen")

    steps += [login, search, lambda: shot(window, "search"), lambda: window.open_customer(cid)]
    for i, name in enumerate(TABS):
        steps += [lambda i=i: window.tabs.setCurrentIndex(i), lambda name=name: shot(window, name)]

    def add_credit() -> None:
        window.add_credit()

    def credit_shot() -> None:
        dialog = next(w for w in qt.topLevelWidgets() if isinstance(w, AddCreditDialog) and w.isVisible())
        if dialog.amount is not None:
            dialog.amount.presets.button(1).click()
        QTest.qWait(200)
        shot(dialog, "add-credit")
        dialog.close()

    steps += [add_credit, credit_shot]

    def payments(index: int) -> None:
        window.workspaces.show_workspace("payments")
        workspace = window.workspaces.page("payments")
        workspace.tabs.setCurrentIndex(index)  # type: ignore[attr-defined]
        if index == 2 and workspace.report is not None:  # type: ignore[attr-defined]
            workspace.report.run()  # type: ignore[attr-defined]

    for i, name in enumerate(PAYMENT_TABS):
        steps += [lambda i=i: payments(i), lambda name=name: shot(window, name)]

    def audit() -> None:
        window.workspaces.show_workspace("audit")

    def audit_row() -> None:
        workspace = window.workspaces.page("audit")
        model = workspace.model  # type: ignore[attr-defined]
        edit = next((r for r in range(model.rowCount()) if model.row(r).action == "customer.update"), 0)
        workspace.table.selectRow(edit)  # type: ignore[attr-defined]
        workspace.verify()  # type: ignore[attr-defined]

    steps += [audit, audit_row, lambda: shot(window, "audit")]
    steps += catalog_steps(app, desk, shot)
    steps += voucher_steps(window, shot)
    steps += [qt.quit]

    def run_next() -> None:
        if steps:
            steps.pop(0)()
            QTimer.singleShot(1500, run_next)

    QTimer.singleShot(500, run_next)
    qt.exec()
    desk.close()
    if desk_app._SANDBOX is not None:
        desk_app._SANDBOX.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Finance runs the month report in its view: the statement's figures, the check against the
balances (green when they agree, a red alarm when a stored balance drifted), the tables and
the Excel export, all worked off the GUI thread."""

from __future__ import annotations

import gc
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication
from sqlalchemy import update

from billing_desk.domain.enums import LedgerKind
from billing_desk.domain.money import Money
from billing_desk.models import CustomerBalance
from billing_desk.services.ledger import Posting
from billing_desk.views.change_bus import ChangeBus
from billing_desk.views.context import ViewContext
from billing_desk.views.export_process import ProcessExporter
from billing_desk.views.finance.credit_report_view import CreditReportView, last_complete_month
from billing_desk.views.formatting import NEGATIVE, POSITIVE
from billing_desk.views.tasks import TaskRunner
from tests.support.customers import make_customer
from tests.support.ledger import replay

SAIGON = ZoneInfo("Asia/Ho_Chi_Minh")


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SAIGON).astimezone(UTC)


@pytest.fixture
def view_for(qtbot, desk_app, qsettings):  # type: ignore[no-untyped-def]
    made: list[tuple[CreditReportView, TaskRunner]] = []

    def make(actor) -> CreditReportView:  # type: ignore[no-untyped-def]
        runner = TaskRunner()
        exporter = ProcessExporter(desk_app.settings.database_url)
        ctx = ViewContext(desk_app, actor, runner, ChangeBus(), qsettings, exporter)
        view = CreditReportView(ctx)
        qtbot.addWidget(view)
        view.show()
        qtbot.waitUntil(lambda: runner.pending == 0, timeout=5000)  # the currencies in use are in
        made.append((view, runner))
        return view

    yield make
    for view, runner in made:
        runner.shutdown()
        view.close()
        view.deleteLater()
    made.clear()
    QApplication.processEvents()
    gc.collect()  # in this (the GUI) thread: no view left for a collection in some later worker


def _history(app, staff) -> int:  # type: ignore[no-untyped-def]
    a = make_customer(app, staff.manager, name="Customer A")
    make_customer(app, staff.manager, "JPY", name="Customer J")
    vnd = lambda minor: Money(minor, "VND")  # noqa: E731
    replay(app, [
        Posting(a, LedgerKind.TOPUP, vnd(1_000_000), created_at=at(9, 10)),
        Posting(a, LedgerKind.VOUCHER, vnd(200_000), created_at=at(9, 11)),
        Posting(a, LedgerKind.TOPUP, vnd(500_000), created_at=at(10, 2)),
        Posting(a, LedgerKind.USAGE, vnd(-250_000), service="Storage", created_at=at(10, 3)),
        Posting(a, LedgerKind.USAGE, vnd(-20_000), service="GPU Container", created_at=at(10, 4)),
        Posting(a, LedgerKind.USAGE, vnd(-5_000), service="Storage", created_at=at(11, 4)),
    ])
    return a


def _colour(label):  # type: ignore[no-untyped-def]
    return label.palette().color(QPalette.ColorRole.WindowText)


def _run(qtbot, view: CreditReportView, month: date, currency: str):  # type: ignore[no-untyped-def]
    view.month_edit.setDate(QDate(month.year, month.month, 1))
    view.currency_box.setCurrentIndex(view.currency_box.findData(currency))
    with qtbot.waitSignal(view.report_shown, timeout=10000) as shown:
        qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    return shown.args[0]


def test_finance_runs_the_month_and_sees_the_statement(qtbot, view_for, desk_app, staff, tmp_path):
    _history(desk_app, staff)
    view = view_for(staff.finance)
    first = last_complete_month()
    assert view.month() == f"{first:%Y-%m}"  # the last complete month by default
    assert [view.currency_box.itemData(i) for i in range(view.currency_box.count())] == ["JPY", "VND"]
    _run(qtbot, view, date(2026, 10, 1), "VND")
    shown = {key: label.text() for key, label in view.figures.items()}
    assert (shown["opening.topup"], shown["opening.voucher"], shown["opening.total"]) == \
        ("1,000,000 ₫", "200,000 ₫", "1,200,000 ₫")
    assert shown["topups.total"] == "500,000 ₫" and shown["usage.voucher"] == "-200,000 ₫"
    assert shown["usage.topup"] == "-70,000 ₫" and shown["usage.total"] == "-270,000 ₫"
    assert (shown["closing.topup"], shown["closing.voucher"], shown["closing.total"]) == \
        ("1,430,000 ₫", "0 ₫", "1,430,000 ₫")
    assert view.balances_label.text() == "1,430,000 ₫" and view.difference_label.text() == "0 ₫"
    assert "✓" in view.check_label.text() and "Alarm" not in view.check_label.text()
    assert _colour(view.difference_label) == POSITIVE == _colour(view.check_label)
    usage = [[view.usage_table.item(r, c).text() for c in range(2)] for r in range(view.usage_table.rowCount())]
    assert usage == [["Storage", "250,000 ₫"], ["GPU Container", "20,000 ₫"]]
    assert view.gateway_table.rowCount() == 1
    assert [view.gateway_table.item(0, c).text() for c in range(4)] == ["2026-10-02", "VNPay", "1", "500,000 ₫"]
    assert "Asia/Ho_Chi_Minh" in view.status.text()

    target = tmp_path / "october.xlsx"
    with qtbot.waitSignal(view.exported, timeout=10000):
        view.export_to(str(target))
    sheet = load_workbook(target)["Statement"]
    closing = next(row for row in sheet.iter_rows() if row[0].value == "Closing outstanding credit")
    assert closing[3].value == 1_430_000 and closing[3].data_type == "n"


def test_a_drifted_balance_shows_the_alarm_in_red(qtbot, view_for, desk_app, staff):
    a = _history(desk_app, staff)
    with desk_app.uow.write() as uow:
        uow.session.execute(update(CustomerBalance).where(CustomerBalance.customer_id == a)
                            .values(topup=CustomerBalance.topup - 1_000, total=CustomerBalance.total - 1_000))
        uow.commit()
    view = view_for(staff.manager)
    _run(qtbot, view, date(2026, 10, 1), "VND")
    assert view.difference_label.text() == "1,000 ₫"
    assert "Alarm" in view.check_label.text() and "1,000 ₫" in view.check_label.text()
    assert view.difference_label.font().bold() and _colour(view.difference_label) == NEGATIVE
    assert view.check_label.font().bold() and _colour(view.check_label) == NEGATIVE


def test_support_gets_no_report(qtbot, view_for, staff):
    view = view_for(staff.support)
    assert not view.run_button.isEnabled() and "does not include" in view.status.text()

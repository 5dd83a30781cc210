"""The main window driven like a person: search, open a customer, header, roles, shortcuts."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from billing_desk.domain.errors import ValidationError
from billing_desk.services.customers.dtos import CustomerDTO
from billing_desk.views.main_window import TAB_ORDER
from billing_desk.views.tasks import QueryOp
from tests.support.desk import DeskFactory, open_customer, wait_idle
from tests.support.staff import StaffActors


def test_header_shows_staff_role_and_database(make_desk: DeskFactory, staff: StaffActors) -> None:
    window = make_desk(staff.support).window
    assert window.staff_label.text() == "support · Support"
    url = window.ctx.app.database.url
    assert window.database_label.text().startswith(url.split(":")[0])  # elided in the middle
    assert window.database_label.text()[-12:] == url[-12:]
    assert window.database_label.toolTip() == f"Connected to {window.ctx.app.database.url}"
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == list(TAB_ORDER)


def test_type_arrow_enter_opens_a_customer(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                           customers: dict[str, CustomerDTO]) -> None:
    window = make_desk(staff.support).window
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert window.search.hasFocus()
    with qtbot.waitSignal(window.search.results_shown, timeout=5000,
                          check_params_cb=lambda n: n >= 1 and window.search.text() == "example"):
        qtbot.keyClicks(window.search, "example")
    assert window.search.popup.isVisible()
    rows = [window.search.popup.item(i).text() for i in range(window.search.popup.count())]
    assert any("Emma Müller" in r for r in rows) and any("Nguyen Thi Lan" in r for r in rows)
    target = next(i for i, r in enumerate(rows) if "Nguyen Thi Lan" in r)
    for _ in range(target):
        qtbot.keyClick(window.search, Qt.Key.Key_Down)
    with qtbot.waitSignal(window.customer_opened, timeout=5000):
        qtbot.keyClick(window.search, Qt.Key.Key_Return)
    header = window.header
    assert header.name_label.text() == "Nguyen Thi Lan"
    assert customers["lan"].account in header.details_label.text()
    assert "Personal" in header.details_label.text() and "VND" in header.details_label.text()
    assert header.balance_label.text() == "0 ₫"
    assert not window.search.popup.isVisible()


def test_search_by_tax_code_and_no_match(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                         customers: dict[str, CustomerDTO]) -> None:
    window = make_desk(staff.support).window
    window.search.setFocus()
    with qtbot.waitSignal(window.search.results_shown, timeout=5000):
        qtbot.keyClicks(window.search, "JP1234567890")
    qtbot.waitUntil(lambda: window.ctx.runner.pending == 0)
    assert "Sato Vision" in window.search.popup.item(0).text()
    window.search.clear()
    with qtbot.waitSignal(window.search.results_shown, timeout=5000, check_params_cb=lambda n: n == 0):
        qtbot.keyClicks(window.search, "zzzqqq")
    assert "No customer matches" in window.search.popup.item(0).text()


def test_recent_customers_are_one_click_away(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                             customers: dict[str, CustomerDTO]) -> None:
    desk = make_desk(staff.support)
    open_customer(qtbot, desk, customers["sato"].id)
    open_customer(qtbot, desk, customers["lan"].id)
    window = desk.window
    window.search.clear()
    window.focus_search()
    popup = window.search.popup
    assert popup.isVisible()
    assert "Nguyen Thi Lan" in popup.item(0).text() and "Sato Vision" in popup.item(1).text()
    with qtbot.waitSignal(window.customer_opened, timeout=5000):
        rect = popup.visualItemRect(popup.item(1))
        qtbot.mouseClick(popup.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.header.name_label.text() == "Sato Vision K.K."


def test_buttons_follow_the_role(qtbot, make_desk: DeskFactory, staff: StaffActors,
                                 customers: dict[str, CustomerDTO]) -> None:
    finance = make_desk(staff.finance)
    open_customer(qtbot, finance, customers["lan"].id)
    button = finance.window.header.add_credit_button
    assert not button.isEnabled()
    assert "finance" in button.toolTip() and "may not start top-ups" in button.toolTip()
    support = make_desk(staff.support)
    assert not support.window.header.add_credit_button.isEnabled()  # no customer yet
    assert support.window.header.add_credit_button.toolTip() == "Open a customer first."
    open_customer(qtbot, support, customers["lan"].id)
    assert support.window.header.add_credit_button.isEnabled()


def test_last_tab_and_geometry_are_remembered(qtbot, make_desk: DeskFactory, staff: StaffActors) -> None:
    first = make_desk(staff.support).window
    first.tabs.setCurrentIndex(3)
    first.move(40, 30)
    first.close()
    saved = first.ctx.settings.value("window/geometry")
    assert saved == first.saveGeometry()  # the offscreen screen clamps sizes, so compare what is stored
    second = make_desk(staff.support).window
    assert second.tabs.currentIndex() == 3


def test_alt_number_switches_tabs(qtbot, make_desk: DeskFactory, staff: StaffActors) -> None:
    window = make_desk(staff.support).window
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_5, Qt.KeyboardModifier.AltModifier)
    assert window.tabs.currentIndex() == 4


def test_two_windows_show_their_own_errors(qtbot, make_desk: DeskFactory, staff: StaffActors) -> None:
    """Each desk's unhandled errors open over its own window, not over the desk built last."""
    first, second = make_desk(staff.support), make_desk(staff.finance)
    for desk, other, text in ((first, second, "Asked on the first desk."), (second, first, "Asked on the second.")):

        def boom(text: str = text) -> None:
            raise ValidationError(text)

        QueryOp(desk.runner, boom, lambda _v: None).run()
        wait_idle(qtbot, desk)
        box = desk.window.findChild(QMessageBox, "errorDialog")
        assert box is not None and box.text() == text
        assert other.window.findChild(QMessageBox, "errorDialog") is None
        box.close()
        box.setParent(None)  # gone from the window, so the next round looks at a clean slate


def test_every_role_and_every_workspace_fits_a_1024_by_700_screen(qtbot, make_desk: DeskFactory,  # type: ignore[no-untyped-def]
                                                                  staff: StaffActors) -> None:
    """The top row grows with each workspace button: an admin has six. The window (every
    workspace shown once, so each has laid itself out) must still fit the smallest screen the
    desk is made for, the database named at its foot."""
    for actor in (staff.support, staff.finance, staff.manager, staff.admin):
        desk = make_desk(actor)
        window = desk.window
        for spec in window.workspaces.specs:
            window.workspaces.show_workspace(spec.key)
        wait_idle(qtbot, desk)
        hint = window.minimumSizeHint()
        assert hint.width() <= 1024 and hint.height() <= 700, (actor.role, hint)
        assert window.statusBar().isAncestorOf(window.database_label)

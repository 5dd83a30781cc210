"""GUI fixtures: a desk (main window, task runner, change bus) on a fresh database.

Like every database test, each GUI test runs on SQLite and on PostgreSQL (``desk_app`` is
tests/conftest.py's ``app``, built on the parametrized ``db_url``). QSettings go to a
throwaway INI file so no test sees another's window state.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from billing_desk.bootstrap import App
from billing_desk.domain.permissions import Actor
from billing_desk.services.customers.dtos import CustomerDTO
from billing_desk.views.app import Desk, build_desk
from tests.support.desk import DeskFactory
from tests.support.staff import StaffActors


@pytest.fixture
def desk_app(app: App) -> App:
    """The suite's ``app`` fixture under the name the GUI tests use."""
    return app


@pytest.fixture
def qsettings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def customers(desk_app: App, staff: StaffActors) -> dict[str, CustomerDTO]:
    """A few customers: a Vietnamese person with VND, a Japanese company with JPY, a German
    person without a currency yet."""
    svc = desk_app.customers
    lan = svc.create(staff.admin, name="Nguyen Thi Lan", email="lan.nguyen@example.com", country="VN",
                     billing_type="personal", address="12 Le Loi, Ha Noi")
    lan = svc.set_currency(staff.admin, lan.id, "VND")
    sato = svc.create(staff.admin, name="Sato Vision K.K.", email="billing@sato-vision.example.jp", country="JP",
                      billing_type="company", address="1 Chiyoda, Tokyo", tax_code="JP1234567890")
    sato = svc.set_currency(staff.admin, sato.id, "JPY")
    emma = svc.create(staff.admin, name="Emma Müller", email="emma.mueller@example.de", country="DE",
                      billing_type="personal", address="")
    return {"lan": lan, "sato": sato, "emma": emma}


@pytest.fixture
def make_desk(qtbot, desk_app: App, qsettings: QSettings) -> Iterator[DeskFactory]:  # type: ignore[no-untyped-def]
    desks: list[Desk] = []

    def make(actor: Actor, app: App | None = None) -> Desk:
        desk = build_desk(app or desk_app, actor, qsettings)
        qtbot.addWidget(desk.window)
        desk.window.show()
        desk.window.activateWindow()
        qtbot.waitUntil(desk.window.isActiveWindow, timeout=3000)  # shortcuts need an active window
        desks.append(desk)
        return desk

    yield make
    for desk in desks:
        desk.window.close()
        desk.runner.shutdown()

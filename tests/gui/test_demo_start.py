"""`billing-desk gui --demo` (and scripts/run-demo.sh) make their demo database as a demo
database: created for the demo on first start, seeded, and reused afterwards."""

from __future__ import annotations

import pytest

from billing_desk.domain.errors import PermissionDenied
from billing_desk.services.demo import DEMO_PASSWORD, DemoService, SeedOptions
from billing_desk.views import app as desk_app


def test_the_demo_start_creates_a_demo_database_and_reuses_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(desk_app, "_demo_gateways", dict)  # no gateway sandbox thread for this check
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    app = desk_app.prepare_demo_database(url)
    try:
        manager = app.staff.authenticate("manager", DEMO_PASSWORD)
        assert len(app.customers.find(manager, "example", 50)) == 50
        assert app.ledger.verify(manager).ok
    finally:
        app.close()
    app = desk_app.prepare_demo_database(url)  # second start: the same database, not seeded again
    try:
        manager = app.staff.authenticate("manager", DEMO_PASSWORD)
        assert app.ledger.verify(manager).customers > 0
        # it is a demo database: more demo data may go in, with an admin's login
        with pytest.raises(PermissionDenied):
            DemoService(app.uow).seed(SeedOptions(customers=3, seed=9), actor=manager)
        admin = app.staff.authenticate("admin", DEMO_PASSWORD)
        assert DemoService(app.uow).seed(SeedOptions(customers=3, seed=9), actor=admin).customers == 3
    finally:
        app.close()

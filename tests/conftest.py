"""Test fixtures: every database test runs on SQLite and on PostgreSQL.

Each run migrates one template database per backend (with the four demo staff roles in
it); each test gets its own copy (a file copy on SQLite, CREATE DATABASE ... TEMPLATE on
PostgreSQL) and it is dropped afterwards. PostgreSQL comes from BILLING_DESK_TEST_POSTGRES_URL,
else the local server at 127.0.0.1:5432; where none answers the PostgreSQL tier is skipped
with a loud line, except in CI (CI=true), where that is a failure.

Fixtures only: the helpers test modules share live in tests/support/.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

# Qt must not look for a display: set before anything imports PySide6.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("BILLING_DESK_TIMEZONE", "Asia/Ho_Chi_Minh")
# One voucher code key for every desk in a run, so no test writes a key file into $HOME.
os.environ.setdefault("BILLING_DESK_VOUCHER_KEY", "test-voucher-code-key-" + "x" * 20)  # = support.vouchers.TEST_KEY

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from billing_desk.bootstrap import App, build_app
from billing_desk.config import Settings
from billing_desk.database import upgrade
from billing_desk.domain.enums import Role
from billing_desk.domain.permissions import Actor
from billing_desk.sandbox import SandboxHandle, start_sandbox
from tests.support.cli import CliRunner
from tests.support.payments import gateway_settings
from tests.support.staff import ROLES, STAFF_PASSWORD, StaffActors
from tests.support.vouchers import TEST_KEY

PG_ADMIN_URL = os.environ.get(
    "BILLING_DESK_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
RUN_ID = f"bdt_{os.getpid()}_{uuid.uuid4().hex[:6]}"


def _pg_admin_engine():
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})


def _pg_reachable() -> str | None:
    try:
        engine = _pg_admin_engine()
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure means "no server here"
        return str(exc).strip().splitlines()[0]


def _pg_url(name: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _seed_staff(url: str) -> None:
    app = build_app(Settings(database_url=url, config_path=None))
    try:
        first = app.staff.add(None, "admin", "admin", STAFF_PASSWORD)
        admin = Actor(first.id, first.name, Role.ADMIN)
        for role in ROLES[1:]:
            app.staff.add(admin, role, role, STAFF_PASSWORD)
    finally:
        app.close()


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    problem = _pg_reachable()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI but does not answer at {PG_ADMIN_URL}: {problem}")
        sys.stderr.write(f"\n!!! PostgreSQL tier SKIPPED: no server at {PG_ADMIN_URL} ({problem}) !!!\n")
        yield None
        return
    name = f"{RUN_ID}_tmpl"
    engine = _pg_admin_engine()
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    upgrade(_pg_url(name))
    _seed_staff(_pg_url(name))
    yield name
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url)
    _seed_staff(url)
    return path


def _create_demo_database(url: str) -> None:
    from billing_desk.services.demo import create_demo_database

    create_demo_database(url)
    _seed_staff(url)


@pytest.fixture(scope="session")
def sqlite_demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """As sqlite_template, but created as a demo database (`db upgrade --demo`)."""
    path = tmp_path_factory.mktemp("demo_template") / "template.sqlite3"
    _create_demo_database(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_demo_template(pg_template: str | None) -> Iterator[str | None]:
    if pg_template is None:
        yield None
        return
    name = f"{RUN_ID}_demo_tmpl"
    engine = _pg_admin_engine()
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    _create_demo_database(_pg_url(name))
    yield name
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _fresh_pg(template: str | None, *, copy_template: bool = True) -> Iterator[str]:
    """A new PostgreSQL database for one test (a copy of the template, or empty), dropped after."""
    if template is None:
        pytest.skip("PostgreSQL tier skipped: no server (see the line above)")
    name = f"{RUN_ID}_{uuid.uuid4().hex[:8]}"
    engine = _pg_admin_engine()
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if copy_template else "")))
    try:
        yield _pg_url(name)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def _fresh_sqlite(template: Path, directory: Path) -> str:
    target = directory / "billing.sqlite3"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database with staff admin/manager/support/finance, on each backend;
    created as a demo database for a test marked ``demo_database``."""
    demo = "demo_" if request.node.get_closest_marker("demo_database") else ""
    if request.param == "sqlite":
        yield _fresh_sqlite(request.getfixturevalue(f"sqlite_{demo}template"), tmp_path)
    else:
        yield from _fresh_pg(request.getfixturevalue(f"pg_{demo}template"))


@pytest.fixture
def pg_url(pg_template: str | None) -> Iterator[str]:
    """A fresh PostgreSQL database only (concurrency tests)."""
    yield from _fresh_pg(pg_template)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    yield from _fresh_pg(request.getfixturevalue("pg_template"), copy_template=False)


@pytest.fixture
def app(db_url: str) -> Iterator[App]:
    application = build_app(Settings(database_url=db_url, config_path=None))
    yield application
    application.close()


@pytest.fixture
def staff() -> StaffActors:
    """The template's staff, ids 1 to 4 in ROLES order."""
    return StaffActors(*(Actor(i + 1, name, Role(name)) for i, name in enumerate(ROLES)))


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("HOME", str(tmp_path))
    return CliRunner(db_url, monkeypatch)


@pytest.fixture
def voucher_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every desk in a test shares one code key, as desks sharing a database must."""
    monkeypatch.setenv("BILLING_DESK_VOUCHER_KEY", TEST_KEY)
    yield TEST_KEY


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    """The local VNPay/Stripe/PayPal sandbox, served on a free port for one test."""
    handle = start_sandbox()
    yield handle
    handle.stop()


@pytest.fixture
def pay_app(db_url: str, sandbox: SandboxHandle) -> Iterator[App]:
    """The suite's app with its gateways pointed at the test's sandbox (fast timeouts)."""
    app = build_app(Settings(database_url=db_url, config_path=None, gateways=gateway_settings(sandbox.url)))
    yield app
    app.close()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--long", action="store_true", help="also run tests marked long (e.g. 1,000 audit tamperings)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Long runs are opt-in so the normal suite stays within minutes on a 2-core machine.
    if config.getoption("--long"):
        return
    skip = pytest.mark.skip(reason="long run: pass --long")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)

"""The real unit of work (services/uow.py) on SQLite and PostgreSQL, as the Cosmic Python book
tests its own: work is kept only when committed; leaving the block without a commit, or on an
error, rolls it back; the session exists only inside the block. On PostgreSQL, a connection
lost mid-call is the person's DatabaseUnavailable and the next unit of work connects again."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError

from billing_desk.bootstrap import App, build_app
from billing_desk.config import Settings
from billing_desk.domain.errors import DatabaseUnavailable
from billing_desk.models import UsageService, utcnow
from billing_desk.services.uow import UnitOfWork


def _add_service(uow: UnitOfWork, name: str) -> None:
    uow.session.add(UsageService(name=name, is_usage=True, created_at=utcnow()))
    uow.session.flush()


def _service_names(app: App) -> set[str]:
    with app.uow.read() as uow:
        return set(uow.session.scalars(select(UsageService.name)))


def test_rolls_back_uncommitted_work_by_default(app: App) -> None:
    with app.uow.write() as uow:
        _add_service(uow, "Never committed")
        assert "Never committed" in set(uow.session.scalars(select(UsageService.name)))  # written, not kept
    assert "Never committed" not in _service_names(app)


def test_keeps_what_was_committed_and_nothing_after(app: App) -> None:
    with app.uow.write() as uow:
        _add_service(uow, "Committed")
        uow.commit()
        _add_service(uow, "After the commit")
    names = _service_names(app)
    assert "Committed" in names and "After the commit" not in names


def test_rolls_back_on_error(app: App) -> None:
    class Refused(Exception):
        pass

    with pytest.raises(Refused), app.uow.write() as uow:
        _add_service(uow, "Half done")
        raise Refused
    assert "Half done" not in _service_names(app)


def test_a_statement_error_is_not_a_lost_connection(app: App) -> None:
    with pytest.raises(DBAPIError, match="no_such_table"), app.uow.read() as uow:
        uow.session.execute(text("SELECT * FROM no_such_table"))
    assert _service_names(app)  # the same app goes on working


def test_the_session_lives_only_inside_the_block(app: App) -> None:
    uow = app.uow.write()
    with pytest.raises(RuntimeError, match="outside its with-block"):
        _ = uow.session
    with uow:
        _add_service(uow, "Inside")
    with pytest.raises(RuntimeError, match="outside its with-block"):
        uow.commit()
    assert "Inside" not in _service_names(app)


def test_a_lost_connection_is_database_unavailable_and_the_next_call_reconnects(pg_url: str) -> None:
    app = build_app(Settings(database_url=pg_url, config_path=None))
    other = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    try:
        with pytest.raises(DatabaseUnavailable, match="Lost the connection to the database"), app.uow.read() as uow:
            backend = uow.session.scalar(text("SELECT pg_backend_pid()"))
            with other.connect() as conn:  # the server ends this session's connection, as a restart would
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
            uow.session.execute(text("SELECT 1"))
        with app.uow.read() as uow:
            assert uow.session.scalar(text("SELECT 1")) == 1
    finally:
        other.dispose()
        app.close()

"""An in-memory unit of work for testing service rules without a database (the Cosmic Python
book's ``FakeUnitOfWork``, chapter 6).

Services receive a ``UnitOfWorkFactory`` and open ``with uow.read()`` / ``with uow.write()``.
``FakeUnitOfWorkFactory`` stands in for it and remembers every unit of work a call opened and
whether it was committed. It has no session: a service that reaches for ``uow.session`` fails
the test with an AssertionError, so a rule that must be decided before the database (a
permission, a request's own validity) is tested as exactly that.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self


class FakeUnitOfWork:
    def __init__(self, *, write: bool) -> None:
        self.write = write
        self.committed = False
        self._open = False

    @property
    def session(self) -> object:
        raise AssertionError("the service reached for a database session; this rule must not need one")

    def __enter__(self) -> Self:
        self._open = True
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._open = False

    def commit(self) -> None:
        if not self._open:
            raise RuntimeError("unit of work used outside its with-block")
        self.committed = True


class FakeUnitOfWorkFactory:
    """What a service holds in place of ``UnitOfWorkFactory``; ``made`` lists what it asked for."""

    def __init__(self) -> None:
        self.made: list[FakeUnitOfWork] = []

    def read(self) -> FakeUnitOfWork:
        return self._make(write=False)

    def write(self) -> FakeUnitOfWork:
        return self._make(write=True)

    def _make(self, *, write: bool) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(write=write)
        self.made.append(uow)
        return uow
